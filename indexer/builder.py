"""Build or update an index: files → passages → keyword index + vectors → new generation.

Only what changed is redone: a file whose content hash is unchanged is not
decoded or parsed again, and a passage whose text (with its context) is
unchanged keeps its vector. Everything is written into a new generation
folder; the manifest that names it is written last. An update adds a
segment to the keyword index; once deleted passages would be more than
keyword.MERGE_DELETED of it, or it has keyword.MAX_SEGMENTS segments, it is
rebuilt into one instead, so its BM25 statistics stay those of a full rebuild
up to that share.
(Rebuilt, not merged by Whoosh: a merge sums the lossy one-byte field lengths
of its documents, so its statistics would drift from a full rebuild's.)
A run that stops before its commit (Ctrl-C, a crash, a cancelled served run)
leaves the index as it was, and the vectors it embedded in the index's
checkpoint (indexer/checkpoint.py), so that the next run goes on from there.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from corpus.documents import Document, read_document
from corpus.errors import BadArgument, MissingFolder, NoIndex, NoNotes, UnknownFolder
from corpus.model import Passage
from corpus.paths import inside
from corpus.reading import Skipped, read_bytes
from indexer import bundled_vectors, paper_graph, passage_vectors, vectors
from indexer.analysis import Analyzer
from indexer.checkpoint import Checkpoint
from indexer.checksums import CACHES, cache_checksums, generation_checksums
from indexer.dictionary import learn_glossary, learn_words, merge, merge_glossaries
from indexer.embedders import DEFAULT_MODEL, Embedder, canonical_model, known_fingerprint
from indexer.files import private_files, write_errors
from indexer.generations import (
    INDEX_FORMAT,
    check_folder,
    commit,
    committed_generations,
    next_generation,
    read_manifest,
    remove_generations,
    writer_lock,
)
from indexer.keyword import writing as keyword
from indexer.manifest import MANIFEST, FileEntry, Manifest, generation_folder, holds_index
from indexer.paper_material import file_material
from indexer.passage_vectors import Progress
from indexer.repair import check_caches, inspect
from indexer.scan import Scan, reason_of, scan
from indexer.segmenter import load_dictionary

# A path as build takes it.
PathArg = str | os.PathLike


@dataclass(frozen=True)
class BuildReport:
    """What one `index` run did; `warnings` says what was wrong with the index it found.

    `skipped` are the files not indexed for a reason the last run did not give
    (new ones); `skipped_before` counts those skipped for the same reason again.
    `folders` are the index's folders after the run, `folders_added` and
    `folders_removed` how the run changed those of an existing index. `resumed` counts the vectors
    that a run stopped before its commit had embedded, taken up by this one. `others` counts the files of
    kinds that are not read, by suffix (`{".docx": 2}`), and `others_changed` says they are not those of the
    last run.
    """

    generation: int
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    renamed: int = 0
    passages: int = 0
    embedded: int = 0
    resumed: int = 0
    skipped: tuple[Skipped, ...] = ()
    changed: bool = True
    timings: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    skipped_before: int = 0
    folders: tuple[str, ...] = ()
    folders_added: tuple[str, ...] = ()
    folders_removed: tuple[str, ...] = ()
    others: dict[str, int] = field(default_factory=dict)
    others_changed: bool = False


def build(paths: Sequence[PathArg] | PathArg | None, directory: PathArg, *, model: str | None = None,
          exclude: Iterable[str] | str | None = None, progress: Progress | None = None, wait: float = 30.0,
          embedder: Embedder | None = None, remove: Sequence[PathArg] | PathArg = ()) -> BuildReport:
    """Index the notes under `paths` into `directory`, incrementally; returns what was done.

    `paths` are added to the folders the index was built from (for a new index
    they are its folders): an index never loses a folder's notes because
    another folder was given. `remove` drops folders of the index, and their
    notes. `paths`, `model` and `exclude` left as None are what the index was
    built with (a new index: no default paths, the default model, no
    exclusions), so updating an index needs none of them again.
    A path is a str or an os.PathLike (a pathlib.Path); one path may be given
    alone for `paths` or `remove` (`build("~/notes", d)` indexes ~/notes), and
    one glob alone for `exclude`: a string is never read as its characters.
    Raises, before anything is touched: BadArgument when an argument is of the
    wrong kind (a path that is neither, a `wait` below 0); MissingFolder when a path (given, or
    one the index keeps) does not exist; UnknownFolder when a folder to remove
    is not one of the index's; NoNotes when a new index is given no paths, or
    when nothing would be left. IndexBusy when another indexer holds the index
    for more than `wait` seconds; IndexWriteError when the index cannot be
    written (a full disk, a read-only folder, a file in its place), after
    removing what the run half wrote; UntrustedIndex for an index folder others
    could have written (another user's, writable by others). The index is its
    owner's alone (see files.private_files).
    """
    paths = None if paths is None else _path_list("paths", paths)
    remove = _path_list("remove", remove)
    directory = os.path.abspath(_path("directory", directory))
    if exclude is not None:
        exclude = (exclude,) if isinstance(exclude, str) else tuple(exclude)
        if not all(isinstance(glob, str) for glob in exclude):
            raise BadArgument("exclude", exclude, "a glob or a list of globs (str)")
    if model is not None and not isinstance(model, str):
        raise BadArgument("model", model, "a model name (str)")
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not wait >= 0:
        raise BadArgument("wait", wait, "a number of seconds from 0")
    started = time.perf_counter()
    if not os.path.isdir(directory):
        if remove:
            raise UnknownFolder(remove[0], ())
        if paths is None:
            raise NoNotes(directory)
    if paths is not None:
        if not paths:
            raise NoNotes(directory)  # an empty list would remove every note
        for path in paths:
            if not os.path.exists(os.path.expanduser(path)):
                # Indexing the rest would drop every note of the missing path from the index: a typo must not.
                raise MissingFolder(path)
    if holds_index(directory):
        check_folder(directory)  # before private_files would make a folder others could write to look like ours
    # The umask private_files sets is per process: set under the lock, no other build in it can interleave.
    with write_errors(directory, os.path.join(directory, MANIFEST)), writer_lock(directory, wait), \
            private_files(directory):
        state = inspect(directory)
        current, recorded, warnings = state.base, state.recorded, state.warnings
        if paths is None and recorded is None and holds_index(directory):
            raise NoNotes(directory, lost=True)  # never the bundled notes, nor nothing, in place of its folders
        check_caches(directory, state)
        roots, model, exclude = _settings(directory, recorded, paths, remove, model, exclude)
        reread = current is not None and current.format != INDEX_FORMAT
        if reread:
            warnings.append("the index was made by another version of notesearch: re-reading every note")
        found = scan(roots, exclude, None if reread else current)
        stale_model = current is not None and known_fingerprint(model) not in (None, current.fingerprint)
        before = current.skipped if current else {}
        seen = {s.path for s in found.skipped if before.get(s.path) == s.reason}
        settled = current is not None and (current.roots, current.exclude, current.others) == \
            (roots, exclude, found.others) and before == {s.path: s.reason for s in found.skipped}
        if current and current.model == model and settled and not (reread or stale_model or found.changed
                                                                   or state.repair):
            report = BuildReport(current.generation, unchanged=len(found.unchanged), passages=current.passages,
                                 changed=False, timings={"total": time.perf_counter() - started})
        else:
            try:
                report = _build_generation(directory, current, found, model, roots, exclude, progress, embedder,
                                           started, state.caches)
            except BaseException:
                # A full disk, Ctrl-C, a cancelled served run: the half-written generation goes at once.
                _discard_uncommitted(directory)
                raise
        old_roots = recorded.roots if recorded else ()
        return replace(report, warnings=(*warnings, *report.warnings),
                       skipped=tuple(s for s in found.skipped if s.path not in seen), skipped_before=len(seen),
                       others=found.others, others_changed=found.others != (current.others if current else {}),
                       folders=roots, folders_added=tuple(r for r in roots if r not in old_roots) if recorded else (),
                       folders_removed=tuple(r for r in old_roots if r not in roots))


def _path(name: str, value: object) -> str:
    """A path given as a str or an os.PathLike, as a str; else BadArgument."""
    path = os.fspath(value) if isinstance(value, (str, os.PathLike)) else None
    if not isinstance(path, str) or not path:
        raise BadArgument(name, value, "a path (a non-empty str or an os.PathLike)")
    return path


def _path_list(name: str, value: object) -> list[str]:
    """One path, or a sequence of them, as a list of str; else BadArgument."""
    if isinstance(value, (str, os.PathLike)):
        return [_path(name, value)]
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        raise BadArgument(name, value, "a path or a list of paths (str or os.PathLike)")
    return [_path(name, path) for path in value]


def _write_paper_graph(folder: str, previous_folder: str | None, paths: list[str], additions: list[Passage],
                       analyzer: Analyzer, vector_index: vectors.VectorIndex) -> None:
    """Write the generation's paper graph: the material of the files whose passages this run holds (the changed
    ones, or all on a rebuild) computed anew, the rest carried over from `previous_folder`'s."""
    by_file: dict[str, list[Passage]] = {}
    for passage in additions:
        by_file.setdefault(passage.path, []).append(passage)
    old = paper_graph.read_material(previous_folder) or {}
    missing = [path for path in paths if path not in by_file and path not in old]
    for passage in keyword.stored_passages(previous_folder, missing):
        by_file.setdefault(passage.path, []).append(passage)
    material = {path: file_material(path, by_file[path], analyzer) if path in by_file else old[path]
                for path in paths if path in by_file or path in old}
    paper_graph.write(folder, material, vector_index, analyzer)


