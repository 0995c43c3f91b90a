"""A whole note of the index, read from disk: what the page shows beside a hit.

    note = read_note(index, "corpus/notes/dl-research-trends-2022-2024.md")
    note.lines      # every line of the note as it is on disk now
    note.changed    # True when the note is no longer what was indexed (its lines may have moved)

Only notes of the index are read, resolved as `get` resolves them
(search/notes/excerpts.py resolve_note): a path outside every indexed folder is
refused before anything is read (OutsideIndex), a file inside them that the
index does not hold too (NoPassage). A notebook or a PDF is read one region at
a time (a cell `c5`, a page `p3`), as its passages number their lines.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpus.documents import region_lines
from corpus.errors import BadArgument, NoPassage, OutsideFolders, OutsideIndex
from corpus.paths import source_path
from corpus.reading import NoteFile, read_bytes
from search.notes.locations import folders_of, resolve_note

if TYPE_CHECKING:
    from search.notes.index import NoteIndex


@dataclass(frozen=True)
class NoteText:
    """The lines of a note of the index (of its `region`, for a notebook or a PDF) as on disk now; `path` as the
    index stores it; `changed` says the file is no longer what was indexed."""

    path: str
    region: str
    lines: tuple[str, ...]
    changed: bool


def read_note(index: NoteIndex, path: str, cwd: str | None = None, region: str = "") -> NoteText:
    """The note `path` (relative to `cwd`) of the index, every line of it (of its `region`).

    Raises OutsideIndex, NoPassage (not a note of the index, or it can no
    longer be read) or BadArgument (a region the file does not have).
    """
    if not isinstance(region, str):
        raise BadArgument("region", region, "a notebook's cell (c5) or a PDF's page (p3), or empty")
    stored = resolve_note(index, path, cwd)
    try:
        data = read_bytes(NoteFile(stored, os.path.dirname(stored), source_path(stored)), folders_of(index))
    except OutsideFolders as error:
        raise OutsideIndex(path) from error
    except (OSError, ValueError) as error:
        raise NoPassage(path, unreadable=getattr(error, "strerror", None) or str(error)) from error
    try:
        lines = region_lines(stored, data, region)
    except ValueError as error:
        raise BadArgument("region", region, "a cell or a page this file has") from error
    changed = hashlib.sha256(data).hexdigest() != index.manifest.files[stored].sha256
    return NoteText(stored, region, tuple(lines), changed)
