"""Merging ranked lists: weighted reciprocal rank fusion."""

from __future__ import annotations

from typing import Hashable, Sequence

RRF_K = 60


def fuse_rrf(rankings: Sequence[Sequence[Hashable]], weights: Sequence[float] | None = None,
             k: int = RRF_K) -> list[tuple[Hashable, float]]:
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
