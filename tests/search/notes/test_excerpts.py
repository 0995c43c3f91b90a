"""`get`: the passage at a line of a note, with lines around it read from disk, and only notes of the index."""

from __future__ import annotations

import os

import pytest
from conftest import BUNDLED_NOTES, line_of

from indexer import build
from search import BadArgument, NoPassage, OutsideIndex, excerpt, open_index
from search.notes.locations import parse_location

TRENDS = BUNDLED_NOTES / "dl-research-trends-2022-2024.md"
MAE_LINE = line_of(TRENDS, "两大范式在这段时间都有所发展")

# Three sections: short passages of one section would be joined into one answer.
GARDEN = "# Garden\n\nTomatoes need\nfull sun.\n\n## Care\n- water daily\n- mulch in May\n\n## End\nLast line.\n"


def make_garden(root, embedder):
    """A notes folder holding garden.md and an excluded draft, indexed; yields (folder, open index)."""
    folder = root / "notes"
    folder.mkdir()
    (folder / "garden.md").write_text(GARDEN, encoding="utf-8")
    (folder / "draft.md").write_text("# Draft\n\nNot indexed.\n", encoding="utf-8")
    directory = str(root / "index")
    build([str(folder)], directory, embedder=embedder, exclude=["draft.md"])
    with open_index(directory, embedder) as index:
        yield folder, index


@pytest.fixture(scope="module")
def garden(tmp_path_factory, embedder):
    """Read only: tests that change the notes use `fresh_garden`."""
    yield from make_garden(tmp_path_factory.mktemp("garden"), embedder)


@pytest.fixture
def fresh_garden(tmp_path, embedder):
    yield from make_garden(tmp_path, embedder)


@pytest.mark.parametrize("location, expected", [
    ("notes/garden.md:3", ("notes/garden.md", "", 3)),
    ("C:/x.md:12", ("C:/x.md", "", 12)),
    (" a b.md:1 ", ("a b.md", "", 1)),
    ("papers/mae.pdf:p3:12", ("papers/mae.pdf", "p3", 12)),
    ("nb.ipynb:c5:3", ("nb.ipynb", "c5", 3)),
    ("papers/mae.pdf:p3", ("papers/mae.pdf", "p3", None)),
    ("C:/mae.pdf:p12:4", ("C:/mae.pdf", "p12", 4)),
    ("notes/p3:4", ("notes/p3", "", 4)),  # a file named like a region, with one colon: a path and a line
])
def test_a_location_is_a_path_a_region_and_a_line(location, expected):
    found = parse_location(location)
    assert (found.path, found.region, found.line) == expected


@pytest.mark.parametrize("location", ["garden.md", "garden.md:", ":3", "garden.md:0", "garden.md:-2", "garden.md:x",
                                      "mae.pdf:q3", ":p3"])
def test_a_location_without_a_line_from_1_is_refused(location):
    with pytest.raises(ValueError, match="PATH:LINE"):
        parse_location(location)


@pytest.mark.parametrize("line, first, lines", [
    (3, 1, ("# Garden", "", "Tomatoes need", "full sun.", "", "## Care")),
    (4, 1, ("# Garden", "", "Tomatoes need", "full sun.", "", "## Care")),
    (8, 5, ("", "## Care", "- water daily", "- mulch in May", "", "## End")),  # the two items are one answer
    (11, 9, ("", "## End", "Last line.")),
])
def test_the_passage_holding_a_line_comes_with_its_surroundings_from_disk(garden, line, first, lines):
    folder, index = garden
    found = excerpt(index, str(folder / "garden.md"), line, context=2)
    assert found.passage.line_start <= line <= found.passage.line_end
    assert found.first == first and found.lines == lines
    assert not found.changed


def test_a_path_relative_to_the_callers_folder_names_the_same_note(garden):
    folder, index = garden
    absolute = excerpt(index, str(folder / "garden.md"), 3, context=0)
    relative = excerpt(index, "notes/garden.md", 3, context=0, cwd=str(folder.parent))
    assert absolute == relative
    assert relative.passage.text == "Tomatoes need full sun." and relative.lines == ("Tomatoes need", "full sun.")


def test_the_pieces_of_a_long_paragraph_come_back_as_one_passage(bundled_index):
    found = excerpt(bundled_index, str(TRENDS), MAE_LINE, context=0)
    line = TRENDS.read_text(encoding="utf-8").split("\n")[MAE_LINE - 1]
    assert found.lines == (line,)
    assert found.passage.text.startswith("对比学习和生成式自监督两大范式")
    assert found.passage.text.endswith("实现了数据高效的表征学习zeta-alpha.com。")  # the last piece, joined


@pytest.mark.parametrize("path", ["/etc/passwd", "../../../../../../etc/passwd", "notes/../outside.md",
                                  "notes/link.md"])
def test_a_path_outside_the_indexed_folders_is_refused_with_the_path(fresh_garden, tmp_path, path):
    folder, index = fresh_garden
    (tmp_path / "outside.md").write_text("# Secret\n\nDo not show.\n", encoding="utf-8")
    os.symlink(tmp_path / "outside.md", folder / "link.md")
    with pytest.raises(OutsideIndex) as error:
        excerpt(index, path, 1, cwd=str(tmp_path))
    assert error.value.path == path and path in str(error.value)


