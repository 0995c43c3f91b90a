"""Vectors embedded by a run that has not committed yet, kept so that a stopped run's work is not lost.

    embedded/            in the index folder, readable by its owner alone (0700)
        part-*.npz       content keys and their vectors, one file per flush (0600), written atomically

Embedding is most of a first run's time (minutes for a large corpus). A run
adds each batch it embeds here, writing a part every FLUSH_VECTORS vectors or
FLUSH_SECONDS, and when it stops on an error or Ctrl-C; the next run reads
them and embeds only what no part holds. A content key names the model and
the text (indexer.vectors.content_key), so a vector is reused only for the
same text by the same model. A part that does not load (cut short by a crash,
damaged), or whose vectors are not what the model makes (another width, a
NaN, a zero vector), is removed and named in `problems`: its texts are
embedded again. The commit that makes the vectors part of a generation deletes the
folder. Only the indexer holding the index's lock reads or writes it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import zipfile
from collections.abc import Iterable

import numpy as np

from indexer.files import atomic_write

FOLDER = "embedded"
FLUSH_VECTORS = 512
FLUSH_SECONDS = 15.0


class Checkpoint:
    """The embedded vectors of uncommitted runs on the index in `directory`."""

    def __init__(self, directory: str):
        self.folder = os.path.join(directory, FOLDER)
        self.resumed = 0  # vectors the last `load` found
        self._keys: list[str] = []
        self._vectors: list[np.ndarray] = []
        self._flushed = time.monotonic()
        self._parts = 0
        self.problems: list[str] = []  # one line per part removed by `load`, and why

    def load(self, keys: Iterable[str], dim: int) -> dict[str, np.ndarray]:
        """The vectors that earlier runs embedded for `keys` (those found), each of width `dim`.

        A damaged part, or one that is not unit vectors of width `dim`, is removed (and named in `problems`).
        """
        wanted = set(keys)
        found: dict[str, np.ndarray] = {}
        for name in self._part_names():
            path = os.path.join(self.folder, name)
            try:
                with np.load(path, allow_pickle=False) as part:
                    stored_keys, stored = part["keys"], part["vectors"]
                problem = _problem(stored_keys, stored, dim)
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
                problem = f"it cannot be read ({type(error).__name__})"
            if problem:
                self.problems.append(f"the checkpoint part {path} is damaged ({problem}): removed, its passages "
                                     "are embedded again")
                with contextlib.suppress(OSError):
                    os.unlink(path)
                continue
            for key, vector in zip(stored_keys.tolist(), stored):
                if key in wanted:
                    found[key] = np.array(vector)
        self.resumed = len(found)
        return found

    def add(self, keys: list[str], vectors: np.ndarray) -> None:
        """Keep vectors just embedded; they are written once enough have gathered or enough time has passed."""
        self._keys.extend(keys)
        self._vectors.append(np.asarray(vectors, dtype=np.float32))
        if len(self._keys) >= FLUSH_VECTORS or time.monotonic() - self._flushed >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the vectors gathered since the last flush as one part."""
        if not self._keys:
            return
        keys, vectors = np.array(self._keys), np.concatenate(self._vectors)
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        os.chmod(self.folder, 0o700)  # the vectors say something of the notes: the owner's alone

        def write(f) -> None:
            os.fchmod(f.fileno(), 0o600)
            np.savez(f, keys=keys, vectors=vectors)

        self._parts += 1
        atomic_write(os.path.join(self.folder, f"part-{os.getpid()}-{time.time_ns()}-{self._parts}.npz"), write)
        self._keys, self._vectors, self._flushed = [], [], time.monotonic()

    def clear(self) -> None:
        """Delete every part: the committed generation holds their vectors now."""
        self._keys, self._vectors = [], []
        shutil.rmtree(self.folder, ignore_errors=True)

    def _part_names(self) -> list[str]:
        try:
            return sorted(name for name in os.listdir(self.folder) if name.startswith("part-") and name.endswith(".npz"))
        except OSError:
            return []


def _problem(keys: np.ndarray, stored: np.ndarray, dim: int) -> str:
    """What is wrong with a part's keys and vectors for a model of width `dim` ("" when nothing)."""
    if stored.ndim != 2 or keys.ndim != 1 or len(stored) != len(keys) or stored.dtype != np.float32:
        return "its keys and vectors do not match"
    if stored.shape[1] != dim:
        return f"vectors of width {stored.shape[1]}, not {dim}"
    if not np.isfinite(stored).all():
        return "vectors that are not finite numbers"
    norms = np.linalg.norm(stored, axis=1)
    if len(norms) and not (norms > 0.5).all():
        return "zero vectors"
    return ""
