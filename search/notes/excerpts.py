"""Open what a search found: the passage at a note's line, with lines around it read from disk.

    found = excerpt(index, "corpus/notes/dl-research-trends-2022-2024.md", 37, context=2)
    found.passage.text          # the indexed passage that holds line 37
    found.lines                 # lines 35..39+ of the note as it is on disk now

A passage in a region of its file (a notebook's cell `c5`, a PDF's page `p3`)
is opened by its region and its line there (`excerpt(index, "mae.pdf", 12,
region="p3")`, the location `mae.pdf:p3:12`); the lines around it are those of
its region (a cell's lines, a page's text). The note is found as every location
is (search/notes/locations.py): only notes of the index are opened, and a path
outside every indexed folder is refused before anything is read (OutsideIndex),
so a caller such as an MCP client cannot use this to read other files. Reading
opens first and decides after: the file actually opened must lie under the
folders as they were when the index was built (corpus.reading.open_inside), so a
note swapped for a link out, or a folder replaced by a link since, is refused
rather than read.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpus.documents import region_lines
from corpus.errors import BadArgument, NoPassage, OutsideFolders, OutsideIndex, whole_number
from corpus.model import Passage
from corpus.paths import source_path
from corpus.reading import NoteFile, read_bytes
from search.notes.locations import folders_of, passage_at, resolve_note

if TYPE_CHECKING:
    from search.notes.index import NoteIndex

MAX_CONTEXT = 200  # lines on each side


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


def excerpt(index: NoteIndex, path: str, line: int | None, context: int = 3, cwd: str | None = None,
            region: str = "") -> Excerpt:
    """The passage holding `line` of the note `path` (of its `region`: a cell, a page; no `line`: the region's
    first passage), with `context` lines before and after it, read from disk.

    The note is found as search.notes.locations resolves every location.
    Raises OutsideIndex, NoPassage (not a note of the index, no passage at that
    line, or the note can no longer be read) or BadArgument (a line below 1, a
    context outside 0..MAX_CONTEXT).
    """
    if line is not None or not region:
        line = whole_number("line", line)
    if not isinstance(region, str):
        raise BadArgument("region", region, "a notebook's cell (c5) or a PDF's page (p3), or empty")
    context = whole_number("context", context, least=0, most=MAX_CONTEXT)
    stored = resolve_note(index, path, cwd)
    passage = passage_at(index, stored, line, region)
    if passage is None:
        raise NoPassage(path, line, region=region)
    try:
        data = read_bytes(NoteFile(stored, os.path.dirname(stored), source_path(stored)), folders_of(index))
        all_lines = region_lines(stored, data, region)
    except OutsideFolders as error:
        raise OutsideIndex(path) from error
    except (OSError, ValueError) as error:
        raise NoPassage(path, line, unreadable=getattr(error, "strerror", None) or str(error)) from error
    first = max(1, passage.line_start - context)
    last = min(len(all_lines), passage.line_end + context)
    changed = hashlib.sha256(data).hexdigest() != index.manifest.files[stored].sha256
    return Excerpt(passage, line or passage.line_start, first, tuple(all_lines[first - 1:last]), changed)
