"""The bisected vocabulary answers as the dict it stands for, before and after it becomes one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import vocabulary
from indexer.vocabulary import Vocabulary, vocabulary_arrays

words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6).filter(
    lambda word: not word.endswith("\0"))


@settings(max_examples=60, deadline=None)
@given(st.lists(words, min_size=1, max_size=40), st.lists(words, max_size=20))
def test_a_vocabulary_answers_as_a_dict_whose_first_entry_wins(listed, others):
    pairs = [(word, n) for n, word in enumerate(listed)]
    expected: dict[str, int] = {}
    for word, n in pairs:
        expected.setdefault(word, n)
    keys, ids = vocabulary_arrays(pairs)
    for limit in (10**9, 3):  # bisection throughout; a dict after three lookups
        vocabulary.DICT_AFTER, saved = limit, vocabulary.DICT_AFTER
        try:
            found = Vocabulary(keys, ids)
            assert len(found) == len(expected)
            assert {word: found.get(word) for word in expected} == expected
            assert all(found.get(word) is None for word in others if word not in expected)
            assert found.get("x" * 1000) is None and found.get("") is None
        finally:
            vocabulary.DICT_AFTER = saved
