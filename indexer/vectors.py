"""The vector index: one float32 unit vector per passage, beside the passage ids.

Files in a generation folder: `vectors.npy` (N × dim) and `vectors.json`
(ids, the content key of each row, model name, fingerprint, dimension and
the checksum of the .npy). Both are written atomically; a file that does not
match its checksum, or vectors from another model, are refused with a clear
error so the caller rebuilds instead of answering wrongly.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

import numpy as np

from indexer.files import atomic_write, file_sha256


class VectorIndexError(Exception):
    """The vectors on disk are damaged or belong to another model."""


@dataclass(frozen=True)
class VectorIndex:
    """Passage ids, their content keys, and their vectors (row i ↔ ids[i])."""

    ids: tuple[str, ...]
    keys: tuple[str, ...]
    vectors: np.ndarray
    model: str
    fingerprint: str

    def top(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(row, cosine) of the k rows most similar to the unit vector `query`, best first."""
        if not len(self.ids) or k <= 0:
            return []
        scores = self.vectors @ query.astype(np.float32)
        k = min(k, len(scores))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(i), float(scores[i])) for i in best]


def content_key(fingerprint: str, text: str) -> str:
    """The cache key of a text embedded by a model: equal keys, equal vectors."""
    return hashlib.sha1(f"{fingerprint}\0{text}".encode("utf-8")).hexdigest()


def save(directory: str, index: VectorIndex) -> str:
    """Write vectors.npy and vectors.json atomically; returns the .npy checksum."""
    vectors = np.ascontiguousarray(index.vectors, dtype=np.float32)
    npy = os.path.join(directory, "vectors.npy")
    atomic_write(npy, lambda f: np.save(f, vectors, allow_pickle=False))
    checksum = file_sha256(npy)
    meta = dict(ids=list(index.ids), keys=list(index.keys), model=index.model, fingerprint=index.fingerprint,
                dim=int(vectors.shape[1]) if vectors.ndim == 2 else 0, sha256=checksum)
    atomic_write(os.path.join(directory, "vectors.json"),
                 lambda f: f.write(json.dumps(meta, ensure_ascii=False).encode("utf-8")))
    return checksum


def load(directory: str, verify: bool = False) -> VectorIndex:
    """The vector index in `directory` (memory-mapped); `verify` checks the checksum first."""
    try:
        with open(os.path.join(directory, "vectors.json"), encoding="utf-8") as f:
            meta = json.load(f)
        npy = os.path.join(directory, "vectors.npy")
        if verify and file_sha256(npy) != meta["sha256"]:
            raise VectorIndexError(f"{npy} does not match its checksum")
        vectors = np.load(npy, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, KeyError) as error:
        raise VectorIndexError(f"cannot read the vectors in {directory}: {error}") from error
    if vectors.ndim != 2 or vectors.shape[0] != len(meta["ids"]) or (len(meta["ids"]) and vectors.shape[1] != meta["dim"]):
        raise VectorIndexError(f"the vectors in {directory} do not match their ids")
    return VectorIndex(tuple(meta["ids"]), tuple(meta["keys"]), vectors, meta["model"], meta["fingerprint"])
