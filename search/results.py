"""What a search returns: plain frozen values, and the modes a search runs in.

Standard library only (and corpus.model): a caller that only reads results,
or the command line asking a warm server, need not load the search stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from corpus.model import Paper, Passage

Mode = Literal["hybrid", "keyword", "semantic"]
MODES: tuple[Mode, ...] = get_args(Mode)


@dataclass(frozen=True)
class Hit:
    """One answer: a passage, its place and score in each ranking, and a marked snippet.

    `score` is the fused score in hybrid mode, else the score of the one ranking;
    `vector_score` is a cosine similarity; `exact` says the passage holds the whole query;
    `reasons` say why a related paper was chosen; `also` are the other places
    (path, first line, last line) that hold the same text, or the same paper,
    shown as this one hit. `paper` is the paper the passage belongs to: its
    record's, or the paper its note is about.
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
    also: tuple[tuple[str, int, int], ...] = ()
    paper: Paper | None = None


@dataclass(frozen=True)
class SearchResult:
    """The hits of one query; `route` says how hybrid mode weighed the rankings."""

    query: str
    mode: Mode
    hits: tuple[Hit, ...]
    took_ms: float
    warnings: tuple[str, ...] = field(default=())
    route: str = ""


@dataclass(frozen=True)
class RelatedResult:
    """The papers related to `anchor` (the passage its hit points at; `paper` is its paper, merged from all its
    places); when the name was ambiguous, `anchor` is None and `candidates` lists the papers it could mean."""

    query: str
    anchor: Passage | None
    hits: tuple[Hit, ...]
    candidates: tuple[Passage, ...]
    took_ms: float
    paper: Paper | None = None
