"""The two rankings of a query: passages by BM25F (with coordination) and by vector similarity.

Each is a best-first list with one entry per line span: pieces of one long
paragraph share its span, and a ranking keeps the best piece of each, so a
result list never shows the same lines twice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, reduce
from typing import TYPE_CHECKING, Literal

import numpy as np

from corpus.model import Passage
from search.query.nodes import And, Character, Coordinated, Node, Or, Phrase, Unit, leaf_terms
from search.query.plan import QueryPlan
from search.rank.scorer import ArrayScorer
from search.rank.settings import DEFAULT_SETTINGS, Settings

if TYPE_CHECKING:
    from search.notes.index import NoteIndex

# score × (share of the query's terms matched) ** COORDINATION, over the best RERANK_POOL passages.
COORDINATION = 1.0
RERANK_POOL = 200
# A long paragraph is indexed in pieces; its other pieces add this share of their keyword score to its best one.
OTHER_PIECES = 0.5

Span = tuple[str, str, int, int]


@dataclass(frozen=True)
class Ranked:
    """One entry of a ranking: a line span, its best passage, its rank (from 1) and score.

    `coverage` (keyword entries) is the share of the query's terms, each weighed by its rarity, that the
    span holds (0..1).
    """

    key: Span
    passage: Passage
    rank: int
    score: float
    coverage: float = 0.0


@dataclass(frozen=True)
class Ranking:
    """A best-first list of passages, one per span: `kind` is "keyword" or "vector"."""

    kind: Literal["keyword", "vector"]
    items: tuple[Ranked, ...]

    @cached_property
    def _by_key(self) -> dict[Span, Ranked]:
        return {item.key: item for item in self.items}

    def get(self, key: Span) -> Ranked | None:
        """The entry of a span, or None when the ranking does not hold it."""
        return self._by_key.get(key)

    def keys(self) -> list[Span]:
        """The spans, best first."""
        return [item.key for item in self.items]

    @property
    def coverage(self) -> float:
        """The largest share of the query's terms one entry holds (0 for an empty ranking)."""
        return max((item.coverage for item in self.items), default=0.0)


def span(passage: Passage) -> Span:
    """The lines a passage covers: (path, region, first line, last line)."""
    return passage.path, passage.region, passage.line_start, passage.line_end


def collapse(kind: Literal["keyword", "vector"], items: list[tuple[Passage, float, float]],
             others: float = 0.0) -> Ranking:
    """Best-first (passage, score, coverage) → best-first spans, each scored by its best piece plus `others` × the
    rest, and covering what its best-covering piece covers.

    Each span keeps its best piece. For keyword hits `others` is OTHER_PIECES:
    a paragraph that holds one query word in one piece and another word in the
    next holds both words, as the reader sees it.
    """
    best: dict[Span, tuple[Passage, float]] = {}
    total: dict[Span, float] = {}
    covered: dict[Span, float] = {}
    for passage, score, coverage in items:
        key = span(passage)
        best.setdefault(key, (passage, score))
        total[key] = total.get(key, 0.0) + score
        covered[key] = max(covered.get(key, 0.0), coverage)
    scored = {key: passage_score[1] + others * (total[key] - passage_score[1]) for key, passage_score in best.items()}
    order = sorted(scored, key=lambda key: -scored[key])
    return Ranking(kind, tuple(Ranked(key, best[key][0], rank, scored[key], covered[key])
                               for rank, key in enumerate(order, 1)))


def keyword_ranking(index: NoteIndex, compiled: Node | None, limit: int) -> Ranking:
    """Best-first spans for a compiled keyword query (none for None)."""
    hits = [(index.stored_passage(docnum), score, coverage) for docnum, score, coverage in rank(index.scorer, compiled, limit)]
    # A table of contents says where an answer is; it is never one.
    return collapse("keyword", [hit for hit in hits if hit[0].kind != "toc"], OTHER_PIECES)


def vector_ranking(index: NoteIndex, plan: QueryPlan, limit: int, allowed: set[str] | None = None,
                   settings: Settings = DEFAULT_SETTINGS, query: np.ndarray | None = None) -> Ranking:
    """Best-first spans by cosine similarity to the plan's query vector (`query`, else query_vector now);
    `allowed` (passage ids) filters them. `settings` give the first row's share of a passage's score and the
    models' shares for a query that mixes scripts."""
    if not plan.embed_text.strip():
        return Ranking("vector", ())
    store = index.vector_index()
    if query is None:
        query = query_vector(index.embedder(), plan, settings.mixed_script_shares, settings.translation_share)
    rows = store.top(np.asarray(query), limit if allowed is None else len(store.ids), settings.first_share)
    items = []
    for row, score in rows:
        passage_id = store.ids[row]
        if allowed is not None and passage_id not in allowed:
            continue
        passage = index.passage(passage_id)
        if passage is not None:
            items.append((passage, score, 0.0))
        if len(items) >= limit:
            break
    return collapse("vector", items)


