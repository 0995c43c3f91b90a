"""jieba's dictionary kept by first character, so a search reads only the words it looks up.

jieba's own cache (`jieba.cache`) is one marshalled dict of about 500,000
words and prefixes: loading it is most of a cold process's time (a second on a
slow machine), although a query looks up only the words that start with one
of its few characters. This file holds the same dict split by first
character: a small table of where each character's words are, then each
character's words as a marshalled dict.

`ByCharDictionary` reads the words of the characters of a text before jieba
cuts it: jieba looks up only fragments of the text it cuts, so it finds
exactly what the whole dict would give it, in a plain dict as fast. Indexing,
which cuts all of the notes, keeps loading the dict whole
(indexer/analysis.py).
"""

from __future__ import annotations

import hashlib
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


def read_by_char(path: str, sha256: str | None = None) -> tuple[ByCharDictionary, int]:
    """The dictionary in the file at `path` and its total count; raises OSError or ValueError when unreadable, or
    when it does not match the checksum `sha256` (when given)."""
    with open(path, "rb") as f:
        data = f.read()
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError(f"{path} does not match its checksum")
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
    """jieba's word counts, read a first character at a time: `words` holds the words of the characters read.

    jieba looks up only fragments of the text it cuts (and of a word it adds),
    so after `read(text)`, `words` answers every lookup of cutting `text` as
    the whole dictionary would, as a plain dict. Words added to it (jieba's
    `add_word`) stay: a character is read once, before any word of it is added.
    """

    def __init__(self, blobs: memoryview, places: dict[str, tuple[int, int]]):
        self.words: dict[str, int] = {}
        self._blobs = blobs
        self._places = dict(places)  # the characters whose words are not read yet
        self._lock = threading.Lock()

    def read(self, text: str) -> dict[str, int]:
        """`words`, now holding the words that start with any character of `text`."""
        if not self._places.keys().isdisjoint(text):
            with self._lock:
                for char in self._places.keys() & set(text):
                    offset, length = self._places[char]
                    self.words.update(marshal.loads(self._blobs[offset:offset + length]))
                    del self._places[char]  # after: a thread that finds it gone finds its words
        return self.words
