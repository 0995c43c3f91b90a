"""The library guards itself: a bad argument to search, related, more_like or build is a typed error the facade
exports, with a one-line message, raised before any work (the CLI's own checks are not needed for it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import BUNDLED_NOTES, counts

import indexer
import search
from search import BadArgument, MissingFolder, NotesearchError, more_like, related


def one_line(error: BaseException) -> bool:
    return bool(str(error)) and "\n" not in str(error)


@pytest.mark.parametrize("arguments, name", [
    ({"k": 0}, "k"), ({"k": -1}, "k"), ({"k": 2.5}, "k"), ({"k": "3"}, "k"), ({"k": True}, "k"),
    ({"mode": "bogus"}, "mode"), ({"mode": None}, "mode"), ({"mode": ["keyword"]}, "mode"),
])
def test_search_refuses_a_bad_k_or_mode(bundled_index, arguments, name):
    with pytest.raises(BadArgument) as error:
        search.search(bundled_index, "x", **arguments)
    assert error.value.name == name and one_line(error.value)
    assert isinstance(error.value, NotesearchError) and isinstance(error.value, ValueError)


def test_search_takes_a_numpy_count_and_refuses_a_query_that_is_not_text(bundled_index):
    import numpy as np

    assert len(search.search(bundled_index, "自监督", mode="keyword", k=np.int64(2)).hits) == 2
    with pytest.raises(BadArgument, match="query must be a str, not b'x'"):
        search.search(bundled_index, b"x")


@pytest.mark.parametrize("k", [0, -1, 1.5])
def test_related_and_more_like_refuse_a_k_below_1(bundled_index, k):
    with pytest.raises(BadArgument, match=r"^k must be a whole number from 1, not ") as error:
        related(bundled_index, "x", k=k)
    assert one_line(error.value)
    with pytest.raises(BadArgument, match=r"^k must be a whole number from 1"):
        more_like(bundled_index, bundled_index.passages()[0], k=k)


def test_more_like_wants_a_passage_and_related_a_name(bundled_index):
    with pytest.raises(BadArgument, match="anchor must be a Passage"):
        more_like(bundled_index, "corpus/notes/x.md:3")
    with pytest.raises(BadArgument, match="paper must be a str"):
        related(bundled_index, ["Attention is All You Need"])


def test_one_path_given_alone_is_that_folder_never_its_characters(notes_dir, tmp_path, embedder):
    # A str and a pathlib.Path name one folder, as a list of one does.
    root = notes_dir({"a.md": "# A\n\nOne note.\n", "b.md": "# B\n\nAnother note.\n"})
    for n, given in enumerate([str(root), root]):
        report = indexer.build(given, tmp_path / f"index{n}", embedder=embedder)
        assert report.folders == (str(root),) and counts(report)[0] == 2


def test_a_path_that_is_missing_or_of_the_wrong_kind_is_refused_before_anything_is_written(tmp_path):
    directory = tmp_path / "index"
    with pytest.raises(MissingFolder) as missing:
        indexer.build("~/no-such-notes-folder", directory)
    assert missing.value.path == "~/no-such-notes-folder" and one_line(missing.value)
    for paths, exclude, wanted in [([1], None, "paths"), (b"notes", None, "paths"), (7, None, "paths"),
                                   ([str(BUNDLED_NOTES)], [3], "exclude")]:
        with pytest.raises(BadArgument) as error:
            indexer.build(paths, directory, exclude=exclude)
        assert error.value.name == wanted and one_line(error.value)
    with pytest.raises(BadArgument, match="directory must be a path"):
        indexer.build([str(BUNDLED_NOTES)], 3)
    assert not directory.exists()


def test_one_exclude_glob_given_alone_is_that_glob(notes_dir, tmp_path, embedder):
    root = notes_dir({"keep.md": "# Keep\n\nKept.\n", "draft.md": "# Draft\n\nLeft out.\n"})
    report = indexer.build(Path(root), os.fspath(tmp_path / "index"), exclude="draft*", embedder=embedder)
    assert counts(report)[0] == 1
