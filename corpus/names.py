"""People's names as keys that hold whichever way a note or a query writes them: surname and first initial.

    author_keys("Kaiming He")      # {"he_k", "kaiming_h"}: given name first, or surname first
    author_keys("He, K.")          # {"he_k"}
    text_keys("K. He et al. 与 Jian Sun")  # {"he_k", "sun_j", "jian_s"}
    han_name_keys("何恺明")          # {"he_k", "hekai_m"}: a surname of one character, or of two
    initials_key("K.", "He")       # "he_k"

A name written in Chinese characters reads in pinyin (corpus/pinyin.py), so
`何恺明`, `Kaiming He`, `He Kaiming` and `K. He` all hold the key `he_k`. The
index keeps the keys of each passage's authors and of the names its text
writes in letters (a separate field, searched only by the keys of a name a
query writes: corpus words never meet them, so `map` does not find `P. Ma`).
Where a name's order is unknown, both readings are keys: a wrong one is a key
no query of a real name asks for. In prose, two capitalised words are taken for
a name only when both are pinyin (`Jian Sun`, not `Deep Residual`), and an
initial followed by a capitalised word always (`K. He`, `G. Hinton`).
"""

from __future__ import annotations

import re

from corpus.pinyin import spelled_in_syllables, syllable_readings
from corpus.text import HAN

_WORD = r"[A-Z][a-z]+(?:-[A-Za-z][a-z]+)?"
_INITIALS = r"(?:[A-Z]\.\s?-?)+"
# `K. He`, `K.-M. He`, `G. E. Hinton`: initials, then a capitalised surname.
_INITIALS_NAME = re.compile(rf"\b({_INITIALS})\s*({_WORD})\b")
# `Jian Sun`, `Fei-Fei Li`: two capitalised words (a name only when both read as pinyin).
_TWO_WORDS = re.compile(rf"\b({_WORD})\s+({_WORD})\b")
_HAN_NAME = re.compile(f"[{HAN}]{{2,4}}")
# A typed initial: a letter with a dot (`k.`, `K.-M.`), or a capital letter alone (`K`).
_TYPED_INITIAL = re.compile(r"(?:[A-Za-z]\.-?)+|[A-Z]")
_TYPED_SURNAME = re.compile(r"[A-Za-z][a-z]+(?:-[A-Za-z][a-z]+)?|[A-Z]+(?:-[A-Z]+)?")


def key(surname: str, given: str) -> str:
    """The key of a surname and a given name (or its initial): `he_k`."""
    return f"{re.sub('[^a-z]', '', surname.lower())}_{given.lstrip('.-')[:1].lower()}"


def shown(name_key: str) -> str:
    """A key as a name, surname first: `he_k` → `He, K.`."""
    surname, _, initial = name_key.partition("_")
    return f"{surname.capitalize()}, {initial.upper()}."


def han_name_keys(name: str) -> set[str]:
    """The keys of a name in Chinese characters (2-4 of them): its surname is its first character or its first
    two, its given name the rest; none when a character has no reading."""
    read = syllable_readings(name)
    if not 2 <= len(name) <= 4 or not all(read):
        return set()
    return {key("".join(read[:cut]), read[cut]) for cut in (1, 2) if cut < len(name)}


def author_keys(author: str) -> set[str]:
    """The keys of a paper's author as the paper lists them: `Kaiming He`, `K. He`, `He, Kaiming`, `何恺明`."""
    author = author.strip()
    if _HAN_NAME.fullmatch(author):
        return han_name_keys(author)
    if "," in author:
        surname, _, given = (part.strip() for part in author.partition(","))
        words = re.findall(r"[A-Za-z][A-Za-z-]*", surname)
        return {key(words[-1], given)} if words and given[:1].isalpha() else set()
    words = re.findall(r"[A-Za-z][A-Za-z.-]*", author)
    if len(words) < 2:
        return set()
    surname = words[-1].rstrip(".")
    found = {key(surname, words[0])} if len(surname) > 1 else set()
    if len(words) == 2 and re.fullmatch(_WORD, words[0]):
        found.add(key(words[0], words[1]))  # `He Kaiming`: the surname may come first
    return found


def text_keys(text: str) -> set[str]:
    """The keys of the names a text writes in letters: initials and a surname, or two words that read as pinyin
    (in either order)."""
    return {name_key for _span, keys in _written_names(text) for name_key in keys}


def name_spans(text: str, wanted: set[str]) -> list[tuple[int, int]]:
    """The [start, end) spans of the names `text` writes in letters whose keys are wanted (`Kaiming He` for
    `he_k`): what a snippet marks for a name found by its key."""
    return [span for span, keys in _written_names(text) if wanted.intersection(keys)]


def _written_names(text: str) -> list[tuple[tuple[int, int], tuple[str, ...]]]:
    """Each name `text` writes in letters (text_keys): its span and its keys."""
    found = [(m.span(), (key(m.group(2), m.group(1)),)) for m in _INITIALS_NAME.finditer(text)]
    for m in _TWO_WORDS.finditer(text):
        first, second = m.groups()
        if all(spelled_in_syllables(word.replace("-", "").lower()) for word in (first, second)):
            found.append((m.span(), (key(second, first), key(first, second))))
    return found


def is_initial(typed: str) -> bool:
    """Whether a typed word is an initial: a letter with a dot (`k.`, `K.-M.`), or a capital letter alone."""
    return _TYPED_INITIAL.fullmatch(typed) is not None


def initials_key(first: str, second: str) -> str:
    """The key of a name typed as an initial and a surname, in either order (`K. He`, `He K.`); "" otherwise."""
    for initial, surname in ((first, second), (second, first)):
        if is_initial(initial) and _TYPED_SURNAME.fullmatch(surname):
            return key(surname, initial)
    return ""


def full_name_keys(first: str, second: str) -> list[str]:
    """The keys of two capitalised words typed as a name, either may be the surname (`Kaiming He`: `he_k`,
    then `kaiming_h`); none for other words."""
    if not (re.fullmatch(_WORD, first) and re.fullmatch(_WORD, second)):
        return []
    return [key(second, first), key(first, second)]
