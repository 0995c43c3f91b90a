"""The vectors of a new generation: rows carried from the committed one, texts looked up by content, the rest embedded.

A passage has one row per text it is embedded as (Passage.embed_texts: one
per part of a joined passage), or one empty row when it has none (code).
A context text already embedded by the same model keeps its vector, so an
update embeds only passages whose text (with its headings) is new; the model
is loaded only when something must be embedded. The demo index of the bundled
notes takes their vectors under the default model from the package
(bundled_vectors.py).

Embedding is bounded for any note under the size cap: a note embeds at most
MAX_TEXTS_PER_NOTE texts and one line of it at most MAX_TEXTS_PER_LINE (a
passage's own text before the runs of its sentences, in reading order). The
largest notes of the corpora at hand make 1,133 texts, and 17 on one line; a
2 MB note of one line made 19,449, one of 100,000 table rows 100,000. What is
cut gets no vector (keyword search still finds it), and the run says how much
(`cut`, told as a warning by the builder).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from corpus.errors import VectorIndexError
from corpus.model import Passage
from indexer import bundled_vectors, vectors
from indexer.checkpoint import Checkpoint
from indexer.embedders import Embedder, known_fingerprint, load_embedder

# Told (stage, done, total) as the work goes: stage is "read" (notes), "keyword" or "embed" (passages).
# It may raise to stop the run: nothing is committed, and the vectors embedded so far are kept (checkpoint.py).
Progress = Callable[[str, int, int], None]
EMBED_BATCH = 64
MAX_TEXTS_PER_NOTE = 4_000
MAX_TEXTS_PER_LINE = 64


def texts_to_embed(passages: Sequence[Passage], counts: Sequence[int]) -> tuple[list[tuple[int, ...]], dict[str, int]]:
    """Which texts of each passage (indexes into its embed_texts(), of which it has `counts`) are embedded, and how
    many were cut, by note.

    Each note's texts are granted in two passes, each in reading order: every
    passage's own text first, then the runs of its sentences, while the note has
    fewer than MAX_TEXTS_PER_NOTE and the passage's first line fewer than
    MAX_TEXTS_PER_LINE. A note's grant depends on its own passages only, so an
    update embeds what a rebuild would.
    """
    granted: list[list[int]] = [[] for _ in passages]
    by_note: Counter = Counter()
    by_line: Counter = Counter()
    for first_pass in (True, False):
        for n, passage in enumerate(passages):
            parts = range(min(counts[n], 1)) if first_pass else range(1, counts[n])
            for part in parts:
                line = (passage.path, passage.region, passage.line_start)
                if by_note[passage.path] >= MAX_TEXTS_PER_NOTE or by_line[line] >= MAX_TEXTS_PER_LINE:
                    break
                granted[n].append(part)
                by_note[passage.path] += 1
                by_line[line] += 1
    cut: Counter = Counter()
    for n, passage in enumerate(passages):
        if len(granted[n]) < counts[n]:
            cut[passage.path] += counts[n] - len(granted[n])
    return [tuple(parts) for parts in granted], dict(cut)


def fingerprint_of(model: str, embedder: Embedder | None) -> tuple[str, Embedder | None]:
    """The fingerprint of `model`, and its embedder when it had to be loaded to know it."""
    fingerprint = embedder.fingerprint() if embedder else known_fingerprint(model)
    if fingerprint is None:
        embedder = load_embedder(model)
        fingerprint = embedder.fingerprint()
    return fingerprint, embedder


def previous_vectors(previous_folder: str | None, fingerprint: str) -> vectors.VectorIndex | None:
    """The committed generation's vectors when they were made by `fingerprint`, else None."""
    if previous_folder is None:
        return None
    try:
        # Checked against its checksum when the build opened the generation, under the same writer lock.
        old = vectors.load(previous_folder, verify=False)
    except VectorIndexError:
        return None
    return old if old.fingerprint == fingerprint else None