def _discard_uncommitted(directory: str) -> None:
    """Remove the generation folders newer than the committed one, if that can be done (under the writer lock).

    When the committed manifest cannot be read, every generation with a manifest of its own is kept.
    """
    try:
        try:
            top: int | None = read_manifest(directory).generation
        except NoIndex:
            top = None if os.path.exists(os.path.join(directory, MANIFEST)) else 0
        remove_generations(directory, {m.generation for m in committed_generations(directory)
                                       if top is None or m.generation <= top})
    except OSError:
        pass


def _settings(directory: str, current: Manifest | None, paths: Sequence[str] | None, remove: Sequence[str],
              model: str | None, exclude: Iterable[str] | None) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
    """The folders, model and exclusions of this run: those given, else those of the index (as its newest readable
    manifest says)."""
    recorded = current.roots if current else ()
    roots = folders_after(recorded, paths or (), remove)
    if not roots:
        raise NoNotes(directory, tuple(remove))
    gone = [root for root in roots if root in recorded and not os.path.exists(root)]
    if gone:
        # Indexing the rest would remove every note of the missing folder from the index.
        raise MissingFolder(gone[0], recorded=True)
    model = canonical_model(model or (current.model if current else DEFAULT_MODEL))
    exclude = tuple(exclude) if exclude is not None else (current.exclude if current else ())
    return roots, model, exclude


