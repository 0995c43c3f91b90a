"""The search stage: an opened index answers queries (keyword, semantic, hybrid), finds related papers,
opens the passage at a line of a note and says what it holds.

    from search import open_index, search, related, excerpt, locate, stats
    with open_index("~/notes-index") as index:
        result = search(index, "自监督 视觉", mode="hybrid", k=10)
        papers = related(index, "Attention is All You Need", k=5)
        found = excerpt(index, result.hits[0].passage.path, result.hits[0].passage.line_start, context=3)
        passage = locate(index, "notes/trends.md:37")   # any PATH:LINE the tool prints
        held = stats(index)

The result types and errors are plain and load at once; the functions, `NoteIndex`
and `Settings` load the search stage (Whoosh, numpy, jieba) on first use (PEP 562),
so that `import search.serve.client` on the path of a search answered by a warm
server stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from corpus.errors import (
    BadArgument,
    Cancelled,
    EmbedderError,
    IndexBusy,
    IndexWriteError,
    KeywordIndexError,
    MissingFolder,
    ModelMismatch,
    NoIndex,
    NoNotes,
    NoPassage,
    NotesearchError,
    OutdatedIndex,
    OutsideFolders,
    OutsideIndex,
    StateFileError,
    UnknownFolder,
    UntrustedIndex,
    VectorIndexError,
)
from search.results import MODES, Hit, Mode, NamedPaper, RelatedResult, SearchResult

if TYPE_CHECKING:
    from search.notes.excerpts import Excerpt, excerpt
    from search.notes.index import NoteIndex, open_index
    from search.notes.locations import Location, locate
    from search.notes.stats import IndexStats, stats
    from search.rank.engine import search
    from search.rank.fusion import FusionConfig
    from search.rank.settings import Settings
    from search.relate.papers import more_like, related, related_passage

_LAZY = {"open_index": "search.notes.index", "NoteIndex": "search.notes.index", "search": "search.rank.engine",
         "related": "search.relate.papers", "more_like": "search.relate.papers",
         "related_passage": "search.relate.papers", "FusionConfig": "search.rank.fusion",
         "Settings": "search.rank.settings", "excerpt": "search.notes.excerpts", "Excerpt": "search.notes.excerpts",
         "locate": "search.notes.locations", "Location": "search.notes.locations", "stats": "search.notes.stats",
         "IndexStats": "search.notes.stats"}

# The errors are every one the library raises (corpus/errors.py), so that a program catches them all from here.
__all__ = ["MODES", "BadArgument", "Cancelled", "EmbedderError", "Excerpt", "FusionConfig", "Hit", "IndexBusy",
           "IndexStats", "IndexWriteError", "KeywordIndexError", "Location", "MissingFolder", "Mode",
           "ModelMismatch", "NamedPaper", "NoIndex", "NoNotes", "NoPassage", "NoteIndex", "NotesearchError", "OutdatedIndex",
           "OutsideFolders", "OutsideIndex", "RelatedResult", "SearchResult", "Settings", "StateFileError", "UnknownFolder", "UntrustedIndex", "VectorIndexError",
           "excerpt", "locate", "more_like", "open_index", "related", "related_passage", "search", "stats"]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'search' has no attribute {name!r}")
