"""The indexing stage: note files → a keyword index and vectors, committed one generation at a time.

    from indexer import build
    report = build(["~/notes"], "~/notes-index")   # again later: only what changed is redone

`build` and `BuildReport` load on first use (PEP 562): importing the errors (those
`build` raises; corpus/errors.py holds them all),
or any light module of the package, does not load Whoosh, jieba or numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from corpus.errors import (
    BadArgument,
    EmbedderError,
    IndexBusy,
    IndexWriteError,
    MissingFolder,
    ModelMismatch,
    NoIndex,
    NoNotes,
    NotesearchError,
    OutdatedIndex,
    UnknownFolder,
    UntrustedIndex,
    VectorIndexError,
)
from indexer.keyword import whoosh_imports

if TYPE_CHECKING:
    from indexer.builder import BuildReport, build

whoosh_imports.install()  # before any module of either stage imports Whoosh

_LAZY = {"build": "indexer.builder", "BuildReport": "indexer.builder"}

# The errors `build` raises (corpus/errors.py holds every error; `search` exports them all).
__all__ = ["BadArgument", "BuildReport", "EmbedderError", "IndexBusy", "IndexWriteError", "MissingFolder",
           "ModelMismatch", "NoIndex", "NoNotes", "NotesearchError", "OutdatedIndex", "UnknownFolder",
           "UntrustedIndex", "VectorIndexError", "build"]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'indexer' has no attribute {name!r}")
