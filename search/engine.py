"""Answer a query in named steps: plan, rankings, fusion, hits.

    result = search(index, "自监督 视觉", mode="hybrid", k=10)

is, step by step,

    plan = index.plan("自监督 视觉")               # parsed and analysed once
    lists = rankings(index, plan, "hybrid", k=10)  # a keyword and a vector ranking, best first
    fused = fuse(lists, DEFAULT_FUSION)            # routing, weighted RRF, exact matches first
    found = hits(index, lists, fused, k=10)        # passages with snippets and both ranks

so a caller that tries many fusion settings (bench/quality.py's
cross-validation) computes the rankings of a query once and fuses them under
each setting.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass

from search.compiler import compile_query
from search.fusion import DEFAULT_FUSION, FusionConfig, exact_keys, fuse_hybrid, route
from search.index import NoteIndex
from search.plan import QueryPlan
from search.ranking import Ranking, keyword_ranking, vector_ranking
from search.results import MODES, Hit, Mode, SearchResult
from search.snippets import match_spans, snippet


@dataclass(frozen=True)
class Rankings:
    """The rankings of one query in one mode: keyword first, then vector (either may be absent).

    `found` says the notes hold every word of the query (hybrid mode only; routing reads it).
    """

    plan: QueryPlan
    mode: Mode
    lists: tuple[Ranking, ...]
    found: bool = False

    def of(self, kind: str) -> Ranking | None:
        """The ranking of this kind ("keyword" or "vector"), or None."""
        return next((ranking for ranking in self.lists if ranking.kind == kind), None)


@dataclass(frozen=True)
class Fusion:
    """The order of the answer: (span, score) best first; `exact` spans hold the whole query; `route` says how
    the rankings were weighed (hybrid mode)."""

    order: tuple[tuple[Hashable, float], ...]
    exact: frozenset
    route: str = ""


def pool_size(k: int) -> int:
    """How deep each ranking goes for an answer of `k` hits (fusion needs more than `k` of each)."""
    return max(50, 5 * k)


def rankings(index: NoteIndex, plan: QueryPlan, mode: Mode, k: int = 10) -> Rankings:
    """The keyword and/or vector ranking of a plan, each `pool_size(k)` spans deep."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    pool = pool_size(k)
    # A plain semantic search needs no keyword query (phrases, fields and exclusions filter vector hits).
    compiled = compile_query(plan) if mode != "semantic" or not plan.plain else None
    lists = []
    if mode in ("keyword", "hybrid"):
        lists.append(keyword_ranking(index, compiled, pool))
    if mode in ("semantic", "hybrid"):
        allowed = None
        if not plan.plain:
            # Phrases, fields and exclusions filter the vector hits: only which passages match counts.
            searcher = index.searcher
            allowed = ({searcher.stored_fields(int(doc))["id"] for doc in index.scorer.matching(compiled)}
                       if compiled is not None else set())
        lists.append(vector_ranking(index, plan, pool, allowed))
    found = index.holds_words(plan) if mode == "hybrid" else False
    return Rankings(plan, mode, tuple(lists), found)


def fuse(ranked: Rankings, config: FusionConfig = DEFAULT_FUSION) -> Fusion:
    """The order of the answer: one ranking's own in keyword or semantic mode; in hybrid mode the rankings
    weighed by the query's route, fused, and the spans holding the whole query first."""
    if ranked.mode != "hybrid":
        (only,) = ranked.lists
        return Fusion(tuple((item.key, item.score) for item in only.items), frozenset())
    keyword, vector = ranked.of("keyword"), ranked.of("vector")
    texts = [item.passage.text for item in (*vector.items, *keyword.items)]
    weights = route(ranked.plan.shape, texts, config, found=ranked.found)
    # A span in both rankings is judged by its keyword piece (the piece that holds the words).
    passages = {item.key: item.passage for item in vector.items} | {item.key: item.passage for item in keyword.items}
    exact = exact_keys(ranked.plan.folded_words,
                       {key: (passage.text, passage.display_title) for key, passage in passages.items()})
    fused = fuse_hybrid([ranking.keys() for ranking in ranked.lists],
                        [weights.weight(ranking.kind) for ranking in ranked.lists], exact, config)
    return Fusion(tuple((item.key, item.score) for item in fused), frozenset(exact), weights.reason)


def hits(index: NoteIndex, ranked: Rankings, fused: Fusion, k: int = 10) -> tuple[Hit, ...]:
    """The first `k` spans of the fused order as hits: passage, both ranks and scores, marked snippet."""
    keyword, vector = ranked.of("keyword"), ranked.of("vector")
    out = []
    for rank, (key, score) in enumerate(fused.order[:k], 1):
        kr = keyword.get(key) if keyword else None
        vr = vector.get(key) if vector else None
        passage = (kr or vr).passage
        spans = match_spans(passage.text, ranked.plan, index.analyzer)
        matched = tuple(dict.fromkeys(passage.text[a:b] for a, b in spans))
        out.append(Hit(
            passage=passage, rank=rank, score=float(score),
            keyword_rank=kr.rank if kr else None, vector_rank=vr.rank if vr else None,
            keyword_score=kr.score if kr else None, vector_score=vr.score if vr else None,
            snippet=snippet(passage.text, spans), matched=matched, exact=key in fused.exact,
        ))
    return tuple(out)


def search(index: NoteIndex, query: str, mode: Mode = "hybrid", k: int = 10,
           fusion: FusionConfig = DEFAULT_FUSION) -> SearchResult:
    """The top `k` hits for `query` in `mode` (hybrid, keyword or semantic)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    started = time.perf_counter()
    plan = index.plan(query)
    ranked = rankings(index, plan, mode, k)
    fused = fuse(ranked, fusion)
    found = hits(index, ranked, fused, k)
    warnings = [*index.warnings, *plan.warnings]
    if not plan.text:
        warnings.append("empty query: nothing to search for")
    took = (time.perf_counter() - started) * 1000
    return SearchResult(query, mode, found, took, tuple(dict.fromkeys(warnings)), fused.route)
