"""Answer a query in named steps: plan, rankings, fusion, hits.

    result = search(index, "自监督 视觉", mode="hybrid", k=10)

is, step by step,

    plan = index.plan("自监督 视觉")               # parsed and analysed once
    lists = rankings(index, plan, "hybrid", k=10)  # a keyword and a vector ranking, best first
    fused = fuse(lists, DEFAULT_FUSION)            # weighed normalised scores, exact matches first
    found = hits(index, lists, fused, k=10)        # passages with snippets and both ranks

so a caller that tries many fusion settings (bench/quality.py's
cross-validation) computes the rankings of a query once and fuses them under
each setting.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from corpus.errors import BadArgument, whole_number
from corpus.model import Passage
from corpus.paper_ids import paper_keys
from corpus.text import comparable
from search.notes.index import NoteIndex
from search.query.compiler import compile_query
from search.query.plan import QueryPlan
from search.rank.fusion import (
    DEFAULT_FUSION,
    FusionConfig,
    Scored,
    above_floor,
    exact_keys,
    fuse_hybrid,
    keyword_weight_for,
    prose_first,
    weigh,
)
from search.rank.ranking import Ranking, keyword_ranking, query_vector, vector_ranking
from search.rank.settings import DEFAULT_SETTINGS, Settings
from search.rank.snippets import match_spans, snippet
from search.results import Hit, Mode, SearchResult, checked_mode

# A text shorter than this (letters and digits) is the same as another only when it is equal to it.
MIN_SHARED = 40
# A text is looked for inside the first this many distinct texts of the order only (the hits an answer shows:
# each look is a substring search, and an order holds hundreds), beyond them only an equal text is the same.
CONTAINED_AMONG = 30
# A hybrid search reads its query's vector on one of these threads while the keyword ranking runs on the caller's.
_READERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="query-vector")


@dataclass(frozen=True)
class Rankings:
    """The rankings of one query in one mode: keyword first, then vector (either may be absent)."""

    plan: QueryPlan
    mode: Mode
    lists: tuple[Ranking, ...]

    def of(self, kind: str) -> Ranking | None:
        """The ranking of this kind ("keyword" or "vector"), or None."""
        return next((ranking for ranking in self.lists if ranking.kind == kind), None)


@dataclass(frozen=True)
class Fusion:
    """The order of the answer: (span, score) best first; `exact` spans hold the whole query; `also` maps a
    span to the spans left out of the order because they hold its very text; `route` says how the rankings
    were weighed (hybrid mode)."""

    order: tuple[tuple[Hashable, float], ...]
    exact: frozenset
    also: Mapping[Hashable, tuple[Hashable, ...]]
    route: str = ""


def pool_size(k: int) -> int:
    """How deep each ranking goes for an answer of `k` hits (fusion needs more than `k` of each)."""
    return max(100, 5 * k)


def rankings(index: NoteIndex, plan: QueryPlan, mode: Mode, k: int = 10,
             settings: Settings = DEFAULT_SETTINGS) -> Rankings:
    """The keyword and/or vector ranking of a plan, each `pool_size(k)` spans deep (the vector ranking as
    `settings` say)."""
    mode = checked_mode(mode)
    pool = pool_size(whole_number("k", k))
    # A plain semantic search needs no keyword query (phrases, fields and exclusions filter vector hits).
    compiled = compile_query(plan) if mode != "semantic" or not plan.plain else None
    # In hybrid mode the query's vector is read meanwhile on another thread (its model loaded there, if need
    # be): the models' products (numpy's and onnxruntime's) let go of the interpreter, so the keyword ranking
    # (Python) runs beside them, and the wait is the longer of the two rather than their sum.
    vector = (_READERS.submit(lambda: query_vector(index.embedder(), plan, settings.mixed_script_shares,
                                                   settings.translation_share))
              if mode == "hybrid" and plan.embed_text.strip() else None)
    lists = []
    if mode in ("keyword", "hybrid"):
        lists.append(keyword_ranking(index, compiled, pool))
    if mode in ("semantic", "hybrid"):
        allowed = None
        if not plan.plain:
            # Phrases, fields and exclusions filter the vector hits: only which passages match counts.
            allowed = ({index.passage_id(int(doc)) for doc in index.scorer.matching(compiled)}
                       if compiled is not None else set())
        lists.append(vector_ranking(index, plan, pool, allowed, settings, vector.result() if vector else None))
    return Rankings(plan, mode, tuple(lists))


def fuse(ranked: Rankings, config: FusionConfig = DEFAULT_FUSION) -> Fusion:
    """The order of the answer: one ranking's own in keyword or semantic mode; in hybrid mode the rankings'
    normalised scores weighed by the keyword ranking's evidence, and the spans holding the whole query first.
    Unless the query looks like code, code blocks come after prose in every mode; so do lists of references
    (corpus/packing.py) that do not hold the whole query."""
    passages = {item.key: item.passage for ranking in reversed(ranked.lists) for item in ranking.items}
    hybrid = ranked.mode == "hybrid"
    # The spans holding the whole query: hybrid mode puts them first; in every mode a list of references
    # that does not hold it comes after the prose. A span in both rankings is judged by its keyword piece
    # (the piece that holds the words).
    exact = exact_keys(ranked.plan.folded_words, {key: (passage.text, passage.display_title)
                                                  for key, passage in passages.items()
                                                  if hybrid or passage.kind == "reference"})
    later = set() if ranked.plan.code else {key for key, passage in passages.items() if passage.kind == "code"}
    later |= {key for key, passage in passages.items() if passage.kind == "reference"} - exact
    if not hybrid:
        (only,) = ranked.lists
        order, also = _distinct(prose_first([(item.key, item.score) for item in only.items], later), passages)
        return Fusion(order, frozenset(), also)
    keyword = ranked.of("keyword")
    vectors = [ranking for ranking in ranked.lists if ranking.kind == "vector"]
    weights = weigh(keyword.coverage if keyword else 0.0, len(vectors), config)
    fused = fuse_hybrid([Scored(ranking.kind, tuple((item.key, item.score) for item in ranking.items))
                         for ranking in ranked.lists], weights, exact, config)
    order = prose_first([(item.key, item.score) for item in fused], later)
    order = above_floor(order, config.floor, supported(ranked.lists), exact)
    order, also = _distinct(order, passages)
    return Fusion(order, frozenset(exact), also, weights.reason)


def supported(lists: tuple[Ranking, ...]) -> set[Hashable]:
    """The spans some ranking supports: those holding a query term (in the keyword ranking), and those whose
    cosine is above 0 (a passage at cosine 0 or below is unrelated to the query, however high it ranks)."""
    return {item.key for ranking in lists for item in ranking.items if ranking.kind == "keyword" or item.score > 0}


def _distinct(order: list[tuple[Hashable, float]], passages: Mapping[Hashable, Passage]
              ) -> tuple[tuple[tuple[Hashable, float], ...], dict[Hashable, tuple[Hashable, ...]]]:
    """`order` without the spans whose text a span above holds too, or whose paper record names a paper a
    record above names (its row, note and BibTeX entry: one paper, one hit), and for each span kept, the
    spans it stands for.

    Two texts are the same when they are equal as corpus.text.comparable reads them (the same note
    copied into two folders; a paragraph of a note and of a PDF printed from it, whose spaces, line breaks and
    punctuation differ), or when one of them is in a region (a PDF's page) and holds all of the other, which is
    at least half of it (a paragraph a page break cut in two; looked for among the first CONTAINED_AMONG texts).
    """
    first: dict[str, Hashable] = {}  # a kept span's text and the keys of its paper → the span
    texts: dict[str, Hashable] = {}  # a kept span's text → the span
    also: dict[Hashable, list[Hashable]] = {}
    kept = []
    for key, score in order:
        passage = passages[key]
        text = comparable(passage.text)
        names = [text, *(paper_keys(passage.paper) if passage.kind == "paper" and passage.paper is not None else ())]
        same = next((first[name] for name in names if name in first), None)
        if same is None and len(text) >= MIN_SHARED:
            same = next((held for seen, held in itertools.islice(texts.items(), CONTAINED_AMONG)
                         if (passage.region or passages[held].region) and len(seen) >= MIN_SHARED
                         and 2 * min(len(seen), len(text)) >= max(len(seen), len(text))
                         and (text in seen or seen in text)), None)
        if same is not None:
            also[same].append(key)
            continue
        texts[text] = key
        first.update((name, key) for name in names)
        also[key] = []
        kept.append((key, score))
    return tuple(kept), {key: tuple(spans) for key, spans in also.items() if spans}


def hits(index: NoteIndex, ranked: Rankings, fused: Fusion, k: int = 10) -> tuple[Hit, ...]:
    """The first `k` spans of the fused order as hits: passage, both ranks and scores, marked snippet, and the
    places that hold the same text (`also`)."""
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
            also=fused.also.get(key, ()), paper=index.paper_of(passage),
        ))
    return tuple(out)


def search(index: NoteIndex, query: str, mode: Mode = "hybrid", k: int = 10,
           settings: Settings = DEFAULT_SETTINGS, every: bool = False) -> SearchResult:
    """The top `k` hits for `query` in `mode` (hybrid, keyword or semantic), ranked with the tuned values of
    `settings` (search/rank/settings.py; the defaults are the chosen ones).

    Hybrid hits that no ranking supports, or far below the best, are left out
    (FusionConfig.floor), so an answer may hold fewer than `k`; `every` keeps them.
    Raises BadArgument, before any work, for a `k` below 1, an unknown `mode`
    or a `query` that is not a str.
    """
    if not isinstance(query, str):
        raise BadArgument("query", query, "a str")
    mode, k = checked_mode(mode), whole_number("k", k)
    started = time.perf_counter()
    fusion = settings.fusion
    if fusion.keyword_weight is None:
        fusion = replace(fusion, keyword_weight=keyword_weight_for(index.manifest.model))
    plan = index.plan(query)
    ranked = rankings(index, plan, mode, k, settings)
    fused = fuse(ranked, replace(fusion, floor=0.0) if every else fusion)
    found = hits(index, ranked, fused, k)
    warnings = [*index.warnings, *plan.warnings]
    if not plan.text:
        warnings.append("empty query: nothing to search for")
    took = (time.perf_counter() - started) * 1000
    return SearchResult(query, mode, found, took, tuple(dict.fromkeys(warnings)), fused.route, plan.read_as)
