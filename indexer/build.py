"""Build or update an index: files → passages → keyword index + vectors → new generation.

Only what changed is redone: a file whose content hash is unchanged is not
read again, a renamed file is moved without parsing, and a passage whose text
(with its context) is unchanged keeps its vector. Everything is written into
a new generation folder; the manifest that names it is written last.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Sequence

import numpy as np

from corpus.markdown import passages_of
from corpus.model import Passage
from corpus.reading import Skipped, decode, find_note_files, parse_note, read_bytes
from indexer import keyword, vectors
from indexer.dictionary import learn_words, merge
from indexer.embedders import DEFAULT_MODEL, Embedder, load_embedder
from indexer.files import fsync_tree
from indexer.generations import FileEntry, Manifest, NoIndex, commit, next_generation, read_manifest, writer_lock

Progress = Callable[[str, int, int], None]
EMBED_BATCH = 64


@dataclass(frozen=True)
class BuildReport:
    """What one `index` run did."""

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

    def summary(self) -> str:
        line = f"added {self.added}, updated {self.updated}, removed {self.removed}, unchanged {self.unchanged}"
        if self.renamed:
            line += f", renamed {self.renamed}"
        return line


@dataclass
class _Scan:
    """The note files found now, compared with the committed generation."""

    hashes: dict[str, str]
    data: dict[str, bytes]
    skipped: list[Skipped]
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: list[str]
    renamed: dict[str, str]  # new path → old path


def build(paths: Sequence[str], directory: str, *, model: str = DEFAULT_MODEL, exclude: Iterable[str] = (),
          progress: Progress | None = None, wait: float = 30.0, embedder: Embedder | None = None) -> BuildReport:
    """Index the notes under `paths` into `directory`, incrementally; returns what was done."""
    directory = os.path.abspath(directory)
    exclude = tuple(exclude)
    started = time.perf_counter()
    with writer_lock(directory, wait):
        try:
            current: Manifest | None = read_manifest(directory)
        except NoIndex:
            current = None
        if current and not _generation_usable(directory, current):
            current = None
        scan = _scan(paths, exclude, current)
        same_model = current is not None and current.model == model
        if current and same_model and not (scan.added or scan.updated or scan.removed or scan.renamed):
            return BuildReport(current.generation, unchanged=len(scan.unchanged), passages=current.passages,
                               skipped=tuple(scan.skipped), changed=False,
                               timings={"total": time.perf_counter() - started})
        return _build_generation(directory, current, scan, model, paths, exclude, progress, embedder, started)


def _generation_usable(directory: str, manifest: Manifest) -> bool:
    folder = os.path.join(directory, manifest.folder)
    return os.path.isdir(os.path.join(folder, "keyword")) and os.path.isfile(os.path.join(folder, "vectors.json"))


def _scan(paths: Sequence[str], exclude: tuple[str, ...], current: Manifest | None) -> _Scan:
    files, skipped = find_note_files(paths, exclude)
    hashes: dict[str, str] = {}
    data: dict[str, bytes] = {}
    for file in files:
        try:
            content = read_bytes(file)
        except (OSError, ValueError) as error:
            skipped.append(Skipped(file.path, _reason(error)))
            continue
        hashes[file.path] = hashlib.sha256(content).hexdigest()
        data[file.path] = content
    old = current.files if current else {}
    removed = [path for path in old if path not in hashes]
    unchanged = [path for path, h in hashes.items() if path in old and old[path].sha256 == h]
    updated = [path for path, h in hashes.items() if path in old and old[path].sha256 != h]
    fresh = [path for path in hashes if path not in old]
    by_hash = {}
    for path in removed:
        by_hash.setdefault(old[path].sha256, path)
    renamed: dict[str, str] = {}
    for path in fresh:
        source = by_hash.pop(hashes[path], None)
        if source:
            renamed[path] = source
    added = [path for path in fresh if path not in renamed]
    removed = [path for path in removed if path not in renamed.values()]
    return _Scan(hashes, data, skipped, added, updated, removed, unchanged, renamed)


def _reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error)


def _build_generation(directory, current, scan: _Scan, model, paths, exclude, progress, embedder, started):
    timings: dict[str, float] = {}
    generation = next_generation(directory, current)
    folder = os.path.join(directory, f"gen-{generation:06d}")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)

    # Parse the notes that are new or changed; keep the words learned from each file.
    t0 = time.perf_counter()
    parsed: dict[str, list[Passage]] = {}
    entries: dict[str, FileEntry] = {}
    for path in scan.added + scan.updated:
        try:
            note = parse_note(path, decode(scan.data[path]))
        except ValueError as error:
            scan.skipped.append(Skipped(path, str(error)))
            continue
        parsed[path] = passages_of(note)
        entries[path] = FileEntry(scan.hashes[path], tuple(learn_words(note.text)), len(parsed[path]))
    old = current.files if current else {}
    for path in scan.unchanged:
        entries[path] = old[path]
    for path, source in scan.renamed.items():
        entries[path] = old[source]
    entries = dict(sorted(entries.items()))
    words = merge(entry.words for entry in entries.values())
    timings["parse"] = time.perf_counter() - t0

    # Keyword index: update a copy of the committed one, or rebuild when the dictionary changed.
    t0 = time.perf_counter()
    previous_folder = os.path.join(directory, current.folder) if current else None
    keyword_dir = os.path.join(folder, "keyword")
    incremental = current is not None and current.words == words
    if incremental:
        _link_copy(os.path.join(previous_folder, "keyword"), keyword_dir)
        ix = keyword.open_keyword_index(keyword_dir, directory)
    else:
        ix = keyword.create(keyword_dir, words, directory)
    carried = {} if incremental else _stored_passages(previous_folder, directory, scan.unchanged)
    moved = _stored_passages(previous_folder, directory, list(scan.renamed.values()))
    writer = ix.writer(procs=1, limitmb=256)
    try:
        if incremental:
            for path in scan.updated + scan.removed + list(scan.renamed.values()):
                writer.delete_by_term("file", path)
        additions: list[Passage] = [p for path in sorted(parsed) for p in parsed[path]]
        additions += [p for passages in carried.values() for p in passages]
        for new_path, old_path in scan.renamed.items():
            additions += [replace(p, path=new_path) for p in moved.get(old_path, [])]
        for n, passage in enumerate(additions, 1):
            writer.add_document(**keyword.document(passage))
            if progress and n % 200 == 0:
                progress("keyword", n, len(additions))
        writer.commit(optimize=False)
    except BaseException:
        writer.cancel()
        raise
    fsync_tree(keyword_dir)
    whoosh_generation = ix.latest_generation()
    timings["keyword"] = time.perf_counter() - t0

    # Vectors: every passage of the new generation, reusing unchanged rows.
    t0 = time.perf_counter()
    with ix.searcher() as searcher:
        passages = [keyword.from_record(doc["record"]) for doc in searcher.all_stored_fields()]
    ix.close()
    embedder, fingerprint = _embedder_for(model, embedder)
    vector_index, embedded = _embed(passages, current, previous_folder, model, fingerprint, embedder, progress)
    checksum = vectors.save(folder, vector_index)
    timings["embed"] = time.perf_counter() - t0

    manifest = Manifest(
        generation=generation, model=model, fingerprint=vector_index.fingerprint, files=entries, words=words,
        vectors_sha256=checksum, whoosh_generation=whoosh_generation, passages=len(passages),
        roots=tuple(os.path.abspath(p) for p in paths), exclude=exclude,
        skipped={s.path: s.reason for s in scan.skipped}, created=time.time(),
    )
    commit(directory, manifest)
    timings["total"] = time.perf_counter() - started
    return BuildReport(
        generation, added=len(scan.added), updated=len(scan.updated), removed=len(scan.removed),
        unchanged=len(scan.unchanged), renamed=len(scan.renamed), passages=len(passages), embedded=embedded,
        skipped=tuple(scan.skipped), changed=True, timings=timings,
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


def _stored_passages(previous_folder: str | None, cache_dir: str, paths: list[str]) -> dict[str, list[Passage]]:
    """The passages the committed keyword index holds for `paths`, by path."""
    if not previous_folder or not paths:
        return {}
    wanted = set(paths)
    found: dict[str, list[Passage]] = {path: [] for path in paths}
    ix = keyword.open_keyword_index(os.path.join(previous_folder, "keyword"), cache_dir)
    with ix.searcher() as searcher:
        for doc in searcher.all_stored_fields():
            if doc["file"] in wanted:
                found[doc["file"]].append(keyword.from_record(doc["record"]))
    return found


def _embedder_for(model: str, embedder: Embedder | None) -> tuple[Embedder, str]:
    embedder = embedder or load_embedder(model)
    return embedder, embedder.fingerprint()


def _embed(passages: list[Passage], current: Manifest | None, previous_folder: str | None, model: str,
           fingerprint: str, embedder: Embedder, progress: Progress | None) -> tuple[vectors.VectorIndex, int]:
    keys = [vectors.content_key(fingerprint, p.context_text()) for p in passages]
    reuse: dict[str, np.ndarray] = {}
    if current and previous_folder and current.fingerprint == fingerprint:
        try:
            old = vectors.load(previous_folder)
            rows = {key: i for i, key in enumerate(old.keys)}
            reuse = {key: old.vectors[rows[key]] for key in set(keys) if key in rows}
        except vectors.VectorIndexError:
            reuse = {}
    missing = sorted({key: i for i, key in enumerate(keys) if key not in reuse}.items(), key=lambda kv: kv[1])
    fresh: dict[str, np.ndarray] = {}
    for start in range(0, len(missing), EMBED_BATCH):
        batch = missing[start:start + EMBED_BATCH]
        encoded = embedder.encode([passages[i].context_text() for _key, i in batch])
        fresh.update({key: encoded[j] for j, (key, _i) in enumerate(batch)})
        if progress:
            progress("embed", min(start + EMBED_BATCH, len(missing)), len(missing))
    dim = embedder.dim
    matrix = np.zeros((len(passages), dim), dtype=np.float32)
    for i, key in enumerate(keys):
        matrix[i] = fresh[key] if key in fresh else reuse[key]
    index = vectors.VectorIndex(tuple(p.id for p in passages), tuple(keys), matrix, model, fingerprint)
    return index, len(missing)
