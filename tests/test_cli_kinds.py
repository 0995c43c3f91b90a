"""The command line on notebooks, Org files and PDFs: locations with their region, get of each kind, links to a
PDF's page, and stats and index runs counting kinds and the files not indexed."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import cli
from cli_render import link, vimgrep_line
from indexer import build

_spec = importlib.util.spec_from_file_location("pdfs", Path(__file__).parent / "corpus" / "test_pdf.py")
pdfs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pdfs)

NOTEBOOK = nbformat.writes(new_notebook(cells=[
    new_code_cell("import numpy as np"),
    new_markdown_cell("# 剪枝\n\n最优脑外科（OBS）用海森矩阵的逆补偿剪掉的权重。\n\n再看代码。"),
]))


@pytest.fixture(scope="module")
def kinds(tmp_path_factory, embedder) -> tuple[Path, str]:
    """A folder of a note, a notebook, an Org file, a PDF and a .docx, indexed; (folder, index)."""
    folder = tmp_path_factory.mktemp("kinds")
    (folder / "a.md").write_text("# 扩散模型\n\n扩散模型通过逐步去噪生成图像。\n", encoding="utf-8")
    (folder / "nb.ipynb").write_text(NOTEBOOK, encoding="utf-8")
    (folder / "vit.org").write_text("#+TITLE: 视觉\n\n* ViT\nViT 把图像切成 patch。\n", encoding="utf-8")
    (folder / "book.pdf").write_bytes(pdfs.cid_pdf(2))
    (folder / "thesis.docx").write_bytes(b"PK")
    index = str(folder / ".index")
    build([str(folder)], index, embedder=embedder)
    return folder, index


def output(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_hit_in_a_cell_shows_path_region_and_line(kinds, capsys, monkeypatch):
    folder, index = kinds
    monkeypatch.chdir(folder)
    code, out, _err = output(capsys, "search", "海森矩阵", "--mode", "keyword", "-k", "1", "--index", index)
    assert code == 0 and out.splitlines()[1].strip() == "nb.ipynb:c2:3-5"  # its short last line joins it
    code, out, _err = output(capsys, "search", "海森矩阵", "--mode", "keyword", "-k", "1", "--json", "--index", index)
    hit = json.loads(out)["hits"][0]
    assert (hit["path"], hit["region"], hit["line_start"], hit["line_end"]) == ("nb.ipynb", "c2", 3, 5)


def test_get_opens_a_cell_at_its_line_with_the_cells_lines(kinds, capsys, monkeypatch):
    folder, index = kinds
    monkeypatch.chdir(folder)
    code, out, _err = output(capsys, "get", "nb.ipynb:c2:5", "-C", "1", "--index", index)
    assert code == 0
    assert out.splitlines() == ["nb.ipynb:c2:3-5 — 剪枝", "  2 │", "> 3 │ 最优脑外科（OBS）用海森矩阵的逆补偿剪掉的权重。", "> 4 │",
                                "> 5 │ 再看代码。"]


def test_get_opens_a_pdf_page_and_a_bare_page_is_its_first_passage(kinds, capsys, monkeypatch):
    folder, index = kinds
    monkeypatch.chdir(folder)
    code, out, _err = output(capsys, "get", "book.pdf:p2", "-C", "1", "--json", "--index", index)
    found = json.loads(out)
    # The page's short paragraphs are one answer, as short paragraphs of one section are in a note.
    assert code == 0 and (found["region"], found["line_start"], found["line_end"]) == ("p2", 2, 13)
    assert found["lines"][0] == "第2章 自监督学习" and found["first_line"] == 1
    code, out, _err = output(capsys, "get", "book.pdf:p2:9", "-C", "0", "--index", index)
    assert out.splitlines()[0] == "book.pdf:p2:2-13 — 第1章 自监督学习 › 第2章 自监督学习"
    assert out.splitlines()[8].startswith(">  9 │ 第2页第3段第2行")


def test_get_and_related_refuse_a_region_with_no_passage_in_one_line(kinds, capsys, monkeypatch):
    folder, index = kinds
    monkeypatch.chdir(folder)
    code, _out, err = output(capsys, "get", "book.pdf:p9", "--index", index)
    assert code == 1 and err.strip() == "notesearch: no passage of the index holds book.pdf:p9 (a blank line, a heading " \
                                       "or front matter?)"
    code, out, err = output(capsys, "related", "--passage", "nb.ipynb:c2:3", "-k", "1", "--index", index)
    assert code == 0 and out.startswith("related to 剪枝 — nb.ipynb:c2:3")


def test_an_org_hit_is_a_plain_location(kinds, capsys, monkeypatch):
    folder, index = kinds
    monkeypatch.chdir(folder)
    code, out, _err = output(capsys, "get", "vit.org:4", "-C", "0", "--index", index)
    assert code == 0 and out.splitlines() == ["vit.org:4 — 视觉 › ViT", "> 4 │ ViT 把图像切成 patch。"]


def test_stats_counts_files_by_kind_and_the_files_not_indexed(kinds, capsys):
    _folder, index = kinds
    code, out, _err = output(capsys, "stats", "--index", index)
    assert code == 0
    assert "files      4 (markdown 1, notebook 1, org 1, pdf 1)" in out.splitlines()
    assert "other      1 file of other kinds not indexed: .docx 1" in out.splitlines()


def test_an_index_run_says_once_which_files_of_other_kinds_it_leaves(kinds, capsys, tmp_path):
    folder, _index = kinds
    index = str(tmp_path / "index")
    code, _out, err = output(capsys, "index", str(folder), "--index", index, "--quiet", "--model", "use-m3",
                             "--exclude", ".index")
    assert code == 0 and "notesearch: 1 file of other kinds not indexed: .docx 1 ('notesearch stats' counts them)" \
        in err.splitlines()
    code, _out, err = output(capsys, "index", "--index", index, "--quiet")
    assert code == 0 and "other kinds" not in err


def test_a_link_to_a_pdf_page_opens_the_page_and_one_to_a_cell_the_notebook():
    assert link("/n/book.pdf", 9, "x", "file://{host}{path}", "p2").split("\033\\")[0].endswith("/n/book.pdf#page=2")
    assert link("/n/nb.ipynb", 3, "x", "file://{host}{path}", "c2").split("\033\\")[0].endswith("/n/nb.ipynb")
    assert link("/n/book.pdf", 9, "x", "vscode://file{path}:{line}", "p2").startswith(
        "\033]8;;vscode://file/n/book.pdf:1\033\\")
    assert link("/n/book.pdf", 9, "x", "zathura://{path}?page={page}", "p2").startswith(
        "\033]8;;zathura:///n/book.pdf?page=2\033\\")


def test_vimgrep_names_the_file_and_says_the_region_in_the_text():
    hit = {"path": "book.pdf", "region": "p2", "line_start": 8, "line_end": 10, "snippet": "第2页**第3段**"}
    assert vimgrep_line(hit) == "book.pdf:1:1:[p2:8-10] 第2页第3段"


def test_a_folder_of_other_kinds_only_is_not_a_reason_to_fail(tmp_path, capsys, embedder):
    folder = tmp_path / "n"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nApples.\n", encoding="utf-8")
    (folder / "x.png").write_bytes(b"\x89PNG")
    os.makedirs(folder / ".git")
    (folder / ".git" / "HEAD").write_text("ref", encoding="utf-8")
    report = build([str(folder)], str(tmp_path / "index"), embedder=embedder)
    assert report.others == {".png": 1}  # nothing of the hidden folder
