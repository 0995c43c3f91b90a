"""Golden searches on the bundled notes through the library call the CLI wraps."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BUNDLED_NOTES, line_of

from search import Hit, search

TRENDS = BUNDLED_NOTES / "dl-research-trends-2022-2024.md"
MAE_LINE = line_of(TRENDS, "两大范式在这段时间都有所发展")


def is_mae_paragraph(hit: Hit) -> bool:
    p = hit.passage
    return Path(p.path).resolve() == TRENDS.resolve() and p.line_start <= MAE_LINE <= p.line_end


def test_self_supervised_vision_finds_the_mae_paragraph_in_the_hybrid_top_3(bundled_index):
    result = search(bundled_index, "自监督 视觉", mode="hybrid", k=10)
    assert any(is_mae_paragraph(hit) for hit in result.hits[:3]), [h.passage.id for h in result.hits[:3]]
    mae = next(hit for hit in result.hits if is_mae_paragraph(hit))
    assert mae.keyword_rank is not None and mae.vector_rank is not None
    assert "**自监督**" in mae.snippet and "**视觉**" in mae.snippet


@pytest.mark.parametrize("mode", ["hybrid", "keyword"])
def test_quoted_english_phrase_finds_the_mae_paragraph(bundled_index, mode):
    result = search(bundled_index, '"masked autoencoders"', mode=mode, k=10)
    assert result.hits and is_mae_paragraph(result.hits[0])
    assert "Masked Autoencoders" in result.hits[0].passage.text
    assert "**Masked Autoencoders**" in result.hits[0].snippet  # a quoted phrase is marked whole


def test_quoted_phrase_does_not_match_its_words_apart(bundled_index):
    result = search(bundled_index, '"autoencoders masked"', mode="keyword", k=10)
    assert not any(is_mae_paragraph(hit) for hit in result.hits)


@pytest.mark.parametrize("mode", ["hybrid", "keyword"])
def test_year_and_author_fields_find_the_gan_paper_first(bundled_index, mode):
    result = search(bundled_index, "year:2014 author:goodfellow", mode=mode, k=10)
    first = result.hits[0].passage
    assert first.paper is not None
    assert (first.paper.title, first.paper.year) == ("Generative Adversarial Nets", 2014)
    assert all(hit.passage.paper and hit.passage.paper.year == 2014 for hit in result.hits)


def test_hinton_keyword_search_puts_hinton_papers_in_the_top_5(bundled_index):
    hinton_papers = {p.paper.title for p in bundled_index.passages()
                     if p.paper and any("Hinton" in name for name in p.paper.authors)}
    assert len(hinton_papers) == 4
    result = search(bundled_index, "Hinton", mode="keyword", k=5)
    top = [hit.passage.paper.title for hit in result.hits if hit.passage.paper]
    assert top[0] in hinton_papers
    assert hinton_papers <= set(top)
    assert all(hit.vector_rank is None for hit in result.hits)


def test_every_hit_points_at_lines_holding_its_text(bundled_index):
    result = search(bundled_index, "扩散模型 图像生成", mode="hybrid", k=10)
    assert result.hits
    for hit in result.hits:
        p = hit.passage
        lines = Path(p.path).read_text(encoding="utf-8").split("\n")[p.line_start - 1:p.line_end]
        assert p.text.replace(" ", "")[:4] in "".join(lines).replace(" ", "").replace("*", "")
