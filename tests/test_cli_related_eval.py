"""`related`, `eval` and `search --explain` through the real entry point."""

from __future__ import annotations

import json
import os

import pytest
from conftest import BUNDLED_NOTES, line_of

import cli

PAPERS = BUNDLED_NOTES / "famous-deep-learning-papers.md"
TRENDS = BUNDLED_NOTES / "dl-research-trends-2022-2024.md"
CONTRACT = {"rank", "path", "line_start", "line_end", "title", "section", "score", "keyword_rank", "vector_rank",
            "snippet", "text"}


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_related_json_hits_follow_the_search_contract_and_say_why(capsys, bundled_index_dir):
    code, out, _ = run(capsys, "related", "Attention is All You Need", "--index", bundled_index_dir, "--json", "-k", "5")
    assert code == 0
    data = json.loads(out)
    assert data["mode"] == "related" and data["anchor"]["title"] == "Attention is All You Need"
    assert len(data["hits"]) == 5
    for hit in data["hits"]:
        assert CONTRACT <= set(hit) and hit["reasons"]
    assert any("Bahdanau" in reason for hit in data["hits"][:3] for reason in hit["reasons"])


def test_related_human_output_has_a_why_line(capsys, bundled_index_dir):
    code, out, _ = run(capsys, "related", "Generative Adversarial Nets", "--index", bundled_index_dir, "-k", "3")
    assert code == 0
    assert out.startswith("related to Generative Adversarial Nets (2014)")
    assert out.count("    why: ") == 3


def test_ambiguous_paper_lists_candidates_and_exits_zero(capsys, bundled_index_dir):
    code, out, _ = run(capsys, "related", "Hinton", "--index", bundled_index_dir)
    assert code == 0
    assert "could mean" in out and "Learning Representations by Back-Propagating Errors" in out


def test_unknown_paper_is_a_user_error(capsys, bundled_index_dir):
    code, out, err = run(capsys, "related", "zzqqxx", "--index", bundled_index_dir)
    assert code == 1 and out == "" and "no paper matches 'zzqqxx'" in err


