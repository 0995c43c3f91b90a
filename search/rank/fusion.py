"""Merging the keyword and vector rankings into one hybrid ranking.

A convex combination of normalised scores (Bruch, Gai & Ingber 2023, "An
Analysis of Fusion Functions for Hybrid Retrieval"), weighed by the evidence
each ranking has for this query:

1. **Normalised scores.** A keyword score is divided by the best keyword
   score of the query; a cosine is placed between the lowest and the highest
   cosine of the vector ranking's pool (0 for the lowest, 1 for the best).
   A passage missing from a ranking scores 0 there.
2. **Weights from evidence.** The keyword ranking's weight is
   `keyword_weight` × its coverage: the largest share of the query's terms
   (each weighed by its rarity) that one passage holds, counted fully from
   `full_coverage` up. A Chinese question whose words the notes hold is
   keyword-led; an English paragraph asked of Chinese notes, whose best
   keyword hit holds a stray word or two, is led by the vectors, with no rule
   about languages or scripts. The vector rankings share the rest.
3. **Exact matches first.** Passages holding every word of the query (or a
   paper whose title is the query) stay ahead of those that do not, so fusion
   never buries an exact match under vaguely similar text.
4. **Prose before code.** Unless the query looks like code, code blocks come
   after the prose passages: a question in words is answered in words. Lists
   of references come after them too, unless they hold the whole query.

Every constant here is chosen by leave-one-corpus-out cross-validation
(`bench/quality.py --cv`); see README's Quality section for the figures.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from corpus.text import fold
from indexer.caches import ForgetfulCache

# The folded texts of the passages a search judged lately: a warm server meets the same passages again and again,
# and folding each candidate's text was a sixth of a hybrid search's own work (about 6 ms on d2l-zh).
_FOLDED: ForgetfulCache[str, str] = ForgetfulCache(20_000)


@dataclass(frozen=True)
class FusionConfig:
    """The constants of hybrid fusion.

    `keyword_weight` is the keyword ranking's weight when it has full evidence
    (0..1; the vector rankings share the rest; by default the one chosen for
    the index's embedding model, KEYWORD_WEIGHTS); `full_coverage` the share of
    the query's terms one passage must hold for that; `floor` drops the
    hybrid hits whose fused score is below that share of the best one's. A
    hit no ranking supports (holding no query term, at cosine 0 or below) goes
    too: `reranker` over personal notes is not answered by a shopping list at
    cosine −0.008.
    `method` "rrf" fuses ranks instead of scores (Σ weight / (rrf_k + rank)),
    with the same weights: kept so that cross-validation compares the two.
    """

    keyword_weight: float | None = None  # None: the weight chosen for the index's model (keyword_weight_for)
    full_coverage: float = 0.5
    exact_first: bool = True
    floor: float = 0.2
    method: str = "convex"
    rrf_k: int = 10


DEFAULT_FUSION = FusionConfig()
# The keyword ranking's weight at full evidence, by the index's embedding model, each chosen by
# leave-one-corpus-out cross-validation (bench/quality.py --cv): the stronger a model's vectors, the less the
# keywords need to lead. Any model not listed takes DEFAULT_KEYWORD_WEIGHT, chosen for the default model
# (use-m3@0.2+e5-small@0.8).
KEYWORD_WEIGHTS = {"use-m3": 0.7}
DEFAULT_KEYWORD_WEIGHT = 0.5


def keyword_weight_for(model: str) -> float:
    """The keyword ranking's weight at full evidence for an index embedded by `model`."""
    return KEYWORD_WEIGHTS.get(model, DEFAULT_KEYWORD_WEIGHT)


@dataclass(frozen=True)
class Weights:
    """The weight of the keyword ranking and of each vector ranking, and why (shown by `search --explain`)."""

    keyword: float
    vector: float
    reason: str

    def weight(self, kind: str) -> float:
        """The weight of a ranking of this kind ("keyword" or "vector")."""
        return self.keyword if kind == "keyword" else self.vector


@dataclass(frozen=True)
class Fused:
    """One item of the hybrid ranking: its fused score and whether it holds the whole query."""

    key: Hashable
    score: float
    exact: bool


@dataclass(frozen=True)
class Scored:
    """A ranking as fusion reads it: its kind and its (key, score) pairs, best first."""

    kind: str
    items: tuple[tuple[Hashable, float], ...]


def weigh(coverage: float, vector_rankings: int, config: FusionConfig = DEFAULT_FUSION) -> Weights:
    """The weights of the rankings of a query whose best keyword hit holds `coverage` (0..1) of its terms."""
    if not vector_rankings:
        return Weights(1.0, 0.0, "keyword ranking only")
    evidence = min(1.0, coverage / config.full_coverage) if config.full_coverage > 0 else 1.0
    full = config.keyword_weight if config.keyword_weight is not None else DEFAULT_KEYWORD_WEIGHT
    keyword = full * evidence
    vector = (1.0 - keyword) / vector_rankings
    return Weights(keyword, vector, f"the best keyword hit holds {coverage:.0%} of the query's terms: "
                                    f"keyword weight {keyword:.2f}, vector weight {1 - keyword:.2f}")


def normalised(ranking: Scored) -> dict[Hashable, float]:
    """A ranking's scores on 0..1: keyword scores over the best one; cosines between the pool's lowest and best."""
    if not ranking.items:
        return {}
    scores = [score for _key, score in ranking.items]
    high = max(scores)
    low = min(scores) if ranking.kind == "vector" else 0.0
    if high <= low:
        return {key: 1.0 for key, _score in ranking.items}
    return {key: max(0.0, (score - low) / (high - low)) for key, score in ranking.items}


def fuse_scores(rankings: Sequence[Scored], weights: Weights, config: FusionConfig = DEFAULT_FUSION
                ) -> list[tuple[Hashable, float]]:
    """Items of several rankings by Σ weight × normalised score (or, for method "rrf", Σ weight / (k + rank)),
    best first; ties keep the order of first appearance."""
    total: dict[Hashable, float] = {}
    for ranking in rankings:
        weight = weights.weight(ranking.kind)
        if config.method == "rrf":
            scores = {key: 1.0 / (config.rrf_k + rank) for rank, (key, _score) in enumerate(ranking.items, 1)}
        else:
            scores = normalised(ranking)
        for key, score in scores.items():
            total[key] = total.get(key, 0.0) + weight * score
    order = {key: n for n, key in enumerate(total)}
    return sorted(total.items(), key=lambda pair: (-pair[1], order[pair[0]]))


def holds_query(folded_words: Sequence[str], text: str, title: str = "") -> bool:
    """True when every (folded) query word occurs in the text or title (case, spaces and punctuation ignored),
    or when the title is the whole query."""
    if not folded_words:
        return False
    if title and _folded(title) == "".join(folded_words):
        return True
    haystack = _folded(text) + "\0" + _folded(title)
    return all(word in haystack for word in folded_words)


def _folded(text: str) -> str:
    """fold(text), remembered."""
    found = _FOLDED.get(text)
    return found if found is not None else _FOLDED.keep(text, fold(text))


def exact_keys(folded_words: Sequence[str], texts: Mapping[Hashable, tuple[str, str]]) -> set[Hashable]:
    """The keys whose (text, title) hold the whole query (its words folded, as QueryPlan.folded_words)."""
    return {key for key, (text, title) in texts.items() if holds_query(folded_words, text, title)}


def fuse_hybrid(rankings: Sequence[Scored], weights: Weights, exact: set[Hashable],
                config: FusionConfig = DEFAULT_FUSION) -> list[Fused]:
    """The hybrid ranking: the weighed sum of normalised scores, exact matches first (when configured)."""
    items = [Fused(key, score, key in exact) for key, score in fuse_scores(rankings, weights, config)]
    if not config.exact_first:
        return items
    return [item for item in items if item.exact] + [item for item in items if not item.exact]


def above_floor(order: Sequence[tuple[Hashable, float]], floor: float, supported: set[Hashable],
                keep: set[Hashable] = frozenset()) -> list[tuple[Hashable, float]]:
    """`order` without the items no ranking supports, nor those whose score is below `floor` × the best score;
    `keep` always stay. A `floor` of 0 keeps everything (`search --all`)."""
    if floor <= 0:
        return list(order)
    best = max((score for _key, score in order), default=0.0)
    return [item for item in order if item[0] in keep or (item[0] in supported and item[1] >= floor * best)]


def prose_first(order: Sequence[tuple[Hashable, float]], code: set[Hashable]) -> list[tuple[Hashable, float]]:
    """`order` with the `code` keys moved after all the others (each group keeps its order)."""
    return [item for item in order if item[0] not in code] + [item for item in order if item[0] in code]
