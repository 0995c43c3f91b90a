"""Vectors embedded by a run that has not committed yet, kept so that a stopped run's work is not lost.

    embedded/            in the index folder, readable by its owner alone (0700)
        part-*.npz       content keys and their vectors, one file per flush (0600), written atomically

Embedding is most of a first run's time (minutes for a large corpus). A run
adds each batch it embeds here, writing a part every FLUSH_VECTORS vectors or
FLUSH_SECONDS, and when it stops on an error or Ctrl-C; the next run reads
them and embeds only what no part holds. A content key names the model and
the text (indexer.vectors.content_key), so a vector is reused only for the
same text by the same model. A part cut short by a crash does not load and is
ignored. The commit that makes the vectors part of a generation deletes the
folder. Only the indexer holding the index's lock reads or writes it.
"""

from __future__ import annotations

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

    def load(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The vectors that earlier runs embedded for `keys` (those found; damaged parts are skipped)."""
        wanted = set(keys)
        found: dict[str, np.ndarray] = {}
        for name in self._part_names():
            try:
                with np.load(os.path.join(self.folder, name), allow_pickle=False) as part:
                    stored_keys, stored = part["keys"], part["vectors"]
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
                continue
            if stored.ndim != 2 or len(stored) != len(stored_keys) or stored.dtype != np.float32:
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
