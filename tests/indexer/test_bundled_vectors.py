"""The bundled notes' vectors shipped with the package (indexer/bundled_vectors.py)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BUNDLED_NOTES

from indexer import bundled_vectors, vectors
from indexer.builder import build
from indexer.embedders import DEFAULT_MODEL, known_fingerprint

STALE = "corpus/bundled_vectors.npz lacks texts of the bundled notes: run scripts/bundled_vectors.py"


def _texts_and_keys(directory: str, fingerprint: str) -> dict[str, str]:
    """Each text the index of `directory` embeds, by its content key."""
    from search import open_index

    with open_index(directory) as index:
        passages = index.passages()
    return {vectors.content_key(fingerprint, text): text for passage in passages for text in passage.embed_texts()}


class Counting:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, embedder):
        self.inner, self.name, self.dim, self.texts = embedder, embedder.name, embedder.dim, 0

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def encode(self, texts) -> np.ndarray:
        self.texts += len(texts)
        return self.inner.encode(texts)


def test_the_demo_index_of_the_bundled_notes_embeds_nothing(tmp_path, embedder):
    counting = Counting(embedder)
    report = build([str(BUNDLED_NOTES)], str(tmp_path / "index"), embedder=counting)
    assert (report.embedded, counting.texts) == (0, 0), STALE
    assert report.passages == 81


def test_a_copy_of_the_bundled_notes_embeds_its_own(tmp_path, embedder):
    copy = tmp_path / "notes"
    copy.mkdir()
    note = next(BUNDLED_NOTES.glob("*.md"))
    (copy / note.name).write_bytes(note.read_bytes())
    counting = Counting(embedder)
    report = build([str(copy)], str(tmp_path / "index"), embedder=counting)
    assert report.embedded > 0 and counting.texts == report.embedded


def test_the_shipped_vectors_are_the_default_models_own(bundled_index_dir, embedder):
    fingerprint = embedder.fingerprint()
    assert fingerprint == known_fingerprint(DEFAULT_MODEL)
    texts = _texts_and_keys(bundled_index_dir, fingerprint)
    shipped = bundled_vectors.known(fingerprint, texts)
    assert set(shipped) == set(texts), STALE
    sample = sorted(texts)[::25]  # a spread of the texts, long and short
    fresh = embedder.encode([texts[key] for key in sample])
    for key, vector in zip(sample, fresh, strict=True):
        assert float(np.dot(shipped[key], vector)) / (np.linalg.norm(shipped[key]) * np.linalg.norm(vector)) > 0.9999


def test_another_model_or_a_damaged_file_gives_nothing(tmp_path):
    fingerprint = known_fingerprint(DEFAULT_MODEL)
    path = tmp_path / "vectors.npz"
    bundled_vectors.write(path, fingerprint, ["a", "b"], np.eye(2, 3, dtype=np.float32))
    assert set(bundled_vectors.known(fingerprint, ["a", "c"], path)) == {"a"}
    assert bundled_vectors.known("another-model", ["a"], path) == {}
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(b"PK\x03\x04 not a zip")
    assert bundled_vectors.known(fingerprint, ["a"], damaged) == {}
    assert bundled_vectors.known(fingerprint, ["a"], tmp_path / "missing.npz") == {}


@pytest.mark.parametrize("folders, serves", [((str(BUNDLED_NOTES),), True), ((str(BUNDLED_NOTES / "."),), True),
                                             ((str(BUNDLED_NOTES), "/tmp"), False), (("/tmp",), False)])
def test_only_an_index_of_the_bundled_folder_alone_takes_them(folders, serves):
    assert bundled_vectors.serves(folders) is serves
