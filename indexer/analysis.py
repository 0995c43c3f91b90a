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
import logging
import marshal
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

import jieba

from corpus import script
from corpus.script import INVISIBLE, INVISIBLE_CHAR, simplified
from corpus.text import HAN, HAN_CHAR, HAN_RUN, MULTIPLICATION_SIGN, TIMES_AS_X
from indexer.by_char import BY_CHAR_CACHE, ByCharDictionary, read_by_char, write_by_char
from indexer.caches import ForgetfulCache
from indexer.files import atomic_write, file_sha256
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
# Words whose inner words a Segmenter remembers (a word recurs in many passages).
_INNER_CACHE = 100_000


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


# The file jieba reads its default dictionary from in a cache folder (what Tokenizer.initialize writes).
JIEBA_CACHE = "jieba.cache"
_DICTIONARY: tuple[dict[str, int], int] | None = None
_DICTIONARY_LOCK = threading.Lock()


def load_dictionary(cache_dir: str | None = None) -> tuple[dict[str, int], int]:
    """jieba's prefix dictionary and its total frequency, loaded once per process.

    The first call loads it: from jieba's cache in `cache_dir` when there,
    else built from jieba's dictionary in memory (never cached in the shared
    temporary folder). Every call writes it into its `cache_dir` when that has
    no cache yet, whole and by first character (indexer/by_char.py), so a
    later process loads it quickly; a folder it cannot write to (a read-only
    index) just goes without. The copy is never changed (a Segmenter with
    learned words adds them to a copy of its own).
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
            else:
                _DICTIONARY = loader.gen_pfdict(loader.get_dict_file())
        if cache_dir:
            freq, total = _DICTIONARY
            _write_cache(os.path.join(cache_dir, JIEBA_CACHE), lambda f: marshal.dump(_DICTIONARY, f))
            _write_cache(os.path.join(cache_dir, BY_CHAR_CACHE), lambda f: write_by_char(f, freq, total))
        return _DICTIONARY


def _write_cache(path: str, write: Callable[[BinaryIO], object]) -> None:
    """Write a cache file unless it is there already (or cannot be written)."""
    if os.path.isfile(path):
        return
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write(path, write)
    except OSError:
        pass  # a read-only index (or a full disk): the cache only saves the next process a second


def _by_char_dictionary(cache_dir: str | None, sha256: str | None,
                        problems: list[str]) -> tuple[ByCharDictionary, int] | None:
    """jieba's dictionary read by first character from `cache_dir`, or None when it has no such cache, or one that
    does not match its checksum `sha256` (then said in `problems`).

    A process that has loaded the dictionary whole already (it indexed) gets None: it has no need of a second.
    """
    if not cache_dir or _DICTIONARY is not None:
        return None
    path = os.path.join(cache_dir, BY_CHAR_CACHE)
    try:
        return read_by_char(path, sha256)
    except OSError:
        return None
    except ValueError:
        problems.append(_damaged_cache(path))
        return None


def _damaged_cache(path: str) -> str:
    return (f"jieba's dictionary cache {path} is damaged (it does not match its checksum): reading jieba's own "
            "dictionary instead, more slowly, until the next index run writes it again")


def _cache_matches(path: str, sha256: str | None) -> bool:
    """Whether a cache file is what the index recorded (True when it recorded nothing, or there is no file)."""
    if sha256 is None or not os.path.exists(path):
        return True
    try:
        return file_sha256(path) == sha256
    except OSError:
        return False


class Segmenter:
    """A jieba tokenizer with the learned domain words added.

    `by_char` reads jieba's dictionary a first character at a time as the
    text needs it, from the cache folder's copy by first character: a search
    cuts a few words, and loading the whole dictionary would be most of its
    time. The words found are the same either way.
    """

    def __init__(self, words: Iterable[str] = (), cache_dir: str | None = None, by_char: bool = False,
                 caches: tuple[tuple[str, str], ...] = ()):
        """`caches`: the checksums of jieba's caches in `cache_dir` as the index recorded them (name, SHA-256);
        a cache that does not match is not read (`problems` says so)."""
        self._jieba = jieba.Tokenizer()
        self._cache_dir = cache_dir
        # A learned word is looked for as the text is read: in Simplified characters, with nothing invisible.
        self._words = tuple(dict.fromkeys(script.folded(word) for word in words))
        self._by_char = by_char
        self._caches = dict(caches)
        self.problems: list[str] = []
        self._reader: ByCharDictionary | None = None  # when the dictionary is read by first character
        self._ready = False
        self._lock = threading.Lock()
        self._inner: ForgetfulCache[str, tuple[tuple[str, int], ...]] = ForgetfulCache(_INNER_CACHE)

    def _initialize(self) -> None:
        with self._lock:
            if self._ready:
                return
            found = _by_char_dictionary(self._cache_dir, self._caches.get(BY_CHAR_CACHE), self.problems) \
                if self._by_char else None
            if found is None:
                cache_dir = self._cache_dir
                if cache_dir and not _cache_matches(os.path.join(cache_dir, JIEBA_CACHE), self._caches.get(JIEBA_CACHE)):
                    self.problems.append(_damaged_cache(os.path.join(cache_dir, JIEBA_CACHE)))
                    cache_dir = None  # jieba's own dictionary, built in memory
                freq, total = load_dictionary(cache_dir)
                self._jieba.FREQ, self._jieba.total = (dict(freq) if self._words else freq), total
            else:
                self._reader, self._jieba.total = found
                self._jieba.FREQ = self._reader.words
            self._jieba.initialized = True
            # Words are added in order: jieba suggests each one's frequency from those before it.
            for word in self._words:
                if self._reader is not None:
                    self._reader.read(word)
                self._jieba.add_word(word)
            self._ready = True

    def _dictionary(self, text: str) -> dict[str, int]:
        """jieba's dictionary, holding every word jieba looks up while it cuts `text`."""
        if not self._ready:
            self._initialize()
        if self._reader is not None:
            self._reader.read(text)
        return self._jieba.FREQ

    def words(self, run: str) -> list[str]:
        """jieba's words for a run of Chinese characters (accurate mode, HMM for unknown words)."""
        self._dictionary(run)  # holds every word jieba looks up in the run
        return list(self._jieba.cut(run, HMM=True))

    def inner_words(self, word: str) -> tuple[tuple[str, int], ...]:
        """The dictionary words (of 2 to MAX_INNER_WORD characters) inside `word`, with their offsets in it."""
        found = self._inner.get(word)
        if found is None:
            freq = self._dictionary(word)
            found = tuple((word[i:i + n], i) for n in range(2, min(len(word), MAX_INNER_WORD + 1))
                          for i in range(len(word) - n + 1) if freq.get(word[i:i + n]))
            self._inner.keep(word, found)
        return found

    def known(self, word: str) -> bool:
        """Whether `word` is a word of jieba's dictionary or of the learned words."""
        return bool(self._dictionary(word).get(word))

    def frequency(self, word: str) -> tuple[int, int]:
        """jieba's count of `word` (learned words have the count jieba suggested for them) and the total count."""
        return self._dictionary(word).get(word, 0), self._jieba.total

    @staticmethod
    def part_of_speech(word: str) -> str:
        """The part of speech jieba's dictionary gives `word` (`n` a noun, `v` a verb, `d` an adverb, …), or ""
        for a word it does not list (a word learned from the notes)."""
        return _parts_of_speech().get(word, "")


