"""Build or update an index: files → passages → keyword index + vectors → new generation.

Only what changed is redone: a file whose content hash is unchanged is not
decoded or parsed again, and a passage whose text (with its context) is
unchanged keeps its vector. Everything is written into a new generation
folder; the manifest that names it is written last. An update adds a
segment to the keyword index; once deleted passages would be more than
MERGE_DELETED of it, or it has MAX_SEGMENTS segments, it is rebuilt into one
instead, so its BM25 statistics stay those of a full rebuild up to that share.
(Rebuilt, not merged by Whoosh: a merge sums the lossy one-byte field lengths
of its documents, so its statistics would drift from a full rebuild's.)
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from whoosh.index import EmptyIndexError

from corpus.decoding import Decoded, decode
from corpus.markdown import passages_of
from corpus.model import Passage
from corpus.reading import Skipped, find_note_files, parse_note, read_bytes
from indexer import keyword, vectors
from indexer.analysis import load_dictionary
from indexer.dictionary import learn_glossary, learn_words, merge, merge_glossaries
from indexer.embedders import DEFAULT_MODEL, Embedder, known_fingerprint, load_embedder
from indexer.files import fsync_tree, private_files, write_errors
from indexer.generations import (
    INDEX_FORMAT,
    MANIFEST,
    FileEntry,
    Manifest,
    MissingNotes,
    NoIndex,
    commit,
    committed_generations,
    generation_folder,
    next_generation,
    read_manifest,
    remove_generations,
    writer_lock,
)

Progress = Callable[[str, int, int], None]
# How a damaged Whoosh table of contents or segment fails to open (it is unpickled and unpacked).
_DAMAGE_ERRORS = (OSError, EOFError, ValueError, KeyError, IndexError, AttributeError, TypeError, struct.error,
                  pickle.UnpicklingError, EmptyIndexError, vectors.VectorIndexError)
EMBED_BATCH = 64
# The keyword index is rebuilt into one segment once deleted passages exceed this share of it,
MERGE_DELETED = 0.05
# or once it has this many segments (each search reads every segment).
MAX_SEGMENTS = 8


@dataclass(frozen=True)
class BuildReport:
    """What one `index` run did; `warnings` says what was wrong with the index it found."""

    generation: int
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    renamed: int = 0
    passages: int = 0
    embedded: int = 0
    skipped: tuple[Skipped, ...] = ()
    changed: bool = True
    timings: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        """`added N, updated M, removed K, unchanged U` (and `, renamed R` when some were)."""
        line = f"added {self.added}, updated {self.updated}, removed {self.removed}, unchanged {self.unchanged}"
        if self.renamed:
            line += f", renamed {self.renamed}"
        return line

    def line(self) -> str:
        """The one-line account `index` prints."""
        if not self.changed:
            return f"no change: {self.summary()} ({self.passages} passages, generation {self.generation})"
        seconds = self.timings.get("total", 0.0)
        return (f"{self.summary()} — {self.passages} passages, {self.embedded} embedded, "
                f"generation {self.generation} ({seconds:.1f} s)")


@dataclass
class _Scan:
    """The note files found now, compared with the committed generation.

    `texts` holds the decoded text of the files that must be parsed (added,
    updated, renamed); unchanged files are hashed only.
    """

    hashes: dict[str, str]
    texts: dict[str, Decoded]
    skipped: list[Skipped]
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: list[str]
    renamed: dict[str, str]  # new path → old path

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.renamed)


def build(paths: Sequence[str] | None, directory: str, *, model: str | None = None,
          exclude: Iterable[str] | None = None, progress: Progress | None = None, wait: float = 30.0,
          embedder: Embedder | None = None) -> BuildReport:
    """Index the notes under `paths` into `directory`, incrementally; returns what was done.

    `paths`, `model` and `exclude` left as None are what the index was built
    with (a new index: no default paths, the default model, no exclusions), so
    updating an index needs none of them again.
    Raises IndexBusy when another indexer holds the index for more than `wait`
    seconds, and MissingNotes when there are no paths or the index's own are gone.
    """
    directory = os.path.abspath(directory)
    started = time.perf_counter()
    with write_errors(directory, os.path.join(directory, MANIFEST)), private_files(directory), \
            writer_lock(directory, wait):
        current, warnings = _base_generation(directory)
        paths, model, exclude = _settings(current, paths, model, exclude)
        reread = current is not None and current.format != INDEX_FORMAT
        if reread:
            warnings.append("the index was made by another version of notesearch: re-reading every note")
        scan = _scan(paths, exclude, None if reread else current)
        stale_model = current is not None and known_fingerprint(model) not in (None, current.fingerprint)
        if current and current.model == model and not (reread or stale_model or scan.changed):
            return BuildReport(current.generation, unchanged=len(scan.unchanged), passages=current.passages,
                               skipped=tuple(scan.skipped), changed=False, warnings=tuple(warnings),
                               timings={"total": time.perf_counter() - started})
        try:
            report = _build_generation(directory, current, scan, model, paths, exclude, progress, embedder, started)
        except OSError:
            _discard_uncommitted(directory)  # a half-written generation (of a full disk, say) goes at once
            raise
        return replace(report, warnings=(*warnings, *report.warnings))


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


def _base_generation(directory: str) -> tuple[Manifest | None, list[str]]:
    """The newest committed generation that is intact, and what was wrong with newer ones.

    Folders of runs that never committed are removed here (under the writer lock).
    """
    warnings: list[str] = []
    try:
        top: Manifest | None = read_manifest(directory)
    except NoIndex as error:
        top = None
        if os.path.exists(os.path.join(directory, MANIFEST)):
            warnings.append(str(error))
    older = [m for m in committed_generations(directory) if top is None or m.generation < top.generation]
    candidates = ([top] if top else []) + older
    base = None
    for manifest in candidates:
        problem = _damage(directory, manifest)
        if problem is None:
            base = manifest
            if warnings:
                warnings.append(f"building on generation {manifest.generation}")
            break
        warnings.append(f"index generation {manifest.generation} is damaged ({problem})")
    # Keep what a reader may open: the committed generation and the one before it (or the intact
    # one we build on). A run killed after its commit may have left an older one behind.
    keep = {m.generation for m in candidates[:2]} | ({base.generation} if base else set())
    remove_generations(directory, keep)
    if base is None and warnings:
        warnings.append("rebuilding the index from scratch")
    return base, warnings


def _damage(directory: str, manifest: Manifest) -> str | None:
    """What is wrong with a committed generation's files, or None when they match its manifest."""
    folder = os.path.join(directory, generation_folder(manifest.generation))
    try:
        ix = keyword.open_keyword_index(os.path.join(folder, "keyword"), directory)
        try:
            if ix.latest_generation() != manifest.whoosh_generation or ix.doc_count() != manifest.passages:
                return "the keyword index does not match the manifest"
        finally:
            ix.close()
        stored = vectors.load(folder, verify=True)
    except _DAMAGE_ERRORS as error:
        return f"{type(error).__name__}: {error}"
    if len(stored.ids) != manifest.passages:
        return "the vectors do not match the manifest"
    return None