def folders_after(recorded: Sequence[str], added: Sequence[str], removed: Sequence[str]) -> tuple[str, ...]:
    """The folders of an index with `removed` dropped and `added` added (absolute paths, in order).

    A folder inside one the index keeps is already indexed, and one that holds
    folders of the index takes their place. Raises UnknownFolder when a folder
    to remove is not one of `recorded`.
    """
    roots = list(recorded)
    for path in removed:
        found = [root for root in roots if _same(root, path)]
        if not found:
            raise UnknownFolder(path, tuple(recorded))
        roots.remove(found[0])
    for path in added:
        path = os.path.abspath(os.path.expanduser(path))
        if any(inside(path, root) for root in roots):
            continue
        roots = [root for root in roots if not inside(root, path)] + [path]
    return tuple(roots)


def _same(root: str, path: str) -> bool:
    path = os.path.abspath(os.path.expanduser(path))
    return path == root or os.path.realpath(path) == os.path.realpath(root)


def _build_generation(directory: str, current: Manifest | None, scan: Scan, model: str, roots: tuple[str, ...],
                      exclude: tuple[str, ...], progress: Progress | None, embedder: Embedder | None,
                      started: float, caches: dict[str, tuple[str, tuple]]) -> BuildReport:
    generation = next_generation(directory, current)
    folder = os.path.join(directory, generation_folder(generation))
    os.makedirs(folder)
    checkpoint = Checkpoint(directory)
    manifest, report = _write_generation(directory, folder, generation, current, scan, model, roots, exclude,
                                         progress, embedder, checkpoint)
    # Every file of the generation with its checksum, and jieba's caches as they are now (written by this run's
    # load of the dictionary when they were missing or removed as damaged).
    if not all(os.path.exists(os.path.join(directory, name)) for name in CACHES):
        load_dictionary(directory)
    manifest = replace(manifest, caches=cache_checksums(directory, caches), checksums=generation_checksums(
        folder, os.path.join(directory, current.folder) if current else None, current.checksums if current else None))
    commit(directory, manifest, current.generation if current else None)
    checkpoint.clear()
    report.timings["total"] = time.perf_counter() - started
    return report


def _read(scan: Scan, path: str) -> tuple[Document | None, str]:
    """The document of a file to read, and the hash of the content it was read from (the file may have changed
    since the scan). A file that cannot be read (gone, binary, a damaged or encrypted PDF, a scan) is added to
    the scan's skipped files instead, and when its content is to blame, to its unreadable ones: the next run
    skips it unread while that content stays."""
    try:
        data = read_bytes(scan.files[path], scan.folders)
    except (OSError, ValueError) as error:
        scan.skipped.append(Skipped(path, reason_of(error)))
        return None, ""
    digest = hashlib.sha256(data).hexdigest()
    try:
        return read_document(path, data), digest
    except ValueError as error:
        scan.skipped.append(Skipped(path, reason_of(error)))
        scan.unreadable[path] = digest
        return None, digest


