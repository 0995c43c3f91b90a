"""Embedding a generation's passages: rows, reuse, and the memory it takes (indexer/passage_vectors.py)."""

from __future__ import annotations

import tracemalloc

import numpy as np

from corpus.model import Passage
from indexer import passage_vectors, vectors

DIM = 1024


class Counting:
    """A stand-in embedder: a text's vector is a function of its text alone; it counts what it is asked to encode."""

    name = "counting"
    dim = DIM

    def __init__(self):
        self.encoded: list[str] = []

    def fingerprint(self) -> str:
        return "test:counting"

    def encode(self, texts):
        self.encoded += texts
        seeds = np.array([hash(text) % 9973 + 1 for text in texts], dtype=np.float32)
        vectors_ = np.outer(seeds, np.linspace(1.0, 2.0, DIM, dtype=np.float32))
        return vectors_ / np.linalg.norm(vectors_, axis=1, keepdims=True)


def passages(count: int) -> list[Passage]:
    """`count` passages of short distinct texts, a repeated one, a code block and a joined passage among them."""
    out = [Passage("notes/a.md", n + 1, n + 1, "节", "笔记", f"第{n}段 卷积 {n * 7}") for n in range(count)]
    out.append(Passage("notes/b.md", 1, 1, "节", "笔记", "第0段 卷积 0"))  # the text of the first one again
    out.append(Passage("notes/b.md", 2, 2, "节", "笔记", "print(1)", kind="code"))
    out.append(Passage("notes/b.md", 3, 4, "节", "笔记", "甲 乙", kind="group", parts=("甲", "乙")))
    return out


def test_each_row_holds_its_texts_vector_and_a_repeated_text_is_embedded_once():
    given = passages(150)
    embedder = Counting()
    index, embedded = passage_vectors.embed(given, None, [], "counting", "test:counting", embedder, None)
    texts = [text for passage in given for text in (passage.embed_texts() or ("",))]
    assert embedded == len(set(texts) - {""}) == len(embedder.encoded) == len(set(embedder.encoded))
    assert index.ids == tuple(passage.id for passage in given for _ in (passage.embed_texts() or ("",)))
    expected = np.stack([embedder.encode([text])[0] if text else np.zeros(DIM, dtype=np.float32) for text in texts])
    np.testing.assert_array_equal(index.vectors, expected)
    assert index.keys == tuple(vectors.content_key("test:counting", text) if text else "" for text in texts)


def test_embedding_holds_the_vectors_once_not_beside_a_copy_of_them():
    # Held beside the matrix, every vector would be there twice: the peak would pass twice its size.
    given = passages(3000)
    tracemalloc.start()
    try:
        index, _embedded = passage_vectors.embed(given, None, [], "counting", "test:counting", Counting(), None)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.4 * index.vectors.nbytes