@pytest.mark.parametrize("name, line, says", [
    ("draft.md", 3, "not a note of the index"),  # excluded
    ("new.md", 1, "not a note of the index"),  # not indexed yet
    ("garden.md", 2, "no passage of the index holds"),  # a blank line
    ("garden.md", 1, "no passage of the index holds"),  # the heading
    ("garden.md", 99, "no passage of the index holds"),
])
def test_a_line_no_passage_holds_is_a_clear_error(garden, name, line, says):
    folder, index = garden
    (folder / "new.md").write_text("New.\n", encoding="utf-8")  # on disk, not in the index
    with pytest.raises(NoPassage, match=says) as error:
        excerpt(index, str(folder / name), line)
    assert error.value.path == str(folder / name)


def test_a_note_changed_since_indexing_is_read_as_it_is_now_and_says_so(fresh_garden):
    folder, index = fresh_garden
    (folder / "garden.md").write_text(GARDEN.replace("full sun.", "full sun, and shade at noon."), encoding="utf-8")
    found = excerpt(index, str(folder / "garden.md"), 3, context=0)
    assert found.changed and found.lines == ("Tomatoes need", "full sun, and shade at noon.")


def test_a_deleted_note_is_a_clear_error(fresh_garden):
    folder, index = fresh_garden
    (folder / "garden.md").unlink()
    with pytest.raises(NoPassage, match="cannot read"):
        excerpt(index, str(folder / "garden.md"), 3)


@pytest.mark.parametrize("line, context, name", [(0, 3, "line"), (3, -1, "context"), (3, 10_000, "context"),
                                                 (2.5, 3, "line")])
def test_a_bad_line_or_context_is_refused_before_the_note_is_looked_up(garden, line, context, name):
    folder, index = garden
    with pytest.raises(BadArgument) as error:
        excerpt(index, str(folder / "nowhere.md"), line, context=context)
    assert error.value.name == name and "\n" not in str(error.value)
    with pytest.raises(ValueError):
        excerpt(index, str(folder / "garden.md"), line, context=context)


SECRET = "# Secret\n\nsecret line of another folder\n"


def test_a_note_swapped_for_a_link_out_after_the_check_is_not_read(fresh_garden, tmp_path, monkeypatch):
    # The race of git checkout or a sync tool: the note is checked, then swapped for a link before it is opened.
    from search.notes import excerpts

    folder, index = fresh_garden
    (tmp_path / "secret.md").write_text(SECRET * 4, encoding="utf-8")
    checked = excerpts.passage_at

    def swap_after_the_check(*args):
        found = checked(*args)
        (folder / "garden.md").unlink()
        os.symlink(tmp_path / "secret.md", folder / "garden.md")
        return found

    monkeypatch.setattr(excerpts, "passage_at", swap_after_the_check)
    with pytest.raises(OutsideIndex):
        excerpt(index, str(folder / "garden.md"), 3)


def test_a_folder_replaced_by_a_link_since_indexing_widens_nothing(fresh_garden, tmp_path):
    folder, index = fresh_garden
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "garden.md").write_text(SECRET * 4, encoding="utf-8")
    (elsewhere / "other.md").write_text(SECRET, encoding="utf-8")
    os.rename(folder, tmp_path / "moved")
    os.symlink(elsewhere, folder)
    for name in ("garden.md", "other.md"):
        with pytest.raises(OutsideIndex):
            excerpt(index, str(folder / name), 3)


def test_a_relative_path_names_the_note_under_the_callers_folder_not_any_note_of_that_name(tmp_path, embedder):
    from search import locate

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "README.md").write_text(f"# {name}\n\nThe notes of folder {name} are here.\n",
                                                   encoding="utf-8")
    index_dir = str(tmp_path / "index")
    build([str(tmp_path / "a"), str(tmp_path / "b")], index_dir, embedder=embedder)
    with open_index(index_dir, embedder) as index:
        for name in ("b", "a"):
            assert locate(index, "README.md:3", cwd=str(tmp_path / name)).path == str(tmp_path / name / "README.md")
        with pytest.raises(OutsideIndex):
            locate(index, "README.md:3", cwd=str(tmp_path))


@pytest.mark.parametrize("location", ["note.md:²", "note.md:١٢", "note.md:1234567890123", "note.md:３"])
def test_a_line_that_is_not_ascii_digits_or_too_long_is_refused(location):
    with pytest.raises(ValueError, match="PATH:LINE"):
        parse_location(location)


def test_a_huge_location_is_refused_at_once_quoting_only_its_start():
    import time

    location = "a/" * 300_000 + "x.md:1"
    started = time.perf_counter()
    with pytest.raises(ValueError) as refused:
        parse_location(location)
    assert time.perf_counter() - started < 0.1
    assert len(str(refused.value)) < 400 and "of at most 4,106 characters" in str(refused.value)
