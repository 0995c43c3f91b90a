"""The search stage: an opened index answers queries (keyword, semantic, hybrid), finds related papers
and opens the passage at a line of a note.

    from search import open_index, search, related, excerpt
    with open_index("~/notes-index") as index:
        result = search(index, "自监督 视觉", mode="hybrid", k=10)
        papers = related(index, "Attention is All You Need", k=5)
        found = excerpt(index, result.hits[0].passage.path, result.hits[0].passage.line_start, context=3)

The result types and errors are plain and load at once; `open_index`,
`search`, `related`, `excerpt` and `NoteIndex` load the search stage (Whoosh, numpy,
jieba) on first use (PEP 562), so that `import search.serve.client` on the path of
a search answered by a warm server stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from indexer.errors import (
    EmbedderError,
    ModelMismatch,
    NoIndex,
    NoPassage,
    NotesearchError,
    OutdatedIndex,
    OutsideIndex,
)
from search.results import MODES, Hit, Mode, RelatedResult, SearchResult

if TYPE_CHECKING:
    from search.notes.excerpts import Excerpt, excerpt
    from search.notes.index import NoteIndex, open_index
    from search.rank.engine import search
    from search.rank.fusion import FusionConfig
    from search.relate.papers import more_like, related, related_passage

_LAZY = {"open_index": "search.notes.index", "NoteIndex": "search.notes.index", "search": "search.rank.engine",
         "related": "search.relate.papers", "more_like": "search.relate.papers",
         "related_passage": "search.relate.papers", "FusionConfig": "search.rank.fusion",
         "excerpt": "search.notes.excerpts", "Excerpt": "search.notes.excerpts"}

__all__ = ["MODES", "EmbedderError", "Excerpt", "FusionConfig", "Hit", "Mode", "ModelMismatch", "NoIndex",
           "NoPassage", "NoteIndex", "NotesearchError", "OutdatedIndex", "OutsideIndex", "RelatedResult",
           "SearchResult", "excerpt", "more_like", "open_index", "related", "related_passage", "search"]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'search' has no attribute {name!r}")
