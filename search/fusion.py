"""Merging the keyword and vector rankings into one hybrid ranking.

Three rules, in this order:

1. **Routing** picks the weight of each ranking from the shape of the query.
   A query in one script against hits in another (English question, Chinese
   notes) leans almost wholly on vectors: its keyword list holds only stray
   matches of code or names. Not so a short query whose every word the notes
   hold as written (`variational autoencoder` in Chinese notes that name
   papers and methods in English): it counts as one in the notes' language.
   A long English natural-language query leans on vectors. Every other query
   in the notes' language leans on the keyword list: short Chinese keyword
   queries, and long Chinese questions too, which share their rare words with
   the passage that answers them (on 3,219 cmrc2018 questions a vector lean
   lost recall that keyword-led fusion kept). A question
   or a long query in the notes' language gives vectors so little weight that
   they only break near-ties of the keyword ranking and add what it missed.
2. **Weighted reciprocal rank fusion** merges the rankings:
   Σ weight / (k + rank).
3. **The exact-match guard** keeps passages that hold every word of the query
   (or a paper whose title is the query) ahead of those that do not, so fusion
   never buries an exact match under vaguely similar text.

The constants were tuned on the even-numbered queries of the shared
judgements and checked on the odd-numbered ones (see the report of issue 5).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpus.text import chinese_share, fold

if TYPE_CHECKING:
    from search.plan import Shape


@dataclass(frozen=True)
class FusionConfig:
    """The constants of hybrid fusion.

    `long_query` is in length units: one per Chinese character, two per Latin word.
    `cross_gap` is the difference in Chinese share (0..1) between the query and the
    text of its best vector hits above which the query counts as cross-lingual.
    """

    rrf_k: int = 10
    cross_gap: float = 0.5
    cross_keyword: float = 0.05
    long_query: int = 16
    long_keyword: float = 0.5
    same_language_vector: float = 0.2
    long_same_language_vector: float = 0.05
    script_sample: int = 5


DEFAULT_FUSION = FusionConfig()


@dataclass(frozen=True)
class Route:
    """The weights given to each kind of ranking, and why (shown by `search --explain`)."""

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


def fuse_rrf(rankings: Sequence[Sequence[Hashable]], weights: Sequence[float] | None = None,
             k: int = FusionConfig.rrf_k) -> list[tuple[Hashable, float]]:
    """Items of several best-first rankings, ordered by Σ weight / (k + rank).

    Ties keep the order in which items first appear (the first ranking wins).
    """
    weights = weights or [1.0] * len(rankings)
    scores: dict[Hashable, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    order = {item: n for n, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))


def route(query: Shape, hit_texts: Sequence[str], config: FusionConfig = DEFAULT_FUSION, found: bool = False) -> Route:
    """The weights of the keyword and vector rankings for a query of this shape.

    `hit_texts` are the texts of the best hits (vector hits first): their script
    tells whether the query is in the language of the notes. `found` says that
    the notes hold every word of the query, which makes a short query one in
    their language whatever the script of its best hits.
    """
    sample = " ".join(hit_texts[: config.script_sample])
    short = query.length <= config.long_query
    if sample and abs(query.chinese_share - chinese_share(sample)) > config.cross_gap and not (found and short):
        return Route(config.cross_keyword, 1.0, "cross-lingual query: leaning on vectors")
    if query.chinese_share < 0.5 and query.length > config.long_query:
        return Route(config.long_keyword, 1.0, "long English query: leaning on vectors")
    if query.length > config.long_query or query.question:
        # A question (or long query) in the notes' language shares its content words with the passage
        # that answers it: the keyword ranking is strong evidence, vectors only break its near-ties.
        return Route(1.0, config.long_same_language_vector, "question in the notes' language: keywords first")
    return Route(1.0, config.same_language_vector, "query in the notes' language: leaning on keywords")


def holds_query(folded_words: Sequence[str], text: str, title: str = "") -> bool:
    """True when every (folded) query word occurs in the text or title (case, spaces and punctuation ignored),
    or when the title is the whole query."""
    if not folded_words:
        return False
    if title and fold(title) == "".join(folded_words):
        return True
    haystack = fold(text) + "\0" + fold(title)
    return all(word in haystack for word in folded_words)


def exact_keys(folded_words: Sequence[str], texts: Mapping[Hashable, tuple[str, str]]) -> set[Hashable]:
    """The keys whose (text, title) hold the whole query (its words folded, as QueryPlan.folded_words)."""
    return {key for key, (text, title) in texts.items() if holds_query(folded_words, text, title)}


def fuse_hybrid(rankings: Sequence[Sequence[Hashable]], weights: Sequence[float], exact: set[Hashable],
                config: FusionConfig = DEFAULT_FUSION) -> list[Fused]:
    """The hybrid ranking: weighted RRF of the rankings (ties go to the earlier ranking), exact matches first."""
    fused = fuse_rrf(rankings, weights, config.rrf_k)
    items = [Fused(key, score, key in exact) for key, score in fused]
    return [item for item in items if item.exact] + [item for item in items if not item.exact]
