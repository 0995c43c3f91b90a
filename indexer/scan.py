"""Which note files changed since the committed generation: found, hashed, compared.

Only the files that must be parsed (added, updated, renamed) are decoded; an
unchanged file is hashed only. A file that moved is told apart from one
removed and one added by its content hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from corpus.decoding import Decoded, decode
from corpus.reading import Skipped, find_note_files, read_bytes, resolved_roots
from indexer.manifest import Manifest


@dataclass
class Scan:
    """The note files found now, compared with the committed generation.

    `texts` holds the decoded text of the files that must be parsed (added,
    updated, renamed); unchanged files are hashed only.
    """

    hashes: dict[str, str]
    texts: dict[str, Decoded]
    skipped: list[Skipped]
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: list[str]
    renamed: dict[str, str]  # new path → old path
    folders: tuple[str, ...] = ()  # the real paths of the folders and files scanned (corpus.reading.resolved_roots)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.renamed)


def scan(paths: Sequence[str], exclude: tuple[str, ...], current: Manifest | None) -> Scan:
    """The note files under `paths` (without those `exclude` matches), compared with `current`'s files."""
    files, skipped = find_note_files(paths, exclude)
    folders = resolved_roots(paths)  # a note swapped for a link out after it was found is not read
    old = current.files if current else {}
    hashes: dict[str, str] = {}
    texts: dict[str, Decoded] = {}
    for file in files:
        try:
            content = read_bytes(file, folders)
            digest = hashlib.sha256(content).hexdigest()
            if file.path not in old or old[file.path].sha256 != digest:
                texts[file.path] = decode(content)
        except (OSError, ValueError) as error:
            skipped.append(Skipped(file.path, _reason(error)))
            continue
        hashes[file.path] = digest
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
    return Scan(hashes, texts, skipped, added, updated, removed, unchanged, renamed, folders)


def _reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error)