def _write_generation(directory: str, folder: str, generation: int, current: Manifest | None, scan: Scan,
                      model: str, roots: tuple[str, ...], exclude: tuple[str, ...], progress: Progress | None,
                      embedder: Embedder | None, checkpoint: Checkpoint) -> tuple[Manifest, BuildReport]:
    """Write generation `generation` into `folder`; its manifest (not yet committed) and the run's report."""
    timings: dict[str, float] = {}
    # Parse the notes that are new, changed or renamed (a note's title may come from its file name).
    t0 = time.perf_counter()
    if scan.files:
        load_dictionary(directory)  # from the index's cache, once for learning words and for indexing
    parsed: dict[str, list[Passage]] = {}
    entries: dict[str, FileEntry] = {}
    notices: list[str] = []
    to_parse = scan.added + scan.updated + list(scan.renamed)
    for n, path in enumerate(to_parse, 1):
        document, digest = _read(scan, path)
        if progress:
            progress("read", n, len(to_parse))
        if document is None:
            continue
        note = document.note
        notices.extend(f"{path}: {warning}" for warning in note.warnings)
        parsed[path] = document.passages
        entries[path] = FileEntry(digest, tuple(learn_words(note.text)), len(parsed[path]),
                                  tuple(learn_glossary(note.text)))
    old = current.files if current else {}
    for path in scan.unchanged:
        entries[path] = old[path]
    entries = dict(sorted(entries.items()))
    words = merge(entry.words for entry in entries.values())
    timings["parse"] = time.perf_counter() - t0

    # Keyword index: a new segment in a copy of the committed one, or a rebuild when the dictionary
    # changed or too much of the committed index is deleted or segmented.
    t0 = time.perf_counter()
    previous_folder = os.path.join(directory, current.folder) if current else None
    deleted = scan.updated + scan.removed + list(scan.renamed.values())
    incremental = (current is not None and current.words == words and current.format == INDEX_FORMAT
                   and not keyword.rebuild_due(previous_folder, deleted))
    additions: list[Passage] = [p for path in sorted(parsed) for p in parsed[path]]
    if not incremental:
        additions += keyword.stored_passages(previous_folder, scan.unchanged)
    analyzer = Analyzer(words, directory)
    whoosh_generation, passage_count = keyword.write(
        folder, previous_folder if incremental else None, additions, deleted if incremental else [],
        analyzer, progress)
    timings["keyword"] = time.perf_counter() - t0

    # Vectors: the committed rows of unchanged files are carried over, the new passages' looked up or embedded.
    t0 = time.perf_counter()
    fingerprint, embedder = passage_vectors.fingerprint_of(model, embedder)
    old = passage_vectors.previous_vectors(previous_folder, fingerprint)
    kept: list[int] = []
    if incremental and old is not None:
        kept = passage_vectors.rows_kept(old, deleted)
    elif incremental:
        additions = keyword.stored_passages(previous_folder, scan.unchanged) + additions
    try:
        vector_index, embedded, cut = passage_vectors.embed(additions, old, kept, model, fingerprint, embedder,
                                                            progress, checkpoint, bundled_vectors.serves(scan.folders))
    except BaseException:
        with contextlib.suppress(OSError):
            checkpoint.flush()  # the vectors embedded so far: the next run goes on from them
        raise
    notices.extend(f"{path}: {count:,} of its texts not embedded (at most {passage_vectors.MAX_TEXTS_PER_NOTE:,} a note "
                   f"and {passage_vectors.MAX_TEXTS_PER_LINE} a line): keyword search still finds all of it"
                   for path, count in sorted(cut.items()))
    if vector_index.passage_count != passage_count:
        raise RuntimeError(f"vectors for {vector_index.passage_count} passages, not {passage_count}, in {folder}")
    checksum = vectors.save(folder, vector_index)
    timings["embed"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    _write_paper_graph(folder, previous_folder if incremental else None, list(entries), additions, analyzer,
                       vector_index)
    timings["papers"] = time.perf_counter() - t0

    manifest = Manifest(
        generation=generation, model=model, fingerprint=vector_index.fingerprint, files=entries, words=words,
        vectors_sha256=checksum, whoosh_generation=whoosh_generation, passages=passage_count,
        roots=roots, exclude=exclude, resolved_roots=scan.folders,
        skipped={s.path: s.reason for s in scan.skipped}, created=time.time(), format=INDEX_FORMAT,
        glossary=merge_glossaries(entry.glossary for entry in entries.values()),
        unreadable=dict(sorted(scan.unreadable.items())), others=scan.others,
    )
    # A file that could not be read is not added; one indexed before (updated, or moved) is removed.
    lost = sum(path not in parsed for path in [*scan.updated, *scan.renamed])
    return manifest, BuildReport(
        generation, added=sum(path in parsed for path in scan.added),
        updated=sum(path in parsed for path in scan.updated), removed=len(scan.removed) + lost,
        unchanged=len(scan.unchanged), renamed=sum(path in parsed for path in scan.renamed),
        passages=passage_count, embedded=embedded,
        resumed=checkpoint.resumed, changed=True, timings=timings, warnings=(*checkpoint.problems, *notices),
    )
