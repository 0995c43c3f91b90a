"""The one resolution of PATH:LINE: every form the tool prints, read back to the passage it names, for `get`,
`related --passage`, MCP and a program alike."""

from __future__ import annotations

import pytest
from conftest import BUNDLED_NOTES, line_of

from indexer import build
from search import BadArgument, Location, NoPassage, OutsideIndex, locate, open_index
from search.notes.locations import parse_location

TRENDS = BUNDLED_NOTES / "dl-research-trends-2022-2024.md"


@pytest.mark.parametrize("location, expected", [
    ("notes/garden.md:3", Location("notes/garden.md", 3)),
    ("C:/x.md:12", Location("C:/x.md", 12)),
    (" a b.md:1 ", Location("a b.md", 1)),
    ("notes/garden.md:3-5", Location("notes/garden.md", 3)),  # a search hit's span: its first line
    ("notes/garden.md:3-3", Location("notes/garden.md", 3)),
    ("notes/garden.md:7:12", Location("notes/garden.md", 7)),  # --format vimgrep: line and column
    ("a:b.md:4", Location("a:b.md", 4)),
])
def test_every_location_the_tool_prints_is_a_path_and_a_line(location, expected):
    assert parse_location(location) == expected


@pytest.mark.parametrize("location", ["garden.md", "garden.md:", ":3", "garden.md:0", "garden.md:-2", "garden.md:x",
                                      "garden.md:5-3", "garden.md:3-", "garden.md:3:0", 7])
def test_a_location_without_a_line_from_1_is_refused_in_one_line(location):
    with pytest.raises(BadArgument, match="PATH:LINE") as error:
        parse_location(location)
    assert error.value.name == "location" and "\n" not in str(error.value)


@pytest.fixture(scope="module")
def two_readmes(tmp_path_factory, embedder):
    """Two folders of one index, each with its own README.md; yields (root, open index)."""
    root = tmp_path_factory.mktemp("readmes")
    for name in ("alpha", "beta"):
        (root / name).mkdir()
        (root / name / "README.md").write_text(f"# {name}\n\nThe {name} folder holds {name} notes.\n",
                                               encoding="utf-8")
    build([str(root / "alpha"), str(root / "beta")], str(root / "index"), embedder=embedder)
    with open_index(str(root / "index"), embedder) as index:
        yield root, index


@pytest.mark.parametrize("folder", ["alpha", "beta"])
def test_a_relative_path_names_the_note_under_the_askers_folder_not_another_with_its_name(two_readmes, folder):
    root, index = two_readmes
    passage = locate(index, "README.md:3", cwd=str(root / folder))
    assert passage.path == str(root / folder / "README.md") and folder in passage.text


def test_each_printed_form_of_one_place_locates_the_same_passage(bundled_index):
    line = line_of(TRENDS, "另一大热点架构是")
    passage = locate(bundled_index, f"{TRENDS}:{line}")
    assert passage.line_start <= line <= passage.line_end
    for form in (f"{TRENDS}:{passage.line_start}-{passage.line_end}", f"{TRENDS}:{line}:1",
                 f"{TRENDS.name}:{line}", Location(str(TRENDS), line)):
        assert locate(bundled_index, form, cwd=str(BUNDLED_NOTES)) == passage, form


def test_a_place_outside_the_index_or_between_passages_is_a_typed_error(two_readmes, tmp_path):
    root, index = two_readmes
    with pytest.raises(OutsideIndex):
        locate(index, "README.md:3", cwd=str(tmp_path))
    with pytest.raises(NoPassage) as error:
        locate(index, "alpha/README.md:2", cwd=str(root))  # the blank line after the heading
    assert (error.value.path, error.value.line) == ("alpha/README.md", 2)
