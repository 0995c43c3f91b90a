"""What a committed generation holds, as its manifest.json says: plain values, and their JSON read strictly.

A manifest is read from an index folder, which may be damaged or may have come
from elsewhere: `Manifest.from_json` raises ValueError for anything but a
manifest of the right shape (a field of the wrong type, `[]` for the whole,
`files` as a list…), so a caller falls back to another generation instead of
failing on an attribute of the wrong thing. A manifest holds the SHA-256 of
its own JSON (`checksum`): one bit flipped in a word it learned or a
checksum it lists is a damaged manifest, not a different index.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from corpus.kinds import kind_of
from corpus.paths import inside

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
# The index format from which a manifest carries a checksum of itself (older ones are read without).
CHECKSUMMED_FORMAT = 11


def generation_folder(generation: int) -> str:
    """The folder name of a generation number."""
    return f"gen-{generation:06d}"


def generation_names(directory: str) -> list[str]:
    """The generation folders in an index folder (committed or not), newest first."""
    return sorted((name for name in os.listdir(directory) if name.startswith("gen-") and name[4:].isdigit()),
                  reverse=True)


def holds_index(directory: str) -> bool:
    """Whether `directory` holds an index, intact or not: a manifest, or a generation folder."""
    try:
        return os.path.exists(os.path.join(directory, MANIFEST)) or bool(generation_names(directory))
    except OSError:
        return False


@dataclass(frozen=True)
class FileEntry:
    """A note file as committed: its content hash and the words and glossary learned from it."""

    sha256: str
    words: tuple[str, ...] = ()
    passages: int = 0
    glossary: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Folder:
    """A folder (or note file) an index was built from: how many of its note files and passages it holds."""

    path: str
    files: int
    passages: int


@dataclass(frozen=True)
class Manifest:
    """What one committed generation holds.

    `skipped` are the files not indexed, with the reason; `unreadable` the
    content hash of those among them whose content could not be read
    (indexer/scan.py skips them again unread while it is the same); `others`
    counts the files of kinds that are not read, by suffix. `checksums` are the
    SHA-256 of each file of its folder and `caches` of jieba's caches in the
    index folder, when it was committed (indexer/checksums.py);
    `resolved_roots` the real paths of `roots` then: notes are read only from
    under them.
    """

    generation: int
    model: str
    fingerprint: str
    files: dict[str, FileEntry]
    words: tuple[str, ...]
    vectors_sha256: str
    whoosh_generation: int
    passages: int
    roots: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    skipped: dict[str, str] = field(default_factory=dict)
    created: float = 0.0
    format: str = ""
    glossary: tuple[tuple[str, str], ...] = ()
    resolved_roots: tuple[str, ...] = ()
    checksums: dict[str, str] = field(default_factory=dict)
    caches: dict[str, str] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
    others: dict[str, int] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        return generation_folder(self.generation)

    def folders(self) -> tuple[Folder, ...]:
        """The folders the index was built from, in order, with the note files and passages of each."""
        out = []
        for root in self.roots:
            entries = [entry for path, entry in self.files.items() if inside(path, root)]
            out.append(Folder(root, len(entries), sum(entry.passages for entry in entries)))
        return tuple(out)

    def kinds(self) -> dict[str, int]:
        """How many of its files are of each kind (`{"markdown": 2, "pdf": 1}`, corpus/kinds.py), by kind."""
        counts: dict[str, int] = {}
        for path in self.files:
            kind = kind_of(path) or "markdown"
            counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items()))

    def to_json(self) -> str:
        data = {
            "version": MANIFEST_VERSION, "generation": self.generation, "model": self.model, "fingerprint": self.fingerprint,
            "files": {path: {"sha256": e.sha256, "words": list(e.words), "passages": e.passages,
                              "glossary": [list(pair) for pair in e.glossary]} for path, e in self.files.items()},
            "words": list(self.words), "vectors_sha256": self.vectors_sha256, "whoosh_generation": self.whoosh_generation,
            "passages": self.passages, "roots": list(self.roots), "exclude": list(self.exclude), "skipped": self.skipped,
            "created": self.created, "format": self.format, "glossary": [list(pair) for pair in self.glossary],
            "resolved_roots": list(self.resolved_roots), "checksums": self.checksums, "caches": self.caches,
            "unreadable": self.unreadable, "others": self.others,
        }
        # ASCII: a path whose name is not UTF-8 (held as lone surrogates) round-trips as a \udcXX escape.
        data["checksum"] = _checksum(data)
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """The manifest `text` holds; raises ValueError when it is not JSON, not this version or of the wrong shape."""
        d = json.loads(text)
        if not isinstance(d, dict):
            raise ValueError(f"a manifest is a JSON object, not {type(d).__name__}")  # noqa: TRY004 (one error for any damage)
        if d.get("version") != MANIFEST_VERSION:
            raise ValueError(f"manifest version {str(d.get('version'))[:20]!r} is not {MANIFEST_VERSION}")
        stated = d.pop("checksum", None)
        if stated is None and _format_number(d.get("format")) >= CHECKSUMMED_FORMAT:
            raise ValueError("it has no checksum")
        if stated is not None and stated != _checksum(d):
            raise ValueError("it does not match its checksum")
        try:
            return cls(
                generation=_number(d["generation"], "generation"), model=_text(d["model"], "model"),
                fingerprint=_text(d["fingerprint"], "fingerprint"),
                files={path: _file_entry(entry) for path, entry in _mapping(d["files"], "files").items()},
                words=_texts(d["words"], "words"), vectors_sha256=_text(d["vectors_sha256"], "vectors_sha256"),
                whoosh_generation=_number(d["whoosh_generation"], "whoosh_generation"),
                passages=_number(d["passages"], "passages"), roots=_texts(d.get("roots", []), "roots"),
                exclude=_texts(d.get("exclude", []), "exclude"),
                skipped=_text_mapping(d.get("skipped", {}), "skipped"),
                created=float(_number(d.get("created", 0.0), "created", float)),
                format=_text(d.get("format", ""), "format"), glossary=_pairs(d.get("glossary", []), "glossary"),
                resolved_roots=_texts(d.get("resolved_roots", []), "resolved_roots"),
                checksums=_text_mapping(d.get("checksums", {}), "checksums"),
                caches=_text_mapping(d.get("caches", {}), "caches"),
                unreadable=_text_mapping(d.get("unreadable", {}), "unreadable"),
                others=_counts(d.get("others", {}), "others"),
            )
        except KeyError as error:
            raise ValueError(f"the manifest has no {error.args[0]!r}") from error


def _checksum(data: dict) -> str:
    """The SHA-256 of a manifest's JSON (as written, without its checksum): a bit flipped anywhere in it shows."""
    return hashlib.sha256(json.dumps(data, indent=1).encode("ascii")).hexdigest()


