"""Every kind of note file through the same machinery: counted by kind, incremental, excluded, skipped once with
its reason, and files of other kinds counted, never silently dropped."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest
from conftest import counts
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import corpus.pdf
from indexer import build
from indexer.generations import read_manifest
from search import open_index, search

_spec = importlib.util.spec_from_file_location("pdfs", Path(__file__).parent.parent / "corpus" / "test_pdf.py")
pdfs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pdfs)

NOTEBOOK = nbformat.writes(new_notebook(cells=[new_markdown_cell("# 剪枝\n\n最优脑外科（OBS）用海森矩阵补偿剪掉的权重。"),
                                               new_code_cell("H = X.T @ X")]))
ORG = "#+TITLE: 视觉笔记\n\n* ViT\nViT 把图像切成 patch，当作词序列交给 Transformer。\n"


@pytest.fixture
def mixed(notes_dir):
    return notes_dir({"a.md": "# 扩散模型\n\n扩散模型通过逐步去噪生成图像。\n", "nb.ipynb": NOTEBOOK, "vit.org": ORG,
                      "book.pdf": pdfs.cid_pdf(2), "report.docx": b"PK\x03\x04", "scan.docx": b"PK",
                      "figures/fig1.png": b"\x89PNG", "book.epub": b"PK", ".DS_Store": b"\x00", "a.md~": "old"})


def test_every_kind_is_indexed_and_counted_with_the_files_of_other_kinds(mixed, tmp_path, embedder):
    index = str(tmp_path / "index")
    report = build([str(mixed)], index, embedder=embedder)
    assert counts(report) == (4, 0, 0, 0, 0)
    assert report.others == {".docx": 2, ".epub": 1, ".png": 1} and report.others_changed
    manifest = read_manifest(index)
    assert manifest.kinds() == {"markdown": 1, "notebook": 1, "org": 1, "pdf": 1}
    assert manifest.others == report.others
    with open_index(index, embedder=embedder) as opened:
        regions = {p.path.rsplit("/", 1)[1]: p.region for p in opened.passages()}
        assert (regions["a.md"], regions["vit.org"], regions["nb.ipynb"][0], regions["book.pdf"][0]) == ("", "", "c", "p")
        hit = search(opened, "海森矩阵", mode="keyword", k=1).hits[0]
        assert (hit.passage.path.endswith("nb.ipynb"), hit.passage.region) == (True, "c1")
    again = build([str(mixed)], index, embedder=embedder)
    assert not again.changed and not again.others_changed


def test_a_changed_pdf_alone_is_read_again(mixed, tmp_path, embedder, monkeypatch):
    index = str(tmp_path / "index")
    build([str(mixed)], index, embedder=embedder)
    (mixed / "book.pdf").write_bytes(pdfs.cid_pdf(3))
    read = []
    original = corpus.pdf.extract
    monkeypatch.setattr(corpus.pdf, "extract", lambda data, page=None: read.append(page) or original(data, page))
    report = build([str(mixed)], index, embedder=embedder)
    assert counts(report) == (0, 1, 0, 3, 0) and read == [None]
    with open_index(index, embedder=embedder) as opened:
        assert {p.region for p in opened.passages() if p.path.endswith("book.pdf")} == {"p1", "p2", "p3"}


def test_an_unreadable_pdf_is_skipped_once_with_its_reason_and_not_read_again(mixed, tmp_path, embedder, monkeypatch):
    (mixed / "locked.pdf").write_bytes(pdfs.encrypted("secret", "owner"))
    index = str(tmp_path / "index")
    first = build([str(mixed)], index, embedder=embedder)
    assert [(Path(s.path).name, s.reason) for s in first.skipped] == [
        ("locked.pdf", "encrypted: it needs a password to be read")]
    assert first.added == 4
    monkeypatch.setattr(corpus.pdf, "extract", lambda *args: pytest.fail("read again"))
    again = build([str(mixed)], index, embedder=embedder)
    assert not again.changed and (again.skipped, again.skipped_before) == ((), 1)
    assert read_manifest(index).skipped == {str(mixed / "locked.pdf"): "encrypted: it needs a password to be read"}


def test_a_file_that_turns_unreadable_is_removed_from_the_index(mixed, tmp_path, embedder):
    index = str(tmp_path / "index")
    build([str(mixed)], index, embedder=embedder)
    (mixed / "nb.ipynb").write_text("{ not a notebook", encoding="utf-8")
    report = build([str(mixed)], index, embedder=embedder)
    assert counts(report) == (0, 0, 1, 3, 0)
    assert [Path(s.path).name for s in report.skipped] == ["nb.ipynb"]
    with open_index(index, embedder=embedder) as opened:
        assert not [p for p in opened.passages() if p.path.endswith("nb.ipynb")]


def test_exclude_patterns_apply_to_every_kind_and_excluded_files_are_not_counted(mixed, tmp_path, embedder):
    index = str(tmp_path / "index")
    report = build([str(mixed)], index, embedder=embedder, exclude=["*.pdf", "*.docx"])
    assert counts(report)[0] == 3 and report.others == {".epub": 1, ".png": 1}
    assert read_manifest(index).kinds() == {"markdown": 1, "notebook": 1, "org": 1}


def test_the_json_of_a_run_counts_the_files_not_indexed(mixed, tmp_path, embedder):
    from search.results import report_data

    data = report_data(build([str(mixed)], str(tmp_path / "index"), embedder=embedder))
    assert data["not_indexed"] == {".docx": 2, ".epub": 1, ".png": 1} and data["not_indexed_changed"] is True
