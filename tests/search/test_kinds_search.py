"""The issue's folder: the bundled notes, a notebook, an Org file and Chromium's PDFs of both notes, searched and
opened as one. Needs Chromium (skipped without it; .ci/run installs it)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import BUNDLED_NOTES, line_of
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from indexer import build
from indexer.embedders import load_embedder
from search import excerpt, open_index, search

ROOT = Path(__file__).resolve().parent.parent.parent
_spec = importlib.util.spec_from_file_location("printing", ROOT / "bench" / "printing.py")
printing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(printing)

TRENDS = "dl-research-trends-2022-2024"
MAE_LINE = line_of(BUNDLED_NOTES / f"{TRENDS}.md", "两大范式在这段时间都有所发展")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(printing.chromium() is None,
                                                   reason="needs chromium to print the notes (apt-get install chromium)")]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> tuple[Path, str, object]:
    """The folder, its index (USE v3: the point here is the kinds, not the model) and the embedder."""
    notes = tmp_path_factory.mktemp("researcher")
    for note in BUNDLED_NOTES.glob("*.md"):
        shutil.copy(note, notes / note.name)
        printing.print_note(note, notes / "pdf" / f"{note.stem}.pdf")
    (notes / "obs.ipynb").write_text(nbformat.writes(new_notebook(cells=[
        new_markdown_cell("# OBS代码实战"), new_code_cell("H = X.T @ X\ninvH = np.linalg.inv(H)"),
        new_markdown_cell("### 结论：OBS 剪掉一个权重，再调整其余权重来补偿。")])), encoding="utf-8")
    (notes / "vit.org").write_text("#+TITLE: ViT 笔记\n\n* ViT\nViT 把图像切成 16x16 的 patch，当作词序列交给 "
                                   "Transformer 编码器。\n", encoding="utf-8")
    embedder = load_embedder("use-m3")
    index = str(tmp_path_factory.mktemp("index") / "index")
    build([str(notes)], index, model="use-m3", embedder=embedder)
    return notes, index, embedder


def test_the_mae_paragraph_shows_once_from_the_note_with_its_pdf_in_also(folder):
    _notes, index, embedder = folder
    with open_index(index, embedder=embedder) as opened:
        hits = search(opened, "自监督 视觉", k=10).hits
    mae = [hit for hit in hits if "两大范式" in hit.passage.text]
    assert len(mae) == 1
    places = {(Path(hit.passage.path).name, hit.passage.region, hit.passage.line_start) for hit in mae}
    places |= {(Path(path).name, region, first) for path, region, first, _last in mae[0].also}
    assert (f"{TRENDS}.md", "", MAE_LINE) in places
    assert any(name == f"{TRENDS}.pdf" and region.startswith("p") for name, region, _first in places)


def test_get_opens_each_kind_at_its_location(folder):
    _notes, index, embedder = folder
    with open_index(index, embedder=embedder) as opened:
        for query, name in [("两大范式", f"{TRENDS}.pdf"), ("invH", "obs.ipynb"), ("patch", "vit.org"),
                            ("两大范式", f"{TRENDS}.md")]:
            hit = next(hit for hit in search(opened, query, mode="keyword", k=20, every=True).hits
                       if Path(hit.passage.path).name == name or any(Path(p).name == name for p, *_ in hit.also))
            path, region, line = ((hit.passage.path, hit.passage.region, hit.passage.line_start)
                                  if Path(hit.passage.path).name == name else
                                  next((p, r, first) for p, r, first, _last in hit.also if Path(p).name == name))
            found = excerpt(opened, path, line, context=1, region=region)
            assert found.passage.region == region and not found.changed
            shown = "".join(found.lines[found.passage.line_start - found.first:found.passage.line_end - found.first + 1])
            assert query.lower() in shown.lower()
