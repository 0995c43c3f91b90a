"""The mixed Chinese/English analyzer: text → tokens with positions and exact offsets.

Text is NFKC-normalised and lower-cased; offsets always point into the original
text. Chinese runs are segmented by jieba (the main words get positions 1, 2,
3…; the shorter dictionary words inside a long word share its position, so
phrases match either way). Latin runs are kept whole and also split at `-`,
`/`, `.`, `_` (`resnet-50` → `resnet-50`, `resnet`, `50`). English words get a
light plural stemmer that never merges distinct terms. A second token stream,
Chinese character unigrams and bigrams, is the fallback for words jieba cuts
differently in a query and a note.
"""

from __future__ import annotations

import logging
import marshal
import os
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import jieba

from corpus.text import HAN, HAN_CHAR, HAN_RUN
from indexer.files import atomic_write
from indexer.stopwords import CHINESE_STOP_WORDS, ENGLISH_STOP_WORDS

jieba.setLogLevel(logging.WARNING)

_RUN = re.compile(
    rf"(?P<han>[{HAN}]+)"
    r"|(?P<latin>[0-9a-z\u00b5\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]+"
    r"(?:[-./_'][0-9a-z\u00b5\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]+)*(?:\+\+?|#)?)"
)
_LATIN_PART = re.compile(r"[0-9a-z\u00b5\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]+")
_NUMBER_DOT = re.compile(r"^\d+(?:\.\d+)+$")
# The longest dictionary word looked for inside a longer word (`神经网络` in `卷积神经网络`).
MAX_INNER_WORD = 6


@dataclass(frozen=True)
class Token:
    """A term, its 1-based position, and its [start, end) offsets in the original text."""

    text: str
    pos: int
    start: int
    end: int
    part: bool = False  # a word inside a longer token at the same position


def normalize(text: str) -> tuple[str, list[int] | None]:
    """NFKC + lower case, and the map from each normalised character to its original offset.

    The map is None when normalisation kept every character in place (the usual case).
    """
    if unicodedata.is_normalized("NFKC", text):
        folded = text.lower()
        if len(folded) == len(text):  # lower() never shortens, so each character stayed one character
            return folded, None
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for out in unicodedata.normalize("NFKC", ch).lower():
            chars.append(out)
            origin.append(i)
    return "".join(chars), origin


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


# The file jieba reads its default dictionary from in a cache folder (what Tokenizer.initialize writes).
JIEBA_CACHE = "jieba.cache"
_DICTIONARY: tuple[dict[str, int], int] | None = None
_DICTIONARY_LOCK = threading.Lock()


def load_dictionary(cache_dir: str | None = None) -> tuple[dict[str, int], int]:
    """jieba's prefix dictionary and its total frequency, loaded once per process.

    The first call loads it: from jieba's cache in `cache_dir` when there,
    else built from jieba's dictionary in memory (never cached in the shared
    temporary folder). Every call writes it into its `cache_dir` when that has
    no cache yet, so a later process loads it quickly; a folder it cannot
    write to (a read-only index) just goes without. The copy is never changed
    (a Segmenter with learned words adds them to a copy of its own).
    """
    global _DICTIONARY
    with _DICTIONARY_LOCK:
        cache = os.path.join(cache_dir, JIEBA_CACHE) if cache_dir else None
        if _DICTIONARY is None:
            loader = jieba.Tokenizer()
            if cache and os.path.isfile(cache):
                loader.tmp_dir = cache_dir
                loader.initialize()
                _DICTIONARY = loader.FREQ, loader.total
                return _DICTIONARY
            _DICTIONARY = loader.gen_pfdict(loader.get_dict_file())
        if cache and not os.path.isfile(cache):
            try:
                os.makedirs(cache_dir, exist_ok=True)
                atomic_write(cache, lambda f: marshal.dump(_DICTIONARY, f))
            except OSError:
                pass  # a read-only index (or a full disk): the cache only saves the next process a second
        return _DICTIONARY


