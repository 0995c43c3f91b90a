"""What the paper graph reads of a file: the names a text mentions, the terms a reason may show."""

from __future__ import annotations

import re

import pytest

from indexer.analysis import Analyzer
from indexer.paper_material import mentions, shown


@pytest.mark.parametrize("name, text, mentioned", [
    ("DeepMind", "在DeepMind的这项工作中", True),  # Chinese around a name is no letter
    ("CNN", "Girshick的R-CNN", True),
    ("LSTM", "LSTMs与GRU", True),
    ("GPT", "SparseGPT剪枝", False),
    ("GPT", "GPT-3的参数", True),
    ("Bahdanau", "Bahdanau2015", True),
    ("BERT", "RoBERTa", False),
])
def test_mentions_find_a_name_where_the_letter_bounded_pattern_does(name, text, mentioned):
    pattern = rf"(?<![A-Za-z]){re.escape(name)}s?(?![A-Za-z])"
    assert (name in mentions(text)) is mentioned is bool(re.search(pattern, text))


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


@pytest.mark.parametrize("term", ["应该", "参阅", "更具", "学习", "使用", "篇文章", "这些方法", "困惑度"])
def test_a_reason_never_shows_a_verb_an_adverb_or_a_phrase_of_function_words(analyzer, term):
    assert not shown(term, analyzer)


@pytest.mark.parametrize("term", ["剪枝", "注意力", "机器翻译", "卷积神经网络", "剪枝策略", "依赖图", "lora", "transformer"])
def test_a_reason_shows_names_of_things(analyzer, term):
    assert shown(term, analyzer)