def _format_number(value: object) -> int:
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 6 else 0


def _wrong(name: str, wanted: str, value: object) -> ValueError:
    return ValueError(f"the manifest's {name!r} is not {wanted} but {type(value).__name__}")


def _number(value: object, name: str, kind: type = int) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise _wrong(name, "a number", value)
    return value


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise _wrong(name, "a string", value)
    return value


def _texts(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _wrong(name, "a list of strings", value)
    return tuple(value)


def _mapping(value: object, name: str) -> Mapping:
    if not isinstance(value, dict):
        raise _wrong(name, "an object", value)
    return value


def _text_mapping(value: object, name: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise _wrong(name, "an object of strings", value)
    return dict(value)


def _counts(value: object, name: str) -> dict[str, int]:
    if not isinstance(value, dict) or not all(isinstance(item, int) and not isinstance(item, bool)
                                              for item in value.values()):
        raise _wrong(name, "an object of counts", value)
    return dict(value)


def _pairs(value: object, name: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list) or not all(isinstance(pair, list) and len(pair) == 2
                                              and all(isinstance(item, str) for item in pair) for pair in value):
        raise _wrong(name, "a list of pairs of strings", value)
    return tuple((first, second) for first, second in value)


def _file_entry(entry: object) -> FileEntry:
    entry = _mapping(entry, "files")
    return FileEntry(_text(entry.get("sha256"), "files' sha256"), _texts(entry.get("words", []), "files' words"),
                     _number(entry.get("passages", 0), "files' passages"), _pairs(entry.get("glossary", []),
                                                                                  "files' glossary"))
