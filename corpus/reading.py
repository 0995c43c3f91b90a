"""Find note files under the given paths and read them into Notes (decoding.py, frontmatter.py)."""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from corpus.decoding import decode
from corpus.errors import OutsideFolders
from corpus.frontmatter import read_front_matter, tags_of, text_of
from corpus.kinds import MAX_BYTES, SUFFIXES, kind_of, other_suffix
from corpus.model import Note
from corpus.paths import display_path, inside_any
from corpus.text import FENCE

NOTE_SUFFIXES = SUFFIXES
# A larger Markdown file is skipped with its size as the reason (other kinds: corpus/kinds.py).
MAX_NOTE_BYTES = MAX_BYTES["markdown"]
# Files editors write beside a note while saving it: vim's swap files and its write test, emacs' lock and
# autosave files, backups, JetBrains' safe-write copies. Neither counted among the files of other kinds nor
# watched (search/serve/watch.py).
EDITOR_TEMP = re.compile(r"^\.#|^#.*#$|~$|\.sw[a-p]$|^4913$|\.tmp$|\.bak$|___jb_(?:tmp|old)___$", re.IGNORECASE)


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class NoteFile:
    """A note file found on disk, not yet read.

    `path` names the note everywhere (index, results, `path:line`); it is
    `os_path` itself unless that is not valid UTF-8 (see display_path).
    """

    path: str
    root: str
    os_path: str = ""

    @property
    def source(self) -> str:
        """The path to open."""
        return self.os_path or self.path


def find_note_files(paths: Iterable[str | Path], exclude: Iterable[str] = (), others: Counter | None = None
                    ) -> tuple[list[NoteFile], list[Skipped]]:
    """Every note file under `paths` (recursively), sorted, minus `exclude` globs.

    Files of kinds that are not read (corpus/kinds.py) are counted by suffix
    into `others` (hidden files and editor temp files are not counted).

    A glob matches the path relative to its root, or the file name. Hidden
    folders are skipped; symbolic links to folders are not followed (no loops),
    and a symbolic link to a file outside every folder of `paths` is skipped:
    a notes folder may come from someone else, and `x.md -> /etc/shadow` must
    not put that file in the index. A file given by itself is always read.
    """
    patterns = tuple(exclude)
    roots = [Path(given).expanduser() for given in paths]
    folders = [os.path.realpath(root) for root in roots if root.is_dir()]
    found: dict[str, NoteFile] = {}
    skipped: list[Skipped] = []
    for root in roots:
        if not root.exists():
            skipped.append(Skipped(display_path(str(root)), "no such file or folder"))
            continue
        if root.is_file():
            candidates: Iterator[Path] = iter([root])
            base = root.parent
        else:
            candidates = _walk(root, skipped)
            base = root
        for file in candidates:
            rel = os.path.relpath(file, base)
            if excluded(rel, patterns):
                continue
            if kind_of(file.name) is None:
                if others is not None and not file.name.startswith(".") and not EDITOR_TEMP.search(file.name):
                    others[other_suffix(file.name)] += 1
                continue
            absolute = os.path.abspath(file)
            name = display_path(absolute)
            if file is not root and file.is_symlink() and not inside_any(os.path.realpath(file), folders):
                skipped.append(Skipped(name, "symbolic link to a file outside the indexed folders: not followed"))
                continue
            if name in found and found[name].source != absolute:
                skipped.append(Skipped(name, "two files have this name once bytes that are not UTF-8 are "
                                             "written as \\xNN: one is not indexed"))
                continue
            found.setdefault(name, NoteFile(name, display_path(os.path.abspath(base)),
                                            absolute if name != absolute else ""))
    return [found[key] for key in sorted(found)], skipped




def resolved_roots(paths: Iterable[str | Path]) -> tuple[str, ...]:
    """The real paths (symbolic links resolved) of the folders and note files `paths`, as they are now.

    An index keeps them as it was built: a note is read only when the file
    actually opened lies under one of them (`open_inside`), so a root replaced
    by a link later does not widen what can be read.
    """
    return tuple(os.path.realpath(Path(path).expanduser()) for path in paths)


