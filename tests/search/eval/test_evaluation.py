"""The evaluation: judgement reading, nDCG/recall/MRR, and agreement with ../shared/eval/score.py."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from conftest import BUNDLED_NOTES, shared_path

from search import search
from search.eval.evaluation import (
    Judgement,
    Span,
    Target,
    evaluate_index,
    locate_snippets,
    query_kind,
    read_judgements,
    score_query,
)


def judgement(*targets: Target, query: str = "q", kind: str = "search") -> Judgement:
    return Judgement("j1", kind, query, targets)


FILE_TARGETS = (Target("a", 2, file="notes/a.md", lines=(10, 12)), Target("b", 1, file="notes/b.md", lines=(5, 5)))


def test_perfect_ranking_scores_one():
    hits = [Span("/x/notes/a.md", 11, 11), Span("/x/notes/b.md", 5, 6)]
    score = score_query(judgement(*FILE_TARGETS), hits, {})
    assert (score.ndcg, score.recall, score.mrr) == (1.0, 1.0, 1.0)


def test_graded_gains_are_discounted_by_rank():
    hits = [Span("notes/c.md", 1, 1), Span("notes/b.md", 5, 5), Span("notes/a.md", 12, 14)]
    score = score_query(judgement(*FILE_TARGETS), hits, {})
    dcg = 1 / math.log2(3) + 3 / math.log2(4)
    assert score.ndcg == pytest.approx(dcg / (3 + 1 / math.log2(3)))
    assert score.recall == 1.0 and score.mrr == pytest.approx(1 / 3)


def test_a_target_counts_once_and_long_spans_match_nothing():
    hits = [Span("notes/a.md", 1, 40), Span("notes/a.md", 10, 10), Span("notes/a.md", 11, 11)]
    score = score_query(judgement(FILE_TARGETS[0]), hits, {})
    assert score.ndcg == pytest.approx(1 / math.log2(3)) and score.mrr == 0.5


def test_snippet_targets_are_located_on_their_one_line(tmp_path):
    (tmp_path / "n.md").write_text("first\nthe answer is here\nlast\n", encoding="utf-8")
    (tmp_path / "m.md").write_text("first\n", encoding="utf-8")
    places = locate_snippets(str(tmp_path), ["answer is", "first", "absent"])
    assert places == {"answer is": ("n.md", 2), "first": None, "absent": None}
    score = score_query(judgement(Target("t", 2, snippet="answer is")), [Span(str(tmp_path / "n.md"), 2, 3)], places)
    assert score.ndcg == 1.0


@pytest.mark.parametrize("query, kind", [("自监督 视觉", "Chinese"), ("protein folding", "English"),
                                         ("CLIP 零样本", "mixed")])
def test_query_kind_follows_the_script(query, kind):
    assert query_kind(judgement(query=query)) == kind
    assert query_kind(judgement(query=query, kind="related")) == "related"


def test_a_bad_judgement_line_is_named(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text('{"id": "a", "kind": "search", "query": "x", "relevant": []}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"j.jsonl:2"):
        read_judgements(str(path))


@pytest.mark.slow
@pytest.mark.shared
def test_scores_equal_the_shared_scorer_on_the_same_results(bundled_index, tmp_path):
    judgements_path = shared_path("eval", "seed_queries.jsonl")
    scorer = shared_path("eval", "score.py")
    judgements = [j for j in read_judgements(str(judgements_path)) if j.kind == "search"]
    report = evaluate_index(bundled_index, read_judgements(str(judgements_path)), str(BUNDLED_NOTES),
                            modes=("hybrid",))
    results = tmp_path / "results.jsonl"
    with open(results, "w", encoding="utf-8") as f:
        for j in judgements:
            hits = search(bundled_index, j.query, "hybrid", 10).hits
            f.write(json.dumps({"hits": [{"path": h.passage.path, "line_start": h.passage.line_start,
                                          "line_end": h.passage.line_end} for h in hits]}) + "\n")
    only_search = tmp_path / "judgements.jsonl"
    only_search.write_text("".join(line for line in judgements_path.read_text(encoding="utf-8").splitlines(True)
                                   if '"kind": "search"' in line), encoding="utf-8")
    out = subprocess.run([sys.executable, str(scorer), "--corpus", str(BUNDLED_NOTES), "--judgements",
                          str(only_search), "--results", str(results), "--json"],
                         capture_output=True, text=True, check=True)
    reference = {row["id"]: row for row in json.loads(out.stdout)["queries"]}
    ours = report.scores["hybrid"]
    assert len(ours) == len(reference) == 20
    for row in ours:
        for metric in ("ndcg", "recall", "mrr"):
            assert getattr(row, metric) == pytest.approx(reference[row.id][metric]), (row.id, metric)
    assert "related" in report.scores and len(report.scores["related"]) == 5
