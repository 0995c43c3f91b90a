"""Open what a search found: the passage at a note's line, with lines around it read from disk.

    found = excerpt(index, "corpus/notes/dl-research-trends-2022-2024.md", 37, context=2)
    found.passage.text          # the indexed passage that holds line 37
    found.lines                 # lines 35..39+ of the note as it is on disk now
    anchor = locate(index, "notes/a.md:12", cwd)   # the one reading of PATH:LINE (get, related, MCP)

Only notes of the index are opened. A path is resolved once, the same way
for `get`, `related --passage` and the MCP tools: as given (relative to the
caller's folder), else through symbolic links; one outside every folder of
the index is refused before anything is read (OutsideIndex). Reading then
opens first and decides after: the file actually opened must lie under the
folders as they were when the index was built (corpus.reading.open_inside),
so a note swapped for a link out, or a folder replaced by a link since, is
refused rather than read. A location is bounded before any work.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from corpus.decoding import decode
from corpus.model import Passage
from corpus.reading import NoteFile, OutsideFolders, display_path, inside, read_bytes, resolved_roots, source_path
from corpus.text import CJK_TEXT_CHAR
from indexer.errors import NoPassage, OutsideIndex, echo

if TYPE_CHECKING:
    from search.notes.index import NoteIndex

MAX_CONTEXT = 200  # lines on each side
# PATH:LINE is refused past this many characters (a path is at most 4,096 bytes on Linux) and lines past
# this many digits, before any work: a 600 KB location must not hold the index for seconds.
MAX_LOCATION = 4096 + 1 + 9
MAX_LINE_DIGITS = 9


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


def parse_location(location: str) -> tuple[str, int]:
    """`PATH:LINE` → (PATH, LINE); raises ValueError with what was expected (quoting at most the start of it)."""
    if len(location) > MAX_LOCATION:
        raise ValueError(f"a location is PATH:LINE of at most {MAX_LOCATION:,} characters, not "
                         f"{len(location):,}: {echo(location)!r}")
    path, _sep, line = location.strip().rpartition(":")
    if not path or not (line.isascii() and line.isdigit()) or len(line) > MAX_LINE_DIGITS or int(line) < 1:
        raise ValueError(f"expected PATH:LINE (a note and a line number from 1), not {echo(location)!r}")
    return path, int(line)


def folders_of(index: NoteIndex) -> tuple[str, ...]:
    """The real paths of the index's folders as they were when it was built (older indexes: as they are now)."""
    return index.manifest.resolved_roots or resolved_roots(index.manifest.roots)


def resolve_note(index: NoteIndex, path: str, cwd: str | None = None) -> str:
    """The indexed note `path` names (relative to `cwd`), as the index stores it.

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
    if not inside(real, map(display_path, folders_of(index))):
        raise OutsideIndex(path)
    stored = index.notes_by_real_path().get(real)
    if stored is None:
        raise NoPassage(path)
    return stored


def locate(index: NoteIndex, location: str, cwd: str | None = None) -> Passage:
    """The indexed passage at `PATH:LINE`: the one reading of a location, for `get`, `related --passage` and the
    MCP tools. Raises ValueError (not PATH:LINE), OutsideIndex or NoPassage."""
    path, line = parse_location(location)
    passage = passage_at(index, resolve_note(index, path, cwd), line)
    if passage is None:
        raise NoPassage(path, line)
    return passage


def passage_at(index: NoteIndex, stored_path: str, line: int) -> Passage | None:
    """The indexed passage of `stored_path` whose lines hold `line`, or None.

    A long paragraph is indexed in pieces: the pieces holding the line come back
    as one passage (their lines and their text, in order).
    """
    holding = [passage for passage in index.passages_of(stored_path) if passage.line_start <= line <= passage.line_end]
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


def excerpt(index: NoteIndex, path: str, line: int, context: int = 3, cwd: str | None = None) -> Excerpt:
    """The passage holding `line` of the note `path`, with `context` lines before and after it, read from disk.

    Raises OutsideIndex (also when the file opened lies outside the folders as
    indexed: a note or folder replaced by a link out), NoPassage (not a note of
    the index, no passage at that line, or the note can no longer be read) or
    ValueError (a bad line or context).
    """
    if line < 1:
        raise ValueError(f"line numbers start at 1, not {line}")
    if not 0 <= context <= MAX_CONTEXT:
        raise ValueError(f"context must be 0 to {MAX_CONTEXT} lines, not {context}")
    stored = resolve_note(index, path, cwd)
    passage = passage_at(index, stored, line)
    if passage is None:
        raise NoPassage(path, line)
    try:
        data = read_bytes(NoteFile(stored, os.path.dirname(stored), source_path(stored)), folders_of(index))
        text = decode(data).text
    except OutsideFolders as error:
        raise OutsideIndex(path) from error
    except (OSError, ValueError) as error:
        raise NoPassage(path, line, unreadable=getattr(error, "strerror", None) or str(error)) from error
    all_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if all_lines[-1] == "":
        all_lines.pop()  # the end of the last line, not a line
    first = max(1, passage.line_start - context)
    last = min(len(all_lines), passage.line_end + context)
    changed = hashlib.sha256(data).hexdigest() != index.manifest.files[stored].sha256
    return Excerpt(passage, line, first, tuple(all_lines[first - 1:last]), changed)
