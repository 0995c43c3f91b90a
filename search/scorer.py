"""Whoosh queries scored with numpy, whole posting lists at a time.

Whoosh scores a query by walking a tree of matchers document by document, in
Python: a long query (a pasted English sentence is thirty terms, each searched
in six fields) takes hundreds of milliseconds. ArrayScorer gives the same
scores by reading each term's posting list once, block by block, and computing
BM25F for all its documents at once:

- a term in a field: boost × idf × tf·(K1+1) / (tf + K1·(1 − B + B·length/avglength)),
  with Whoosh's own idf, average and (quantised) field lengths;
- Or and And: the sum of their parts (And only where all match); AndMaybe: the
  required part plus the optional one; AndNot: the positive part where the
  negative one does not match; BestField: the best part plus its tiebreak
  times the others;
- anything else (phrases, year ranges, Every): Whoosh's own matcher, whose
  documents and scores are copied into the arrays.

`scores(query)` returns one score per document number and a mask of the
documents that match; `top(query, limit)` the best of them, ordered as Whoosh
orders them (score, then document number).
"""

from __future__ import annotations

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import UnionMatcher


class BestField(wq.DisjunctionMax):
    """A term in any of several fields, scored by its best field plus `tiebreak` times the others.

    ArrayScorer computes that score. Whoosh only matches it (as a union): its
    DisjunctionMaxMatcher takes the max over sub-matchers without checking that
    they sit on the current document, so its scores changed with the number of
    segments.
    """

    def _matcher(self, subs, searcher, context):
        return self._tree_matcher(subs, UnionMatcher, searcher, context, None)


