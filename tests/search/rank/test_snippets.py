"""Snippets: the best fragment, matched words marked at their exact original offsets."""

from __future__ import annotations

from itertools import pairwise

import pytest

from corpus.text import HAN_RUN
from indexer.analysis import Analyzer
from search.query.plan import plan_query
from search.rank.snippets import match_spans, snippet, spans_of, token_spans


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory) -> Analyzer:
    return Analyzer(cache_dir=str(tmp_path_factory.mktemp("jieba")))


def spans(text: str, terms: list[str], words: list[str], analyzer: Analyzer) -> list[tuple[int, int]]:
    """The spans of `text` matching index terms and query words (phrases whole, Chinese runs as written)."""
    phrases = [word.split() for word in words if len(word.split()) > 1]
    runs = [run for word in words for run in HAN_RUN.findall(word) if len(run) > 1]
    return spans_of(text, terms, phrases, runs, analyzer)


def marked(text: str, terms: list[str], words: list[str], analyzer: Analyzer, width: int = 160) -> str:
    return snippet(text, spans(text, terms, words, analyzer), width)


def test_longest_match_wins(analyzer):
    text = "马克思主义者马克在读马克思的书"
    assert marked(text, ["马克思", "马克"], ["马克思"], analyzer) == "**马克思**主义者**马克**在读**马克思**的书"


def test_query_for_a_longer_word_never_marks_its_inner_word_alone(analyzer):
    text = "马克思主义者马克在读马克思的书"
    plan = plan_query("马克思", analyzer)
    assert snippet(text, match_spans(text, plan, analyzer)) == "**马克思**主义者马克在读**马克思**的书"


def test_marks_sit_at_original_offsets_of_full_width_text(analyzer):
    text = "今年 ＧＰＴ-4 很火，GPT-4 也是"
    assert marked(text, ["gpt-4", "gpt", "4"], ["GPT-4"], analyzer) == "今年 **ＧＰＴ-4** 很火，**GPT-4** 也是"


def test_chinese_word_cut_differently_is_marked_as_a_substring(analyzer):
    text = "我们研究自监督学习方法"
    assert marked(text, [], ["自监督"], analyzer) == "我们研究**自监督**学习方法"


def test_plural_and_case_are_marked_as_written(analyzer):
    text = "Deep Residual Networks for image recognition"
    assert marked(text, ["network"], ["network"], analyzer) == "Deep Residual **Networks** for image recognition"


def test_best_fragment_holds_the_matches(analyzer):
    text = "开头的话。" * 60 + "这里讲反向传播算法。" + "结尾的话。" * 60
    out = marked(text, ["反向", "传播"], ["反向传播"], analyzer, width=40)
    assert "**反向传播**" in out
    assert out.startswith("…") and out.endswith("…")
    assert len(out.replace("**", "").strip("…")) == 40


def test_no_match_shows_the_beginning(analyzer):
    text = "第一句。" * 100
    out = marked(text, ["没有"], ["没有"], analyzer, width=20)
    assert out == text[:20] + "…"


def test_spans_never_overlap(analyzer):
    text = "卷积神经网络和图神经网络"
    found = spans(text, ["神经网络", "神经", "网络", "卷积"], ["卷积神经网络", "神经网络"], analyzer)
    assert all(a_end <= b_start for (_a, a_end), (b_start, _b) in pairwise(found))
    assert [text[a:b] for a, b in found] == ["卷积神经网络", "神经网络"]


def test_phrase_of_several_words_is_marked_whole(analyzer):
    text = "学者提出了 Masked  Autoencoders (MAE)，masked 也常见"
    assert marked(text, ["masked", "autoencoder"], ["masked autoencoders"], analyzer) == (
        "学者提出了 **Masked  Autoencoders** (MAE)，**masked** 也常见")


def test_token_spans_from_the_pieces_equal_those_of_the_whole_text(analyzer):
    from conftest import BUNDLED_NOTES

    from corpus.markdown import passages_of
    from corpus.reading import NoteFile, read_note

    checked = 0
    for path in sorted(BUNDLED_NOTES.glob("*.md")):
        for passage in passages_of(read_note(NoteFile(str(path), str(BUNDLED_NOTES)))):
            tokens = analyzer.tokens(passage.text)
            # Every third term of the passage (words, parts, Latin runs), and words it does not hold.
            wanted = {t.text for t in tokens[::3]} | {"不存在的词", "nonexistent"}
            whole = sorted({(t.start, t.end) for t in tokens if t.text in wanted})
            assert sorted(set(token_spans(passage.text, wanted, analyzer))) == whole
            checked += 1
    assert checked > 80
