"""corpus/text.py: the one account of what is Chinese, and folding for comparison."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus.text import CHINESE_TEXT_CHAR, CJK_TEXT_CHAR, HAN_CHAR, chinese_share, comparable, fold, sentence_runs


@pytest.mark.parametrize("text, low, high", [
    ("自监督 视觉", 0.99, 1.0), ("self-supervised learning", 0.0, 0.01), ("Transformer 长序列", 0.2, 0.6),
    ("2024", 0.5, 0.5),
])
def test_chinese_share_measures_the_script(text, low, high):
    assert low <= chinese_share(text) <= high


@pytest.mark.parametrize("char, han, cjk_text, chinese_text", [
    ("中", True, True, True),
    ("㐀", True, True, True),  # Extension A
    ("豈", True, True, True),  # a compatibility ideograph
    ("𠀀", False, False, True),  # Extension B: outside the plane jieba reads
    ("。", False, True, True),
    ("カ", False, True, False),
    ("Ａ", False, True, True),
    ("a", False, False, False),
])
def test_each_class_holds_what_its_stage_counts_as_chinese(char, han, cjk_text, chinese_text):
    assert (bool(HAN_CHAR.match(char)), bool(CJK_TEXT_CHAR.match(char)), bool(CHINESE_TEXT_CHAR.match(char))) == (
        han, cjk_text, chinese_text)


@pytest.mark.parametrize("a, b", [
    ("Attention is All You Need", "attention is all you need"),
    ("Pre-training  of BERT", "pretraining of bert"),
    ("自监督 学习（SSL）", "自监督学习ssl"),
])
def test_folding_ignores_case_spaces_and_punctuation(a, b):
    assert fold(a) == fold(b)


def test_sentence_runs_join_a_short_sentence_to_the_next():
    text = "短句。这一句要长得多，足够成为一段。末尾的这一句也够长了吧。"
    assert sentence_runs(text, 8) == ["短句。这一句要长得多，足够成为一段。", "末尾的这一句也够长了吧。"]
    # A short last sentence joins the run before it; what is left as one run is no runs at all.
    assert sentence_runs("这一句要长得多，足够成为一段。末尾。", 8) == []
    assert sentence_runs("One sentence here. Another one there, longer.", 10) == [
        "One sentence here.", "Another one there, longer."]
    # A decimal point or a colon inside a word ends nothing.
    assert sentence_runs("Top-1 rose to 87.8% on ImageNet-1K. See https://example.org/a for the table.", 10) == [
        "Top-1 rose to 87.8% on ImageNet-1K.", "See https://example.org/a for the table."]


@given(st.lists(st.text(alphabet="ab 中文。！?.\n", max_size=30), max_size=8), st.integers(1, 80))
def test_sentence_runs_keep_every_character_in_order(pieces, shortest):
    text = "".join(pieces)
    runs = sentence_runs(text, shortest)
    assert len(runs) != 1
    if runs:
        assert "".join("".join(run.split()) for run in runs) == "".join(text.split())
        assert all(run == run.strip() and run for run in runs)


@pytest.mark.parametrize("text, folded", [
    ("对比学习（SimCLR、MoCo）", "对比学习simclrmoco"),
    ("对比学习\n(SimCLR, MoCo)", "对比学习simclrmoco"),
    ("ＧＰＴ-４ 模型", "gpt4模型"),
    ("⾃监督 ⻅解", "自监督见解"),  # a Kangxi radical and one of the supplement, as a PDF's CJK font names them
    ("ﬁne-tuning", "finetuning"),
])
def test_a_text_compares_without_case_width_spaces_punctuation_or_radicals(text, folded):
    assert comparable(text) == folded
