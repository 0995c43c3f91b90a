"""Open what a search found: the passage at a note's line, with lines around it read from disk.

    found = excerpt(index, "corpus/notes/dl-research-trends-2022-2024.md", 37, context=2)
    found.passage.text          # the indexed passage that holds line 37
    found.lines                 # lines 35..39+ of the note as it is on disk now

The note is found as every location is (search/notes/locations.py): only notes
of the index are opened, and a path outside every indexed folder is refused
before anything is read (OutsideIndex), so a caller such as an MCP client
cannot use this to read other files.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpus.decoding import decode
from corpus.errors import NoPassage, whole_number
from corpus.model import Passage
from corpus.paths import source_path
from corpus.reading import NoteFile, read_bytes
from search.notes.locations import passage_at, resolve_note

if TYPE_CHECKING:
    from search.notes.index import NoteIndex

MAX_CONTEXT = 200  # lines on each side


@dataclass(frozen=True)
class Excerpt:
    """The passage holding `line` of a note, and lines `first`..`first + len(lines) - 1` of the note on disk.

    `changed` says the note on disk is no longer what was indexed (its lines may have moved).
    """

    passage: Passage
    line: int
    first: int
    lines: tuple[str, ...]
    changed: bool


def excerpt(index: NoteIndex, path: str, line: int, context: int = 3, cwd: str | None = None) -> Excerpt:
    """The passage holding `line` of the note `path`, with `context` lines before and after it, read from disk.

    The note is found as search.notes.locations resolves every location.
    Raises OutsideIndex, NoPassage (not a note of the index, no passage at that
    line, or the note can no longer be read) or BadArgument (a line below 1, a
    context outside 0..MAX_CONTEXT).
    """
    line = whole_number("line", line)
    context = whole_number("context", context, least=0, most=MAX_CONTEXT)
    stored = resolve_note(index, path, cwd)
    passage = passage_at(index, stored, line)
    if passage is None:
        raise NoPassage(path, line)
    try:
        data = read_bytes(NoteFile(stored, os.path.dirname(stored), source_path(stored)))
        text = decode(data).text
    except (OSError, ValueError) as error:
        raise NoPassage(path, line, unreadable=getattr(error, "strerror", None) or str(error)) from error
    all_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if all_lines[-1] == "":
        all_lines.pop()  # the end of the last line, not a line
    first = max(1, passage.line_start - context)
    last = min(len(all_lines), passage.line_end + context)
    changed = hashlib.sha256(data).hexdigest() != index.manifest.files[stored].sha256
    return Excerpt(passage, line, first, tuple(all_lines[first - 1:last]), changed)
