"""Open an index and answer queries: keyword, semantic or hybrid hits.

    index = open_index("~/.cache/notesearch/index")
    result = search(index, "自监督 视觉", mode="hybrid", k=10)

Pieces of one long paragraph share its line span; a ranking keeps the best
piece of each span, so a result list never shows the same lines twice.
"""

from __future__ import annotations

import os
import pickle
import struct
import time
from dataclasses import dataclass, field

import numpy as np
from whoosh.index import EmptyIndexError

from corpus.model import Passage
from indexer import keyword as keyword_index
from indexer import vectors
from indexer.analysis import Analyzer
from indexer.embedders import Embedder, load_embedder
from indexer.generations import INDEX_FORMAT, Manifest, NoIndex, committed_generations, read_manifest
from search import keyword
from search.fusion import DEFAULT_FUSION, FusionConfig, exact_keys, fuse_hybrid, route
from search.query import parse
from search.scorer import ArrayScorer
from search.snippets import match_spans, snippet

MODES = ("hybrid", "keyword", "semantic")
# Passages an open index keeps after reading them (about 1 KB each).
PASSAGE_CACHE = 20_000


@dataclass(frozen=True)
class Hit:
    """One answer: a passage, its place and score in each ranking, and a marked snippet.

    `score` is the fused score in hybrid mode, else the score of the one ranking;
    `vector_score` is a cosine similarity; `exact` says the passage holds the whole query;
    `reasons` say why a related paper was chosen.
    """

    passage: Passage
    rank: int
    score: float
    keyword_rank: int | None
    vector_rank: int | None
    keyword_score: float | None
    vector_score: float | None
    snippet: str
    matched: tuple[str, ...] = ()
    exact: bool = False
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchResult:
    """The hits of one query; `route` says how hybrid mode weighed the two rankings."""

    query: str
    mode: str
    hits: tuple[Hit, ...]
    took_ms: float
    warnings: tuple[str, ...] = field(default=())
    route: str = ""


