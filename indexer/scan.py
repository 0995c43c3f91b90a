"""Which note files changed since the committed generation: found, hashed, compared.

Only hashes are kept here: the files that must be read (added, updated,
renamed) are read again by the builder, one at a time, so a folder of large
PDFs is never held in memory at once. A file that moved is told apart from one
removed and one added by its content hash. A file the committed generation
could not read (`Manifest.unreadable`) is skipped again for the same reason
while its content is the same, without reading it again: a PDF bomb costs its
time limit once, not at every run.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from corpus.reading import NoteFile, Skipped, find_note_files, read_bytes, resolved_roots
from indexer.manifest import Manifest


@dataclass
class Scan:
    """The note files found now, compared with the committed generation.

    `files` are the files to read (added, updated, renamed) by path; `others`
    counts the files of kinds that are not read, by suffix.
    """

    hashes: dict[str, str]
    files: dict[str, NoteFile]
    skipped: list[Skipped]
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: list[str]
    renamed: dict[str, str]  # new path → old path
    others: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)  # skipped again: path → content hash
    folders: tuple[str, ...] = ()  # the real paths of the folders and files scanned (corpus.reading.resolved_roots)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.renamed)


def scan(paths: Sequence[str], exclude: tuple[str, ...], current: Manifest | None) -> Scan:
    """The note files under `paths` (without those `exclude` matches), compared with `current`'s files."""
    others: Counter = Counter()
    found, skipped = find_note_files(paths, exclude, others)
    folders = resolved_roots(paths)  # a note swapped for a link out after it was found is not read
    old = current.files if current else {}
    unreadable_before = current.unreadable if current else {}
    hashes: dict[str, str] = {}
    files: dict[str, NoteFile] = {}
    unreadable: dict[str, str] = {}
    for file in found:
        try:
            digest = hashlib.sha256(read_bytes(file, folders)).hexdigest()
        except (OSError, ValueError) as error:
            skipped.append(Skipped(file.path, reason_of(error)))
            continue
        if unreadable_before.get(file.path) == digest and file.path in current.skipped:
            skipped.append(Skipped(file.path, current.skipped[file.path]))
            unreadable[file.path] = digest
            continue
        hashes[file.path] = digest
        if file.path not in old or old[file.path].sha256 != digest:
            files[file.path] = file
    removed = [path for path in old if path not in hashes]
    unchanged = [path for path, h in hashes.items() if path in old and old[path].sha256 == h]
    updated = [path for path, h in hashes.items() if path in old and old[path].sha256 != h]
    fresh = [path for path in hashes if path not in old]
    by_hash: dict[str, str] = {}
    for path in removed:
        by_hash.setdefault(old[path].sha256, path)
    renamed: dict[str, str] = {}
    for path in fresh:
        source = by_hash.pop(hashes[path], None)
        if source:
            renamed[path] = source
    added = [path for path in fresh if path not in renamed]
    removed = [path for path in removed if path not in renamed.values()]
    return Scan(hashes, files, skipped, added, updated, removed, unchanged, renamed, dict(sorted(others.items())),
                unreadable, folders)


def reason_of(error: Exception) -> str:
    """Why a file could not be read, in a few words: an OSError's own, lower-cased, or the error's message."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error)
