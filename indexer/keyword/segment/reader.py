"""Whoosh's segments read a block at a time: whole posting lists, positions, and which documents are deleted.

Each function has a fast path and, beside it, the public path it must agree
with; tests/indexer/keyword/test_segment_reader.py checks on real indexes (one segment, and
several with deleted documents) that the two give the same answer and that
the fast path is the one taken.

- `postings`: the fast path decodes Whoosh's posting blocks (up to 128
  postings each) at once; the public path walks Whoosh's matcher one posting
  at a time. It is taken whenever the posting list is not Whoosh 3's own
  (another codec, another matcher). Only a block's ids and weights are
  unpickled, not its values (the positions: most of the time went there).
- `positions`: the fast path unpickles only the blocks holding the documents
  asked for; the public path skips to each document and asks `value_as`.
- `deleted`: the fast path takes the segment's set of deleted documents; the
  public path asks `is_deleted` document by document.

Whoosh is pinned in pyproject.toml to the versions these were tested with.
Field lengths are not read here: build writes them beside the index
(indexer/keyword/documents.py).
"""

from __future__ import annotations

import pickle
import zlib
from itertools import repeat

import numpy as np
from whoosh import formats
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher

from indexer.keyword import pickles

# How protocol 2 starts pickling the first bytes value of a block (the values come after the ids and weights).
_FIRST_VALUE = b"c_codecs\nencode\n"
# The opcode where the values start: the MARK of a tuple of more than three, or the GLOBAL itself.
_MARK, _GLOBAL = pickle.MARK[0], pickle.GLOBAL[0]
# A block's ids and weights take at most 5 + 9 bytes a posting in the pickle (BININT, BINFLOAT), plus opcodes.
_HEAD_BYTES_PER_POSTING = 14
_HEAD_SLACK = 64
# None for the values, TUPLE3 of (ids, weights, values), STOP.
_NO_VALUES = b"N\x87."


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
    """Every posting of a leaf matcher, deleted documents included, a block at a time.

    A block is one pickled tuple (id deltas, weights, values); only the ids and
    weights are unpickled (_head), not the values (a term's positions).
    """
    if matcher._byteids:
        return public_postings(matcher)
    deltas: list = []
    weights: list = []
    starts: list = []  # where each block's deltas start in `deltas`
    get = matcher._postfile.get
    tuple_values = matcher._fixedsize is None or matcher._fixedsize < 0
    while matcher.is_active():
        count = matcher._blocklength
        data = get(matcher._dataoffset, matcher._nextoffset - matcher._dataoffset)
        ids, weight = _head(data, count, matcher._compression, tuple_values)
        starts.append(len(deltas))
        deltas.extend(ids)
        if weight is None or isinstance(weight, float):
            # Whoosh reads a block's one weight into an array of float32 (W3LeafMatcher._read_weights).
            weights.extend(repeat(float(np.float32(1.0 if weight is None else weight)), count))
        else:
            weights.extend(weight)
        matcher._next_block()
    steps = np.asarray(deltas, dtype=np.int64)
    total = np.cumsum(steps)
    # A block's first id is whole, the others are steps from the one before: restart the sum at each block.
    starts = np.asarray(starts, dtype=np.int64)
    ids = total - np.repeat(total[starts] - steps[starts], np.diff(np.append(starts, len(steps))))
    return ids, np.asarray(weights, dtype=np.float64)


def _head(data: bytes, count: int, compression: int, tuple_values: bool) -> tuple:
    """The id deltas and the weights of a block's data (`count` postings), its values left unread.

    Whoosh pickles a block as (ids, weights, values) with protocol 2, where a
    bytes value is `_codecs.encode(text, "latin1")`: most of the time goes to
    those calls. Only the ids and the weights are unpickled: the pickle is cut
    where the values start (the first GLOBAL `_codecs.encode`, which ids and
    weights cannot hold: their opcodes are not among its characters) and closed
    with None for the values. A block whose cut cannot be found is unpickled whole.
    """
    stream = zlib.decompressobj() if compression else None
    head = stream.decompress(data, _HEAD_BYTES_PER_POSTING * count + _HEAD_SLACK) if stream else data
    at = head.find(_FIRST_VALUE)
    if tuple_values and count > 3:
        at -= 1  # the MARK of a tuple of more than three items
    if at <= 0 or head[at] != (_MARK if tuple_values and count > 3 else _GLOBAL):
        whole = head + stream.decompress(stream.unconsumed_tail) + stream.flush() if stream else data
        ids, weights, _values = pickles.loads(whole)
        return ids, weights
    ids, weights, _values = pickles.loads(head[:at] + _NO_VALUES)
    return ids, weights


def positions(reader, fieldname: str, btext: bytes, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where a term occurs in some documents of one segment: (document, position) pairs, by document then position.

    `docs`: ascending document numbers of the segment (the term's other
    documents, and deleted ones, are skipped); the field stores positions.
    """
    matcher = reader.postings(fieldname, btext)
    leaf = matcher.child if type(matcher) is FilterMatcher else matcher
    if type(leaf) is not W3LeafMatcher or type(leaf.format) is not formats.Positions or leaf._byteids:
        return public_positions(matcher, docs)
    gone = deleted(reader)
    if len(gone):
        docs = docs[~np.isin(docs, gone, assume_unique=True)]
    owners: list[int] = []
    found: list[int] = []
    decoded: dict[bytes, list[int]] = {}  # a block's postings at one position share their value
    wanted = docs.tolist()
    i = 0
    get = leaf._postfile.get
    while leaf.is_active() and i < len(wanted):
        if wanted[i] <= leaf._maxid:  # the block holds documents up to its _maxid
            data = get(leaf._dataoffset, leaf._nextoffset - leaf._dataoffset)
            deltas, _weights, values = pickles.loads(zlib.decompress(data) if leaf._compression else data)
            ids = np.cumsum(deltas)
            here = []
            while i < len(wanted) and wanted[i] <= leaf._maxid:
                here.append(wanted[i])
                i += 1
            at = np.searchsorted(ids, here)
            for doc, n in zip(here, np.minimum(at, len(ids) - 1).tolist()):
                if ids[n] != doc:
                    continue
                value = values[n]
                spots = decoded.get(value)
                if spots is None:
                    spots = decoded[value] = leaf.format.decode_positions(value)
                owners.extend(repeat(doc, len(spots)))
                found.extend(spots)
        leaf._next_block()
    return np.asarray(owners, dtype=np.int64), np.asarray(found, dtype=np.int64)


def public_positions(matcher, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What `positions` gives, read through Whoosh's public matcher API (skip_to, value_as)."""
    owners: list[int] = []
    found: list[int] = []
    for doc in docs.tolist():
        if not matcher.is_active():
            break
        matcher.skip_to(doc)
        if matcher.is_active() and matcher.id() == doc:
            spots = matcher.value_as("positions")
            owners.extend(repeat(doc, len(spots)))
            found.extend(spots)
    return np.asarray(owners, dtype=np.int64), np.asarray(found, dtype=np.int64)


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