def _settings(current: Manifest | None, paths: Sequence[str] | None, model: str | None,
              exclude: Iterable[str] | None) -> tuple[Sequence[str], str, tuple[str, ...]]:
    """The paths, model and exclusions of this run: those given, else those of the committed index."""
    if paths is None:
        if current is None or not current.roots:
            raise MissingNotes("no notes to index: give the files or folders to index")
        gone = [root for root in current.roots if not os.path.exists(root)]
        if gone:
            # Indexing the rest would remove every note of the missing folder from the index.
            raise MissingNotes(f"{gone[0]}, which this index was built from, is gone: "
                               "give the files or folders to index (nothing was indexed)")
        paths = current.roots
    model = model or (current.model if current else DEFAULT_MODEL)
    exclude = tuple(exclude) if exclude is not None else (current.exclude if current else ())
    return paths, model, exclude


def _scan(paths: Sequence[str], exclude: tuple[str, ...], current: Manifest | None) -> _Scan:
    files, skipped = find_note_files(paths, exclude)
    old = current.files if current else {}
    hashes: dict[str, str] = {}
    texts: dict[str, Decoded] = {}
    for file in files:
        try:
            content = read_bytes(file)
            digest = hashlib.sha256(content).hexdigest()
            if file.path not in old or old[file.path].sha256 != digest:
                texts[file.path] = decode(content)
        except (OSError, ValueError) as error:
            skipped.append(Skipped(file.path, _reason(error)))
            continue
        hashes[file.path] = digest
    removed = [path for path in old if path not in hashes]
    unchanged = [path for path, h in hashes.items() if path in old and old[path].sha256 == h]
    updated = [path for path, h in hashes.items() if path in old and old[path].sha256 != h]
    fresh = [path for path in hashes if path not in old]
    by_hash: dict[str, str] = {}
    for path in removed:
        by_hash.setdefault(old[path].sha256, path)
    renamed: dict[str, str] = {}
    for path in fresh:
        source = by_hash.pop(hashes[path], None)
        if source:
            renamed[path] = source
    added = [path for path in fresh if path not in renamed]
    removed = [path for path in removed if path not in renamed.values()]
    return _Scan(hashes, texts, skipped, added, updated, removed, unchanged, renamed)


