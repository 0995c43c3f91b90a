"""`notesearch index` and `stats` through the real entry point: folders added and removed, what `stats` lists,
skipped files said once, global options before the command, --version."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from test_cli import main_output

from indexer import build
from indexer.generations import read_manifest

SKIPPED_BEFORE = "notesearch: 1 file skipped as in the last run, for the same reasons ('notesearch stats' lists them)"


@pytest.fixture
def index_with_notes(notes_dir, tmp_path, embedder):
    notes = notes_dir({"a.md": "# 扩散模型\n\n扩散模型通过逐步去噪生成图像。\n", "b.md": "Transformers attend.\n",
                       "bad.md": b"\x00\x01binary"})
    index = str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    return notes, index


def test_index_path_adds_a_folder_and_stats_lists_both(index_with_notes, tmp_path, capsys):
    notes, index = index_with_notes
    other = tmp_path / "other"
    other.mkdir()
    # Two sections: the two short paragraphs of one section would be joined into one passage.
    (other / "g.md").write_text("# Garden\n\nTomatoes need full sun.\n\n## Care\n\nWater them daily.\n", encoding="utf-8")
    code, out, err = main_output(capsys, "index", str(other), "--index", index, "--no-server", "--quiet")
    assert code == 0, err
    assert out.splitlines() == [f"folder added: {other}", out.splitlines()[1]]
    assert out.splitlines()[1].startswith("added 1, updated 0, removed 0, unchanged 2 — 4 passages")
    code, out, _err = main_output(capsys, "stats", "--index", index)
    assert code == 0
    lines = out.splitlines()
    at = next(n for n, line in enumerate(lines) if line.startswith("folders"))
    assert lines[at:at + 2] == [f"folders    {notes} (2 files, 2 passages)", f"           {other} (1 file, 2 passages)"]
    assert f"skipped    {notes / 'bad.md'}: binary file (NUL bytes)" in lines
    code, out, _err = main_output(capsys, "search", "tomatoes 扩散模型", "--mode", "keyword", "--json", "--index", index)
    assert {os.path.basename(hit["path"]) for hit in json.loads(out)["hits"]} == {"a.md", "g.md"}


def test_index_remove_drops_a_folder_and_says_so(index_with_notes, tmp_path, capsys, embedder):
    notes, index = index_with_notes
    other = tmp_path / "other"
    other.mkdir()
    (other / "g.md").write_text("Tomatoes.\n", encoding="utf-8")
    build([str(other)], index, embedder=embedder)
    code, out, err = main_output(capsys, "index", "--remove", str(other), "--index", index, "--no-server", "--quiet")
    assert code == 0, err
    assert out.splitlines()[0] == f"folder removed: {other}"
    assert out.splitlines()[1].startswith("added 0, updated 0, removed 1, unchanged 2")
    assert read_manifest(index).roots == (str(notes),)


@pytest.mark.parametrize("remove, words", [
    ("elsewhere", "is not a folder of this index (its folders: {notes}; nothing was changed)"),
    ("{notes}/sub", ("is not a folder of this index (its folders: {notes}; nothing was changed): to leave out "
                     "part of a folder, give --exclude GLOB")),
    ("{notes}", ("would leave the index at {index} no folder (nothing was changed): give a folder to index in its "
                 "place, or delete {index}")),
])
def test_a_refused_remove_is_one_line_and_changes_nothing(index_with_notes, capsys, remove, words):
    notes, index = index_with_notes
    before = read_manifest(index)
    code, out, err = main_output(capsys, "index", "--remove", remove.format(notes=notes), "--index", index,
                                 "--no-server", "--quiet")
    assert (code, out) == (1, "")
    assert err.startswith("notesearch: ") and err.strip().endswith(words.format(notes=notes, index=index)), err
    assert len(err.splitlines()) == 1 and read_manifest(index) == before


def test_a_gone_folder_says_how_to_drop_it(index_with_notes, tmp_path, capsys):
    notes, index = index_with_notes
    notes.rename(tmp_path / "moved")
    code, _out, err = main_output(capsys, "index", "--index", index, "--no-server", "--quiet")
    assert code == 1
    assert err.strip().endswith(f"bring it back, or drop it from the index with 'notesearch index --remove {notes} "
                                f"--index {index}'")


def test_files_skipped_as_before_are_said_once(index_with_notes, capsys):
    notes, index = index_with_notes
    for _run in range(2):
        code, out, err = main_output(capsys, "index", "--index", index, "--no-server", "--quiet")
        assert code == 0 and out.startswith("no change")
        assert err.splitlines() == [SKIPPED_BEFORE]
    (notes / "worse.md").write_bytes(b"\x00\x02")
    code, _out, err = main_output(capsys, "index", "--index", index, "--no-server", "--quiet")
    assert err.splitlines() == [f"notesearch: skipped {notes / 'worse.md'}: binary file (NUL bytes)", SKIPPED_BEFORE]


def test_global_options_are_taken_before_the_command(index_with_notes, capsys):
    _notes, index = index_with_notes
    code, out, err = main_output(capsys, "--index", index, "--quiet", "stats")
    assert code == 0, err
    assert out.splitlines()[0] == f"index      {index}"
    code, out, _err = main_output(capsys, "--index", "/nowhere", "stats", "--index", index)
    assert code == 0 and out.splitlines()[0] == f"index      {index}"  # given again after the command: that one


def test_version_is_the_installed_packages(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exited:
        main_output(capsys, "--version")
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"notesearch {version('notesearch')}\n"


def test_the_console_script_answers_version():
    script = os.path.join(os.path.dirname(sys.executable), "notesearch")
    done = subprocess.run([script, "--version"], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("notesearch ")


def test_version_from_a_checkout_that_is_not_installed_is_its_pyprojects(monkeypatch):
    import importlib.metadata

    import cli_render

    installed = importlib.metadata.version("notesearch")  # read from pyproject.toml by the editable install

    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert cli_render.version_line() == \
        f"notesearch {installed} (from a checkout that is not installed; pip install -e .)"
