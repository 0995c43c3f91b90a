"""The bundled notes' vectors, shipped with the package: a new user's first search embeds nothing.

The notes in corpus/notes are part of the package, and so are their vectors
under the default model: corpus/bundled_vectors.npz holds each text's content
key (vectors.content_key: the model's fingerprint, package versions included,
and the text) and its vector. An index of the bundled notes' folder alone (the
demo index that commands without an index answer from) takes a vector whose
key it needs from here, as it takes one from the committed generation; an
index of any other folders embeds its own (copies of the notes included). The
key names the model and the text, so a vector never serves another model,
another version of one, or another text. A text the file lacks (the notes, or
how they are split, changed) is embedded as usual. `scripts/bundled_vectors.py` writes
the file again; tests/indexer/test_bundled_vectors.py fails until it is.

The file is read as plain arrays (no pickle), and only when a key could be in
it: a run of another model never opens it.
"""

from __future__ import annotations

import functools
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from corpus import BUNDLED_NOTES

SHIPPED = BUNDLED_NOTES.parent / "bundled_vectors.npz"


@functools.cache
def _shipped(path: Path) -> tuple[str, dict[str, int], np.ndarray]:
    """The file's fingerprint, each key's row, and the vectors; nothing when it is missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            fingerprint, keys, matrix = str(data["fingerprint"]), data["keys"], data["vectors"]
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        return "", {}, np.zeros((0, 0), dtype=np.float32)
    if matrix.ndim != 2 or len(keys) != len(matrix):
        return "", {}, np.zeros((0, 0), dtype=np.float32)
    return fingerprint, {str(key): row for row, key in enumerate(keys)}, matrix.astype(np.float32, copy=False)


def serves(folders: Iterable[str]) -> bool:
    """Whether an index of `folders` takes the shipped vectors: it is of the bundled notes' folder alone."""
    return [os.path.realpath(folder) for folder in folders] == [os.path.realpath(BUNDLED_NOTES)]


def known(fingerprint: str, keys: Iterable[str], path: Path = SHIPPED) -> dict[str, np.ndarray]:
    """The shipped vector of each of `keys` that the file holds, for a model of `fingerprint`."""
    if not path.is_file():
        return {}
    shipped_for, rows, matrix = _shipped(path)
    if shipped_for != fingerprint:
        return {}
    return {key: matrix[rows[key]] for key in keys if key in rows}


def write(path: Path, fingerprint: str, keys: list[str], matrix: np.ndarray) -> None:
    """Write the vectors of `keys` (one row each of `matrix`) embedded by the model of `fingerprint`."""
    with open(path, "wb") as out:
        np.savez_compressed(out, fingerprint=np.array(fingerprint), keys=np.array(keys),
                            vectors=np.ascontiguousarray(matrix, dtype=np.float32))