def test_related_queries_file_gives_one_json_line_per_paper(capsys, bundled_index_dir, tmp_path):
    queries = tmp_path / "papers.txt"
    queries.write_text("Long Short-Term Memory\nzzqqxx\n", encoding="utf-8")
    code, out, _ = run(capsys, "related", "--queries", str(queries), "--index", bundled_index_dir, "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 2
    assert lines[0]["hits"] and lines[1]["anchor"] is None and not lines[1]["hits"]


def test_more_like_this_passage(capsys, bundled_index_dir):
    line = line_of(TRENDS, "另一大热点架构是")
    code, out, _ = run(capsys, "related", "--passage", f"{TRENDS}:{line}", "--index", bundled_index_dir, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["anchor"]["line_start"] == line and data["hits"]
    assert all(hit["line_start"] != line or not hit["path"].endswith(TRENDS.name) for hit in data["hits"])


def test_a_prose_passage_answers_with_the_papers_it_names(capsys, bundled_index_dir):
    line = line_of(TRENDS, "计算机视觉（CV）**: 在视觉领域")
    code, out, _ = run(capsys, "related", "--passage", f"{TRENDS}:{line}", "--index", bundled_index_dir, "-k", "2",
                       "--json")
    named = json.loads(out)["named"]
    assert code == 0 and [(n["name"], n["year"], os.path.abspath(n["path"]), n["line_start"]) for n in named] == \
           [("CLIP", 2021, str(PAPERS), line_of(PAPERS, "Learning Transferable Visual Models")),
            ("NeRF", 2020, str(PAPERS), line_of(PAPERS, "*NeRF: Representing Scenes"))]
    code, out, _ = run(capsys, "related", "--passage", f"{TRENDS}:{line}", "--index", bundled_index_dir, "-k", "2")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("related to dl-research-trends-2022-2024 — ")
    assert lines[1].startswith("names CLIP → Learning Transferable Visual Models From Natural Language Supervision "
                               "(2021) — ") and lines[1].endswith(f"famous-deep-learning-papers.md:{named[0]['line_start']}")
    assert lines[2].startswith("names NeRF → NeRF: Representing Scenes") and lines[3].startswith(" 1. ")


@pytest.mark.parametrize("location, says", [
    ("nowhere.md:3", "nowhere.md is not in the indexed folders: only notes of the index can be opened"),
    (f"{TRENDS.parent}/nowhere.md:3", "nowhere.md is not a note of the index"),
    (f"{TRENDS}:2", "no passage of the index holds"),
])
def test_passage_that_is_not_indexed_is_a_user_error(capsys, bundled_index_dir, location, says):
    code, _, err = run(capsys, "related", "--passage", location, "--index", bundled_index_dir)
    assert code == 1 and says in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("location", ["note.md:²", "note.md:١", "a/" * 300_000 + "x.md:1"])
def test_a_passage_that_is_no_location_is_one_short_line_not_a_traceback(capsys, bundled_index_dir, location):
    code, out, err = run(capsys, "related", "--passage", location, "--index", bundled_index_dir)
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1 and len(err) < 300
    assert "PATH:LINE" in err


def test_a_huge_paper_name_is_answered_at_once_and_echoed_short(capsys, bundled_index_dir):
    code, _out, err = run(capsys, "related", "attention " * 60_000, "--index", bundled_index_dir)
    assert code == 1 and "no paper matches" in err and len(err) < 300


@pytest.mark.slow
def test_search_explain_json_keeps_the_contract_and_adds_the_why(capsys, bundled_index_dir):
    code, out, _ = run(capsys, "search", "Transformer 长序列", "--index", bundled_index_dir, "--json", "--explain")
    assert code == 0
    data = json.loads(out)
    assert data["route"]
    for hit in data["hits"]:
        assert CONTRACT <= set(hit)
        assert {"keyword_score", "vector_similarity", "fused_score", "exact_match", "matched"} <= set(hit)
    assert data["hits"][0]["exact_match"] and "Transformer" in data["hits"][0]["matched"]


@pytest.mark.slow
def test_eval_prints_scores_per_mode_and_kind(capsys, bundled_index_dir, tmp_path):
    judgements = tmp_path / "judgements.jsonl"
    papers_line = line_of(PAPERS, "Generative Adversarial Nets")
    rows = [
        {"id": "z1", "kind": "search", "query": "生成对抗网络",
         "relevant": [{"target": "gan", "file": PAPERS.name, "lines": [papers_line, papers_line], "grade": 2}]},
        {"id": "z2", "kind": "search", "query": "generative adversarial",
         "relevant": [{"target": "gan", "snippet": "*Generative Adversarial Nets*", "grade": 2}]},
        {"id": "z3", "kind": "related", "query": "Image - to - Image Translation with Conditional Adversarial Networks",
         "relevant": [{"target": "gan", "snippet": "*Generative Adversarial Nets*", "grade": 2}]},
    ]
    judgements.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    code, out, _ = run(capsys, "eval", str(judgements), "--index", bundled_index_dir, "--json")
    assert code == 0
    data = json.loads(out)
    kinds = {(s["mode"], s["kind"]) for s in data["summaries"]}
    assert {("hybrid", "all"), ("hybrid", "Chinese"), ("hybrid", "English"), ("keyword", "all"),
            ("semantic", "all"), ("related", "all")} <= kinds
    assert all(row["missing_targets"] == 0 for rows in data["queries"].values() for row in rows)
    hybrid = next(s for s in data["summaries"] if s["mode"] == "hybrid" and s["kind"] == "all")
    assert hybrid["recall"] == 1.0
    code, out, _ = run(capsys, "eval", str(judgements), "--index", bundled_index_dir)
    assert code == 0 and "nDCG@10" in out.splitlines()[0] and "related" in out


def test_eval_names_a_missing_judgements_file(capsys, bundled_index_dir, tmp_path):
    code, _, err = run(capsys, "eval", str(tmp_path / "none.jsonl"), "--index", bundled_index_dir)
    assert code == 1 and "cannot read judgements" in err
