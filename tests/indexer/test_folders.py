"""The folders of an index: a folder given to an index is added (never replaces the others), `remove` drops one,
and each folder's notes are counted."""

from __future__ import annotations

import os

import pytest
from conftest import counts

from corpus.errors import MissingFolder, NoNotes, UnknownFolder
from indexer import build
from indexer.builder import folders_after
from indexer.generations import read_manifest
from indexer.manifest import Folder
from search import open_index, search

NOTES = {"a.md": "# 扩散模型\n\n扩散模型通过逐步去噪生成图像。\n", "b.md": "# Transformer\n\nSelf-attention everywhere.\n"}
OTHER = {"g.md": "# Garden\n\nTomatoes need full sun.\n", "sub/h.md": "# 番茄\n\n番茄需要阳光。\n"}


@pytest.fixture
def two_folders(tmp_path):
    def write(root, files):
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        return root

    return write(tmp_path / "notes", NOTES), write(tmp_path / "other", OTHER)


def _files(index: str, embedder) -> set[str]:
    with open_index(index, embedder=embedder) as opened:
        return {os.path.basename(p.path) for p in opened.passages()}


def test_a_second_folder_given_to_an_index_keeps_the_first_folders_notes(two_folders, tmp_path, embedder):
    notes, other = two_folders
    index = str(tmp_path / "index")
    first = build([str(notes)], index, embedder=embedder)
    assert (first.folders, first.folders_added) == ((str(notes),), ())  # a new index adds to no index
    report = build([str(other)], index, embedder=embedder)
    assert counts(report) == (2, 0, 0, 2, 0) and report.removed == 0
    assert (report.folders, report.folders_added, report.folders_removed) == (
        (str(notes), str(other)), (str(other),), ())
    assert _files(index, embedder) == {"a.md", "b.md", "g.md", "h.md"}
    assert read_manifest(index).roots == (str(notes), str(other))
    again = build(None, index, embedder=embedder)  # both folders are the index's own now
    assert not again.changed and again.unchanged == 4 and again.folders_added == ()


def test_remove_drops_a_folder_and_only_its_notes(two_folders, tmp_path, embedder):
    notes, other = two_folders
    index = str(tmp_path / "index")
    build([str(notes), str(other)], index, embedder=embedder)
    report = build(None, index, remove=[str(other) + os.sep], embedder=embedder)  # a trailing slash is the folder
    assert counts(report) == (0, 0, 2, 2, 0)
    assert (report.folders, report.folders_removed) == ((str(notes),), (str(other),))
    assert _files(index, embedder) == {"a.md", "b.md"}
    with open_index(index, embedder=embedder) as opened:
        assert search(opened, "tomatoes", mode="keyword").hits == ()


def test_a_folder_that_is_gone_can_be_removed_and_blocks_nothing_else(two_folders, tmp_path, embedder):
    notes, other = two_folders
    index = str(tmp_path / "index")
    build([str(notes), str(other)], index, embedder=embedder)
    other.rename(tmp_path / "elsewhere")
    with pytest.raises(MissingFolder) as refused:  # its notes are not dropped by an update
        build(None, index, embedder=embedder)
    assert refused.value.recorded and refused.value.path == str(other)
    report = build(None, index, remove=[str(other)], embedder=embedder)
    assert report.removed == 2 and report.folders == (str(notes),)


def test_removing_what_is_not_a_folder_of_the_index_or_the_last_one_changes_nothing(two_folders, tmp_path, embedder):
    notes, other = two_folders
    index = str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    manifest = read_manifest(index)
    with pytest.raises(UnknownFolder) as unknown:
        build(None, index, remove=[str(other)], embedder=embedder)
    assert (unknown.value.path, unknown.value.roots) == (str(other), (str(notes),))
    with pytest.raises(NoNotes) as last:
        build(None, index, remove=[str(notes)], embedder=embedder)
    assert last.value.removed == (str(notes),)
    assert read_manifest(index) == manifest
    with pytest.raises(UnknownFolder):
        build(None, str(tmp_path / "new"), remove=[str(notes)], embedder=embedder)
    assert not (tmp_path / "new").exists()
    # Removing one folder and giving another in the same run replaces it.
    report = build([str(other)], index, remove=[str(notes)], embedder=embedder)
    assert counts(report) == (2, 0, 2, 0, 0) and report.folders == (str(other),)


def test_a_folder_without_notes_is_still_recorded(two_folders, tmp_path, embedder):
    # An added folder that holds no note yet changes no file, but it is the index's folder from now on.
    notes, _other = two_folders
    empty = tmp_path / "empty"
    empty.mkdir()
    index = str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    report = build([str(empty)], index, embedder=embedder)
    assert report.changed and report.folders_added == (str(empty),) and report.embedded == 0
    assert read_manifest(index).roots == (str(notes), str(empty))
    (empty / "new.md").write_text("Pumpkins grow in autumn.\n", encoding="utf-8")
    assert build(None, index, embedder=embedder).added == 1


def test_new_exclusions_are_recorded_even_when_they_match_nothing(two_folders, tmp_path, embedder):
    notes, _other = two_folders
    index = str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    build(None, index, exclude=["*_origin.md"], embedder=embedder)
    assert read_manifest(index).exclude == ("*_origin.md",)


@pytest.mark.parametrize("recorded, added, removed, after", [
    (("/n",), ("/o",), (), ("/n", "/o")),
    (("/n",), ("/n",), (), ("/n",)),
    (("/n",), ("/n/sub", "/n/a.md"), (), ("/n",)),  # already indexed: inside a folder of the index
    (("/n/sub", "/o"), ("/n",), (), ("/o", "/n")),  # a folder holding one of the index's takes its place
    (("/n", "/o"), (), ("/o/",), ("/n",)),
    (("/n", "/o"), ("/p",), ("/n",), ("/o", "/p")),
    (("/notes",), ("/notes-2",), (), ("/notes", "/notes-2")),  # a name that starts the same is not inside
])
def test_folders_after_adding_and_removing(recorded, added, removed, after):
    assert folders_after(recorded, added, removed) == after


def test_folders_count_their_files_and_passages(two_folders, tmp_path, embedder):
    notes, other = two_folders
    index = str(tmp_path / "index")
    build([str(notes), str(other / "g.md")], index, embedder=embedder)
    assert read_manifest(index).folders() == (Folder(str(notes), 2, 2), Folder(str(other / "g.md"), 1, 1))
