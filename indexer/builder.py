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
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from corpus.dates import note_date
from corpus.markdown import passages_of
from corpus.model import Passage
from corpus.packing import answers
from corpus.reading import Skipped, parse_note
from indexer import embedding, vectors
from indexer.analysis import Analyzer, load_dictionary
from indexer.checkpoint import Checkpoint
from indexer.checksums import CACHES, cache_checksums, generation_checksums
from indexer.dictionary import learn_glossary, learn_words, merge, merge_glossaries
from indexer.embedders import DEFAULT_MODEL, Embedder, canonical_model, known_fingerprint
from indexer.embedding import Progress
from indexer.errors import MissingFolder, NoIndex, NoNotes, UnknownFolder
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
from indexer.repair import check_caches, inspect
from indexer.scan import Scan, scan


@dataclass(frozen=True)
class BuildReport:
    """What one `index` run did; `warnings` says what was wrong with the index it found.

    `skipped` are the files not indexed for a reason the last run did not give
    (new ones); `skipped_before` counts those skipped for the same reason again.
    `folders` are the index's folders after the run, `folders_added` and
    `folders_removed` how the run changed those of an existing index. `resumed` counts the vectors
    that a run stopped before its commit had embedded, taken up by this one.
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


def build(paths: Sequence[str] | None, directory: str, *, model: str | None = None,
          exclude: Iterable[str] | None = None, progress: Progress | None = None, wait: float = 30.0,
          embedder: Embedder | None = None, remove: Sequence[str] = ()) -> BuildReport:
    """Index the notes under `paths` into `directory`, incrementally; returns what was done.

    `paths` are added to the folders the index was built from (for a new index
    they are its folders): an index never loses a folder's notes because
    another folder was given. `remove` drops folders of the index, and their
    notes. `paths`, `model` and `exclude` left as None are what the index was
    built with (a new index: no default paths, the default model, no
    exclusions), so updating an index needs none of them again.
    Raises, before anything is touched: MissingFolder when a path (given, or
    one the index keeps) does not exist; UnknownFolder when a folder to remove
    is not one of the index's; NoNotes when a new index is given no paths, or
    when nothing would be left. IndexBusy when another indexer holds the index
    for more than `wait` seconds; IndexWriteError when the index cannot be
    written (a full disk, a read-only folder, a file in its place), after
    removing what the run half wrote. The index is its owner's alone (see
    files.private_files).
    """
    directory = os.path.abspath(directory)
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
        settled = current is not None and (current.roots, current.exclude) == (roots, exclude) \
            and before == {s.path: s.reason for s in found.skipped}
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
                       folders=roots, folders_added=tuple(r for r in roots if r not in old_roots) if recorded else (),
                       folders_removed=tuple(r for r in old_roots if r not in roots))


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
        if any(_inside(path, root) for root in roots):
            continue
        roots = [root for root in roots if not _inside(root, path)] + [path]
    return tuple(roots)


def _same(root: str, path: str) -> bool:
    path = os.path.abspath(os.path.expanduser(path))
    return path == root or os.path.realpath(path) == os.path.realpath(root)


def _inside(path: str, folder: str) -> bool:
    """Whether `path` is `folder` or lies under it (both absolute)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


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


def _write_generation(directory: str, folder: str, generation: int, current: Manifest | None, scan: Scan,
                      model: str, roots: tuple[str, ...], exclude: tuple[str, ...], progress: Progress | None,
                      embedder: Embedder | None, checkpoint: Checkpoint) -> tuple[Manifest, BuildReport]:
    """Write generation `generation` into `folder`; its manifest (not yet committed) and the run's report."""
    timings: dict[str, float] = {}
    # Parse the notes that are new, changed or renamed (a note's title may come from its file name).
    t0 = time.perf_counter()
    if scan.texts:
        load_dictionary(directory)  # from the index's cache, once for learning words and for indexing
    parsed: dict[str, list[Passage]] = {}
    entries: dict[str, FileEntry] = {}
    notices: list[str] = []
    to_parse = scan.added + scan.updated + list(scan.renamed)
    for n, path in enumerate(to_parse, 1):
        text = scan.texts.pop(path)  # the passages hold what is indexed of it: the whole text goes
        note = parse_note(path, text.text, text.warnings)
        notices.extend(f"{path}: {warning}" for warning in note.warnings)
        date = note_date(note.date)
        passages = answers(passages_of(note))
        parsed[path] = [replace(p, date=date) for p in passages] if date else passages
        entries[path] = FileEntry(scan.hashes[path], tuple(learn_words(note.text)), len(parsed[path]),
                                  tuple(learn_glossary(note.text)))
        if progress:
            progress("read", n, len(to_parse))
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
    whoosh_generation, passage_count = keyword.write(
        folder, previous_folder if incremental else None, additions, deleted if incremental else [],
        Analyzer(words, directory), progress)
    timings["keyword"] = time.perf_counter() - t0

    # Vectors: the committed rows of unchanged files are carried over, the new passages' looked up or embedded.
    t0 = time.perf_counter()
    fingerprint, embedder = embedding.fingerprint_of(model, embedder)
    old = embedding.previous_vectors(previous_folder, fingerprint)
    kept: list[int] = []
    if incremental and old is not None:
        kept = embedding.rows_kept(old, deleted)
    elif incremental:
        additions = keyword.stored_passages(previous_folder, scan.unchanged) + additions
    try:
        vector_index, embedded = embedding.embed(additions, old, kept, model, fingerprint, embedder, progress,
                                                 checkpoint)
    except BaseException:
        with contextlib.suppress(OSError):
            checkpoint.flush()  # the vectors embedded so far: the next run goes on from them
        raise
    if vector_index.passage_count != passage_count:
        raise RuntimeError(f"vectors for {vector_index.passage_count} passages, not {passage_count}, in {folder}")
    checksum = vectors.save(folder, vector_index)
    timings["embed"] = time.perf_counter() - t0

    manifest = Manifest(
        generation=generation, model=model, fingerprint=vector_index.fingerprint, files=entries, words=words,
        vectors_sha256=checksum, whoosh_generation=whoosh_generation, passages=passage_count,
        roots=roots, exclude=exclude, resolved_roots=scan.folders,
        skipped={s.path: s.reason for s in scan.skipped}, created=time.time(), format=INDEX_FORMAT,
        glossary=merge_glossaries(entry.glossary for entry in entries.values()),
    )
    return manifest, BuildReport(
        generation, added=len(scan.added), updated=len(scan.updated), removed=len(scan.removed),
        unchanged=len(scan.unchanged), renamed=len(scan.renamed), passages=passage_count, embedded=embedded,
        resumed=checkpoint.resumed, changed=True, timings=timings, warnings=(*checkpoint.problems, *notices),
    )
