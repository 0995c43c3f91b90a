"""The mixed Chinese/English analyzer: text → tokens with positions and exact offsets.

Text is NFKC-normalised and lower-cased, Traditional characters read as
Simplified and zero-width characters as nothing (corpus/script.py), before
jieba segments it; offsets always point into the original text. Chinese runs are segmented by jieba (the main words get positions 1, 2,
3…; the shorter dictionary words inside a long word share its position, so
phrases match either way). Latin runs are kept whole and also split at `-`,
`/`, `.`, `_` (`resnet-50` → `resnet-50`, `resnet`, `50`). English words get a
light plural stemmer that never merges distinct terms. A second token stream,
each Chinese character with the one after it, is the fallback for words jieba
cuts differently in a query and a note. The indexer takes both as plain terms and positions
(`index_terms`, `gram_terms`): a Token per term costs more than the analysis.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from corpus.script import INVISIBLE, INVISIBLE_CHAR, simplified
from corpus.text import HAN, HAN_CHAR, HAN_RUN, MULTIPLICATION_SIGN, TIMES_AS_X
from indexer.caches import ForgetfulCache
from indexer.segmenter import segmenter
from indexer.stopwords import CHINESE_STOP_WORDS, ENGLISH_STOP_WORDS

_RUN = re.compile(
    rf"(?P<han>[{HAN}]+)"
    r"|(?P<latin>[0-9a-z\u00b5\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]+"
    r"(?:[-./_'][0-9a-z\u00b5\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]+)*(?:\+\+?|#)?)"
)
_LATIN_PART = re.compile(r"[0-9a-z\u00b5\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]+")
_NUMBER_DOT = re.compile(r"^\d+(?:\.\d+)+$")


@dataclass(frozen=True)
class Token:
    """A term, its 1-based position, and its [start, end) offsets in the original text."""

    text: str
    pos: int
    start: int
    end: int
    part: bool = False  # a word inside a longer token at the same position


class _Folded(ForgetfulCache):
    """Each character (by code point) → its NFKC form, lower-cased, `×` as `x` (corpus/text.py), an invisible
    character as nothing; worked out on first sight (for str.translate), and forgotten past 65,536 characters
    (text of every script)."""

    def __missing__(self, code: int) -> str:
        if chr(code) in INVISIBLE:
            return self.keep(code, "")
        return self.keep(code, TIMES_AS_X.get(code) or unicodedata.normalize("NFKC", chr(code)).lower())


_FOLDED = _Folded(1 << 16)


def normalize(text: str) -> tuple[str, list[int] | None]:
    """NFKC + lower case, Traditional characters as Simplified, invisible characters dropped, and the map from
    each normalised character to its original offset.

    Characters are normalised one by one (a combining mark stays apart from
    its letter, so offsets map back); the script folding keeps each character
    in its place. The map is None when every character stayed one character
    (the usual case: `，` → `,` keeps its place).
    """
    if (unicodedata.is_normalized("NFKC", text) and MULTIPLICATION_SIGN not in text
            and not INVISIBLE_CHAR.search(text)):
        folded = text.lower()
        if len(folded) == len(text):  # lower() never shortens, so each character stayed one character
            return simplified(folded), None
    folded = text.translate(_FOLDED)
    if len(folded) == len(text) and not INVISIBLE_CHAR.search(text):  # none folds to several (nor to nothing)
        return simplified(folded), None
    origin = [i for i, ch in enumerate(text) for _ in range(len(_FOLDED[ord(ch)]))]
    return simplified(folded), origin


def stem(word: str) -> str:
    """English plural stemming (Harman's S-stemmer, plus `classes` → `class`).

    `networks` → `network`, `policies` → `policy`; never `transformer` → `transform`.
    """
    if len(word) <= 3 or not word.isalpha() or not word.isascii():
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("us", "ss", "is")):
        return word[:-1]
    return word


class Analyzer:
    """Turns text into index or query terms; see the module docstring."""

    def __init__(self, words: Iterable[str] = (), cache_dir: str | None = None, by_char: bool = False,
                 caches: Mapping[str, str] | None = None):
        """`by_char`: read jieba's dictionary by first character as the text needs it (see Segmenter); `caches`:
        the checksums of jieba's caches in `cache_dir` that the index recorded."""
        self.segmenter = segmenter(words, cache_dir, by_char, caches)

    @property
    def problems(self) -> list[str]:
        """What was wrong with jieba's caches when the dictionary loaded (one line each)."""
        return self.segmenter.problems

    def tokens(self, text: str, *, subwords: bool = True, stop: bool = True) -> list[Token]:
        """Word tokens of `text`; `subwords` adds the parts of compounds at the same positions."""
        return [Token(*found) for found in self._scan(text, subwords, stop)]

    def index_terms(self, text: str) -> tuple[list[str], list[int]]:
        """The terms `tokens(text)` gives, and their positions counted from 0 (as the keyword index stores them)."""
        found = self._scan(text, True, True)
        return [term for term, *_rest in found], [token[1] - 1 for token in found]

    def _scan(self, text: str, subwords: bool, stop: bool) -> list[tuple[str, int, int, int, bool]]:
        """(term, position, start, end, part) of each token: what a Token holds, without building one."""
        norm, origin = normalize(text)
        out: list[tuple[str, int, int, int, bool]] = []
        pos = 0

        def emit(term: str, at: int, start: int, end: int, part: bool = False) -> None:
            if origin is not None:
                start, end = origin[start], origin[end - 1] + 1
            out.append((term, at, start, end, part))

        segmenter = self.segmenter
        for run in _RUN.finditer(norm):
            if run.group("han"):
                base = run.start()
                offset = 0
                for word in segmenter.words(run.group()):
                    start = base + offset
                    offset += len(word)
                    if stop and word in CHINESE_STOP_WORDS:
                        continue
                    pos += 1
                    emit(word, pos, start, start + len(word))
                    if subwords and len(word) > 2:
                        for sub, i in segmenter.inner_words(word):
                            emit(sub, pos, start + i, start + i + len(sub), True)
            else:
                found, advance = _latin(run.group(), subwords, stop)
                base = run.start()
                for term, at, start, end, part in found:
                    emit(term, pos + at, base + start, base + end, part)
                pos += advance
        return out

    def query_terms(self, text: str) -> list[str]:
        """One term per position, in order: the terms of a phrase (see phrase_terms)."""
        return phrase_terms(self.tokens(text))


@functools.lru_cache(maxsize=1 << 16)
def _latin(whole: str, subwords: bool, stop: bool) -> tuple[tuple[tuple[str, int, int, int, bool], ...], int]:
    """The tokens of a Latin run (term, position after the one before the run, start, end, part) and how many
    positions the run takes. Remembered: English words recur."""
    parts = list(_LATIN_PART.finditer(whole))
    if len(parts) == 1 and whole == parts[0].group():
        if stop and whole in ENGLISH_STOP_WORDS:
            return (), 0
        return ((stem(whole), 1, 0, len(whole), False),), 1
    if _NUMBER_DOT.match(whole):
        return ((whole, 1, 0, len(whole), False),), 1
    found = [(whole, 1, 0, len(whole), False)]
    if not subwords:
        return tuple(found), 1
    at = 0
    for part in parts:
        term = part.group()
        if stop and term in ENGLISH_STOP_WORDS:
            continue
        at += 1
        found.append((stem(term), at, part.start(), part.end(), True))
    return tuple(found), max(at, 1)


def phrase_terms(tokens: list[Token]) -> list[str]:
    """One term per position of analysed text, in order: the terms a phrase of it matches.

    A Chinese word stands for itself (its inner words share its position);
    a split Latin compound stands as its parts, which hold positions of
    their own in the index (`resnet-50 模型` → `resnet`, `50`, `模型`).
    """
    out = []
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        split = following is not None and following.part and following.pos == token.pos and not HAN_CHAR.match(token.text)
        if (token.part and not HAN_CHAR.match(token.text)) or (not token.part and not split):
            out.append(token.text)
    return out


def path_tokens(path: str) -> list[Token]:
    """Lower-cased words of a file path: `notes/famous-papers.md` → notes, famous, papers, md."""
    return [Token(m.group().lower(), n, m.start(), m.end()) for n, m in enumerate(re.finditer(r"[^\W_]+", path), 1)]


def char_grams(text: str) -> list[Token]:
    """Each Chinese character's gram, at the character's position: the character and the next one of its run
    (a bigram), or the character alone at the end of a run.

    The fallback for words jieba cuts differently: a run of Chinese in a query
    is found as a phrase of its bigrams, and one character as the grams that
    start with it (search/rank/scorer.py), which are as many as its occurrences.
    Half the postings of unigrams and bigrams both, for the same answers.
    """
    norm, origin = normalize(text)
    return [Token(gram, pos, origin[start] if origin else start, (origin[start + len(gram) - 1] + 1) if origin
                  else start + len(gram)) for gram, pos, start in _grams(norm)]


def gram_terms(text: str) -> tuple[list[str], list[int]]:
    """The grams `char_grams(text)` gives, and their positions counted from 0 (as the keyword index stores them)."""
    terms: list[str] = []
    positions: list[int] = []
    pos = 0
    for run in HAN_RUN.finditer(normalize(text)[0]):
        chars = run.group()
        terms += [chars[i:i + 2] for i in range(len(chars))]  # the last one is a character alone
        positions += range(pos, pos + len(chars))
        pos += len(chars) + 1  # no phrase spans two runs
    return terms, positions


def _grams(norm: str) -> Iterator[tuple[str, int, int]]:
    """(gram, 1-based position, offset in `norm`) of the grams of normalised text."""
    pos = 0
    for run in HAN_RUN.finditer(norm):
        chars = run.group()
        for i in range(len(chars)):
            yield chars[i:i + 2], pos + i + 1, run.start() + i
        pos += len(chars) + 1
