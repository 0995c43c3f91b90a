"""Related papers over a real repository of paper notes (../shared/corpora/paperNotes: a note per paper)."""

from __future__ import annotations

import pytest
from conftest import shared_path

from indexer import build
from indexer.segmenter import Segmenter
from search import open_index
from search.eval.evaluation import evaluate_index, read_judgements
from search.relate.papers import related

pytestmark = [pytest.mark.slow, pytest.mark.shared]


@pytest.fixture(scope="module")
def papernotes(tmp_path_factory, embedder):
    contents = shared_path("corpora", "paperNotes", "docs", "contents")
    directory = str(tmp_path_factory.mktemp("papernotes") / "index")
    build([str(contents)], directory, embedder=embedder)
    with open_index(directory, embedder=embedder) as index:
        yield index


@pytest.mark.parametrize("name, title", [
    ("BERT", "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"),
    ("XLNet", "XLNet: Generalized Autoregressive Pretraining for Language Understanding"),
    ("DepGraph", "DepGraph: Towards Any Structural Pruning"),
    ("OBS", "OBS"),
])
def test_a_paper_named_by_its_name_answers_with_papers_and_reasons(papernotes, name, title):
    result = related(papernotes, name, k=10)
    assert result.anchor is not None and result.anchor.display_title == title
    assert len(result.hits) >= 5 and all(hit.reasons for hit in result.hits)
    assert all(hit.passage.path != result.anchor.path for hit in result.hits)
    assert all(hit.paper is not None for hit in result.hits[:5])


def test_depgraph_names_its_authors_two_other_papers_with_them(papernotes):
    hits = related(papernotes, "DepGraph", k=3).hits
    assert {hit.passage.display_title for hit in hits[:2]} == {
        "LLM-Pruner: On the Structural Pruning of Large Language Models", "Structural Pruning for Diffusion Models"}
    for hit in hits[:2]:
        assert any(reason.startswith("shared authors") and all(name in reason for name in
                   ("Gongfan Fang", "Xinyin Ma", "Xinchao Wang")) for reason in hit.reasons), hit.reasons


def test_sparsegpts_link_to_the_obs_note_is_a_reason(papernotes):
    hits = related(papernotes, "SparseGPT", k=10).hits
    obs = next(hit for hit in hits if hit.passage.display_title == "OBS")
    assert any(reason.startswith("link: the anchor's note links to") for reason in obs.reasons)


def test_shared_terms_name_things_never_verbs_or_adverbs(papernotes):
    for name in ("BERT", "XLNet", "DepGraph", "SparseGPT", "Wanda"):
        for hit in related(papernotes, name, k=10).hits:
            shown = next((r for r in hit.reasons if r.startswith("shared terms: ")), "shared terms: ")
            for term in shown.removeprefix("shared terms: ").split(", "):
                assert not Segmenter.part_of_speech(term).startswith(("v", "d", "a")) or \
                    Segmenter.part_of_speech(term) in ("vn", "an"), (name, term)


def test_papernotes_related_judgements_score_at_least_080(papernotes):
    judgements = read_judgements(str(shared_path("eval", "papernotes_related.jsonl")))
    report = evaluate_index(papernotes, judgements, str(shared_path("corpora", "paperNotes")), modes=())
    (summary,) = [s for s in report.summaries() if s.mode == "related"]
    assert summary.ndcg >= 0.80
