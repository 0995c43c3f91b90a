"""Find note files under the given paths, decode them and read their front matter."""

from __future__ import annotations

import codecs
import errno
import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from corpus.model import Note
from corpus.text import CHINESE_TEXT_CHAR

NOTE_SUFFIXES = (".md", ".markdown", ".txt")
# A larger file is skipped with its size as the reason: it is an export or a log,
# not a note, and embedding it would take minutes (2 MB of Chinese is ~2,000 passages).
MAX_NOTE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class NoteFile:
    """A note file found on disk, not yet read."""

    path: str
    root: str


def find_note_files(paths: Iterable[str | Path], exclude: Iterable[str] = ()) -> tuple[list[NoteFile], list[Skipped]]:
    """Every note file under `paths` (recursively), sorted, minus `exclude` globs.

    A glob matches the path relative to its root, or the file name. Hidden
    folders are skipped; symbolic links to folders are not followed (no loops).
    """
    patterns = tuple(exclude)
    found: dict[str, NoteFile] = {}
    skipped: list[Skipped] = []
    for given in paths:
        root = Path(given).expanduser()
        if not root.exists():
            skipped.append(Skipped(str(root), "no such file or folder"))
            continue
        if root.is_file():
            candidates: Iterator[Path] = iter([root])
            base = root.parent
        else:
            candidates = _walk(root, skipped)
            base = root
        for file in candidates:
            rel = os.path.relpath(file, base)
            if _excluded(rel, patterns):
                continue
            if not file.name.lower().endswith(NOTE_SUFFIXES):
                continue
            absolute = os.path.abspath(file)
            found.setdefault(absolute, NoteFile(absolute, os.path.abspath(base)))
    return [found[key] for key in sorted(found)], skipped


def _walk(root: Path, skipped: list[Skipped]) -> Iterator[Path]:
    def on_error(error: OSError) -> None:
        skipped.append(Skipped(str(error.filename), f"cannot list folder: {error.strerror}"))

    for folder, dirs, files in os.walk(root, onerror=on_error):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            yield Path(folder) / name


def _excluded(rel: str, patterns: tuple[str, ...]) -> bool:
    rel = rel.replace(os.sep, "/")
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns)


def read_bytes(file: NoteFile) -> bytes:
    """The raw content of a note file; raises OSError or ValueError with a reason.

    Only regular files are read (a FIFO named like a note would block forever),
    and never more than MAX_NOTE_BYTES + 1 bytes, whatever size stat reported.
    """
    try:
        fd = os.open(file.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        if error.errno == errno.ENOENT and os.path.islink(file.path):
            raise ValueError("broken symbolic link") from error
        if error.errno == errno.ELOOP:
            raise ValueError("symbolic link loop") from error
        raise
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        data = f.read(MAX_NOTE_BYTES + 1)
    if len(data) > MAX_NOTE_BYTES:
        size = max(info.st_size, len(data))
        raise ValueError(f"larger than {MAX_NOTE_BYTES // (1024 * 1024)} MB ({size / (1024 * 1024):.0f} MB): "
                         "not indexed as a note")
    return data


def decode(data: bytes) -> str:
    """Text of a note in UTF-8 (with or without BOM), UTF-16 with BOM, GB18030 or Latin-1.

    Raises ValueError for binary data.
    """
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as error:
                raise ValueError(f"invalid {encoding} text") from error
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
        if _mostly_han(text):
            return text
    except UnicodeDecodeError:
        pass
    text = data.decode("latin-1")
    if sum(ch.isprintable() or ch in "\t\r\n" for ch in text[:8192]) < 0.95 * len(text[:8192]):
        raise ValueError("binary file (not text in any known encoding)")
    return text


def _mostly_han(text: str) -> bool:
    """Whether the non-ASCII characters of a GB18030 reading are Chinese (else it was another encoding)."""
    wide = [ch for ch in text[:20000] if ord(ch) > 127]
    return not wide or sum(bool(CHINESE_TEXT_CHAR.match(ch)) for ch in wide) >= 0.9 * len(wide)


def parse_note(path: str, text: str) -> Note:
    """A Note from decoded text: front matter becomes metadata, not body.

    Line numbers stay those of the file: `body_line` says where the body starts.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta: dict = {}
    body_line = 1
    lines = text.split("\n")
    if lines and lines[0].strip() == "---":
        for i in range(1, len(lines)):
            if lines[i].strip() in ("---", "..."):
                # Broken YAML between the fences is still front matter (metadata lost, never body);
                # a block that parses to something other than a mapping was a thematic break.
                try:
                    loaded = yaml.safe_load("\n".join(lines[1:i]))
                except yaml.YAMLError:
                    loaded = {}
                if isinstance(loaded, dict):
                    meta = loaded
                    body_line = i + 2
                break
    body = "\n".join(lines[body_line - 1:])
    return Note(
        path=path,
        text=body,
        title=_text_of(meta.get("title")) or _first_heading(body) or Path(path).stem,
        date=_text_of(meta.get("date")),
        tags=_tags_of(meta.get("tags")),
        body_line=body_line,
    )


def _text_of(value: object) -> str:
    return "" if value is None else str(value).strip()


def _tags_of(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if isinstance(value, list):
        return tuple(str(tag).strip() for tag in value if str(tag).strip())
    return ()


def _first_heading(body: str) -> str:
    for line in body.split("\n"):
        if line.startswith("# "):
            return line[2:].strip().strip("#").strip()
    return ""


def read_note(file: NoteFile) -> Note:
    """Read, decode and parse one note file; raises OSError or ValueError with a reason."""
    return parse_note(file.path, decode(read_bytes(file)))
