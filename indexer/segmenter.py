"""jieba behind one seam: its dictionary loaded once per process (from a checked cache), and the Segmenter that
cuts a run of Chinese characters into words, learned words included, and finds the dictionary words inside a
longer one. indexer/analysis.py turns its words into tokens.
"""

from __future__ import annotations

import functools
import logging
import marshal
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import BinaryIO

import jieba

from corpus import script
from indexer.by_char import BY_CHAR_CACHE, ByCharDictionary, read_by_char, write_by_char
from indexer.caches import ForgetfulCache
from indexer.files import atomic_write, file_sha256

jieba.setLogLevel(logging.WARNING)

# The longest dictionary word looked for inside a longer word (`神经网络` in `卷积神经网络`).
MAX_INNER_WORD = 6
# Words whose inner words a Segmenter remembers (a word recurs in many passages).
_INNER_CACHE = 100_000

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
        return _part_of_speech(word)


@functools.lru_cache(maxsize=65_536)
def _part_of_speech(word: str) -> str:
    """The third field of `word`'s line in jieba's dictionary (a word, its count and its part of speech to a
    line), found in the file's bytes: a query asks for a few words, and reading every line into a table took
    0.46 s of a cold search (a word listed twice has the same part both times)."""
    if not word or any(ch.isspace() for ch in word):
        return ""
    lines = _dictionary_bytes()
    start = lines.find(b"\n" + word.encode("utf-8") + b" ")
    if start < 0:
        return ""
    end = lines.find(b"\n", start + 1)
    parts = lines[start + 1:end if end >= 0 else len(lines)].split()
    return parts[2].decode("utf-8") if len(parts) == 3 else ""


@functools.lru_cache(maxsize=1)
def _dictionary_bytes() -> bytes:
    """jieba's dictionary file as bytes, after a line break (so that every line starts after one)."""
    with jieba.Tokenizer().get_dict_file() as f:
        return b"\n" + f.read()


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
