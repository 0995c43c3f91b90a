"""Crash-safe file writing: temp file, fsync, rename, fsync of the folder."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections.abc import Callable
from typing import BinaryIO


def fsync_dir(directory: str) -> None:
    """Make a rename or create inside `directory` durable."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):  # folders some file systems cannot fsync
            raise
    finally:
        os.close(fd)


def atomic_write(path: str, write: Callable[[BinaryIO], object]) -> None:
    """Write `path` through `write(file)` so that readers see the old file or the whole new one.

    The data goes to a temp file in the same folder (an open file object, so
    np.save cannot append `.npy` to its name), is fsynced, then renamed over `path`.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600: other users may read the index
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    fsync_dir(directory)


def file_sha256(path: str) -> str:
    """The hex SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_tree(directory: str) -> None:
    """fsync every file and folder under `directory` (Whoosh itself never fsyncs)."""
    for folder, _dirs, files in os.walk(directory):
        for name in files:
            try:
                fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(folder)
