"""The vector store: atomic files, checksums, refusing damaged files and vectors of another model."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest
from conftest import numpy_blas_threads

from corpus.errors import ModelMismatch, NoIndex, VectorIndexError
from indexer import build, vectors
from indexer.files import file_sha256
from indexer.generations import read_manifest
from indexer.st_embedder import INSTALL_ST
from indexer.vectors import FIRST_SHARE, VectorIndex, content_key
from search import open_index, search

NOTES = {
    "a.md": "# 残差网络\n\n残差连接让很深的网络也能训练。\n\n```python\nx = f(x) + x\n```\n",
    "b.md": "# Attention\n\n注意力机制根据查询为每个值分配权重。\n\n- Transformer 只用注意力，不用循环。\n",
}


def small_index(rows: int = 4, dim: int = 8, fingerprint: str = "use-m3:test") -> VectorIndex:
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(rows, dim)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    ids = tuple(f"note.md:{n}-{n}#0" for n in range(rows))
    keys = tuple(content_key(fingerprint, f"text {n}") for n in range(rows))
    return VectorIndex(ids, keys, matrix, "use-m3", fingerprint)


def test_save_writes_exactly_two_files_and_load_reads_them_back(tmp_path):
    index = small_index()
    checksum = vectors.save(str(tmp_path), index)
    assert sorted(os.listdir(tmp_path)) == ["vectors.json", "vectors.npy"]  # no vectors.npy.npy, no temp file
    loaded = vectors.load(str(tmp_path), index.fingerprint)
    assert loaded.ids == index.ids and loaded.keys == index.keys
    assert (loaded.model, loaded.fingerprint) == ("use-m3", "use-m3:test")
    np.testing.assert_array_equal(loaded.vectors, index.vectors)
    assert loaded.vectors.dtype == np.float32
    assert checksum == file_sha256(str(tmp_path / "vectors.npy"))


def test_a_failed_save_leaves_the_previous_vectors_whole(tmp_path, monkeypatch):
    old = small_index()
    vectors.save(str(tmp_path), old)

    def dies_halfway(f, array, allow_pickle=False):
        f.write(b"\x93NUMPY half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", dies_halfway)
    with pytest.raises(OSError, match="disk full"):
        vectors.save(str(tmp_path), small_index(rows=6))
    assert sorted(os.listdir(tmp_path)) == ["vectors.json", "vectors.npy"]
    np.testing.assert_array_equal(vectors.load(str(tmp_path)).vectors, old.vectors)


def test_a_changed_byte_is_refused_as_damaged(tmp_path):
    vectors.save(str(tmp_path), small_index())
    npy = tmp_path / "vectors.npy"
    data = bytearray(npy.read_bytes())
    data[-5] ^= 0x40  # one bit of one float: the shape still matches, only the checksum can tell
    npy.write_bytes(bytes(data))
    with pytest.raises(VectorIndexError, match=r"vectors.npy does not match its checksum") as refused:
        vectors.load(str(tmp_path))
    assert refused.value.directory == str(tmp_path)


@pytest.mark.parametrize("verify", [True, False])
def test_a_truncated_file_is_refused(tmp_path, verify):
    vectors.save(str(tmp_path), small_index())
    npy = tmp_path / "vectors.npy"
    npy.write_bytes(npy.read_bytes()[:-40])
    with pytest.raises(VectorIndexError, match="checksum" if verify else "cannot read them"):
        vectors.load(str(tmp_path), verify=verify)


def test_missing_or_unreadable_metadata_is_refused(tmp_path):
    vectors.save(str(tmp_path), small_index())
    (tmp_path / "vectors.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(VectorIndexError, match="cannot read them"):
        vectors.load(str(tmp_path))
    (tmp_path / "vectors.json").unlink()
    with pytest.raises(VectorIndexError, match="cannot read them"):
        vectors.load(str(tmp_path))


def test_rows_without_a_vector_are_never_returned():
    index = small_index(rows=3)
    matrix = np.array(index.vectors)
    matrix[1] = 0.0
    index = VectorIndex(index.ids, (index.keys[0], "", index.keys[2]), matrix, index.model, index.fingerprint)
    query = -index.vectors[0]  # every real row scores below zero, the empty row would score exactly 0
    assert [row for row, _score in index.top(query, 10)] == [2, 0]
    assert [row for row, _score in index.top(index.vectors[2], 1)] == [2]


def test_code_blocks_get_no_vector_and_prose_does(notes_dir, tmp_path, embedder):
    directory = str(tmp_path / "index")
    report = build([str(notes_dir(NOTES))], directory, embedder=embedder)
    store = vectors.load(os.path.join(directory, read_manifest(directory).folder))
    empty = [i for i, key in enumerate(store.keys) if not key]
    assert [store.ids[i].split(os.sep)[-1] for i in empty] == ["a.md:6-6#0"]
    assert not np.any(store.vectors[empty])
    np.testing.assert_allclose(np.linalg.norm(np.delete(store.vectors, empty, axis=0), axis=1), 1.0, rtol=1e-5)
    # b.md's short item joins its paragraph: one passage, two parts, a vector each under the passage's id.
    assert (report.passages, report.embedded) == (3, 3)
    assert len([passage_id for passage_id in store.ids if passage_id.endswith("b.md:3-5#0")]) == 2


def test_damaged_vectors_are_not_searched_and_the_next_index_rebuilds_them(notes_dir, tmp_path, embedder):
    notes = str(notes_dir(NOTES))
    directory = str(tmp_path / "index")
    first = build([notes], directory, embedder=embedder)
    npy = os.path.join(directory, read_manifest(directory).folder, "vectors.npy")
    with open(npy, "r+b") as f:
        f.seek(-3, os.SEEK_END)
        byte = f.read(1)[0]
        f.seek(-3, os.SEEK_END)
        f.write(bytes([byte ^ 0x01]))

    with pytest.raises(NoIndex, match="damaged"):
        open_index(directory, embedder=embedder)

    again = build([notes], directory, embedder=embedder)
    assert again.changed and again.embedded == first.embedded
    with open_index(directory, embedder=embedder) as index:
        hits = search(index, "residual connections", mode="semantic").hits
    assert hits and "残差" in hits[0].passage.text


@pytest.mark.st
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is None,
                    reason=f"sentence-transformers is not installed ({INSTALL_ST})")
def test_switching_models_re_embeds_everything_and_the_old_model_is_refused(notes_dir, tmp_path, embedder):
    notes = str(notes_dir(NOTES))
    directory = str(tmp_path / "index")
    first = build([notes], directory, embedder=embedder)

    switched = build([notes], directory, model="st:minilm")
    assert switched.changed and switched.embedded == first.embedded > 0
    assert read_manifest(directory).model == "st:minilm"
    with open_index(directory, embedder=embedder) as index, \
            pytest.raises(ModelMismatch, match="built with st:minilm") as refused:
        search(index, "attention", mode="semantic")
    assert (refused.value.given, refused.value.model) == (embedder.fingerprint(), "st:minilm")
    with open_index(directory) as index:
        assert index.embedder().name == "st:minilm"
        assert search(index, "attention weights", mode="semantic").hits
    # An update that names no model keeps the index's.
    kept = build(None, directory)
    assert not kept.changed and read_manifest(directory).model == "st:minilm"

    back = build([notes], directory, model="use-m3", embedder=embedder)
    assert back.embedded == first.embedded


def test_top_counts_a_passage_of_several_rows_once_by_its_best_row():
    matrix = np.array([[1, 0], [0.6, 0.8], [0.8, 0.6], [0, 1]], dtype=np.float32)
    ids = ("a.md:1-3#0", "b.md:5-5#0", "a.md:1-3#0", "c.md:7-7#0")  # a.md's joined passage has two parts
    keys = tuple(content_key("m", f"part {n}") for n in range(4))
    store = VectorIndex(ids, keys, matrix, "m", "m")
    top = store.top(np.array([1.0, 0.0], dtype=np.float32), 3)
    assert [(store.ids[row], round(score, 2)) for row, score in top] == [
        ("a.md:1-3#0", 1.0), ("b.md:5-5#0", 0.6), ("c.md:7-7#0", 0.0)]
    assert store.passage_count == 3 and len(store.top(np.array([0.0, 1.0], dtype=np.float32), 10)) == 3


def test_a_passage_with_rows_for_its_sentences_scores_by_its_best_and_its_own_row():
    # a.md's passage: its own text (first row) at cosine 0.2 to the query, one run of its sentences at 1.0.
    matrix = np.array([[0.2, np.sqrt(1 - 0.04)], [1, 0], [0.5, np.sqrt(0.75)]], dtype=np.float32)
    ids = ("a.md:1-1#0", "a.md:1-1#0", "b.md:3-3#0")
    keys = tuple(content_key("m", f"text {n}") for n in range(3))
    store = VectorIndex(ids, keys, matrix, "m", "m")
    top = store.top(np.array([1.0, 0.0], dtype=np.float32), 2)
    assert [(row, round(score, 4)) for row, score in top] == [
        (0, round(FIRST_SHARE * 0.2 + (1 - FIRST_SHARE) * 1.0, 4)), (2, 0.5)]
    assert 0.5 < top[0][1] < 1.0  # the sentence counts most; the passage's own text still counts


def test_top_multiplies_on_one_blas_thread_and_leaves_the_count_as_it_was(monkeypatch):
    import indexer.vectors

    before = numpy_blas_threads()
    seen = []
    limit = indexer.vectors.one_blas_thread

    class Recording:
        def __enter__(self):
            self.inner = limit()
            self.inner.__enter__()
            seen.append(numpy_blas_threads())

        def __exit__(self, *exc):
            return self.inner.__exit__(*exc)

    monkeypatch.setattr(indexer.vectors, "one_blas_thread", Recording)
    index = small_index()
    assert index.top(index.vectors[0], 2)[0][0] == 0
    assert seen == [1] and numpy_blas_threads() == before
