"""Shared fixtures: the bundled notes indexed once per session, a notes-folder factory,
one embedder for the whole session, and access to ../shared (skipped when absent)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest

import corpus
from indexer import build
from indexer.embedders import DEFAULT_MODEL, Embedder, load_embedder
from search import NoteIndex, open_index

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
BUNDLED_NOTES = corpus.BUNDLED_NOTES


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test: a user's clone has no ../shared."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the shared corpora and judgements are not in this checkout)")
    return path


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real default embedder (use-m3 and e5-small together), loaded once."""
    return load_embedder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def bundled_index_dir(tmp_path_factory, embedder) -> str:
    """An index of the bundled notes, built once per session."""
    directory = str(tmp_path_factory.mktemp("bundled") / "index")
    build([str(BUNDLED_NOTES)], directory, embedder=embedder)
    return directory


@pytest.fixture(scope="session")
def bundled_index(bundled_index_dir, embedder) -> NoteIndex:
    """The opened index of the bundled notes (read only: do not build into it)."""
    index = open_index(bundled_index_dir, embedder=embedder)
    yield index
    index.close()


@pytest.fixture(scope="session")
def segmented_index(tmp_path_factory, embedder):
    """An index of 40 small notes, one of them edited after the first build: two segments, deletions."""
    root = tmp_path_factory.mktemp("segmented") / "notes"
    root.mkdir()
    for n in range(40):
        (root / f"note{n:02}.md").write_text(
            f"# 笔记 {n}\n\n第{n}篇讲卷积神经网络与 transformer 的第 {n} 个例子。\n\n"
            f"Attention is used in example {n} with {'dropout' if n % 3 else 'batch norm'}。\n", encoding="utf-8")
    directory = str(tmp_path_factory.mktemp("segmented") / "index")
    build([str(root)], directory, embedder=embedder)
    (root / "note07.md").write_text("# 笔记 7\n\n改过的第七篇：循环神经网络与 attention。\n", encoding="utf-8")
    build([str(root)], directory, embedder=embedder)
    with open_index(directory, embedder=embedder) as index:
        yield index


@pytest.fixture
def notes_dir(tmp_path) -> Callable[[dict[str, str | bytes]], Path]:
    """Write {relative path: text or bytes} into a fresh folder and return it."""

    def make(files: dict[str, str | bytes]) -> Path:
        root = tmp_path / "notes"
        root.mkdir(exist_ok=True)
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return root

    return make


def counts(report) -> tuple[int, int, int, int, int]:
    """What a build did to the note files: (added, updated, removed, unchanged, renamed)."""
    return report.added, report.updated, report.removed, report.unchanged, report.renamed


def edit_manifests(index: str, **changes) -> None:
    """Rewrite the committed manifest (top and generation copy) as an older notesearch would have left it."""
    from dataclasses import replace

    from indexer.generations import read_manifest

    manifest = read_manifest(index)
    for path in (os.path.join(index, "manifest.json"), os.path.join(index, manifest.folder, "manifest.json")):
        with open(path, "w", encoding="utf-8") as f:
            f.write(replace(manifest, **changes).to_json())


def line_of(path: Path, snippet: str) -> int:
    """The 1-based line of `path` that holds `snippet` (which must occur exactly once)."""
    found = [n for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1) if snippet in line]
    assert len(found) == 1, f"{snippet!r} is on lines {found} of {path}"
    return found[0]


os.environ.setdefault("HF_HUB_OFFLINE", "1")


def numpy_blas_threads() -> int:
    """The thread count of numpy's own BLAS: other BLAS copies (scipy's, loaded with sentence-transformers by
    another test) are limited or not by whoever loaded them, and numpy's is the one our vector work runs on."""
    from threadpoolctl import threadpool_info

    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    own = [lib for lib in blas if Path(lib["filepath"]).parent.name.startswith("numpy")]
    return max(lib["num_threads"] for lib in own or blas)


def mae_pdf() -> bytes:
    """A PDF whose first page is a paper's: title, authors, affiliation, abstract, a section, and its arXiv stamp."""
    import io

    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.setFont("Helvetica-Bold", 17)
    page.drawString(72, 740, "Masked Autoencoders Are Scalable")
    page.drawString(72, 720, "Vision Learners")
    page.setFont("Helvetica", 11)
    page.drawString(72, 690, "Kaiming He*, Xinlei Chen*, Saining Xie, Yanghao Li, Piotr Dollar, Ross Girshick")
    page.drawString(72, 675, "Facebook AI Research (FAIR)")
    page.drawString(72, 640, "Abstract")
    page.drawString(72, 622, "This paper shows that masked autoencoders (MAE) are scalable self-supervised")
    page.drawString(72, 608, "learners for computer vision. We mask random patches of the input image.")
    page.drawString(72, 560, "1. Introduction")
    page.drawString(20, 300, "arXiv:2111.06377v3 [cs.CV] 19 Dec 2021")
    page.showPage()
    page.save()
    return out.getvalue()


@contextmanager
def serving(directory: str, embedder, **options):
    """A real HTTP server (search.serve.server.NoteServer) for `directory` answering in a thread, its serve.json
    written; shut down and closed on leaving."""
    from search.serve.client import ping
    from search.serve.server import NoteServer

    server = NoteServer(directory, embedder=embedder, **options)
    server.publish()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # Until the server has started and answered once, a client's ping may wait past its second on a loaded
    # machine, and the client then works in process: a test asks at once, a user some seconds later.
    deadline = time.monotonic() + 30
    while not server.http.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    while thread.is_alive() and time.monotonic() < deadline and ping(directory) is None:
        time.sleep(0.05)
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(30)
        server.close()
