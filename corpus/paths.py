"""How notesearch names a note file: as valid Unicode and back, and whether it lies in a folder.

Standard library only: the command line's rendering and the search stage use
these as the indexer does, without loading the readers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

# A byte that is not UTF-8, as display_path writes it.
_ESCAPED_BYTE = re.compile(r"\\x([89a-f][0-9a-f])")


def display_path(path: str) -> str:
    """`path` as valid Unicode: the bytes of a name that are not UTF-8 written as `\\xff`.

    Python holds such bytes as lone surrogates, which no index, JSON file or
    terminal accepts. The result is what the index stores and shows, and what
    a user may type back (`related --passage 'bad\\xff.md:1'`).
    """
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", errors="backslashreplace")
    return path


def source_path(name: str) -> str:
    """The path on disk of the note the index names `name`: display_path undone (`\\xff` back to its byte)."""
    if "\\x" not in name or os.path.lexists(name):
        return name
    raw = _ESCAPED_BYTE.sub(lambda match: chr(0xDC00 + int(match.group(1), 16)), name)
    return raw if display_path(raw) == name else name


def inside(path: str, folder: str) -> bool:
    """Whether `path` is `folder` or lies under it (both absolute and normalised alike: both real paths, or both
    as given)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def inside_any(path: str, folders: Iterable[str]) -> bool:
    """Whether `path` is one of `folders` or lies under one (compared as given: no link resolved)."""
    return any(inside(path, folder) for folder in folders)
