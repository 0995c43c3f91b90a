"""Chinese read in pinyin, without tones: the one seam to pypinyin.

    reading("自监督")              # "zijiandu"
    toneless("zìjiāndū")           # "zijiandu"
    spelled_in_syllables("kaiming")  # True

pypinyin's own dictionaries give each character's first reading and each
phrase's. The query's spelling (search/query/spelling.py) reads the index's
Chinese words so; the name keys (corpus/names.py) read Chinese names so.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_LETTERS = re.compile(r"[a-z]+")
_TONE_DIGITS = re.compile(r"(?<=[a-zü])[1-5]")
# The longest toneless syllable (`zhuang`).
LONGEST_SYLLABLE = 6


def toneless(text: str) -> str:
    """Pinyin as compared: lower case, no tone marks or tone digits, `ü` and `v` as `u`, no spaces or `'`."""
    text = _TONE_DIGITS.sub("", text.lower())
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return plain.replace("v", "u").replace("'", "").replace(" ", "")


@functools.lru_cache(maxsize=1)
def tables() -> tuple[dict[int, str], dict[str, list[list[str]]]]:
    """pypinyin's readings: each character's (first one, toneless) and each phrase's."""
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    return {code: toneless(readings.split(",")[0]) for code, readings in pinyin_dict.items()}, phrases_dict


def reading(word: str) -> str:
    """The toneless pinyin of a Chinese word, syllables run together (`自监督` → `zijiandu`); "" when a character
    has no reading."""
    chars, phrases = tables()
    phrase = phrases.get(word)
    if phrase is not None:
        return "".join(toneless(syllables[0]) for syllables in phrase)
    read = [chars.get(ord(ch), "") for ch in word]
    return "".join(read) if all(read) else ""


def syllable_readings(word: str) -> list[str]:
    """Each character's toneless reading (`何恺明` → he, kai, ming); "" for a character that has none."""
    chars, _phrases = tables()
    return [chars.get(ord(ch), "") for ch in word]


def could_be_pinyin(text: str) -> bool:
    """Whether `text` is Latin letters (tone marks or digits allowed) that pinyin could spell."""
    plain = toneless(text)
    return bool(plain) and _LETTERS.fullmatch(plain) is not None


@functools.lru_cache(maxsize=1)
def syllables() -> frozenset[str]:
    """Every toneless syllable pypinyin reads a character as."""
    chars, _phrases = tables()
    return frozenset(chars.values())


@functools.lru_cache(maxsize=4096)
def spelled_in_syllables(word: str) -> bool:
    """Whether lower-case letters `word` are pinyin syllables in a row (`kaiming`, `feifei`; not `hinton`)."""
    known = syllables()
    ends = {0}
    for end in range(1, len(word) + 1):
        if any(word[start:end] in known for start in ends if end - start <= LONGEST_SYLLABLE):
            ends.add(end)
    return len(word) in ends and bool(word)