class NoteIndex:
    """A committed index generation opened for searching (keyword index, vectors, analyzer).

    The embedder loads on first semantic use, so a keyword search never pays for it.
    """

    def __init__(self, directory: str, embedder: Embedder | None = None):
        self.directory = os.path.abspath(os.path.expanduser(directory))
        self.warnings: list[str] = []
        self.manifest, self._ix, self._vectors = self._open_generation()
        if self.manifest.format != INDEX_FORMAT:
            self.warnings.append("the index was built by an older notesearch: run 'notesearch index' again "
                                 "to search link targets and the notes' glossary too")
        self.analyzer = Analyzer(self.manifest.words, self.directory)
        self.compiler = keyword.QueryCompiler(self.analyzer, keyword.Glossary(self.manifest.glossary))
        self._searcher = self._ix.searcher(weighting=keyword.WEIGHTING)
        self.scorer = ArrayScorer(self._searcher, K1=keyword.WEIGHTING.K1, B=keyword.WEIGHTING.B)
        self._embedder = embedder
        self._embedder_checked = False
        self._passages: dict[str, Passage | None] = {}

    def _open_generation(self) -> tuple[Manifest, object, vectors.VectorIndex]:
        """The newest intact generation: its manifest, keyword index and (verified) vectors."""
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise NoIndex(f"no index at {self.directory} (a file, not a folder)")
        try:
            newest = read_manifest(self.directory)
        except NoIndex:
            if not os.path.isdir(self.directory):
                raise
            newest = None
        candidates = ([newest] if newest else []) + [m for m in committed_generations(self.directory)
                                                      if not newest or m.generation < newest.generation]
        problems = []
        for manifest in candidates:
            folder = os.path.join(self.directory, manifest.folder)
            try:
                ix = keyword_index.open_keyword_index(os.path.join(folder, "keyword"), self.directory)
                stored = vectors.load(folder)
                if ix.latest_generation() != manifest.whoosh_generation or len(stored.ids) != manifest.passages:
                    ix.close()
                    raise ValueError("its keyword index or vectors do not match its manifest")
                if manifest is not newest:
                    self.warnings.append(f"the newest index generation is damaged; answering from generation {manifest.generation}")
                return manifest, ix, stored
            except (OSError, EmptyIndexError, ValueError, EOFError, KeyError, IndexError, TypeError,
                    struct.error, pickle.UnpicklingError, vectors.VectorIndexError) as error:
                problems.append(f"generation {manifest.generation}: {error}")
        detail = f" ({'; '.join(problems)})" if problems else ""
        raise NoIndex(f"no usable index at {self.directory}{detail}")

    @property
    def folder(self) -> str:
        return os.path.join(self.directory, self.manifest.folder)

    def vector_index(self) -> vectors.VectorIndex:
        """The vectors of the opened generation (memory-mapped, checked when the index opened)."""
        return self._vectors

    def embedder(self) -> Embedder:
        """The index's embedder, checked once against the fingerprint its vectors were made with."""
        if not self._embedder_checked:
            embedder = self._embedder or load_embedder(self.manifest.model)
            fingerprint = embedder.fingerprint()
            if fingerprint != self.manifest.fingerprint:
                raise vectors.VectorIndexError(
                    f"the index was built with {self.manifest.fingerprint}, not {fingerprint}: "
                    "run 'notesearch index' again")
            self._embedder, self._embedder_checked = embedder, True
        return self._embedder

    def passage(self, passage_id: str) -> Passage | None:
        """The stored passage with this id, or None (remembered: a warm index answers from memory)."""
        if passage_id not in self._passages:
            if len(self._passages) >= PASSAGE_CACHE:
                self._passages.clear()
            self._passages[passage_id] = self._read_passage(passage_id)
        return self._passages[passage_id]

    def _read_passage(self, passage_id: str) -> Passage | None:
        reader = self._searcher.reader()
        if ("id", passage_id) not in reader:
            return None
        matcher = reader.postings("id", passage_id)  # skips deleted documents
        if not matcher.is_active():
            return None
        return keyword_index.from_record(self._searcher.stored_fields(matcher.id())["record"])

    def holds_words(self, words: list[str]) -> bool:
        """True when the notes hold every term of `words`, or all the parts of a compound (`self-supervised`),
        in a title, author list, section, tag, body or link."""
        reader = self.searcher.reader()

        def held(term: str) -> bool:
            return any(reader.doc_frequency(name, term) for name in keyword.BOOSTS)

        groups = [[token.text for token in group]
                  for word in words for group in keyword.term_groups(self.analyzer, word)]
        return bool(groups) and all(held(whole) or (parts and all(map(held, parts))) for whole, *parts in groups)

    def passages(self) -> list[Passage]:
        """Every passage of the index."""
        return [keyword_index.from_record(doc["record"]) for doc in self._searcher.all_stored_fields()]

    @property
    def searcher(self):
        return self._searcher

    def close(self) -> None:
        self._searcher.close()
        self._ix.close()

    def __enter__(self) -> NoteIndex:  # noqa: PYI034 (Python 3.10 has no typing.Self)
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_index(directory: str, embedder: Embedder | None = None) -> NoteIndex:
    """The committed index in `directory`; raises NoIndex with a message for the user."""
    return NoteIndex(directory, embedder)


def _span(passage: Passage) -> tuple[str, int, int]:
    return passage.path, passage.line_start, passage.line_end


@dataclass
class _Ranked:
    passage: Passage
    rank: int
    score: float


# A long paragraph is indexed in pieces; its other pieces add this share of their keyword score to its best one.
OTHER_PIECES = 0.5


def _collapse(items: list[tuple[Passage, float]], others: float = 0.0) -> dict[tuple, _Ranked]:
    """Best-first passages → best-first spans, each scored by its best piece plus `others` × the rest.

    Each span keeps its best piece. For keyword hits `others` is OTHER_PIECES:
    a paragraph that holds one query word in one piece and another word in the
    next holds both words, as the reader sees it.
    """
    best: dict[tuple, tuple[Passage, float]] = {}
    total: dict[tuple, float] = {}
    for passage, score in items:
        key = _span(passage)
        best.setdefault(key, (passage, score))
        total[key] = total.get(key, 0.0) + score
    scored = {key: passage_score[1] + others * (total[key] - passage_score[1]) for key, passage_score in best.items()}
    order = sorted(scored, key=lambda key: -scored[key])
    return {key: _Ranked(best[key][0], rank, scored[key]) for rank, key in enumerate(order, 1)}


