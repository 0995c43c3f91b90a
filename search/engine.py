"""Open an index and answer queries: keyword, semantic or hybrid hits.

    index = open_index("~/.cache/notesearch/index")
    result = search(index, "自监督 视觉", mode="hybrid", k=10)

Pieces of one long paragraph share its line span; a ranking keeps the best
piece of each span, so a result list never shows the same lines twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from corpus.model import Passage
from indexer import keyword as keyword_index
from search import keyword
from search.fusion import DEFAULT_FUSION, FusionConfig, exact_keys, fuse_hybrid, route
from search.index import NoteIndex
from search.query import parse
from search.results import MODES, Hit, Mode, SearchResult
from search.snippets import match_spans, snippet


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


def search(index: NoteIndex, query: str, mode: Mode = "hybrid", k: int = 10,
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