class Segmenter:
    """A jieba tokenizer with the learned domain words added."""

    def __init__(self, words: Iterable[str] = (), cache_dir: str | None = None):
        self._jieba = jieba.Tokenizer()
        self._cache_dir = cache_dir
        self._words = tuple(words)
        self._ready = False
        self._lock = threading.Lock()

    def _initialize(self) -> None:
        with self._lock:
            if self._ready:
                return
            freq, total = load_dictionary(self._cache_dir)
            # Words are added in order: jieba suggests each one's frequency from those before it.
            self._jieba.FREQ, self._jieba.total = (dict(freq) if self._words else freq), total
            self._jieba.initialized = True
            for word in self._words:
                self._jieba.add_word(word)
            self._ready = True

    def words(self, run: str) -> list[str]:
        """jieba's words for a run of Chinese characters (accurate mode, HMM for unknown words)."""
        if not self._ready:
            self._initialize()
        return list(self._jieba.cut(run, HMM=True))

    def known(self, word: str) -> bool:
        if not self._ready:
            self._initialize()
        return bool(self._jieba.FREQ.get(word))


_SEGMENTERS: dict[tuple[tuple[str, ...], str | None], Segmenter] = {}
_SEGMENTERS_LOCK = threading.Lock()


def segmenter(words: Iterable[str] = (), cache_dir: str | None = None) -> Segmenter:
    """The shared Segmenter for this word list (jieba's dictionary loads once per process)."""
    key = (tuple(words), cache_dir)
    with _SEGMENTERS_LOCK:
        if key not in _SEGMENTERS:
            _SEGMENTERS[key] = Segmenter(*key)
        return _SEGMENTERS[key]


class Analyzer:
    """Turns text into index or query terms; see the module docstring."""

    def __init__(self, words: Iterable[str] = (), cache_dir: str | None = None):
        self.segmenter = segmenter(words, cache_dir)

    def tokens(self, text: str, *, subwords: bool = True, stop: bool = True) -> list[Token]:
        """Word tokens of `text`; `subwords` adds the parts of compounds at the same positions."""
        norm, origin = normalize(text)
        out: list[Token] = []
        pos = 0

        def emit(term: str, at: int, start: int, end: int, part: bool = False) -> None:
            if origin is not None:
                start, end = origin[start], origin[end - 1] + 1
            out.append(Token(term, at, start, end, part))

        for run in _RUN.finditer(norm):
            if run.group("han"):
                base = run.start()
                offset = 0
                for word in self.segmenter.words(run.group()):
                    start = base + offset
                    offset += len(word)
                    if stop and word in CHINESE_STOP_WORDS:
                        continue
                    pos += 1
                    emit(word, pos, start, start + len(word))
                    if subwords and len(word) > 2:
                        for sub, i in self._inner_words(word):
                            emit(sub, pos, start + i, start + i + len(sub), True)
            else:
                pos = self._latin(run, pos, emit, subwords, stop)
        return out

    def _inner_words(self, word: str) -> Iterator[tuple[str, int]]:
        for n in range(2, min(len(word), MAX_INNER_WORD + 1)):
            for i in range(len(word) - n + 1):
                sub = word[i:i + n]
                if self.segmenter.known(sub):
                    yield sub, i

    @staticmethod
    def _latin(run: re.Match, pos: int, emit, subwords: bool, stop: bool) -> int:
        whole = run.group()
        base = run.start()
        parts = [m for m in _LATIN_PART.finditer(whole)]
        if len(parts) == 1 and whole == parts[0].group():
            if stop and whole in ENGLISH_STOP_WORDS:
                return pos
            pos += 1
            emit(stem(whole), pos, base, base + len(whole))
            return pos
        first = pos + 1
        if _NUMBER_DOT.match(whole):
            pos += 1
            emit(whole, pos, base, base + len(whole))
            return pos
        emit(whole, first, base, base + len(whole))
        if not subwords:
            return first
        for part in parts:
            term = part.group()
            if stop and term in ENGLISH_STOP_WORDS:
                continue
            pos += 1
            emit(stem(term), pos, base + part.start(), base + part.end(), True)
        return max(pos, first)

    def query_terms(self, text: str) -> list[str]:
        """One term per position, in order: the terms of a phrase (see phrase_terms)."""
        return phrase_terms(self.tokens(text))


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


def char_grams(text: str) -> list[Token]:
    """Chinese character unigrams and bigrams; bigram i and unigram i share position i."""
    norm, origin = normalize(text)
    out: list[Token] = []
    pos = 0
    for run in HAN_RUN.finditer(norm):
        chars = run.group()
        for i, ch in enumerate(chars):
            pos += 1
            start = run.start() + i
            begin, finish = (origin[start], origin[start] + 1) if origin else (start, start + 1)
            out.append(Token(ch, pos, begin, finish))
            if i + 1 < len(chars):
                end = (origin[start + 1] + 1) if origin else start + 2
                out.append(Token(chars[i:i + 2], pos, begin, end))
        pos += 1  # no phrase spans two runs
    return out