def _reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error)


def _build_generation(directory: str, current: Manifest | None, scan: _Scan, model: str, paths: Sequence[str],
                      exclude: tuple[str, ...], progress: Progress | None, embedder: Embedder | None,
                      started: float) -> BuildReport:
    timings: dict[str, float] = {}
    generation = next_generation(directory, current)
    folder = os.path.join(directory, generation_folder(generation))
    os.makedirs(folder)

    # Parse the notes that are new, changed or renamed (a note's title may come from its file name).
    t0 = time.perf_counter()
    if scan.texts:
        load_dictionary(directory)  # from the index's cache, once for learning words and for indexing
    parsed: dict[str, list[Passage]] = {}
    entries: dict[str, FileEntry] = {}
    notices: list[str] = []
    for path in scan.added + scan.updated + list(scan.renamed):
        note = parse_note(path, scan.texts[path].text, scan.texts[path].warnings)
        notices.extend(f"{path}: {warning}" for warning in note.warnings)
        parsed[path] = passages_of(note)
        entries[path] = FileEntry(scan.hashes[path], tuple(learn_words(note.text)), len(parsed[path]),
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
    keyword_dir = os.path.join(folder, "keyword")
    deleted = scan.updated + scan.removed + list(scan.renamed.values())
    incremental = (current is not None and current.words == words and current.format == INDEX_FORMAT
                   and not _rebuild_due(os.path.join(previous_folder, "keyword"), directory, deleted))
    if incremental:
        _link_copy(os.path.join(previous_folder, "keyword"), keyword_dir)
        ix = keyword.open_keyword_index(keyword_dir, directory)
    else:
        ix = keyword.create(keyword_dir, words, directory)
    carried = [] if incremental else _stored_passages(previous_folder, directory, scan.unchanged)
    writer = ix.writer(procs=1, limitmb=256)
    try:
        for path in deleted if incremental else ():
            writer.delete_by_term("file", path)
        additions: list[Passage] = [p for path in sorted(parsed) for p in parsed[path]]
        additions += carried
        for n, passage in enumerate(additions, 1):
            writer.add_document(**keyword.document(passage))
            if progress and n % 200 == 0:
                progress("keyword", n, len(additions))
        writer.commit(merge=False)
    except BaseException:
        writer.cancel()
        raise
    fsync_tree(keyword_dir)
    whoosh_generation = ix.latest_generation()
    passage_count = ix.doc_count()
    ix.close()
    timings["keyword"] = time.perf_counter() - t0

    # Vectors: the committed rows of unchanged files are carried over, the new passages' looked up or embedded.
    t0 = time.perf_counter()
    fingerprint = embedder.fingerprint() if embedder else known_fingerprint(model)
    if fingerprint is None:
        embedder = load_embedder(model)
        fingerprint = embedder.fingerprint()
    old = _previous_vectors(previous_folder, fingerprint)
    kept: list[int] = []
    if incremental and old is not None:
        gone = set(deleted)
        kept = [row for row, passage_id in enumerate(old.ids) if _path_of(passage_id) not in gone]
    elif incremental:
        additions = _stored_passages(previous_folder, directory, scan.unchanged) + additions
    vector_index, embedded = _embed(additions, old, kept, model, fingerprint, embedder, progress)
    if len(vector_index.ids) != passage_count:
        raise RuntimeError(f"{len(vector_index.ids)} vectors for {passage_count} passages in {keyword_dir}")
    checksum = vectors.save(folder, vector_index)
    timings["embed"] = time.perf_counter() - t0

    manifest = Manifest(
        generation=generation, model=model, fingerprint=vector_index.fingerprint, files=entries, words=words,
        vectors_sha256=checksum, whoosh_generation=whoosh_generation, passages=passage_count,
        roots=tuple(os.path.abspath(p) for p in paths), exclude=exclude,
        skipped={s.path: s.reason for s in scan.skipped}, created=time.time(), format=INDEX_FORMAT,
        glossary=merge_glossaries(entry.glossary for entry in entries.values()),
    )
    commit(directory, manifest, current.generation if current else None)
    timings["total"] = time.perf_counter() - started
    return BuildReport(
        generation, added=len(scan.added), updated=len(scan.updated), removed=len(scan.removed),
        unchanged=len(scan.unchanged), renamed=len(scan.renamed), passages=passage_count, embedded=embedded,
        skipped=tuple(scan.skipped), changed=True, timings=timings, warnings=tuple(notices),
    )


def _link_copy(source: str, target: str) -> None:
    """Copy a Whoosh folder by hard links (its segment files are never rewritten)."""
    os.makedirs(target)
    for name in os.listdir(source):
        if name.endswith(".lock") or "WRITELOCK" in name:
            continue
        src, dst = os.path.join(source, name), os.path.join(target, name)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)


