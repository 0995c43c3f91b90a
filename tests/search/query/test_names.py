"""A person's name in any of its forms finds the others: 何恺明, Kaiming He, He Kaiming, K. He (issue 27)."""

from __future__ import annotations

import pytest

from indexer import build
from search import open_index, search

NOTES = {
    # A paper whose authors are listed with initials only.
    "resnet.md": "---\ntitle: \"Deep Residual Learning for Image Recognition\"\nauthors: K. He, X. Zhang, S. Ren, "
                 "J. Sun\nyear: 2016\n---\n# Deep Residual Learning for Image Recognition\n\n残差连接让很深的网络也能训练。\n",
    # Prose that writes the name in full, in letters; no paper record in this file.
    "mae.md": "# 掩码自编码器\n\nKaiming He 在 2021 年提出了 MAE，遮住大部分图像块再重建。\n",
    # Prose that writes it in characters.
    "people.md": "# 人物\n\n何恺明 的另一篇工作是 Mask R-CNN，做实例分割。\n",
    # Others: another K., another He-like word, and the letter k in words.
    "huang.md": "# 排序\n\nK. Huang 写了一篇关于 top-k 采样的文章。\n",
    "kmeans.md": "# 聚类\n\nk-means 聚类把样本分成 k 组。\n",
    "ma.md": "---\ntitle: \"A Paper by Ma\"\nauthors: P. Ma\nyear: 2020\n---\n# A Paper by Ma\n\n关于地图的研究。\n",
}


@pytest.fixture(scope="module")
def names_index(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("people")
    for name, text in NOTES.items():
        (folder / name).write_text(text, encoding="utf-8")
    build([str(folder)], str(folder / "index"), embedder=embedder)
    with open_index(str(folder / "index"), embedder=embedder) as index:
        yield index


def _files(index, query: str, mode: str = "keyword", k: int = 3) -> list[str]:
    return [hit.passage.path.rsplit("/", 1)[-1] for hit in search(index, query, mode=mode, k=k).hits]


@pytest.mark.parametrize("query", ["何恺明", "何恺明的论文"])
def test_a_name_in_characters_finds_it_written_with_initials_and_in_full(names_index, query):
    # Keyword mode: a test model's vectors of six tiny notes say little (the bundled notes test hybrid below).
    assert set(_files(names_index, query)) == {"resnet.md", "mae.md", "people.md"}


@pytest.mark.parametrize("query", ["K. He", "He K.", "K He"])
def test_initials_find_the_name_in_every_form(names_index, query):
    assert set(_files(names_index, query)) == {"resnet.md", "mae.md", "people.md"}


def test_a_full_name_finds_it_written_with_initials(names_index):
    assert set(_files(names_index, "Kaiming He")) == {"resnet.md", "mae.md", "people.md"}


@pytest.mark.parametrize("query", ["K. He", "何恺明"])
def test_a_name_found_by_its_key_is_marked_as_the_note_writes_it(names_index, query):
    matched = {hit.passage.path.rsplit("/", 1)[-1]: hit.matched for hit in search(names_index, query, k=3).hits}
    assert matched["resnet.md"] == ("K. He",) and matched["mae.md"] == ("Kaiming He",)


def test_explain_says_how_a_name_was_read(names_index):
    assert search(names_index, "K. He", mode="keyword", k=3).read_as == ("K. He → 何恺明 / He, K.",)
    assert "何恺明 → He, K." in search(names_index, "何恺明", mode="keyword", k=3).read_as


def test_a_word_never_meets_a_name_key(names_index):
    # `map` is no name: the key of `P. Ma` (`ma_p`) is searched only by a name a query writes.
    assert "ma.md" not in _files(names_index, "map")
    assert not names_index.plan("a transformer").name_keys and not names_index.plan("top k").name_keys


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_initials_find_the_bundled_paper_whose_author_is_written_in_full(bundled_index, mode):
    first = search(bundled_index, "K. He", mode=mode, k=1).hits[0]
    assert first.paper is not None and first.paper.title.startswith("Deep Residual Learning"), first.title