def keyword_ranking(index: NoteIndex, compiled, limit: int) -> dict[tuple, _Ranked]:
    """Best-first spans for a compiled keyword query."""
    hits = keyword.rank(index.scorer, compiled, limit)
    return _collapse([(keyword_index.from_record(h.record), h.score) for h in hits], OTHER_PIECES)


def vector_ranking(index: NoteIndex, text: str, limit: int, allowed: set[str] | None = None) -> dict[tuple, _Ranked]:
    if not text.strip():
        return {}
    store = index.vector_index()
    query = index.embedder().encode([text])[0]
    rows = store.top(np.asarray(query), limit if allowed is None else len(store.ids))
    items = []
    for row, score in rows:
        passage_id = store.ids[row]
        if allowed is not None and passage_id not in allowed:
            continue
        passage = index.passage(passage_id)
        if passage is not None:
            items.append((passage, score))
        if len(items) >= limit:
            break
    return _collapse(items)


def search(index: NoteIndex, query: str, mode: str = "hybrid", k: int = 10,
           fusion: FusionConfig = DEFAULT_FUSION) -> SearchResult:
    """The top `k` hits for `query` in `mode` (hybrid, keyword or semantic)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    started = time.perf_counter()
    parsed = parse(query)
    warnings = list(index.warnings) + list(parsed.warnings)
    pool = max(50, 5 * k)
    # A plain semantic search needs no keyword query (phrases, fields and exclusions filter vector hits).
    compiled = index.compiler.compile(parsed) if mode != "semantic" or not parsed.is_plain() else None
    kw: dict[tuple, _Ranked] = {}
    vec: dict[tuple, _Ranked] = {}
    if mode in ("keyword", "hybrid"):
        kw = keyword_ranking(index, compiled, pool)
    if mode in ("semantic", "hybrid"):
        allowed = None
        if not parsed.is_plain():
            # Phrases, fields and exclusions filter the vector hits: only which passages match counts.
            searcher = index.searcher
            allowed = ({searcher.stored_fields(int(doc))["id"] for doc in index.scorer.matching(compiled)}
                       if compiled is not None else set())
        vec = vector_ranking(index, " ".join(parsed.words()), pool, allowed)
    if not parsed.text:
        warnings.append("empty query: nothing to search for")
    words = parsed.words()
    how = ""
    exact: set[tuple] = set()
    if mode == "keyword":
        order = [(key, r.score) for key, r in kw.items()]
    elif mode == "semantic":
        order = [(key, r.score) for key, r in vec.items()]
    else:
        found = {**vec, **kw}
        weights = route(parsed.text, [r.passage.text for r in (*vec.values(), *kw.values())], fusion,
                        found=index.holds_words(parsed.words()))
        how = weights.reason
        exact = exact_keys(words, {key: (r.passage.text, r.passage.display_title) for key, r in found.items()})
        order = [(item.key, item.score) for item in fuse_hybrid(list(kw), list(vec), exact, weights, fusion)]
    terms = index.compiler.terms(parsed)
    hits = []
    for rank, (key, score) in enumerate(order[:k], 1):
        kr, vr = kw.get(key), vec.get(key)
        passage = (kr or vr).passage
        spans = match_spans(passage.text, terms, words, index.analyzer)
        matched = tuple(dict.fromkeys(passage.text[a:b] for a, b in spans))
        hits.append(Hit(
            passage=passage, rank=rank, score=float(score),
            keyword_rank=kr.rank if kr else None, vector_rank=vr.rank if vr else None,
            keyword_score=kr.score if kr else None, vector_score=vr.score if vr else None,
            snippet=snippet(passage.text, spans), matched=matched, exact=key in exact,
        ))
    took = (time.perf_counter() - started) * 1000
    return SearchResult(query, mode, tuple(hits), took, tuple(dict.fromkeys(warnings)), how)
