"""The vector index: one float32 unit vector per passage, beside the passage ids.

Files in a generation folder: `vectors.npy` (N × dim) and `vectors.json`
(ids, the content key of each row, model name, fingerprint, dimension and
the checksum of the .npy). Both are written atomically; a file that does not
match its checksum is refused (VectorIndexError), so the caller rebuilds
instead of answering wrongly.

A passage with nothing to embed (a code block) has an all-zero row and the
empty key; `top` never returns it. A passage embedded as several texts (the
parts of a joined passage, runs of its sentences: Passage.embed_texts) has a
row for each, its own text (or first part) first.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from corpus.errors import VectorIndexError
from indexer.files import atomic_write, file_sha256
from indexer.threads import one_blas_thread

# A passage with several rows scores FIRST_SHARE × its first row's cosine (its own text, or the first part of a
# joined passage, which says what the rest is about) + the rest × its best row's: the one sentence close to the
# query counts most, and the passage as a whole still counts, so a stray sentence does not carry a passage about
# something else. Chosen by leave-one-corpus-out cross-validation with corpus/model.py's MIN_SENTENCE_RUN.
FIRST_SHARE = 0.3


@dataclass(frozen=True)
class VectorIndex:
    """Passage ids, their content keys, and their vectors (row i ↔ ids[i]).

    A passage embedded as several texts (the parts of a joined passage, runs
    of its sentences) has a row for each, under its one id, its own text first.
    """

    ids: tuple[str, ...]
    keys: tuple[str, ...]
    vectors: np.ndarray
    model: str
    fingerprint: str

    @cached_property
    def passage_count(self) -> int:
        """How many passages the rows belong to."""
        return len(set(self.ids))

    @cached_property
    def _embedded(self) -> np.ndarray:
        return np.flatnonzero(np.asarray(self.keys) != "")

    @cached_property
    def _matrix(self) -> np.ndarray:
        """The vectors of the embedded rows, read once into memory (a memory map would be copied per query)."""
        return np.ascontiguousarray(self.vectors[self._embedded], dtype=np.float32)

    @cached_property
    def _owners(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each embedded row, the number of its passage among the distinct ids; each passage's first row; and
        where that row is among the embedded rows."""
        ids = np.asarray(self.ids)[self._embedded]
        _unique, first, owner = np.unique(ids, return_index=True, return_inverse=True)
        return owner, self._embedded[first], first

    def top(self, query: np.ndarray, k: int, first_share: float = FIRST_SHARE) -> list[tuple[int, float]]:
        """(row, cosine) of the k passages most similar to the unit vector `query`, best first.

        A passage with several rows counts once: `first_share` × its first row's
        cosine + the rest × its best row's. Rows without a vector (empty key)
        are never returned.
        """
        rows = self._embedded
        if not len(rows) or k <= 0:
            return []
        with one_blas_thread():
            cosines = self._matrix @ query.astype(np.float32)
        owner, first, position = self._owners
        best = np.full(len(first), -np.inf, dtype=np.float32)
        np.maximum.at(best, owner, cosines)
        best = first_share * cosines[position] + (1 - first_share) * best
        k = min(k, len(best))
        chosen = np.argpartition(-best, k - 1)[:k]
        chosen = chosen[np.argsort(-best[chosen], kind="stable")]
        return [(int(first[i]), float(best[i])) for i in chosen]


def content_key(fingerprint: str, text: str) -> str:
    """The cache key of a text embedded by a model: equal keys, equal vectors."""
    return hashlib.sha1(f"{fingerprint}\0{text}".encode()).hexdigest()


def save(directory: str, index: VectorIndex) -> str:
    """Write vectors.npy and vectors.json atomically; returns the .npy checksum."""
    vectors = np.ascontiguousarray(index.vectors, dtype=np.float32)
    npy = os.path.join(directory, "vectors.npy")
    atomic_write(npy, lambda f: np.save(f, vectors, allow_pickle=False))
    checksum = file_sha256(npy)
    meta = {"ids": list(index.ids), "keys": list(index.keys), "model": index.model, "fingerprint": index.fingerprint,
            "dim": int(vectors.shape[1]) if vectors.ndim == 2 else 0, "sha256": checksum}
    atomic_write(os.path.join(directory, "vectors.json"),
                 lambda f: f.write(json.dumps(meta, ensure_ascii=False).encode("utf-8")))
    return checksum


def load(directory: str, verify: bool = True) -> VectorIndex:
    """The vector index in `directory` (memory-mapped).

    `verify` checks the .npy against its checksum first (about 40 ms for 10,000
    passages), so a damaged file is refused instead of ranking wrongly.
    """
    try:
        with open(os.path.join(directory, "vectors.json"), encoding="utf-8") as f:
            meta = json.load(f)
        npy = os.path.join(directory, "vectors.npy")
        if verify and file_sha256(npy) != meta["sha256"]:
            raise VectorIndexError(directory, "vectors.npy does not match its checksum")
        vectors = np.load(npy, mmap_mode="r", allow_pickle=False)
        ids, keys, model, made_by, dim = meta["ids"], meta["keys"], meta["model"], meta["fingerprint"], meta["dim"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise VectorIndexError(directory, f"cannot read them ({error})") from error
    if vectors.ndim != 2 or vectors.shape[0] != len(ids) or len(keys) != len(ids) or (ids and vectors.shape[1] != dim):
        raise VectorIndexError(directory, "they do not match their ids")
    return VectorIndex(tuple(ids), tuple(keys), vectors, model, made_by)
