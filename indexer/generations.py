"""Index generations: a manifest written last names the one committed generation.

Layout of an index folder:

    manifest.json      the committed generation (written atomically, last)
    gen-000007/        keyword/ (Whoosh, through indexer/keyword/), lengths.npz, vectors.npy, vectors.json,
                       the paper graph (indexer/paper_graph.py)
    gen-000006/        the previous generation, kept until the next commit
    lock               held (flock) by the one indexer at work
    jieba.cache        jieba's prefix dictionary cache

A reader opens whatever manifest.json names; a writer builds gen-N+1 beside
it and only then replaces the manifest, so an interrupted run never damages
what readers see. Files are shared between generations only by hard links to
files Whoosh never rewrites (it writes new segment and TOC files and renames
them in), so writing gen-N+1 cannot touch gen-N. A folder is deleted by first
renaming it to `.trash-*`, so a half-deleted generation never looks committed;
folders left by a crashed run are removed by the next writer. The lock is an
flock: the kernel drops it when its process dies, even by kill -9.

`open_newest` is the one account of an intact generation, for readers and
writers alike: the newest committed generation whose keyword index and
vectors match its manifest, and what was wrong with any newer one.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import pickle
import shutil
import struct
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from corpus.kinds import kind_of
from indexer import vectors
from indexer.errors import IndexBusy, KeywordIndexError, NoIndex, VectorIndexError
from indexer.files import atomic_write, fsync_dir
from indexer.keyword.reading import KeywordIndex

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
# Bump when parsing, analysis or the files of a generation change: an index of
# another format re-reads every note (vectors are still reused by content).
# 3: ready-made tokens (no notesearch class in Whoosh's schema), lengths.npz.
# 4: notes of headings only, tables with an authors column, linear link parsing, bad bytes decoded.
# 5: the note's front-matter date, in the schema and in each passage's record.
# 6: short passages of a section joined into answers (their parts embedded apart), tables of contents marked.
# 7: the gram field holds each character's bigram (no unigrams), written by notesearch's own segment writer.
# 8: `×` indexed as `x` (`3×3` is the term `3x3`); lists of numbered references are kind "reference";
#    HTML entities read as their characters.
# 9: a passage of several sentences gets a vector for each run of them too, after its own.
# 10: notes about one paper and BibTeX entries are paper records; the venue field; the paper graph.
# 11: Traditional characters indexed as Simplified, zero-width characters as nothing (corpus/script.py).
INDEX_FORMAT = "11"
# How a damaged generation fails to open: Whoosh unpickles and unpacks its table of contents and segments,
# numpy reads the lengths (a zip file) and the vectors.
_DAMAGE = (OSError, EOFError, ValueError, KeyError, IndexError, AttributeError, TypeError, struct.error,
           pickle.UnpicklingError, zipfile.BadZipFile, KeywordIndexError, VectorIndexError)


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

    `skipped` are the files not indexed, with the reason; `unreadable` the content hash of those among them
    whose content could not be read (indexer/scan.py skips them again unread while it is the same); `others`
    counts the files of kinds that are not read, by suffix.
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
    unreadable: dict[str, str] = field(default_factory=dict)
    others: dict[str, int] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        return generation_folder(self.generation)

    def folders(self) -> tuple[Folder, ...]:
        """The folders the index was built from, in order, with the note files and passages of each."""
        out = []
        for root in self.roots:
            inside = [entry for path, entry in self.files.items()
                      if path == root or path.startswith(root.rstrip(os.sep) + os.sep)]
            out.append(Folder(root, len(inside), sum(entry.passages for entry in inside)))
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
            "unreadable": self.unreadable, "others": self.others,
        }
        # ASCII: a path whose name is not UTF-8 (held as lone surrogates) round-trips as a \udcXX escape.
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        d = json.loads(text)
        if d.get("version") != MANIFEST_VERSION:
            raise ValueError(f"manifest version {d.get('version')!r} is not {MANIFEST_VERSION}")
        return cls(
            generation=int(d["generation"]), model=d["model"], fingerprint=d["fingerprint"],
            files={path: FileEntry(e["sha256"], tuple(e["words"]), int(e.get("passages", 0)),
                                   tuple((en, zh) for en, zh in e.get("glossary", ()))) for path, e in d["files"].items()},
            words=tuple(d["words"]), vectors_sha256=d["vectors_sha256"], whoosh_generation=int(d["whoosh_generation"]),
            passages=int(d["passages"]), roots=tuple(d.get("roots", ())), exclude=tuple(d.get("exclude", ())),
            skipped=dict(d.get("skipped", {})), created=float(d.get("created", 0.0)), format=str(d.get("format", "")),
            glossary=tuple((en, zh) for en, zh in d.get("glossary", ())),
            unreadable=dict(d.get("unreadable", {})), others={str(k): int(v) for k, v in d.get("others", {}).items()},
        )


def _generation_names(directory: str) -> list[str]:
    return sorted((name for name in os.listdir(directory) if name.startswith("gen-") and name[4:].isdigit()),
                  reverse=True)


def committed_generations(directory: str) -> list[Manifest]:
    """The manifests of every generation folder that has one, newest first."""
    found = []
    for name in _generation_names(directory):
        try:
            with open(os.path.join(directory, name, MANIFEST), encoding="utf-8") as f:
                found.append(Manifest.from_json(f.read()))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def generation_folder(generation: int) -> str:
    """The folder name of a generation number."""
    return f"gen-{generation:06d}"


def read_manifest(directory: str) -> Manifest:
    """The committed manifest of the index in `directory`; raises NoIndex."""
    path = os.path.join(directory, MANIFEST)
    try:
        with open(path, encoding="utf-8") as f:
            return Manifest.from_json(f.read())
    except FileNotFoundError as error:
        raise NoIndex(directory) from error
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise NoIndex(directory, (f"the index manifest {path} is damaged ({error})",)) from error


@dataclass
class Generation:
    """A committed generation, opened and checked against its manifest.

    For an index of another format only the vectors are read (a build reuses
    them by content): `keyword` is None, since its Whoosh schema may name
    classes this version no longer has.
    """

    manifest: Manifest
    keyword: KeywordIndex | None
    vectors: vectors.VectorIndex | None

    @property
    def current(self) -> bool:
        """True when the generation has this version's format."""
        return self.manifest.format == INDEX_FORMAT

    def close(self) -> None:
        if self.keyword is not None:
            self.keyword.close()