def open_inside(path: str, folders: Iterable[str]) -> int:
    """A descriptor of the file at `path`, opened for reading, once the file opened is known to lie in `folders`.

    Open first, then decide: the file is opened (links followed), and the path
    of what was opened, not of what the name pointed at a moment before, is
    checked against `folders` (real paths, as `resolved_roots` gives them).
    A note swapped for a link out between a check and the open (as git or a
    sync tool swaps files) is refused: OutsideFolders. Where the system cannot
    say what a descriptor names, the opened file must be the one its resolved
    path names now (same device and inode).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not inside_any(_opened_path(fd, path), tuple(folders)):
            raise OutsideFolders("a symbolic link to a file outside the indexed folders: not read")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _opened_path(fd: int, path: str) -> str:
    """The real path of the file open as `fd` (opened from `path`)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")  # Linux: what the descriptor names
    except OSError:
        pass
    real = os.path.realpath(path)
    opened, named = os.fstat(fd), os.stat(real)
    if (opened.st_dev, opened.st_ino) != (named.st_dev, named.st_ino):
        raise OutsideFolders("the file changed while it was opened: not read")
    return real


def _walk(root: Path, skipped: list[Skipped]) -> Iterator[Path]:
    def on_error(error: OSError) -> None:
        skipped.append(Skipped(display_path(str(error.filename)), f"cannot list folder: {error.strerror}"))

    for folder, dirs, files in os.walk(root, onerror=on_error):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            yield Path(folder) / name


def excluded(rel: str, patterns: Iterable[str]) -> bool:
    """Whether a file is left out by the --exclude globs `patterns`: one matches its path `rel` relative to the
    folder it was found in, or its name (the watcher of a served index asks the same)."""
    rel = rel.replace(os.sep, "/")
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns)


def read_bytes(file: NoteFile, folders: Iterable[str] | None = None) -> bytes:
    """The raw content of a note file; raises OSError or ValueError with a reason.

    Only regular files are read (a FIFO named like a note would block forever),
    and never more than its kind's largest size + 1 bytes (corpus/kinds.py
    MAX_BYTES), whatever size stat reported. With `folders` (resolved_roots),
    only a file that lies in them is read (`open_inside`; OutsideFolders
    otherwise).
    """
    limit = MAX_BYTES.get(kind_of(file.path) or "markdown", MAX_NOTE_BYTES)
    try:
        if folders is None:
            fd = os.open(file.source, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        else:
            fd = open_inside(file.source, folders)
    except OSError as error:
        if error.errno == errno.ENOENT and os.path.islink(file.source):
            raise ValueError("broken symbolic link") from error
        if error.errno == errno.ELOOP:
            raise ValueError("symbolic link loop") from error
        raise
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        size = max(info.st_size, len(data))
        raise ValueError(f"larger than {limit // (1024 * 1024)} MB ({size / (1024 * 1024):.0f} MB): "
                         "not indexed as a note")
    return data


def parse_note(path: str, text: str, warnings: Iterable[str] = ()) -> Note:
    """A Note from decoded text: front matter becomes metadata, not body.

    Line numbers stay those of the file: `body_line` says where the body
    starts. `warnings` (from decoding) and a skipped header end up in the
    note's `warnings`.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    header = read_front_matter(lines)
    body = "\n".join(lines[header.body_line - 1:])
    return Note(
        path=path,
        text=body,
        title=text_of(header.meta.get("title")) or _first_heading(body) or Path(path).stem,
        date=text_of(header.meta.get("date")),
        tags=tags_of(header.meta.get("tags")),
        body_line=header.body_line,
        warnings=(*warnings, *([f"{header.problem}; the body is indexed"] if header.problem else [])),
        meta=header.meta,
    )


def _first_heading(body: str) -> str:
    """The text of the body's first level-1 heading; a `# comment` in a fenced code block is none."""
    fence = ""
    for line in body.split("\n"):
        if fence:
            if line.strip().startswith(fence):
                fence = ""
        elif opening := FENCE.match(line):
            fence = opening.group(1)[0] * len(opening.group(1))
        elif line.startswith("# "):
            return text_of(line[2:].strip().strip("#"))
    return ""


def read_note(file: NoteFile) -> Note:
    """Read, decode and parse one note file; raises OSError or ValueError with a reason."""
    decoded = decode(read_bytes(file))
    return parse_note(file.path, decoded.text, decoded.warnings)