def rows_kept(old: vectors.VectorIndex, deleted_files: list[str]) -> list[int]:
    """The rows of `old` whose passages' files are not among `deleted_files`."""
    gone = set(deleted_files)
    return [row for row, passage_id in enumerate(old.ids) if _path_of(passage_id) not in gone]


def _path_of(passage_id: str) -> str:
    """The file of a passage id (`path:start-end#piece`)."""
    return passage_id.rsplit(":", 1)[0]


def embed(passages: Sequence[Passage], old: vectors.VectorIndex | None, kept: list[int], model: str,
          fingerprint: str, embedder: Embedder | None, progress: Progress | None,
          checkpoint: Checkpoint | None = None, shipped: bool = False,
          ) -> tuple[vectors.VectorIndex, int, dict[str, int]]:
    """The vectors of rows `kept` of `old`, then of `passages`; how many distinct texts were embedded now; and how
    many texts of each note were cut (texts_to_embed).

    A context text already embedded by the same model (a row of `old`, shipped
    with the package when `shipped` (bundled_vectors), or in the `checkpoint` of
    a run that never committed) keeps its vector; each
    batch embedded now is added to the checkpoint (the caller flushes it). A
    passage with no context text (a code block) gets no vector: an all-zero row
    with the empty key. The embedder is loaded only when some text must be
    embedded.
    Memory: the texts are made again a batch at a time rather than held, and
    each vector goes straight into its row of the one matrix.
    """
    ids: list[str] = []
    keys: list[str] = []
    where: list[tuple[int, int]] = []  # each new row's passage (index in `passages`) and text (index in it)
    text_keys = [[vectors.content_key(fingerprint, text) for text in passage.embed_texts()] for passage in passages]
    granted, cut = texts_to_embed(passages, [len(parts) for parts in text_keys])
    for n, passage in enumerate(passages):
        passage_id = passage.id
        for part in granted[n]:
            ids.append(passage_id)
            keys.append(text_keys[n][part])
            where.append((n, part))
        if not granted[n]:
            ids.append(passage_id)
            keys.append("")
            where.append((n, -1))
    start = len(kept)
    reuse: dict[str, np.ndarray] = {}
    if old is not None:
        rows = {key: i for i, key in enumerate(old.keys) if key}
        reuse = {key: np.array(old.vectors[rows[key]]) for key in set(keys) if key in rows}
    if shipped:
        reuse.update(bundled_vectors.known(fingerprint, (key for key in set(keys) if key and key not in reuse)))
    if old is not None:
        dim = old.vectors.shape[1]
    elif reuse:
        dim = len(next(iter(reuse.values())))
    else:
        embedder = embedder or load_embedder(model)  # its width, and surely something to embed
        dim = embedder.dim
    if checkpoint is not None:
        reuse.update(checkpoint.load((key for key in keys if key and key not in reuse), dim))
    first_row: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key and key not in reuse:
            first_row.setdefault(key, i)
    missing = list(first_row.values())
    if embedder is None and missing:
        embedder = load_embedder(model)
    matrix = np.zeros((start + len(keys), dim), dtype=np.float32)
    if kept:
        matrix[:start] = old.vectors[kept]
    for batch_start in range(0, len(missing), EMBED_BATCH):
        batch = missing[batch_start:batch_start + EMBED_BATCH]
        encoded = embedder.encode([passages[where[i][0]].embed_texts()[where[i][1]] for i in batch])
        matrix[[start + i for i in batch]] = encoded
        if checkpoint is not None:
            checkpoint.add([keys[i] for i in batch], encoded)
        if progress:
            progress("embed", batch_start + len(batch), len(missing))
    for i, key in enumerate(keys):
        if key:
            found = reuse.get(key)
            if found is not None:
                matrix[start + i] = found
            elif first_row[key] != i:
                matrix[start + i] = matrix[start + first_row[key]]
    all_ids = tuple(old.ids[row] for row in kept) + tuple(ids)
    all_keys = tuple(old.keys[row] for row in kept) + tuple(keys)
    return vectors.VectorIndex(all_ids, all_keys, matrix, model, fingerprint), len(missing), cut
