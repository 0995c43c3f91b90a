"""The one place that reads Whoosh's internals: whole posting lists, and which documents are deleted.

Each function has a fast path and, beside it, the public path it must agree
with; tests/search/test_postings.py checks on real indexes (one segment, and
several with deleted documents) that the two give the same answer and that
the fast path is the one taken.

- `postings`: the fast path decodes Whoosh's posting blocks (up to 128
  postings each) at once; the public path walks Whoosh's matcher one posting
  at a time. It is taken whenever the posting list is not Whoosh 3's own
  (another codec, another matcher).
- `deleted`: the fast path takes the segment's set of deleted documents; the
  public path asks `is_deleted` document by document.

Whoosh is pinned in pyproject.toml to the versions these were tested with.
Field lengths are not read here: build writes them beside the index
(indexer/keyword.py).
"""

from __future__ import annotations

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher


def postings(reader, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers (ascending, live documents only) and frequencies of a term in one segment.

    `reader` is a segment reader (a leaf of a searcher) that holds the term.
    """
    matcher = reader.postings(fieldname, btext)
    leaf = matcher.child if type(matcher) is FilterMatcher else matcher  # the filter of deleted documents
    if type(leaf) is not W3LeafMatcher:
        return public_postings(matcher)
    ids, weights = _blocks(leaf)
    gone = deleted(reader)
    if len(gone):
        live = ~np.isin(ids, gone, assume_unique=True)
        ids, weights = ids[live], weights[live]
    return ids, weights


def _blocks(matcher: W3LeafMatcher) -> tuple[np.ndarray, np.ndarray]:
    """Every posting of a leaf matcher, deleted documents included, a block at a time."""
    ids: list = []
    weights: list = []
    while matcher.is_active():
        matcher._read_ids()
        matcher._read_weights()
        ids.extend(matcher._ids)
        weights.extend(matcher._weights)
        matcher._next_block()
    return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64)


def public_postings(matcher) -> tuple[np.ndarray, np.ndarray]:
    """What `postings` gives, read through Whoosh's public matcher API one posting at a time."""
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64)


def deleted(reader) -> np.ndarray:
    """The deleted document numbers of one segment, ascending."""
    if not reader.has_deletions():
        return np.zeros(0, dtype=np.int64)
    found = getattr(reader, "deleted_docs_set", None)
    if not isinstance(found, (set, frozenset)):
        return public_deleted(reader)
    return np.array(sorted(found), dtype=np.int64)


def public_deleted(reader) -> np.ndarray:
    """What `deleted` gives, asked of Whoosh's public API document by document."""
    return np.array([d for d in range(reader.doc_count_all()) if reader.is_deleted(d)], dtype=np.int64)
