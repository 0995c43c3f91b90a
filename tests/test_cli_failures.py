"""Disks and folders that fail: one line on stderr, exit code 1, and the previous index intact.

A full disk and a read-only folder are simulated by an OSError injected where
the index is written (this process is often root, which no mode stops); a
file where the index folder should be, and a folder where serve.json should
be, are real.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

import indexer.files
import indexer.generations
import indexer.vectors
from corpus.errors import IndexWriteError
from indexer import build
from indexer.generations import read_manifest
from search import open_index, search

NOTES = {
    "a.md": "# 扩散模型\n\n**扩散模型**通过逐步去噪生成图像。\n",
    "b.md": "# Transformer\n\nThe transformer relies on self-attention.\n",
}
# Runs cli.main with the write named by argv[1] failing with the errno named by argv[2].
FAILING_CLI = """
import errno, sys
import indexer.files, indexer.generations, indexer.vectors, cli
owner, name = {"vectors": (indexer.vectors, "atomic_write"), "manifest": (indexer.generations, "atomic_write"),
               "mkstemp": (indexer.files.tempfile, "mkstemp")}[sys.argv[1]]
code = getattr(errno, sys.argv[2])
def fail(*args, **kwargs):
    raise OSError(code, __import__("os").strerror(code), "injected")
setattr(owner, name, fail)
sys.exit(cli.main(sys.argv[3:]))
"""


def run_cli(*args: str, code: str | None = None) -> subprocess.CompletedProcess:
    """`python cli.py ARGS` (or ARGS of the `code` wrapper) in a fresh process."""
    command = [sys.executable, "-c", code] if code else [sys.executable, str(ROOT / "cli.py")]
    env = dict(os.environ, HF_HUB_OFFLINE="1", NO_COLOR="1")
    return subprocess.run([*command, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("notesearch: "), done.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def answers(index: str, embedder) -> list[tuple[str, int]]:
    with open_index(index, embedder=embedder) as opened:
        return [(h.passage.path, h.passage.line_start) for q in ("扩散模型", "transformer")
                for h in search(opened, q, mode="keyword").hits]


def changed_notes(notes_dir, tmp_path, embedder) -> tuple[str, str, list]:
    """An index of NOTES (generation 1), then the notes changed so that the next run must write."""
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    (notes / "c.md").write_text("# 新\n\n一个新的笔记。\n", encoding="utf-8")
    return str(notes), index, answers(index, embedder)


def folders(index: str) -> list[str]:
    return sorted(name for name in os.listdir(index) if name.startswith(("gen-", ".trash-", ".tmp-")))


@pytest.mark.parametrize("owner, name, code", [
    (indexer.vectors, "atomic_write", errno.ENOSPC),
    (indexer.generations, "atomic_write", errno.ENOSPC),
    (indexer.files.tempfile, "mkstemp", errno.EROFS),
    (indexer.files.tempfile, "mkstemp", errno.EACCES),
])
def test_a_failed_write_raises_one_error_removes_the_half_written_generation_and_keeps_the_index(
        owner, name, code, notes_dir, tmp_path, embedder, monkeypatch):
    notes, index, before = changed_notes(notes_dir, tmp_path, embedder)

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code), "injected")

    monkeypatch.setattr(owner, name, fail)
    with pytest.raises(IndexWriteError) as raised:
        build([notes], index, embedder=embedder)
    monkeypatch.undo()
    assert str(raised.value) == f"cannot write the index at {index}: {os.strerror(code)}; the index is as it was"
    assert raised.value.errno == code
    assert folders(index) == ["gen-000001"]  # the half-written gen-000002 is gone already
    assert read_manifest(index).generation == 1 and answers(index, embedder) == before
    assert build([notes], index, embedder=embedder).generation == 2


def test_an_index_folder_that_cannot_be_created_says_so(tmp_path, embedder, notes_dir, monkeypatch):
    def fail(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "index"))

    monkeypatch.setattr(indexer.files.os, "makedirs", fail)
    with pytest.raises(IndexWriteError, match=r"Permission denied$"):
        build([str(notes_dir(NOTES))], str(tmp_path / "index"), embedder=embedder)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder (the injected cases cover it)")
def test_a_read_only_index_folder_is_one_error_and_still_answers(notes_dir, tmp_path, embedder):
    notes, index, before = changed_notes(notes_dir, tmp_path, embedder)
    os.chmod(index, 0o500)
    try:
        with pytest.raises(IndexWriteError, match="Permission denied; the index is as it was"):
            build([notes], index, embedder=embedder)
        assert answers(index, embedder) == before
    finally:
        os.chmod(index, 0o700)


@pytest.mark.slow
@pytest.mark.parametrize("write, code, message", [
    ("vectors", "ENOSPC", "No space left on device; the index is as it was"),
    ("manifest", "ENOSPC", "No space left on device; the index is as it was"),
    ("mkstemp", "EROFS", "Read-only file system; the index is as it was"),
])
def test_cli_index_on_a_failing_disk_prints_one_line_and_keeps_the_index(notes_dir, tmp_path, embedder, write, code,
                                                                          message):
    notes, index, before = changed_notes(notes_dir, tmp_path, embedder)
    done = run_cli(write, code, "index", notes, "--index", index, "--no-server", code=FAILING_CLI)
    one_line_error(done, f"cannot write the index at {index}", message)
    assert done.stdout == ""
    assert folders(index) == ["gen-000001"] and answers(index, embedder) == before


@pytest.mark.slow
def test_an_index_path_that_is_a_file_is_one_line_for_every_command(tmp_path, notes_dir):
    path = tmp_path / "not-a-folder"
    path.write_text("a file\n", encoding="utf-8")
    notes = str(notes_dir(NOTES))
    one_line_error(run_cli("index", notes, "--index", str(path), "--no-server"),
                   f"cannot write the index at {path}: it is a file, not a folder")
    for command in (["search", "扩散"], ["stats"], ["related", "扩散"], ["serve"]):
        one_line_error(run_cli(*command, "--index", str(path)),
                       f"no index at {path} (a file, not a folder): give --index a folder")
    assert path.read_text(encoding="utf-8") == "a file\n"


@pytest.mark.slow
def test_serve_that_cannot_write_its_state_file_says_so(bundled_index_dir, tmp_path):
    index = str(tmp_path / "index")
    shutil.copytree(bundled_index_dir, index)
    os.mkdir(os.path.join(index, "serve.json"))  # a folder in the way: the rename fails, even for root
    done = run_cli("serve", "--index", index)
    one_line_error(done, f"cannot write serve.json into {index}: ", "searches could not find the server")
    assert "cannot serve on" not in done.stderr
    assert json.loads(run_cli("search", "扩散", "--index", index, "--json", "--mode", "keyword").stdout)["hits"]
