"""Where a passage is, as the tool prints it, back to the passage: the one resolution of PATH:LINE.

    passage = locate(index, "notes/trends.md:37")      # or :37-39 (a hit's span), :37:5 (vimgrep)

`get`, `related --passage`, the MCP tools and a program all come through here,
so a location that one of them accepts, every one accepts. A location is a
path and a line in any form the tool prints: `path:line` (`related`, `get`),
`path:first-last` (a search hit's span; its first line is taken) and
`path:line:column` (`search --format vimgrep`). A passage in a region of its
file (a notebook's cell `c5`, a PDF's page `p3`) has the region before its
line: `nb.ipynb:c5:3`, `paper.pdf:p3:12-14`, or `paper.pdf:p3` alone (the
region's first passage: a whole page). The path is read as a user
means it: relative to the asker's folder (`cwd`), `~` expanded, through
symbolic links, and it must name a note of the index (one whose name is not
UTF-8 may be given by its bytes or as the index shows it, `bad\\xff.md`).
Only notes inside the index's folders are resolved: any other path is refused
before anything is read (OutsideIndex). A note of the index is found by its
own name, any other path through symbolic links, against the folders as they
were when the index was built; reading the note then checks the file actually
opened (corpus.reading.open_inside), so a note swapped for a link out between
the two is refused. A location is bounded before any work (MAX_LOCATION).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from corpus.errors import BadArgument, NoPassage, OutsideIndex
from corpus.model import Passage
from corpus.paths import display_path, inside_any
from corpus.reading import resolved_roots
from corpus.text import CJK_TEXT_CHAR

if TYPE_CHECKING:
    from search.notes.index import NoteIndex

# What follows the path: a region (a notebook's cell, a PDF's page), then a line, a span of lines, or a line and
# a column (all from 1); a region or a line at least.
_TAIL = re.compile(r"(?::([cp][1-9][0-9]{0,6}))?(?::([1-9][0-9]{0,8})(?:-([1-9][0-9]{0,8})|:([1-9][0-9]{0,8}))?)?\s*$")
# The longest location read: a path of PATH_MAX and a line of nine digits (a hostile 600 KB one is refused at once).
MAX_LOCATION = 4096 + 1 + 9
WANTED = ("PATH:LINE (a note and a line from 1; PATH:FIRST-LAST and PATH:LINE:COLUMN as the tool prints them, "
          "PATH:REGION:LINE for a notebook's cell or a PDF's page: nb.ipynb:c5:3, paper.pdf:p3:12)")


@dataclass(frozen=True)
class Location:
    """A note as the asker names it (`path`, not yet resolved) and a line of it, from 1, in its `region` (a
    notebook's cell `c5`, a PDF's page `p3`; empty for a whole file). No line: the region's first passage."""

    path: str
    line: int | None
    region: str = ""


def parse_location(location: str) -> Location:
    """The path, region and line of `PATH[:REGION]:LINE`, `…:FIRST-LAST` (the first line), `…:LINE:COLUMN` or
    `PATH:REGION`; raises BadArgument for anything else (no path, no line or region, a line below 1, a span that
    ends before it begins)."""
    if not isinstance(location, str):
        raise BadArgument("location", location, WANTED)
    if len(location) > MAX_LOCATION:
        raise BadArgument("location", location, f"PATH:LINE of at most {MAX_LOCATION:,} characters")
    text = location.strip()
    found = _TAIL.search(text)
    region, line, last = found.group(1) or "", found.group(2), found.group(3)
    path = text[:found.start()]
    if not path or not (region or line) or (last and int(last) < int(line)):
        raise BadArgument("location", location, WANTED)
    return Location(path, int(line) if line else None, region)


def folders_of(index: NoteIndex) -> tuple[str, ...]:
    """The real paths of the index's folders as they were when it was built (older indexes: as they are now)."""
    return index.manifest.resolved_roots or resolved_roots(index.manifest.roots)


def resolve_note(index: NoteIndex, path: str, cwd: str | None = None) -> str:
    """The indexed note `path` names (relative to `cwd`, default the working folder), as the index stores it.

    A note of the index is found by its own name, any other path through
    symbolic links. Raises OutsideIndex for a path outside every indexed folder
    (as they were when the index was built), NoPassage for a file inside them
    that the index does not hold.
    """
    if len(path) > MAX_LOCATION:
        raise OutsideIndex(path)
    given = os.path.normpath(os.path.join(cwd or os.getcwd(), os.path.expanduser(path)))
    # Compared as the index names files: bytes of a name that are not UTF-8 written as `\\xff`.
    shown = display_path(given)
    if shown in index.manifest.files:
        return shown  # a note of the index by its own name (reading it checks the file actually opened)
    real = display_path(os.path.realpath(given))
    if not inside_any(real, map(display_path, folders_of(index))):
        raise OutsideIndex(path)
    stored = index.notes_by_real_path().get(real)
    if stored is None:
        raise NoPassage(path)
    return stored


def passage_at(index: NoteIndex, stored_path: str, line: int | None, region: str = "") -> Passage | None:
    """The indexed passage of `stored_path` (in `region`) whose lines hold `line`, or None; with no `line`, the
    region's first passage.

    A long paragraph is indexed in pieces: the pieces holding the line come back
    as one passage (their lines and their text, in order).
    """
    within = [passage for passage in index.passages_of(stored_path) if passage.region == region]
    if line is None and within:
        line = min(passage.line_start for passage in within)
    holding = [passage for passage in within if line is not None and passage.line_start <= line <= passage.line_end]
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


def locate(index: NoteIndex, location: str | Location, cwd: str | None = None) -> Passage:
    """The indexed passage at `location` (a PATH:LINE string in any form the tool prints, or a Location), its
    path relative to `cwd`.

    Raises BadArgument (not a location), OutsideIndex (not in the index's
    folders: nothing was read) or NoPassage (no note of the index, or no
    passage at that line).
    """
    where = location if isinstance(location, Location) else parse_location(location)
    passage = passage_at(index, resolve_note(index, where.path, cwd), where.line, where.region)
    if passage is None:
        raise NoPassage(where.path, where.line, region=where.region)
    return passage
