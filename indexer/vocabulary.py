"""A tokenizer's vocabulary (text → id) that costs nothing to load and little to search.

A sentencepiece vocabulary holds a quarter of a million pieces: building a
Python dict of them takes 100–150 ms, more than a query's whole vector. Here
the pieces are one sorted array of UTF-8 strings (memory-mapped from the model
cache) beside their ids, searched by bisection, a few microseconds a lookup: a
query needs a few hundred. A batch of passages needs millions, so after
DICT_AFTER lookups the dict is built once and serves the rest.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

DICT_AFTER = 20_000


class Vocabulary:
    """Strings → integer ids; `get(text)` is the id or None, as a dict's."""

    def __init__(self, keys: np.ndarray, ids: np.ndarray):
        if keys.dtype.kind != "S" or len(keys) != len(ids):
            raise ValueError("a vocabulary is a sorted bytes array and as many ids")
        self._keys, self._ids = keys, ids
        self._width = keys.dtype.itemsize
        self._lookups = 0
        self._dict: dict[str, int] | None = None

    def get(self, text: str, default: int | None = None) -> int | None:
        """The id of `text`, or `default`."""
        if self._dict is not None:
            return self._dict.get(text, default)
        self._lookups += 1
        if self._lookups > DICT_AFTER:
            self._dict = dict(zip((key.decode("utf-8") for key in self._keys.tolist()), self._ids.tolist()))
            return self._dict.get(text, default)
        key = text.encode("utf-8")
        if len(key) > self._width or not key or key.endswith(b"\0"):
            return default  # longer than any piece; numpy's bytes would lose trailing NULs
        at = int(np.searchsorted(self._keys, key))
        if at < len(self._keys) and self._keys[at] == key:
            return int(self._ids[at])
        return default

    def __len__(self) -> int:
        return len(self._keys)


def vocabulary_arrays(pairs: Iterable[tuple[str, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(sorted UTF-8 keys, their ids) for Vocabulary, from (text, id) pairs; the first of equal texts wins."""
    texts, ids = zip(*pairs)
    encoded = [text.encode("utf-8") for text in texts]
    if any(not key or key.endswith(b"\0") for key in encoded):
        raise ValueError("a vocabulary key must be non-empty and not end in NUL")
    keys = np.array(encoded)
    order = np.argsort(keys, kind="stable")  # equal keys keep their order: the first comes first
    keys = keys[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return keys[first], np.asarray(ids, dtype=np.int32)[order][first]
