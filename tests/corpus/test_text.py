"""corpus/text.py: the one account of what is Chinese, and folding for comparison."""

from __future__ import annotations

import pytest

from corpus.text import CHINESE_TEXT_CHAR, CJK_TEXT_CHAR, HAN_CHAR, chinese_share, fold


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