def query_vector(embedder, plan: QueryPlan, mixed_shares: Mapping[str, float] | None = None,
                 translation_share: float = DEFAULT_SETTINGS.translation_share) -> np.ndarray:
    """The unit vector a query is searched by: its words' vector, or, when the notes' glossary translates some
    of them, the mean of that vector and the vector of the words with their translations (plan.translated_text)
    when the translations make at least `translation_share` of that form (plan.translation_share).

    The mean keeps the query as typed at half weight: a translation helps a question in one language find notes
    in the other (dl500 0.620 → 0.632 semantic, d2l-zh 0.859 → 0.860) and cannot take the query over. The
    translation is read as the query it translates (indexer/embedders.py query_form). A query that mixes scripts
    weighs the models by `mixed_shares` (None: the embedder's own). The second form is a second reading of the
    whole query, so a long question that one term translates is read once: the term barely moves its vector.
    """
    from indexer.embedders import query_forms  # a keyword search never loads the embedder's module

    if not plan.translated_text or plan.translation_share < translation_share:
        return query_forms(embedder, [plan.embed_text], plan.embed_text, mixed_shares)[0]
    # Both forms in one call: each model reads them together (one pass over its weights).
    query, translated = query_forms(embedder, [plan.embed_text, plan.translated_text], plan.embed_text, mixed_shares)
    both = query + translated
    norm = float(np.linalg.norm(both))
    return both / norm if norm > 0 else query


def rank(scorer: ArrayScorer, compiled: Node | None, limit: int) -> list[tuple[int, float, float]]:
    """The best `limit` (document number, score, coverage) triples for a compiled query, best first.

    A Coordinated query's best RERANK_POOL passages are scored again by the
    share of its units they hold (their coverage), each unit weighed by its
    rarity. A query of one unit covers all of itself wherever it matches.
    """
    if compiled is None or limit <= 0:
        return []
    if not isinstance(compiled, Coordinated):
        return [(docnum, score, 1.0) for docnum, score in scorer.top(compiled, limit)]
    results = scorer.top(compiled, max(limit, RERANK_POOL))
    pool = np.array([docnum for docnum, _score in results], dtype=np.int64)
    documents = int(scorer.alive.sum())
    matched = np.zeros(len(pool))
    total = 0.0
    for unit in compiled.units:
        shares, whole = unit_shares(scorer, unit, pool)
        # A term is as rare as the passages holding all of it (a stray bigram of it says little).
        weight = _idf(documents, whole)
        matched += weight * shares
        total += weight
    scored = [(score * (share / total) ** COORDINATION, docnum, share / total)
              for (docnum, score), share in zip(results, matched.tolist())]
    scored.sort(key=lambda triple: -triple[0])  # stable: ties keep the order of the first ranking
    return [(docnum, score, coverage) for score, docnum, coverage in scored[:limit]]


def unit_shares(scorer: ArrayScorer, unit: Unit, pool: np.ndarray) -> tuple[np.ndarray, int]:
    """For each passage of `pool`, the largest share of `unit` it holds (0 for none); and how many passages hold all of it.

    A gram phrase counts when all its grams are there. Only the pool's shares
    are computed: the work follows the postings read, not the size of the index.
    """
    shares = np.zeros(len(pool))
    whole = np.zeros(scorer.size, dtype=bool)
    for clause, share in zip(unit.clauses, unit.shares):
        matching = np.zeros(scorer.size, dtype=bool)  # marking is cheaper than np.isin's sort of many passages
        matching[_matching(scorer, clause)] = True
        held = matching[pool]
        shares[held] = np.maximum(shares[held], share)
        if share >= 1.0:
            whole |= matching
    return shares, int(np.count_nonzero(whole))


def _matching(scorer: ArrayScorer, clause: Node) -> np.ndarray:
    """The passages a clause of a unit matches (some maybe twice): a phrase or And needs all its parts, anything else one."""
    if isinstance(clause, Phrase):
        return reduce(np.intersect1d, [_holding(scorer, clause.field, word) for word in clause.words])
    if isinstance(clause, And):
        return reduce(np.intersect1d, [_matching(scorer, child) for child in clause.children])
    if isinstance(clause, Or):
        return np.concatenate([_matching(scorer, child) for child in clause.children] + [_NONE])
    if isinstance(clause, Character):
        return scorer.starting(clause.field, clause.char)[0]
    return np.concatenate([_holding(scorer, name, text) for name, text in leaf_terms(clause)] + [_NONE])


def _holding(scorer: ArrayScorer, name: str, text: str) -> np.ndarray:
    """The passages that hold a term (live ones only), ascending."""
    btext = scorer.term_bytes(name, text)
    return scorer.postings(name, btext)[0] if btext is not None else _NONE


_NONE = np.zeros(0, dtype=np.int64)


def _idf(documents: int, matching: int) -> float:
    """The BM25 inverse document frequency of a term found in `matching` of `documents` passages."""
    return math.log(1 + (documents - matching + 0.5) / (matching + 0.5))
