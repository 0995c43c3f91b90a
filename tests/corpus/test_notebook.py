"""Jupyter notebooks: Markdown cells read as Markdown, code cells as code, short text outputs kept, each passage
in its cell."""

from __future__ import annotations

import json

import nbformat
import pytest
from conftest import shared_path
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from corpus.documents import read_document, region_lines
from corpus.notebook import OUTPUT_LINES, cell_lines, read_notebook


def notebook(*cells) -> bytes:
    return nbformat.writes(new_notebook(cells=list(cells))).encode("utf-8")


NOTEBOOK = notebook(
    new_code_cell("import numpy as np"),
    new_markdown_cell("# 剪枝实战\n\n本节用 **OBS** 剪掉一个权重，再补偿其余权重。"),
    new_markdown_cell("## 计算海森矩阵\n\n- 先算 H = XᵀX\n- 再求逆\n\n| 步骤 | 耗时 |\n|---|---|\n| 求逆 | 3 ms |"),
    new_code_cell("H = X.T @ X\nH", outputs=[new_output("execute_result", data={"text/plain": "array([[40, 56]])"},
                                                      execution_count=1)]),
    new_code_cell("plot(H)", outputs=[new_output("display_data", data={"image/png": "iVBORw0KGgo=",
                                                                       "text/plain": "<Figure size 640x480>"})]),
    new_code_cell("print(log)", outputs=[new_output("stream", name="stdout",
                                                    text="\n".join(f"step {n}" for n in range(OUTPUT_LINES + 1)))]),
    new_code_cell("df", outputs=[new_output("execute_result", data={"text/html": "<table>…</table>",
                                                                    "text/plain": "   a  b\n0  1  2"})]),
    new_code_cell("1/0", outputs=[new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                             traceback=["\x1b[31mZeroDivisionError\x1b[0m"])]),
    new_markdown_cell("### 结论：OBS 剪枝后的输出与剪枝前几乎相同。"),
)


def by_cell(passages):
    return {passage.region: passage for passage in passages}


def test_each_passage_lives_in_its_cell_with_lines_counted_in_the_cell():
    _note, passages = read_notebook("nb.ipynb", NOTEBOOK)
    found = {(p.region, p.line_start, p.line_end, p.kind) for p in passages}
    assert ("c1", 1, 1, "code") in found
    assert ("c2", 3, 3, "paragraph") in found  # below the cell's heading and its blank line
    assert ("c3", 3, 3, "item") in found and ("c3", 4, 4, "item") in found
    assert ("c3", 8, 8, "row") in found
    assert ("c4", 1, 3, "code") in found  # its source, then its one-line output
    assert all(p.region for p in passages)


def test_a_heading_is_the_section_of_the_cells_after_it():
    _note, passages = read_notebook("nb.ipynb", NOTEBOOK)
    cells = by_cell(passages)
    assert cells["c2"].section == "剪枝实战"
    assert cells["c4"].section == "剪枝实战 > 计算海森矩阵"


def test_only_short_text_outputs_are_read():
    _note, passages = read_notebook("nb.ipynb", NOTEBOOK)
    cells = by_cell(passages)
    assert cells["c4"].text == "H = X.T @ X\nH\narray([[40, 56]])"
    assert cells["c5"].text == "plot(H)"  # an image's stand-in text is no output to read
    assert cells["c6"].text == "print(log)"  # a log of OUTPUT_LINES + 1 lines is left out
    assert cells["c7"].text == "df"  # HTML, whatever text stands beside it
    assert cells["c8"].text == "1/0"  # a traceback
    assert cell_lines(NOTEBOOK, "c4") == ["H = X.T @ X", "H", "array([[40, 56]])"]


def test_a_closing_heading_cell_is_a_passage_and_the_title_is_the_first_level_1_heading():
    note, passages = read_notebook("nb.ipynb", NOTEBOOK)
    assert note.title == "剪枝实战"
    assert by_cell(passages)["c9"].text == "结论：OBS 剪枝后的输出与剪枝前几乎相同。"
    assert {p.title for p in passages} == {"剪枝实战"}


def test_a_notebook_without_a_heading_is_titled_by_its_file_name():
    note, _passages = read_notebook("dir/scratch.ipynb", notebook(new_code_cell("x = 1")))
    assert note.title == "scratch"


def test_a_fence_a_markdown_cell_leaves_open_ends_with_the_cell():
    data = notebook(new_markdown_cell("```python\nunclosed = True"), new_markdown_cell("后面的单元格是正文。"))
    _note, passages = read_notebook("nb.ipynb", data)
    assert [(p.region, p.kind, p.text) for p in passages] == [("c1", "code", "unclosed = True"),
                                                            ("c2", "paragraph", "后面的单元格是正文。")]


def test_a_code_cell_holding_a_fence_stays_one_code_passage():
    data = notebook(new_code_cell('doc = """\n```\nnot markdown\n```\n"""'), new_markdown_cell("正文"))
    _note, passages = read_notebook("nb.ipynb", data)
    assert [p.region for p in passages if p.kind == "code"] == ["c1"]
    assert by_cell(passages)["c1"].text.count("```") == 2


@pytest.mark.parametrize("data", [b"{not json", b"[]", json.dumps({"cells": "x"}).encode(), b"\x00\x01binary"])
def test_a_file_that_is_no_notebook_is_refused_with_a_reason(data):
    with pytest.raises(ValueError, match="not a notebook|binary"):
        read_notebook("nb.ipynb", data)


def test_a_notebook_is_read_by_its_suffix_and_its_cells_given_back():
    document = read_document("x/nb.ipynb", NOTEBOOK)
    assert document.note.title == "剪枝实战" and all(p.region for p in document.passages)
    assert region_lines("x/nb.ipynb", NOTEBOOK, "c2")[0] == "# 剪枝实战"
    with pytest.raises(ValueError, match="no cell"):
        region_lines("x/nb.ipynb", NOTEBOOK, "c99")


def test_the_obs_notebook_of_papernotes_is_read():
    path = shared_path("corpora", "paperNotes", "docs", "contents", "BASE", "jupyter", "OBS.ipynb")
    document = read_document(str(path), path.read_bytes())
    assert document.note.title == "OBS代码实战"
    regions = {p.region for p in document.passages}
    assert {"c3", "c9"} <= regions
    assert any("invH" in p.text and p.kind == "code" for p in document.passages)


def test_a_hostile_notebook_is_refused_or_read_in_bounded_time():
    import time

    started = time.monotonic()
    with pytest.raises(ValueError, match="not a notebook"):
        read_notebook("deep.ipynb", b"[" * 200_000 + b"]" * 200_000)  # nested past the recursion limit
    wide = notebook(*(new_markdown_cell("段落 " * 50) for _ in range(3000)))
    _note, passages = read_notebook("wide.ipynb", wide)
    assert len(passages) == 3000 and time.monotonic() - started < 30