@dataclass(frozen=True)
class Survey:
    """An index folder as found: its newest intact generation (opened, or None) and what was wrong.

    `newest` is the generation manifest.json names (None when it is missing or
    unreadable); `candidates` are every committed generation tried, newest first.
    """

    opened: Generation | None
    problems: tuple[str, ...]
    newest: Manifest | None
    candidates: tuple[Manifest, ...]


class _Mismatch(Exception):
    """A generation's files open but do not match its manifest."""


def open_generation(directory: str, manifest: Manifest) -> Generation:
    """A committed generation, opened and checked; raises one of _DAMAGE (or _Mismatch) when it is damaged."""
    folder = os.path.join(directory, manifest.folder)
    keyword = None
    try:
        if manifest.format == INDEX_FORMAT:
            keyword = KeywordIndex(folder)
            if keyword.generation != manifest.whoosh_generation or keyword.live != manifest.passages:
                raise _Mismatch("its keyword index does not match its manifest")
            if not keyword.read_lengths():
                raise _Mismatch("its field lengths do not match its keyword index")
            from indexer.paper_graph import FILES  # here: reading a generation needs none of the graph's code

            if not all(os.path.isfile(os.path.join(folder, name)) for name in FILES):
                raise _Mismatch("its paper graph is missing")
        stored = vectors.load(folder)
        if stored.passage_count != manifest.passages:
            raise _Mismatch("its vectors do not match its manifest")
    except BaseException:
        Generation(manifest, keyword, None).close()
        raise
    return Generation(manifest, keyword, stored)


def open_newest(directory: str) -> Survey:
    """The newest committed generation of the index in `directory` that is intact, and what was wrong with newer ones.

    The generation manifest.json names is tried first, then the others that
    keep a copy of their manifest, newest first.
    """
    if not os.path.isdir(directory):
        return Survey(None, (), None, ())
    problems: list[str] = []
    try:
        newest: Manifest | None = read_manifest(directory)
    except NoIndex as error:
        newest = None
        problems.extend(error.problems)  # none when there is no manifest.json at all
    candidates = ([newest] if newest else []) + [m for m in committed_generations(directory)
                                                 if newest is None or m.generation < newest.generation]
    for manifest in candidates:
        try:
            return Survey(open_generation(directory, manifest), tuple(problems), newest, tuple(candidates))
        except (_Mismatch, *_DAMAGE) as error:
            reason = str(error) if isinstance(error, _Mismatch) else f"{type(error).__name__}: {error}"
            problems.append(f"index generation {manifest.generation} is damaged ({reason})")
    return Survey(None, tuple(problems), newest, tuple(candidates))


def commit(directory: str, manifest: Manifest, previous: int | None) -> None:
    """Make `manifest` the committed generation, keeping only it and the `previous` committed one.

    The generation folder keeps its own copy of the manifest, so a reader can
    fall back to the previous generation when the newest one is damaged.
    """
    data = manifest.to_json().encode("utf-8")
    atomic_write(os.path.join(directory, manifest.folder, MANIFEST), lambda f: f.write(data))
    atomic_write(os.path.join(directory, MANIFEST), lambda f: f.write(data))
    keep = {manifest.generation} | ({previous} if previous is not None else set())
    remove_generations(directory, keep)


def remove_generations(directory: str, keep: set[int]) -> None:
    """Delete every generation folder not in `keep`, and leftovers of earlier deletions."""
    for name in _generation_names(directory):
        if int(name[4:]) not in keep:
            trash = os.path.join(directory, f".trash-{name}-{os.getpid()}")
            os.replace(os.path.join(directory, name), trash)
    fsync_dir(directory)
    for name in os.listdir(directory):
        if name.startswith((".trash-", ".tmp-")):
            path = os.path.join(directory, name)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    pass


def next_generation(directory: str, current: Manifest | None) -> int:
    """A generation number above the committed one and above any leftover folder."""
    numbers = [current.generation if current else 0]
    numbers += [int(name[4:]) for name in _generation_names(directory)]
    return max(numbers) + 1


@contextmanager
def writer_lock(directory: str, wait: float = 30.0) -> Iterator[None]:
    """Hold the index's writer lock, waiting up to `wait` seconds; raises IndexBusy."""
    os.makedirs(directory, exist_ok=True)
    fd = os.open(os.path.join(directory, "lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise IndexBusy(directory, wait) from error
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)
