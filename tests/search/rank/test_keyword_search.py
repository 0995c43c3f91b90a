"""Keyword search over the bundled notes: what a user typing these queries expects,
and every quoted phrase taken from a passage finding that passage."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import BUNDLED_NOTES, line_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.text import HAN
from indexer import build
from indexer.keyword.documents import to_record
from search import open_index, search
from search.query.nodes import Years
from search.query.syntax import parse


def keyword(index, query: str, k: int = 10):
    return search(index, query, mode="keyword", k=k).hits


def test_quoted_english_phrase_finds_its_line(bundled_index):
    hits = keyword(bundled_index, '"masked autoencoders"')
    assert hits, "no hit for a phrase that is in the notes"
    expected = line_of(BUNDLED_NOTES / "dl-research-trends-2022-2024.md", "Masked Autoencoders (MAE)")
    assert (hits[0].passage.line_start, hits[0].passage.path.endswith("dl-research-trends-2022-2024.md")) == (
        expected, True)
    assert all("masked autoencoders" in h.passage.text.lower() for h in hits)
    assert "**Masked Autoencoders**" in hits[0].snippet


def test_quoted_chinese_phrase_finds_only_passages_holding_it(bundled_index):
    hits = keyword(bundled_index, '"机器翻译"')
    assert len(hits) >= 3
    assert all("机器翻译" in h.passage.text for h in hits)
    assert all("**机器翻译**" in h.snippet for h in hits)


def test_year_and_author_find_the_paper(bundled_index):
    hits = keyword(bundled_index, "year:2014 author:goodfellow")
    assert [h.passage.paper.title for h in hits] == ["Generative Adversarial Nets"]
    assert hits[0].passage.paper.year == 2014


def test_year_range_keeps_papers_in_range(bundled_index):
    hits = keyword(bundled_index, "year:2012..2014 网络", k=50)
    assert hits
    assert all(2012 <= h.passage.paper.year <= 2014 for h in hits)


def test_excluded_word_removes_passages(bundled_index):
    with_gan = keyword(bundled_index, "生成对抗网络", k=50)
    without = keyword(bundled_index, "生成对抗网络 -goodfellow", k=50)
    assert any("Goodfellow" in h.passage.text for h in with_gan)
    assert without and not any("Goodfellow" in h.passage.text for h in without)


def test_or_finds_either_word(bundled_index):
    hits = keyword(bundled_index, "Chinchilla OR AlphaFold", k=50)
    texts = [h.passage.text for h in hits]
    assert any("Chinchilla" in t for t in texts) and any("AlphaFold" in t for t in texts)
    assert all("Chinchilla" in t or "AlphaFold" in t for t in texts)


def test_path_field_limits_the_file(bundled_index):
    hits = keyword(bundled_index, "path:papers 网络", k=50)
    assert hits and all(h.passage.path.endswith("famous-deep-learning-papers.md") for h in hits)


def test_single_chinese_character_matches(bundled_index):
    hits = keyword(bundled_index, "图", k=20)
    assert hits and all("图" in h.passage.text or "图" in h.passage.section for h in hits)


def test_word_cut_differently_by_jieba_still_matches(bundled_index):
    # jieba cuts the query 自监督 into 自 + 监督; the notes hold 自监督学习 as one learned word.
    hits = keyword(bundled_index, "自监督")
    assert hits and "自监督" in hits[0].passage.text


def test_full_width_query_equals_half_width(bundled_index):
    assert [h.passage.id for h in keyword(bundled_index, "ＧＰＴ-3")] == [
        h.passage.id for h in keyword(bundled_index, "GPT-3")]


def test_gpt4_finds_gpt4_before_other_gpts_and_numbers(notes_dir, embedder, tmp_path):
    # Each in a section of its own: short paragraphs of one section would be joined into one answer.
    root = notes_dir({"llm.md": "# 大模型\n\n## GPT-3\n\nGPT-3 有 1750 亿参数。\n\n## 训练\n\n第 4 章讲训练。\n\n"
                                "## GPT-4\n\nGPT-4 的技术报告没有公开参数量。\n\n## 其他\n\n其他模型。\n"})
    directory = str(tmp_path / "index")
    build([str(root)], directory, embedder=embedder)
    with open_index(directory, embedder=embedder) as index:
        hits = keyword(index, "ＧＰＴ-4")
        assert hits[0].passage.text.startswith("GPT-4")
        assert "**GPT-4**" in hits[0].snippet
        assert "第 4 章讲训练。" not in [h.passage.text for h in hits[:2]]


@pytest.mark.parametrize("query", ["3x3", "3×3", "3X3 卷积", '"3x3 卷积"'])
def test_a_size_is_found_with_the_letter_x_or_the_multiplication_sign(notes_dir, embedder, tmp_path, query):
    root = notes_dir({"cnn.md": "# 卷积\n\n## 小卷积核\n\nVGG 堆叠 3×3 卷积代替大卷积核。\n\n## 池化\n\n池化层缩小特征图。\n\n"
                                "## 其他\n\n33 个通道。\n"})
    directory = str(tmp_path / "index")
    build([str(root)], directory, embedder=embedder)
    with open_index(directory, embedder=embedder) as index:
        hits = keyword(index, query)
        assert hits[0].passage.text == "VGG 堆叠 3×3 卷积代替大卷积核。"
        assert "**3×3**" in hits[0].snippet
        if "卷积" not in query:  # (卷积, the note's title, is in every passage's heading path)
            assert len(hits) == 1


@pytest.mark.parametrize("char, wanted", [("猫", {"大熊猫吃竹子。"}), ("门", {"门口有一只狗。", "长短期记忆网络有输入门"}),
                                          ("狗", {"门口有一只狗。"}), ("鱼", set())])
def test_one_chinese_character_finds_it_inside_words_and_at_the_end_of_a_run(notes_dir, embedder, tmp_path, char,
                                                                            wanted):
    root = notes_dir({"zoo.md": "# 动物\n\n## 一\n\n大熊猫吃竹子。\n\n## 二\n\n门口有一只狗。\n\n## 三\n\n"
                                "长短期记忆网络有输入门\n\n## 四\n\n无关的段落。\n"})
    directory = str(tmp_path / "index")
    build([str(root)], directory, embedder=embedder)
    with open_index(directory, embedder=embedder) as index:
        assert {h.passage.text for h in keyword(index, char)} == wanted


def test_matching_more_query_words_ranks_higher(bundled_index):
    hits = keyword(bundled_index, "weight decay regularization overfitting")
    assert "Weight Decay" in hits[0].passage.text


def _phrases(text: str, analyzer) -> list[str]:
    """Deterministic samples of a passage: Chinese spans of 3–8 characters, runs of 2–4 English words.

    Phrases made only of stop words are left out: stop words are not indexed.
    """
    out = []
    for run in re.findall(f"[{HAN}]{{3,}}", text):
        for start in range(0, len(run) - 2, 19):
            out.append(run[start:start + 3 + start % 6])
    for run in re.findall(r"(?<!\w)[A-Za-z][A-Za-z0-9'-]*(?: [A-Za-z][A-Za-z0-9'-]*)+(?!\w)", text):
        words = run.split()
        for start in range(0, len(words) - 1, 5):
            out.append(" ".join(words[start:start + 2 + start % 3]))
    return [phrase for phrase in out if analyzer.query_terms(phrase)]


@pytest.mark.slow
def test_every_quoted_phrase_from_a_passage_finds_that_passage(bundled_index):
    passages = bundled_index.passages()
    checked, missed = 0, []
    for passage in passages:
        for phrase in _phrases(passage.text, bundled_index.analyzer):
            hits = search(bundled_index, f'"{phrase}"', mode="keyword", k=200).hits
            checked += 1
            spans = {(h.passage.path, h.passage.line_start, h.passage.line_end) for h in hits}
            if (passage.path, passage.line_start, passage.line_end) not in spans:
                missed.append((phrase, passage.id))
    assert checked > 400
    assert missed == []


@pytest.mark.parametrize("query, searched_as, warns", [
    ('"masked autoencoders', "masked autoencoders", True),
    ("(Hinton OR", "Hinton", True),
    ("NOT NOT Hinton", "Hinton", True),
    ("Hinton ))", "Hinton", True),
    ("OR OR Hinton", "Hinton", True),
    ("()" * 500 + " Hinton", "Hinton", True),  # over 1000 characters: its plain words
    ("\x00\x01Hinton\x07", "Hinton", False),  # control characters separate words
    ('"" Hinton', "Hinton", False),  # an empty phrase asks for nothing
])
def test_a_malformed_query_is_searched_as_its_plain_words(bundled_index, query, searched_as, warns):
    def found(text: str) -> tuple[list, tuple[str, ...]]:
        result = search(bundled_index, text, mode="keyword")
        return [(h.passage.id, round(h.score, 9)) for h in result.hits], result.warnings

    hits, warnings = found(query)
    assert hits and hits == found(searched_as)[0]
    assert bool(warnings) is warns


def test_a_passage_holding_only_part_of_a_query_word_counts_part_of_it(bundled_index):
    from search.query.compiler import PART_WEIGHT, compile_query
    from search.query.nodes import Coordinated
    from search.rank.ranking import unit_shares

    compiled = compile_query(bundled_index.plan("GPT-3 FID"))
    assert isinstance(compiled, Coordinated)
    every = np.flatnonzero(bundled_index.scorer.alive)
    shares, holding_all = unit_shares(bundled_index.scorer, compiled.units[0], every)
    assert holding_all == np.count_nonzero(shares >= 1.0)
    by_text = {to_record(bundled_index.stored_passage(int(doc))): share
               for doc, share in zip(every.tolist(), shares.tolist()) if share}
    whole = [share for record, share in by_text.items() if "GPT-3" in record]
    part_only = [share for record, share in by_text.items() if "GPT" in record and "GPT-3" not in record]
    assert whole and part_only
    assert set(whole) == {1.0} and set(part_only) == {PART_WEIGHT}


@pytest.mark.parametrize("mode", ["keyword", "hybrid", "semantic"])
def test_a_field_value_finds_the_longer_words_it_is_part_of(bundled_index, mode):
    # The section is 表示学习与自监督学习: jieba keeps 自监督学习 whole, as text search finds it through its characters.
    hits = search(bundled_index, "section:自监督", mode=mode, k=20).hits
    assert hits and all("自监督" in hit.passage.section for hit in hits)
    whole = search(bundled_index, "section:自监督学习", mode=mode, k=20).hits

    def spans(found):
        return {(hit.passage.path, hit.passage.line_start, hit.passage.line_end) for hit in found}

    assert spans(hits) == spans(whole)


def test_a_field_value_inside_no_word_of_the_field_finds_nothing(bundled_index):
    assert keyword(bundled_index, "section:监督视觉") == ()
    assert keyword(bundled_index, "title:注意力") == ()  # paper titles are English: a body word is not a title


@pytest.mark.parametrize("query", ["？！。，", "!!!", "- -", "🙂🙂", "（）", "…"])
@pytest.mark.parametrize("mode", ["keyword", "hybrid", "semantic"])
def test_a_query_without_words_is_the_empty_query(bundled_index, query, mode):
    result = search(bundled_index, query, mode=mode)
    assert result.hits == ()
    assert result.warnings == search(bundled_index, "", mode=mode).warnings == ("empty query: nothing to search for",)


_BOUND = st.one_of(st.none(), st.integers(-5, 12_000), st.sampled_from([0, 1, 1942, 1943, 1950, 2017, 2024, 9999]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(low=_BOUND, high=_BOUND)
def test_a_year_range_matches_exactly_the_papers_of_those_years(bundled_index, low, high):
    """Checked against the years the passages hold (Whoosh's NumericRange matched every paper for year:..1950)."""
    years = {doc: passage.paper.year for doc in range(bundled_index.scorer.size)
             if (passage := bundled_index.stored_passage(doc)).paper and passage.paper.year}
    expected = {doc for doc, year in years.items() if (low is None or year >= low) and (high is None or year <= high)}
    docs, scores = bundled_index.scorer.scores(Years(low, high))
    assert set(docs.tolist()) == expected and set(scores.tolist()) <= {1.0}


@pytest.mark.parametrize("query", ["year:..1950", "year:<1950", "year:1000..1500", "year:0", "year:2012..2017"])
def test_a_year_query_finds_only_papers_of_its_years(bundled_index, query):
    found = parse(query).root.children[0]
    hits = keyword(bundled_index, query, k=100)
    low = 0 if found.low is None else found.low
    high = 9999 if found.high is None else found.high
    assert all(low <= h.passage.paper.year <= high for h in hits)
    assert len(hits) == sum(1 for p in bundled_index.passages() if p.paper and p.paper.year and low <= p.paper.year <= high)
