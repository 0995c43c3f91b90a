"""corpus/pinyin.py: the syllables it knows without loading pypinyin's tables are the tables' own."""

from __future__ import annotations

from corpus import pinyin


def test_the_syllables_are_every_first_reading_of_pypinyins_characters():
    chars, _phrases = pinyin.tables()
    assert pinyin.SYLLABLES == frozenset(chars.values())
    assert max(map(len, pinyin.SYLLABLES)) == pinyin.LONGEST_SYLLABLE


def test_spelling_in_syllables_needs_no_tables(monkeypatch):
    pinyin.spelled_in_syllables.cache_clear()
    getattr(pinyin.syllables, "cache_clear", lambda: None)()
    monkeypatch.setattr(pinyin, "tables", lambda: (_ for _ in ()).throw(AssertionError("the tables were loaded")))
    assert pinyin.spelled_in_syllables("kaiming") and pinyin.spelled_in_syllables("zhuangxiang")
    assert not pinyin.spelled_in_syllables("transformer") and not pinyin.spelled_in_syllables("hinton")
    pinyin.spelled_in_syllables.cache_clear()