class ArrayScorer:
    """Scores queries against one open Whoosh searcher (all its segments)."""

    def __init__(self, searcher, K1: float, B: float):
        self.searcher = searcher
        self.K1, self.B = K1, B
        self.size = searcher.doc_count_all()
        self.leaves = searcher.leaf_searchers()
        self.alive = np.ones(self.size, dtype=bool)
        for sub, offset in self.leaves:
            deleted = sub.reader().deleted_docs_set if sub.reader().has_deletions() else ()
            for docnum in deleted:
                self.alive[offset + docnum] = False
        self._lengths: dict[str, np.ndarray] = {}
        self._postings: dict[tuple[str, bytes], tuple[np.ndarray, np.ndarray]] = {}

    # ---------------------------------------------------------------- posting lists

    def postings(self, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers (live documents only) and term frequencies of a term (its indexed bytes)."""
        key = (fieldname, btext)
        if key not in self._postings:
            ids, weights = [], []
            for sub, offset in self.leaves:
                reader = sub.reader()
                if key in reader:
                    docs, tf = _read_postings(reader.postings(fieldname, btext))
                    ids.append(docs + offset)
                    weights.append(tf)
            if ids:
                docs, tf = np.concatenate(ids), np.concatenate(weights)
                live = self.alive[docs]
                self._postings[key] = docs[live], tf[live]
            else:
                self._postings[key] = _EMPTY
        return self._postings[key]

    def term_bytes(self, fieldname: str, text: str) -> bytes | None:
        """A term as the index stores it, or None when the field does not exist or cannot hold it."""
        schema = self.searcher.schema
        if fieldname not in schema:
            return None
        try:
            return schema[fieldname].to_bytes(text)
        except ValueError:
            return None

    def lengths(self, fieldname: str) -> np.ndarray:
        """Every document's length in a field, as Whoosh stores it (quantised to a byte)."""
        if fieldname not in self._lengths:
            out = np.ones(self.size, dtype=np.float64)
            for sub, offset in self.leaves:
                reader = sub.reader()
                for docnum in range(reader.doc_count_all()):
                    out[offset + docnum] = reader.doc_field_length(docnum, fieldname, 1)
            self._lengths[fieldname] = out
        return self._lengths[fieldname]

    # ---------------------------------------------------------------- scoring

    def scores(self, query: wq.Query) -> tuple[np.ndarray, np.ndarray]:
        """One score per document number, and which documents match."""
        if isinstance(query, wq.Term):
            return self._term(query)
        if isinstance(query, BestField):
            parts = [self.scores(q) for q in query.subqueries]
            if not parts:
                return self._nothing()
            stacked = np.stack([s for s, _m in parts])
            best = stacked.max(axis=0)
            score = best + query.tiebreak * (stacked.sum(axis=0) - best)
            return self._boosted(query, score), np.logical_or.reduce([m for _s, m in parts])
        if isinstance(query, wq.Or) and not query.scale and not query.minmatch:
            score, mask = self._nothing()
            for sub in query.subqueries:
                s, m = self.scores(sub)
                score += s
                mask |= m
            return self._boosted(query, score), mask
        if isinstance(query, wq.And):
            parts = [self.scores(q) for q in query.subqueries]
            mask = np.logical_and.reduce([m for _s, m in parts])
            return self._boosted(query, np.where(mask, sum(s for s, _m in parts), 0.0)), mask
        if isinstance(query, wq.AndMaybe):
            (required, mask), (optional, _m) = self.scores(query.a), self.scores(query.b)
            return self._boosted(query, np.where(mask, required + optional, 0.0)), mask
        if isinstance(query, wq.AndNot):
            (score, mask), (_s, excluded) = self.scores(query.a), self.scores(query.b)
            mask = mask & ~excluded
            return self._boosted(query, np.where(mask, score, 0.0)), mask
        if isinstance(query, wq.WrappingQuery) and type(query).matcher is wq.WrappingQuery.matcher:
            score, mask = self.scores(query.child)
            return self._boosted(query, score), mask
        return self._whoosh(query)

    def matching(self, query: wq.Query) -> np.ndarray:
        """The document numbers of the live documents a query matches."""
        return np.flatnonzero(self.scores(query)[1] & self.alive)

    def top(self, query: wq.Query, limit: int) -> list[tuple[int, float]]:
        """The best `limit` (document number, score) pairs: by score, then by document number."""
        score, mask = self.scores(query)
        docs = np.flatnonzero(mask & self.alive)
        if len(docs) > limit:
            # Everything scoring at least the limit-th best, ties included, then Whoosh's order.
            cut = np.partition(score[docs], len(docs) - limit)[len(docs) - limit]
            docs = docs[score[docs] >= cut]
        order = np.lexsort((docs, -score[docs]))[:limit]
        return [(int(docs[i]), float(score[docs[i]])) for i in order]

    def _term(self, query: wq.Term) -> tuple[np.ndarray, np.ndarray]:
        score, mask = self._nothing()
        btext = self.term_bytes(query.fieldname, query.text)
        docs, tf = self.postings(query.fieldname, btext) if btext is not None else _EMPTY
        if len(docs):
            searcher = self.searcher
            idf = searcher.idf(query.fieldname, btext)
            average = searcher.avg_field_length(query.fieldname) or 1
            length = self.lengths(query.fieldname)[docs]
            K1, B = self.K1, self.B
            score[docs] = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * length / average)))
            mask[docs] = True
        return self._boosted(query, score), mask

    def _whoosh(self, query: wq.Query) -> tuple[np.ndarray, np.ndarray]:
        """Whoosh's own matcher, walked over every matching document of every segment."""
        score, mask = self._nothing()
        context = self.searcher.context()
        for sub, offset in self.leaves:
            matcher = query.matcher(sub, context)
            while matcher.is_active():
                docnum = offset + matcher.id()
                score[docnum] = matcher.score()
                mask[docnum] = True
                matcher.next()
        return score, mask

    @staticmethod
    def _boosted(query: wq.Query, score: np.ndarray) -> np.ndarray:
        boost = getattr(query, "boost", 1.0)
        return score * boost if boost != 1.0 else score

    def _nothing(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(self.size), np.zeros(self.size, dtype=bool)


_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0))


def _read_postings(matcher) -> tuple[np.ndarray, np.ndarray]:
    """Every (document number, term frequency) of a posting list, deleted documents included.

    Whoosh's own leaf matcher is read a block at a time; any other matcher one posting at a time.
    """
    while hasattr(matcher, "child"):  # the filter of deleted documents: the caller masks them instead
        matcher = matcher.child
    ids: list = []
    weights: list = []
    if isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            matcher._next_block()
    else:
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64)
