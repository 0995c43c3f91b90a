"""Related papers and "more like this" on the bundled notes."""

from __future__ import annotations

import pytest

from search import locate
from search.relate.papers import PaperGraph, by_initials, more_like, related


@pytest.fixture(scope="module")
def graph(bundled_index) -> PaperGraph:
    return PaperGraph(bundled_index)


def titles(result) -> list[str]:
    return [hit.passage.paper.title for hit in result.hits]


def test_transformer_paper_finds_bahdanau_by_the_reference_in_its_note(bundled_index, graph):
    result = related(bundled_index, "Attention is All You Need", k=10, graph=graph)
    assert result.anchor.paper.title == "Attention is All You Need"
    top = result.hits[:3]
    bahdanau = [hit for hit in top if hit.passage.paper.authors[0].endswith("Bahdanau")]
    assert bahdanau, titles(result)
    assert any("reference" in reason and "Bahdanau" in reason for reason in bahdanau[0].reasons)


def test_title_is_matched_whatever_its_case_and_spacing(bundled_index, graph):
    result = related(bundled_index, "attention is all  you need", k=3, graph=graph)
    assert result.anchor is not None and result.anchor.paper.title == "Attention is All You Need"


def test_the_anchor_is_never_its_own_result(bundled_index, graph):
    result = related(bundled_index, "Long Short-Term Memory", k=50, graph=graph)
    assert result.anchor.id not in {hit.passage.id for hit in result.hits}
    assert all(hit.passage.paper is not None for hit in result.hits if hit.passage.kind != "note")
    assert [hit.rank for hit in result.hits] == list(range(1, len(result.hits) + 1))


def test_every_result_says_why(bundled_index, graph):
    result = related(bundled_index, "Mastering the Game of Go with Deep Neural Networks and Tree Search", graph=graph)
    assert all(hit.reasons for hit in result.hits)
    alphafold = next(hit for hit in result.hits if "protein" in hit.passage.paper.title)
    assert any(reason.startswith("shared authors") and "David Silver" in reason for reason in alphafold.reasons)


def test_a_name_shared_by_several_papers_lists_candidates(bundled_index, graph):
    result = related(bundled_index, "Hinton", graph=graph)
    assert result.anchor is None and not result.hits
    assert "Learning Representations by Back-Propagating Errors" in {p.paper.title for p in result.candidates}
    assert len(result.candidates) > 1


def test_a_name_many_notes_use_lists_candidates(bundled_index, graph):
    result = related(bundled_index, "transformer", graph=graph)
    assert result.anchor is None and not result.hits
    assert "Attention is All You Need" in {p.paper.title for p in result.candidates}


@pytest.mark.parametrize("name, title", [
    ("R-CNN", "Rich Feature Hierarchies for Accurate Object Detection and Semantic Segmentation"),
    ("CLIP", "Learning Transferable Visual Models From Natural Language Supervision"),
    ("LSTM", "Long Short-Term Memory"),  # the initials of its title, and of no other
    ("Attention is all you need", "Attention is All You Need"),
])
def test_a_paper_is_found_by_the_name_it_goes_by(bundled_index, graph, name, title):
    result = related(bundled_index, name, graph=graph)
    assert result.anchor is not None and result.anchor.paper.title == title
    assert result.hits and all(hit.passage.display_title != title for hit in result.hits)


def test_a_chinese_word_finds_papers_by_their_notes(bundled_index, graph):
    result = related(bundled_index, "注意力", graph=graph)
    found = {p.paper.title for p in ([result.anchor] if result.anchor else result.candidates)}
    assert "Attention is All You Need" in found


def test_an_unknown_name_finds_nothing(bundled_index, graph):
    result = related(bundled_index, "zzqqxx", graph=graph)
    assert result.anchor is None and not result.candidates and not result.hits


def test_more_like_a_paragraph_skips_its_own_lines_and_repeats_no_span(bundled_index, bundled_index_dir):
    paragraph = next(p for p in bundled_index.passages() if p.paper is None and "扩散模型" in p.text)
    anchor = locate(bundled_index, f"{paragraph.path}:{paragraph.line_start}")
    assert anchor.line_start == paragraph.line_start
    result = more_like(bundled_index, anchor, k=8)
    spans = [(h.passage.path, h.passage.line_start, h.passage.line_end) for h in result.hits]
    assert len(spans) == len(set(spans)) == 8
    assert (anchor.path, anchor.line_start, anchor.line_end) not in spans
    assert any("扩散" in hit.passage.text for hit in result.hits[:3])


@pytest.mark.parametrize("name, title", [
    ("LSTM", "Long Short-Term Memory"),
    ("lstm", "Long Short-Term Memory"),
    ("GAN", "Generative Adversarial Nets"),
])
def test_an_acronym_that_only_one_titles_initials_fit_names_that_paper(bundled_index, graph, name, title):
    result = related(bundled_index, name, k=3, graph=graph)
    assert result.candidates == () and result.anchor.paper.title == title
    assert result.hits


def test_an_acronym_no_title_spells_still_lists_what_it_could_mean(bundled_index, graph):
    result = related(bundled_index, "RNN", k=3, graph=graph)
    assert result.anchor is None and len(result.candidates) > 1


@pytest.mark.parametrize("name, titles", [
    ("LSTM", ["Long Short-Term Memory"]),
    ("NMTJLAT", ["Neural Machine Translation by Jointly Learning to Align and Translate"]),  # small words left out
    ("NMTBJLTAAT", ["Neural Machine Translation by Jointly Learning to Align and Translate"]),  # or not
    ("L", []),  # one letter is no acronym
    ("Long", []),
    ("LST", []),  # the initials must be all of them
    ("LS TM", []),
])
def test_by_initials(graph, name, titles):
    assert [node.title for node in by_initials(graph.papers, name)] == titles
