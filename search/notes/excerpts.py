"""Open what a search found: the passage at a note's line, with lines around it read from disk.

    found = excerpt(index, "corpus/notes/dl-research-trends-2022-2024.md", 37, context=2)
    found.passage.text          # the indexed passage that holds line 37
    found.lines                 # lines 35..39+ of the note as it is on disk now

Only notes of the index are opened: a path outside every indexed folder is
refused before anything is read (OutsideIndex), so a caller such as an MCP
client cannot use this to read other files. Paths are resolved through
symbolic links before that check.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from corpus.decoding import decode
from corpus.model import Passage
from corpus.reading import NoteFile, display_path, read_bytes, source_path
from corpus.text import CJK_TEXT_CHAR
from indexer.errors import NoPassage, OutsideIndex

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


def parse_location(location: str) -> tuple[str, int]:
    """`PATH:LINE` → (PATH, LINE); raises ValueError with what was expected."""
    path, _sep, line = location.strip().rpartition(":")
    if not path or not line.isdigit() or int(line) < 1:
        raise ValueError(f"expected PATH:LINE (a note and a line number from 1), not {location!r}")
    return path, int(line)


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

    Raises OutsideIndex, NoPassage (not a note of the index, no passage at that
    line, or the note can no longer be read) or ValueError (a bad line or context).
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
