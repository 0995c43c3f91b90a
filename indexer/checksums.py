"""The checksums of an index's files: every file of a generation, and jieba's caches, in the generation's manifest.

A generation's manifest lists the SHA-256 of each file of its folder
(`keyword/…`, `lengths.npz`, `vectors.npy`, `vectors.json`; not the manifest
itself, nor Whoosh's empty write lock). Opening a generation checks them all,
and that the folder holds no other file, before anything in it is parsed: a
garbled, truncated or bit-flipped file, or a file put there (a second table of
contents Whoosh would prefer), fails the generation, and the reader falls back
to the one before (indexer/generations.py). A file that a new generation
shares with the one it was built on (a hard link, indexer/keyword/writing.py)
keeps the checksum that one's manifest gave it, checked when the build opened
it: an update does not hash the whole keyword index again.

jieba's caches (`jieba.cache`, `jieba.bychar`) are shared by the generations:
the manifest records what they were when it was committed, a search reads
them only when they still match (else jieba's own dictionary, more slowly,
with a warning), and `index` writes again a cache that does not match.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping

from indexer.files import file_sha256

# jieba's caches in an index folder (indexer/segmenter.py's JIEBA_CACHE and indexer/by_char.py's BY_CHAR_CACHE).
CACHES = ("jieba.cache", "jieba.bychar")
_MANIFEST = "manifest.json"


def _write_lock(name: str) -> bool:
    """Whoosh's write lock: empty, never read, so without a checksum (as the generation's own manifest)."""
    return name.endswith(".lock") or "WRITELOCK" in name


def files_of(folder: str) -> dict[str, os.stat_result]:
    """Every file of a generation folder that has a checksum (and any symbolic link in it), by its path relative to
    the folder ('/'-separated)."""
    found = {}
    for parent, dirs, names in os.walk(folder):
        for name in names + [d for d in dirs if os.path.islink(os.path.join(parent, d))]:
            path = os.path.join(parent, name)
            relative = os.path.relpath(path, folder).replace(os.sep, "/")
            if not (parent == folder and name == _MANIFEST) and not _write_lock(name):
                found[relative] = os.lstat(path)
    return found


def generation_checksums(folder: str, previous: str | None = None,
                         previous_sums: Mapping[str, str] | None = None) -> dict[str, str]:
    """The checksum of each file of the generation in `folder`.

    A file that is the very file of the same name in the `previous`
    generation's folder (a hard link: same device and inode) takes its checksum
    from `previous_sums`, checked when that generation was opened.
    """
    linked = files_of(previous) if previous and previous_sums else {}
    sums = {}
    for relative, info in sorted(files_of(folder).items()):
        before = linked.get(relative)
        if before is not None and (before.st_dev, before.st_ino) == (info.st_dev, info.st_ino) \
                and relative in previous_sums:
            sums[relative] = previous_sums[relative]
        else:
            sums[relative] = file_sha256(os.path.join(folder, relative))
    return sums


def generation_problem(folder: str, sums: Mapping[str, str]) -> str | None:
    """What is wrong with the files of the generation in `folder` against its checksums `sums`, or None.

    Every listed file must be there and match; no other file may be there.
    """
    if not sums:
        return "its manifest lists no checksums"
    present = files_of(folder)
    for relative in sums:
        if relative not in present:
            return f"{relative} is missing"
    for relative, info in sorted(present.items()):
        if relative not in sums:
            return f"{relative} is not one of its files"
        if not stat.S_ISREG(info.st_mode):
            return f"{relative} is not a plain file"
    for relative, expected in sums.items():
        try:
            if file_sha256(os.path.join(folder, relative)) != expected:
                return f"{relative} does not match its checksum"
        except OSError as error:
            return f"{relative} cannot be read ({error.strerror or error})"
    return None


def file_stamp(path: str) -> tuple[int, int, int, int]:
    """What tells a file's content changed without reading it: device, inode, size and modification time."""
    info = os.stat(path)
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def cache_checksums(directory: str, known: Mapping[str, tuple[str, tuple]] | None = None) -> dict[str, str]:
    """The checksum of each of jieba's caches that the index folder holds.

    `known`: checksums already taken (name → (checksum, file_stamp)), kept
    while the file's stamp is the same.
    """
    sums = {}
    for name in CACHES:
        path = os.path.join(directory, name)
        try:
            stamp = file_stamp(path)
            taken = (known or {}).get(name)
            sums[name] = taken[0] if taken and taken[1] == stamp else file_sha256(path)
        except OSError:
            continue
    return sums
