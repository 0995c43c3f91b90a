"""Crash-safe, private file writing: temp file, fsync, rename, fsync of the folder; owner-only modes."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

from corpus.errors import IndexWriteError

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


@contextmanager
def write_errors(directory: str, manifest: str) -> Iterator[None]:
    """Turn an OSError inside into an IndexWriteError for `directory`, intact if the file `manifest` is there."""
    try:
        yield
    except IndexWriteError:
        raise
    except OSError as error:
        cause = error
        if os.path.exists(directory) and not os.path.isdir(directory):
            cause = OSError(errno.ENOTDIR, "it is a file, not a folder", directory)
        raise IndexWriteError(directory, cause, os.path.isfile(manifest)) from error


@contextmanager
def private_files(directory: str) -> Iterator[None]:
    """Make `directory` (created if missing) and all it holds the owner's alone, and keep what is created
    meanwhile so.

    The index holds the full text of the notes, so it must be no more readable
    than they are to other users: folders 0700, files 0600. Whatever loosened
    them (an index made by an older notesearch, a copy) is tightened again.
    The umask, which Whoosh's own files and folders follow, is set to 077
    inside and restored after (it is per process: only files created by this
    process meanwhile are affected, and only made more private); modes are
    checked again on the way out.
    """
    previous = os.umask(0o077)
    try:
        os.makedirs(directory, exist_ok=True)
        make_private(directory)
        yield
    finally:
        os.umask(previous)
        make_private(directory)  # Whoosh opens its lock file with mode 0777 (0700 under this umask)


def make_private(directory: str) -> None:
    """chmod `directory` and every folder under it 0700, every file 0600 (skipping what is not ours).

    Each is opened without following a symbolic link and changed through its
    descriptor: a name swapped for a link meanwhile cannot turn this onto a
    file elsewhere.
    """
    for folder, _dirs, files in os.walk(directory):
        for path, mode in [(folder, PRIVATE_FOLDER), *((os.path.join(folder, name), PRIVATE_FILE) for name in files)]:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError as error:
                if error.errno == errno.EACCES:
                    _chmod_unreadable(path, mode)
                continue  # a symbolic link, or gone
            try:
                info = os.fstat(fd)
                if stat.S_IMODE(info.st_mode) != mode and (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                    os.fchmod(fd, mode)
            except OSError:
                continue
            finally:
                os.close(fd)


def _chmod_unreadable(path: str, mode: int) -> None:
    """chmod a file or folder of ours that we cannot open (mode 0200, 0000…), unless it is a symbolic link."""
    try:
        info = os.lstat(path)
        if stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode):
            os.chmod(path, mode)
    except OSError:
        pass


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
        os.fchmod(fd, PRIVATE_FILE)  # the index holds the full text of the notes: the owner's alone
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
