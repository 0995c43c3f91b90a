"""Watching an index's folders: which changes count, and a burst of them makes one call."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from watchfiles import Change

from indexer import build
from indexer.generations import read_manifest
from search.serve import watch
from search.serve.watch import NoteChanges, watch_notes


@pytest.fixture
def indexed(notes_dir, embedder) -> tuple[Path, str]:
    """A notes folder (with the index folder inside it) indexed with an exclusion; (folder, index)."""
    folder = notes_dir({"a.md": "# A\n\nApples.\n", "sub/b.md": "# B\n\nBananas.\n",
                        "drafts/c.md": "# C\n\nCherries.\n", "other/notes.py": "print(1)\n"})
    directory = str(folder / "index")
    build([str(folder)], directory, embedder=embedder, exclude=["drafts/*", "*_origin.md"])
    return folder, directory


@pytest.mark.parametrize("change, name, counts", [
    (Change.added, "new.md", True),
    (Change.modified, "a.md", True),
    (Change.deleted, "a.md", True),
    (Change.added, "sub/deeper/x.markdown", True),
    (Change.added, "X.TXT", True),
    (Change.added, ".hidden-note.md", True),  # hidden files are notes too (only hidden folders are skipped)
    (Change.added, "a.md.swp", False),
    (Change.added, ".a.md.swp", False),
    (Change.added, ".a.md.swx", False),
    (Change.added, "a.md~", False),
    (Change.added, ".#a.md", False),
    (Change.added, "#a.md#", False),
    (Change.added, "4913", False),
    (Change.deleted, "4913", False),
    (Change.added, "a.md.tmp", False),
    (Change.added, "a.md___jb_tmp___", False),
    (Change.added, "notes.py", False),
    (Change.added, "paper.pdf", True),  # every kind an index run reads
    (Change.modified, "sub/nb.ipynb", True),
    (Change.added, "todo.ORG", True),
    (Change.added, "report.docx", False),
    (Change.added, "figure.png", False),
    (Change.modified, "index/manifest.json", False),
    (Change.added, "index/gen-000002/x.md", False),
    (Change.added, ".git/x.md", False),
    (Change.added, "sub/.obsidian/x.md", False),
    (Change.modified, "drafts/c.md", False),
    (Change.added, "paper_origin.md", False),
    (Change.deleted, "sub", True),  # a folder of indexed notes deleted or moved away
    (Change.deleted, "other", False),  # a folder that held no note of the index
    (Change.modified, "sub", False),
])
def test_only_changes_an_index_run_would_see_count(indexed, change, name, counts):
    folder, directory = indexed
    notes = NoteChanges(read_manifest(directory), directory)
    path = folder / name
    if change == Change.deleted and path.exists():
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert notes(change, str(path)) is counts


def test_a_folder_moved_in_counts_when_it_holds_notes(indexed, tmp_path):
    folder, directory = indexed
    notes = NoteChanges(read_manifest(directory), directory)
    (folder / "empty").mkdir()
    (folder / "full" / "deep").mkdir(parents=True)
    (folder / "full" / "deep" / "n.md").write_text("x", encoding="utf-8")
    assert notes(Change.added, str(folder / "full")) is True
    assert notes(Change.added, str(folder / "empty")) is False
    assert notes(Change.added, str(tmp_path / "elsewhere.md")) is False


@contextmanager
def watching(directory: str, run_seconds: float = 0.0, **options) -> Iterator[list[float]]:
    """watch_notes in a thread; yields the times of its calls (each call lasts `run_seconds`)."""
    calls: list[float] = []
    stop = threading.Event()

    def changed() -> None:
        calls.append(time.monotonic())
        time.sleep(run_seconds)

    thread = threading.Thread(target=watch_notes, args=(directory, changed, stop),
                              kwargs={"quiet": 0.3, "longest": 3.0, **options}, daemon=True)
    thread.start()
    time.sleep(0.5)  # the watcher is set up
    try:
        yield calls
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive(), "watch_notes did not stop"


def wait_for(calls: list[float], count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while len(calls) < count and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("polling", [False, True], ids=["events", "polling"])
def test_a_burst_of_saves_makes_one_call_and_editor_files_none(indexed, polling):
    folder, directory = indexed
    # Polling sees changes every 300 ms (watchfiles' poll_delay_ms): a quiet period of 0.3 s would end a
    # burst whenever a poll comes late, as it does on a busy machine.
    with watching(directory, force_polling=polling, quiet=0.8 if polling else 0.3) as calls:
        for name in (".#a.md", "a.md.swp", "a.md~", "4913", "index/junk.md", "drafts/d.md", "x.py"):
            (folder / name).write_text("editor", encoding="utf-8")
        (folder / "4913").unlink()
        time.sleep(2.0)
        assert calls == []  # nothing an index run would see
        for n in range(10):  # a burst: ten saves 0.1 s apart
            (folder / "a.md").write_text(f"# A\n\nApples, take {n}.\n", encoding="utf-8")
            time.sleep(0.1)
        wait_for(calls, 1)
        time.sleep(1.5)
        assert len(calls) == 1


@pytest.mark.slow
def test_changes_during_a_call_make_the_next_call(indexed):
    folder, directory = indexed
    with watching(directory, run_seconds=1.5) as calls:
        (folder / "a.md").write_text("# A\n\nApples, changed.\n", encoding="utf-8")
        wait_for(calls, 1)
        time.sleep(0.3)
        os.rename(folder / "sub" / "b.md", folder / "sub" / "renamed.md")  # while the first call runs
        wait_for(calls, 2)
        assert len(calls) == 2 and calls[1] - calls[0] >= 1.5


@pytest.mark.slow
def test_a_folder_added_to_the_index_is_watched_too(indexed, tmp_path, embedder, monkeypatch):
    monkeypatch.setattr(watch, "RECHECK", 1.0)
    folder, directory = indexed
    second = tmp_path / "second"
    second.mkdir()
    (second / "first.md").write_text("# First\n\nFirst note.\n", encoding="utf-8")
    with watching(directory) as calls:
        build([str(folder), str(second)], directory, embedder=embedder)  # as `index PATH` would
        time.sleep(2.5)  # the watcher looks at the manifest every RECHECK seconds
        (second / "new.md").write_text("# New\n\nNew note.\n", encoding="utf-8")
        wait_for(calls, 1)
        assert len(calls) == 1


@pytest.mark.slow
def test_a_folder_deleted_and_made_again_is_watched_again(tmp_path, embedder):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nApples.\n", encoding="utf-8")
    directory = str(tmp_path / "index")
    build([str(folder)], directory, embedder=embedder)
    with watching(directory) as calls:
        shutil.rmtree(folder)
        time.sleep(1.5)
        folder.mkdir()
        (folder / "a.md").write_text("# A\n\nApples again.\n", encoding="utf-8")
        time.sleep(3.0)  # the folder is watched again, and looked at once
        settled = len(calls)
        assert settled >= 1
        (folder / "b.md").write_text("# B\n\nBananas.\n", encoding="utf-8")  # an edit in the folder made again
        wait_for(calls, settled + 1)
        assert len(calls) == settled + 1


@pytest.mark.slow
def test_a_catch_up_runs_once_at_the_start(indexed):
    _folder, directory = indexed
    with watching(directory, catch_up=True) as calls:
        wait_for(calls, 1)
        time.sleep(1.5)
        assert len(calls) == 1