@functools.lru_cache(maxsize=1)
def _parts_of_speech() -> dict[str, str]:
    """Each word of jieba's dictionary → its part of speech (read once per process, when first asked)."""
    tags: dict[str, str] = {}
    with jieba.Tokenizer().get_dict_file() as f:
        for line in f:
            parts = line.decode("utf-8").split()
            if len(parts) == 3:
                tags[parts[0]] = parts[2]
    return tags


_SEGMENTERS: dict[tuple, Segmenter] = {}
_SEGMENTERS_LOCK = threading.Lock()


def segmenter(words: Iterable[str] = (), cache_dir: str | None = None, by_char: bool = False,
              caches: Mapping[str, str] | None = None) -> Segmenter:
    """The shared Segmenter for this word list (jieba's dictionary loads once per process).

    With `caches`, a cache written again since (a repair) makes a new one: what it found wrong is past.
    """
    key = (tuple(words), cache_dir, by_char, tuple(sorted((caches or {}).items())))
    stamps = tuple(_stamp(os.path.join(cache_dir, name)) for name in (JIEBA_CACHE, BY_CHAR_CACHE)) \
        if caches and cache_dir else ()
    with _SEGMENTERS_LOCK:
        if (key, stamps) not in _SEGMENTERS:
            _SEGMENTERS[key, stamps] = Segmenter(*key)
        return _SEGMENTERS[key, stamps]


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


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
