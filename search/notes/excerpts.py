"""Open what a search found: the passage at a note's line, with lines around it read from disk.

    found = excerpt(index, "corpus/notes/dl-research-trends-2022-2024.md", 37, context=2)
    found.passage.text          # the indexed passage that holds line 37
    found.lines                 # lines 35..39+ of the note as it is on disk now

A passage in a region of its file (a notebook's cell `c5`, a PDF's page `p3`)
is opened by its region and its line there (`excerpt(index, "mae.pdf", 12,
region="p3")`, the location `mae.pdf:p3:12`); the lines around it are those of
its region (a cell's lines, a page's text). Only notes of the index are opened:
a path outside every indexed folder is refused before anything is read
(OutsideIndex), so a caller such as an MCP client cannot use this to read other
files. Paths are resolved through symbolic links before that check.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from corpus.documents import region_lines
from corpus.model import Passage
from corpus.reading import NoteFile, display_path, read_bytes, source_path
from corpus.text import CJK_TEXT_CHAR
from indexer.errors import NoPassage, OutsideIndex

if TYPE_CHECKING:
    from search.notes.index import NoteIndex

MAX_CONTEXT = 200  # lines on each side
# A region of a file: a notebook's cell (`c5`) or a PDF's page (`p3`), counted from 1.
_REGION = re.compile(r"^[cp][1-9]\d{0,6}$")


@dataclass(frozen=True)
class Excerpt:
    """The passage holding `line` of a note, and lines `first`..`first + len(lines) - 1` of the note on disk (of
    the passage's region, when it has one).

    `changed` says the note on disk is no longer what was indexed (its lines may have moved).
    """

    passage: Passage
    line: int
    first: int
    lines: tuple[str, ...]
    changed: bool


@dataclass(frozen=True)
class Location:
    """Where a passage is, as a hit shows it: `path:line`, `path:region:line`, or `path:region` (the region's
    first passage: a whole page)."""

    path: str
    region: str
    line: int | None


def parse_location(location: str) -> Location:
    """`PATH:LINE`, `PATH:REGION:LINE` (`paper.pdf:p3:12`, `nb.ipynb:c5:3`) or `PATH:REGION` (`paper.pdf:p3`);
    raises ValueError with what was expected."""
    head, _sep, last = location.strip().rpartition(":")
    if head and last.isdigit() and int(last) >= 1:
        path, _sep, region = head.rpartition(":")
        if path and _REGION.match(region):
            return Location(path, region, int(last))
        return Location(head, "", int(last))
    if head and _REGION.match(last):
        return Location(head, last, None)
    raise ValueError(f"expected PATH:LINE (a note and a line number from 1), or PATH:REGION:LINE for a notebook's "
                     f"cell or a PDF's page (nb.ipynb:c5:3, paper.pdf:p3:12), not {location!r}")


def resolve_note(index: NoteIndex, path: str, cwd: str | None = None) -> str:
    """The indexed note `path` names (relative to `cwd`), as the index stores it.

    Raises OutsideIndex for a path outside every indexed folder (symbolic links
    resolved), NoPassage for a file inside them that the index does not hold.
    """
    given = os.path.join(cwd or os.getcwd(), os.path.expanduser(path))
    # Compared as the index names files: bytes of a name that are not UTF-8 written as `\\xff`.
    real = display_path(os.path.realpath(given))
    roots = [display_path(os.path.realpath(root)) for root in index.manifest.roots]
    if not any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots):
        raise OutsideIndex(path)
    by_real = {display_path(os.path.realpath(source_path(stored))): stored for stored in index.manifest.files}
    if real not in by_real:
        raise NoPassage(path)
    return by_real[real]


def passage_at(index: NoteIndex, stored_path: str, line: int | None, region: str = "") -> Passage | None:
    """The indexed passage of `stored_path` (in `region`) whose lines hold `line`, or None; with no `line`, the
    region's first passage.

    A long paragraph is indexed in pieces: the pieces holding the line come back
    as one passage (their lines and their text, in order).
    """
    inside = [passage for passage in index.passages_of(stored_path) if passage.region == region]
    if line is None and inside:
        line = min(p.line_start for p in inside)
    holding = [p for p in inside if line is not None and p.line_start <= line <= p.line_end]
    if not holding:
        return None
    holding.sort(key=lambda p: p.piece)
    text = holding[0].text
    for piece in holding[1:]:
        # As corpus/markdown.py joins lines: nothing between Chinese text, else a space.
        text += ("" if CJK_TEXT_CHAR.match(text[-1:]) and CJK_TEXT_CHAR.match(piece.text[:1]) else " ") + piece.text
    return replace(holding[0], line_start=min(p.line_start for p in holding),
                   line_end=max(p.line_end for p in holding), text=text, piece=0,
                   links=tuple(dict.fromkeys(link for p in holding for link in p.links)))


def excerpt(index: NoteIndex, path: str, line: int | None, context: int = 3, cwd: str | None = None,
            region: str = "") -> Excerpt:
    """The passage holding `line` of the note `path` (of its `region`: a cell, a page; no `line`: the region's
    first passage), with `context` lines before and after it, read from disk.

    Raises OutsideIndex, NoPassage (not a note of the index, no passage at that
    line, or the note can no longer be read) or ValueError (a bad line or context).
    """
    if line is not None and line < 1:
        raise ValueError(f"line numbers start at 1, not {line}")
    if line is None and not region:
        raise ValueError("give a line, or a region (a cell, a page) to open")
    if not 0 <= context <= MAX_CONTEXT:
        raise ValueError(f"context must be 0 to {MAX_CONTEXT} lines, not {context}")
    stored = resolve_note(index, path, cwd)
    passage = passage_at(index, stored, line, region)
    if passage is None:
        raise NoPassage(path, line, region=region)
    try:
        data = read_bytes(NoteFile(stored, os.path.dirname(stored), source_path(stored)))
        all_lines = region_lines(stored, data, region)
    except (OSError, ValueError) as error:
        raise NoPassage(path, line, unreadable=getattr(error, "strerror", None) or str(error)) from error
    first = max(1, passage.line_start - context)
    last = min(len(all_lines), passage.line_end + context)
    changed = hashlib.sha256(data).hexdigest() != index.manifest.files[stored].sha256
    return Excerpt(passage, line or passage.line_start, first, tuple(all_lines[first - 1:last]), changed)