def _rebuild_due(keyword_dir: str, cache_dir: str, deleting: list[str]) -> bool:
    """True when the committed keyword index should be rebuilt rather than updated.

    Deleted passages still count in BM25 statistics until the index is
    rebuilt: it is, once they would be more than MERGE_DELETED of it after
    deleting the passages of the files `deleting`, or once it has MAX_SEGMENTS.
    """
    ix = keyword.open_keyword_index(keyword_dir, cache_dir)
    try:
        with ix.searcher() as searcher:
            segments = len(searcher.reader().leaf_readers())
            stale = searcher.doc_count_all() - searcher.doc_count()
            stale += sum(1 for path in deleting for _doc in searcher.document_numbers(file=path))
            total = searcher.doc_count_all()
    finally:
        ix.close()
    return segments >= MAX_SEGMENTS or stale > MERGE_DELETED * max(1, total)


def _stored_passages(previous_folder: str | None, cache_dir: str, paths: list[str]) -> list[Passage]:
    """The passages the committed keyword index holds for `paths`, in its order."""
    if not previous_folder or not paths:
        return []
    wanted = set(paths)
    ix = keyword.open_keyword_index(os.path.join(previous_folder, "keyword"), cache_dir)
    with ix.searcher() as searcher:
        found = [keyword.from_record(doc["record"]) for doc in searcher.all_stored_fields() if doc["file"] in wanted]
    ix.close()
    return found


def _path_of(passage_id: str) -> str:
    """The file of a passage id (`path:start-end#piece`)."""
    return passage_id.rsplit(":", 1)[0]


def _previous_vectors(previous_folder: str | None, fingerprint: str) -> vectors.VectorIndex | None:
    """The committed generation's vectors when they were made by `fingerprint`, else None."""
    if previous_folder is None:
        return None
    try:
        # Checked against its checksum by _base_generation under the same writer lock.
        return vectors.load(previous_folder, fingerprint, verify=False)
    except vectors.VectorIndexError:
        return None


def _embed(passages: list[Passage], old: vectors.VectorIndex | None, kept: list[int], model: str, fingerprint: str,
           embedder: Embedder | None, progress: Progress | None) -> tuple[vectors.VectorIndex, int]:
    """The vectors of rows `kept` of `old`, then of `passages`; and how many distinct texts were embedded now.

    A context text already embedded by the same model (a row of `old`) keeps
    its vector; a passage with no context text (a code block) gets no vector:
    an all-zero row with the empty key. The embedder is loaded only when some
    text must be embedded.
    """
    texts = [p.context_text() for p in passages]
    keys = [vectors.content_key(fingerprint, text) if text else "" for text in texts]
    reuse: dict[str, np.ndarray] = {}
    if old is not None:
        rows = {key: i for i, key in enumerate(old.keys) if key}
        reuse = {key: np.array(old.vectors[rows[key]]) for key in set(keys) if key in rows}
    first_row: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key and key not in reuse:
            first_row.setdefault(key, i)
    missing = list(first_row.items())
    if embedder is None and (missing or old is None):
        embedder = load_embedder(model)
    fresh: dict[str, np.ndarray] = {}
    for start in range(0, len(missing), EMBED_BATCH):
        batch = missing[start:start + EMBED_BATCH]
        encoded = embedder.encode([texts[i] for _key, i in batch])
        fresh.update({key: encoded[j] for j, (key, _i) in enumerate(batch)})
        if progress:
            progress("embed", start + len(batch), len(missing))
    dim = old.vectors.shape[1] if old is not None else embedder.dim
    matrix = np.zeros((len(kept) + len(passages), dim), dtype=np.float32)
    if kept:
        matrix[:len(kept)] = old.vectors[kept]
    for i, key in enumerate(keys, len(kept)):
        if key:
            matrix[i] = fresh[key] if key in fresh else reuse[key]
    ids = tuple(old.ids[row] for row in kept) + tuple(p.id for p in passages)
    all_keys = tuple(old.keys[row] for row in kept) + tuple(keys)
    return vectors.VectorIndex(ids, all_keys, matrix, model, fingerprint), len(missing)
