"""jieba's dictionary kept by first character, so a search reads only the words it looks up.

jieba's own cache (`jieba.cache`) is one marshalled dict of about 500,000
words and prefixes: loading it is most of a cold process's time (a second on a
slow machine), although a query looks up only the words that start with one
of its few characters. This file holds the same dict split by first
character: a small table of where each character's words are, then each
character's words as a marshalled dict.

`ByCharDictionary` reads it as jieba reads its FREQ dict (`in`, `[]`, `get`,
and `[]=` for the words it learns): a lookup first reads the words of the
looked-up word's first character, once. jieba looks up only the fragments
of the text it cuts, so it finds exactly what the whole dict would give it.
Indexing, which looks up millions of fragments, keeps loading the dict whole
(indexer/analysis.py).
"""

from __future__ import annotations

import marshal
import threading
from collections import defaultdict
from typing import BinaryIO

# The file in a cache folder (beside jieba.cache) that holds jieba's dictionary by first character.
BY_CHAR_CACHE = "jieba.bychar"
_MAGIC = b"notesearch jieba by first character 1\n"


def write_by_char(f: BinaryIO, freq: dict[str, int], total: int) -> None:
    """Write jieba's prefix dictionary `freq` and its total count into `f`, split by first character."""
    groups: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for word, count in freq.items():
        groups[word[0]][word] = count  # jieba's dictionary holds no empty word
    # Version 2: a group holds each string once, and version 3's references only slow the writing.
    blobs = {char: marshal.dumps(words, 2) for char, words in groups.items()}
    places: dict[str, tuple[int, int]] = {}
    offset = 0
    for char, blob in blobs.items():
        places[char] = (offset, len(blob))
        offset += len(blob)
    header = marshal.dumps((total, places))
    f.write(_MAGIC + len(header).to_bytes(8, "little") + header)
    for blob in blobs.values():
        f.write(blob)


def read_by_char(path: str) -> tuple[ByCharDictionary, int]:
    """The dictionary in the file at `path` and its total count; raises OSError or ValueError when unreadable."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(_MAGIC):
        raise ValueError(f"{path} is not a dictionary by first character")
    start = len(_MAGIC) + 8
    size = int.from_bytes(data[len(_MAGIC):start], "little")
    try:
        total, places = marshal.loads(data[start:start + size])
    except (EOFError, TypeError, ValueError) as error:
        raise ValueError(f"{path} is damaged: {error}") from error
    return ByCharDictionary(memoryview(data)[start + size:], places), total


class ByCharDictionary:
    """A word → count mapping that reads a first character's words on the first lookup of one of them.

    It answers the lookups jieba's Tokenizer makes of its FREQ dict (`in`,
    `[]`, `get`, and `[]=` when it adds a word) as the whole dict would.
    """

    def __init__(self, blobs: memoryview, places: dict[str, tuple[int, int]]):
        self._words: dict[str, int] = {}
        self._blobs = blobs
        self._places = dict(places)  # the characters whose words are not read yet
        self._lock = threading.Lock()

    def _read(self, char: str) -> None:
        with self._lock:
            place = self._places.get(char)
            if place is None:
                return  # another thread read them
            offset, length = place
            self._words.update(marshal.loads(self._blobs[offset:offset + length]))
            del self._places[char]

    def __contains__(self, word: str) -> bool:
        if word[:1] in self._places:
            self._read(word[:1])
        return word in self._words

    def __getitem__(self, word: str) -> int:
        if word[:1] in self._places:
            self._read(word[:1])
        return self._words[word]

    def get(self, word: str, default: int | None = None) -> int | None:
        """The count of `word`, or `default` when the dictionary does not hold it."""
        if word[:1] in self._places:
            self._read(word[:1])
        return self._words.get(word, default)

    def __setitem__(self, word: str, count: int) -> None:
        if word[:1] in self._places:
            self._read(word[:1])  # first, so that reading them later cannot undo this
        self._words[word] = count
