"""A paper kept in files of several kinds: its note, its PDF beside it, a notebook of its code in a folder below.
One paper, one record with all its places; `related` answers from any of them."""

from __future__ import annotations

import json

import nbformat
import pytest
from conftest import mae_pdf

from indexer import build
from search import open_index, search
from search.relate.papers import paper_graph, related, related_passage

MAE_NOTE = """# Masked Autoencoders Are Scalable Vision Learners

**作者：** Kaiming He, Xinlei Chen, Saining Xie

**发表年份：** 2021

**论文地址：** https://arxiv.org/abs/2111.06377

MAE 随机遮住图像的大部分块，只用可见块编码，再由轻量解码器重建被遮住的像素：一种视觉的自监督预训练。
"""

VIT_NOTE = """# An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale

**作者：** Alexey Dosovitskiy, Lucas Beyer

**发表年份：** 2020

ViT 把图像切成 16x16 的块，当作词序列送入标准的 Transformer 编码器。MAE 的编码器就是 ViT。
"""


def notebook() -> str:
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_markdown_cell("# MAE 代码实战\n\n按 75% 的比例随机遮住图像块。"),
                  nbformat.v4.new_code_cell("mask = torch.rand(n) < 0.75")]
    return nbformat.writes(book)


@pytest.fixture(scope="module")
def papers(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("kinds") / "notes"
    (root / "MAE" / "code").mkdir(parents=True)
    (root / "MAE" / "MAE.md").write_text(MAE_NOTE, encoding="utf-8")
    (root / "MAE" / "mae.pdf").write_bytes(mae_pdf())
    (root / "MAE" / "code" / "MAE.ipynb").write_text(notebook(), encoding="utf-8")
    (root / "ViT.md").write_text(VIT_NOTE, encoding="utf-8")
    directory = str(tmp_path_factory.mktemp("kinds") / "index")
    build([str(root)], directory, embedder=embedder)
    with open_index(directory, embedder=embedder) as index:
        yield root, index


def test_a_papers_pdf_joins_its_note_as_one_paper_with_both_places(papers):
    _root, index = papers
    graph = paper_graph(index)
    mae = [node for node in graph.papers if node.title.startswith("Masked Autoencoders")]
    assert len(mae) == 1  # the note and the PDF: the same arXiv id
    assert {"note", "pdf"} <= {place["source"] for place in mae[0].places}
    assert mae[0].path.endswith("MAE.md")  # the note is where its hit points
    assert any(path.endswith("MAE.ipynb") for path in mae[0].files)  # the notebook in its folder is its material
    pdf = next(place for place in mae[0].places if place["source"] == "pdf")
    assert pdf["region"] == "p1" and pdf["path"].endswith("mae.pdf")
    assert len(graph.papers) == 2


def test_a_search_shows_the_paper_once_with_its_pdf_in_also(papers):
    _root, index = papers
    hits = search(index, "Masked Autoencoders Are Scalable Vision Learners", mode="keyword", k=10).hits
    records = [hit for hit in hits if hit.passage.kind == "paper" and "Masked" in hit.passage.display_title]
    assert len(records) == 1, [(hit.passage.path, hit.passage.region) for hit in records]
    places = {(records[0].passage.path.rsplit("/", 1)[1], records[0].passage.region)}
    places |= {(path.rsplit("/", 1)[1], region) for path, region, _first, _last in records[0].also}
    assert places == {("MAE.md", ""), ("mae.pdf", "p1")}


def test_related_by_the_pdfs_path_or_a_notebook_cell_answers_for_the_paper(papers):
    root, index = papers
    by_pdf = related(index, str(root / "MAE" / "mae.pdf"), k=3)
    assert by_pdf.anchor is not None and by_pdf.anchor.display_title.startswith("Masked Autoencoders")
    assert [hit.passage.display_title for hit in by_pdf.hits][:1] == [
        "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale"]
    by_cell = related_passage(index, str(root / "MAE" / "code" / "MAE.ipynb"), 1, k=3, region="c1")
    assert by_cell.anchor is not None and by_cell.anchor.display_title.startswith("Masked Autoencoders")
    assert json.dumps([hit.passage.display_title for hit in by_cell.hits]) == json.dumps(
        [hit.passage.display_title for hit in by_pdf.hits])
