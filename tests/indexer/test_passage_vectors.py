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
    index, embedded, cut = passage_vectors.embed(given, None, [], "counting", "test:counting", embedder, None)
    texts = [text for passage in given for text in (passage.embed_texts() or ("",))]
    assert cut == {} and embedded == len(set(texts) - {""}) == len(embedder.encoded) == len(set(embedder.encoded))
    assert index.ids == tuple(passage.id for passage in given for _ in (passage.embed_texts() or ("",)))
    expected = np.stack([embedder.encode([text])[0] if text else np.zeros(DIM, dtype=np.float32) for text in texts])
    np.testing.assert_array_equal(index.vectors, expected)
    assert index.keys == tuple(vectors.content_key("test:counting", text) if text else "" for text in texts)


def test_embedding_holds_the_vectors_once_not_beside_a_copy_of_them():
    # Held beside the matrix, every vector would be there twice: the peak would pass twice its size.
    given = passages(3000)
    tracemalloc.start()
    try:
        index, _embedded, _cut = passage_vectors.embed(given, None, [], "counting", "test:counting", Counting(),
                                                        None)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.4 * index.vectors.nbytes


SENTENCES = "自监督学习通过预测被遮盖的部分来学习表征，这是第{n}句话的内容。" * 3


def test_a_note_embeds_at_most_its_cap_own_texts_first_and_says_how_many_were_cut(monkeypatch):
    monkeypatch.setattr(passage_vectors, "MAX_TEXTS_PER_NOTE", 30)
    # 20 passages of several sentences (each its own text and runs of sentences) in one note, one in another.
    big = [Passage("notes/big.md", n + 1, n + 1, "节", "笔记", SENTENCES.format(n=n) * 2) for n in range(20)]
    small = Passage("notes/small.md", 1, 1, "节", "笔记", SENTENCES.format(n=99))
    given = [*big, small]
    total = sum(len(p.embed_texts()) for p in big)
    assert total > 30 and all(len(p.embed_texts()) > 1 for p in big)
    index, embedded, cut = passage_vectors.embed(given, None, [], "counting", "test:counting", Counting(), None)
    assert cut == {"notes/big.md": total - 30}
    rows = [index.ids.count(p.id) for p in big]
    assert sum(rows) == 30 and min(rows) >= 1  # every passage keeps its own text before any passage's runs
    assert index.ids.count(small.id) == len(small.embed_texts())  # another note is not cut
    assert embedded == len({key for key in index.keys if key})  # only what was granted was embedded


def test_one_line_embeds_at_most_its_cap(monkeypatch):
    monkeypatch.setattr(passage_vectors, "MAX_TEXTS_PER_LINE", 5)
    # A long line is indexed in pieces that all start on line 1; the next line is not cut.
    pieces = [Passage("notes/line.md", 1, 1, "节", "笔记", f"第{n}段 卷积 {n}", piece=n) for n in range(12)]
    after = Passage("notes/line.md", 2, 2, "节", "笔记", "下一行 池化")
    index, _embedded, cut = passage_vectors.embed([*pieces, after], None, [], "counting", "test:counting",
                                                  Counting(), None)
    assert cut == {"notes/line.md": 7}
    assert [index.ids.count(p.id) for p in pieces] == [1] * 5 + [1] * 7  # cut pieces keep an empty row
    cut_rows = [n for n, pid in enumerate(index.ids) if pid in {p.id for p in pieces[5:]}]
    assert all(index.keys[n] == "" and not index.vectors[n].any() for n in cut_rows)
    assert index.keys[index.ids.index(after.id)] != ""


def test_an_index_run_tells_what_it_cut_and_keyword_search_still_finds_it(tmp_path, embedder, monkeypatch):
    from indexer import build
    from search import open_index, search

    monkeypatch.setattr(passage_vectors, "MAX_TEXTS_PER_NOTE", 3)
    notes = tmp_path / "notes"
    notes.mkdir()
    rows = "".join(f"| {2000 + n} | Author{n} | Paper number {n} on topic{n} |\n" for n in range(8))
    (notes / "papers.md").write_text("| 年份 | 作者 | 标题 |\n|---|---|---|\n" + rows, encoding="utf-8")
    report = build([str(notes)], str(tmp_path / "index"), embedder=embedder)
    told = [warning for warning in report.warnings if "not embedded" in warning]
    assert len(told) == 1 and told[0].startswith(f"{notes / 'papers.md'}: 5 of its texts not embedded")
    with open_index(str(tmp_path / "index"), embedder) as index:
        found = search(index, "topic7", mode="keyword", k=1).hits
        assert found and "topic7" in found[0].passage.text
