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
import os
import shutil
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from corpus.errors import IndexBusy, NoIndex, UntrustedIndex, echo
from indexer import vectors
from indexer.checksums import generation_problem
from indexer.files import atomic_write, fsync_dir
from indexer.keyword.reading import KeywordIndex
from indexer.manifest import MANIFEST, Manifest, generation_names

LOCK = "lock"
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
# 11: a checksum of every file of a generation, and of jieba's caches, in its manifest; the roots' real paths.
# 12: Traditional characters indexed as Simplified, zero-width characters as nothing (corpus/script.py).
# 13: the names field (corpus/names.py: each person named, as surname and initial).
INDEX_FORMAT = "13"


def committed_generations(directory: str) -> list[Manifest]:
    """The manifests of every generation folder that has one, newest first."""
    found = []
    for name in generation_names(directory):
        try:
            with open(os.path.join(directory, name, MANIFEST), encoding="utf-8") as f:
                found.append(Manifest.from_json(f.read()))
        except (OSError, ValueError):
            continue
    return found


def read_manifest(directory: str) -> Manifest:
    """The committed manifest of the index in `directory`; raises NoIndex."""
    path = os.path.join(directory, MANIFEST)
    try:
        with open(path, encoding="utf-8") as f:
            return Manifest.from_json(f.read())
    except FileNotFoundError as error:
        raise NoIndex(directory) from error
    except (OSError, ValueError) as error:
        raise NoIndex(directory, (f"the index manifest {path} is damaged ({echo(str(error), 160)})",)) from error


def newest_manifest(directory: str) -> Manifest | None:
    """The newest manifest that can be read: manifest.json, else the newest copy in a generation folder; None when
    there is none (what the index was built from, for a caller that only needs its folders)."""
    try:
        return read_manifest(directory)
    except NoIndex:
        found = committed_generations(directory) if os.path.isdir(directory) else []
        return found[0] if found else None


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
    """A generation's files do not match its manifest."""


def open_generation(directory: str, manifest: Manifest) -> Generation:
    """A committed generation, opened and checked; raises _Mismatch, or what reading a damaged file raised.

    A generation of this version's format is checked against the checksums of
    its manifest before any of its files is parsed (indexer/checksums.py).
    """
    folder = os.path.join(directory, manifest.folder)
    keyword = None
    try:
        if manifest.format == INDEX_FORMAT:
            problem = generation_problem(folder, manifest.checksums)
            if problem:
                raise _Mismatch(problem)
            keyword = KeywordIndex(folder)
            if keyword.generation != manifest.whoosh_generation or keyword.live != manifest.passages:
                raise _Mismatch("its keyword index does not match its manifest")
            if not keyword.read_lengths():
                raise _Mismatch("its field lengths do not match its keyword index")
            from indexer.paper_graph import FILES  # here: reading a generation needs none of the graph's code

            if not all(os.path.isfile(os.path.join(folder, name)) for name in FILES):
                raise _Mismatch("its paper graph is missing")
        stored = vectors.load(folder, verify=manifest.format != INDEX_FORMAT)  # else checked with the rest
        if stored.passage_count != manifest.passages:
            raise _Mismatch("its vectors do not match its manifest")
    except BaseException:
        Generation(manifest, keyword, None).close()
        raise
    return Generation(manifest, keyword, stored)


def open_newest(directory: str) -> Survey:
    """The newest committed generation of the index in `directory` that is intact, and what was wrong.

    The generation manifest.json names is tried first, then the others that
    keep a copy of their manifest, newest first. Any error opening one (a
    file that does not match its checksum, or what parsing a damaged file
    raises) makes it damaged, never a failure of the caller. The copy of the
    manifest in the generation opened must be manifest.json's: a damaged copy
    is a problem too (the generation still opens). Raises UntrustedIndex for a
    folder others could have written (check_folder).
    """
    if not os.path.isdir(directory):
        return Survey(None, (), None, ())
    check_folder(directory)
    problems: list[str] = []
    try:
        newest: Manifest | None = read_manifest(directory)
    except NoIndex as error:
        newest = None
        problems.extend(error.problems)  # none when there is no manifest.json at all
    candidates = ([newest] if newest else []) + [m for m in committed_generations(directory)
                                                 if newest is None or m.generation < newest.generation]
    if newest is None and not problems and candidates:
        problems.append(f"the index manifest {os.path.join(directory, MANIFEST)} is missing")
    for manifest in candidates:
        try:
            opened = open_generation(directory, manifest)
        except Exception as error:  # noqa: BLE001 (whatever a damaged file makes a parser raise)
            reason = str(error) if isinstance(error, _Mismatch) else f"{type(error).__name__}: {error}"
            problems.append(f"index generation {manifest.generation} is damaged ({echo(reason, 160)})")
            continue
        if manifest is newest and not _same_copy(directory, manifest):
            problems.append(f"the copy of the manifest in {manifest.folder} is damaged")
        return Survey(opened, tuple(problems), newest, tuple(candidates))
    return Survey(None, tuple(problems), newest, tuple(candidates))


def _same_copy(directory: str, manifest: Manifest) -> bool:
    """Whether the generation folder's copy of the manifest is manifest.json's, byte for byte."""
    try:
        with open(os.path.join(directory, MANIFEST), "rb") as top, \
                open(os.path.join(directory, manifest.folder, MANIFEST), "rb") as copy:
            return top.read() == copy.read()
    except OSError:
        return False


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
    for name in generation_names(directory):
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
    numbers += [int(name[4:]) for name in generation_names(directory)]
    return max(numbers) + 1


def check_folder(directory: str) -> None:
    """Refuse (UntrustedIndex) an index folder that is not its user's alone to write, as ssh refuses a key.

    The index decides what a search reads and what `get` opens: a folder of
    another user's, or one others may write to, could have been made to say
    anything. A folder that does not exist yet passes (a build creates it).
    """
    try:
        info = os.stat(directory)
    except OSError:
        return
    if not stat.S_ISDIR(info.st_mode):
        return  # not a folder: the caller says there is no index there
    if info.st_uid != os.geteuid():
        raise UntrustedIndex(directory, f"it belongs to another user (uid {info.st_uid}): "
                                        "index your notes into a folder of your own")
    if info.st_mode & 0o022:
        raise UntrustedIndex(directory, f"others can write to it (mode {stat.S_IMODE(info.st_mode):03o}): "
                                        f"make it yours alone with 'chmod go-w {directory}'")


@contextmanager
def writer_lock(directory: str, wait: float = 30.0) -> Iterator[None]:
    """Hold the index's writer lock, waiting up to `wait` seconds; raises IndexBusy.

    The lock file is opened without following a symbolic link and must be a
    plain file of the user's own with no other name (UntrustedIndex otherwise):
    an index folder from elsewhere may hold a `lock` that points at another
    file. It is never written to: the flock is the lock.
    """
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, LOCK)
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UntrustedIndex(directory, f"its lock file {path} is a symbolic link: remove it") from error
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_uid != os.geteuid():
            raise UntrustedIndex(directory, f"its lock file {path} is not a plain file of yours with one name "
                                            "(a hard link to another file?): remove it")
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
        yield
    finally:
        os.close(fd)
