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

`scores(query)` returns the documents a query matches and their scores, as
sparse arrays (the work grows with the postings read, not with the corpus);
`top(query, limit)` the best of them, ordered as Whoosh orders them (score,
then document number).
"""

from __future__ import annotations

import numpy as np
from whoosh import query as wq
from whoosh.matching import UnionMatcher

from indexer.keyword import BYTE_LENGTHS
from search import postings as segment


class BestField(wq.DisjunctionMax):
    """A term in any of several fields, scored by its best field plus `tiebreak` times the others.

    ArrayScorer computes that score. Whoosh only matches it (as a union): its
    DisjunctionMaxMatcher takes the max over sub-matchers without checking that
    they sit on the current document, so its scores changed with the number of
    segments.
    """

    def _matcher(self, subs, searcher, context):
        return self._tree_matcher(subs, UnionMatcher, searcher, context, None)


# Postings an open index keeps after reading them (16 bytes each: about 80 MB at most).
MAX_HELD_POSTINGS = 5_000_000


class ArrayScorer:
    """Scores queries against one open Whoosh searcher (all its segments)."""

    def __init__(self, searcher, lengths: dict[str, np.ndarray], K1: float, B: float):
        """`lengths`: each text field's length bytes by document number, as build wrote them."""
        self.searcher = searcher
        self.K1, self.B = K1, B
        self.size = searcher.doc_count_all()
        self.leaves = searcher.leaf_searchers()
        self.alive = np.ones(self.size, dtype=bool)
        for sub, offset in self.leaves:
            self.alive[offset + segment.deleted(sub.reader())] = False
        self._length_bytes = lengths
        self._lengths: dict[str, np.ndarray] = {}
        self._postings: dict[tuple[str, bytes], tuple[np.ndarray, np.ndarray]] = {}
        self._held = 0  # postings kept in self._postings

    # ---------------------------------------------------------------- posting lists

    def postings(self, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers (live documents only) and term frequencies of a term (its indexed bytes)."""
        key = (fieldname, btext)
        if key not in self._postings:
            ids, weights = [], []
            for sub, offset in self.leaves:
                reader = sub.reader()
                if key in reader:
                    docs, tf = segment.postings(reader, fieldname, btext)
                    ids.append(docs + offset)
                    weights.append(tf)
            found = (np.concatenate(ids), np.concatenate(weights)) if ids else _EMPTY
            if self._held + len(found[0]) > MAX_HELD_POSTINGS:
                # A warm server asks for new terms for as long as it runs: start over rather than grow.
                self._postings.clear()
                self._held = 0
            self._postings[key] = found
            self._held += len(found[0])
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
        """Every document's length in a field, as Whoosh stores it (quantised to a byte), decoded."""
        if fieldname not in self._lengths:
            self._lengths[fieldname] = BYTE_LENGTHS[self._length_bytes[fieldname]]
        return self._lengths[fieldname]

    # ---------------------------------------------------------------- scoring

    def scores(self, query: wq.Query) -> tuple[np.ndarray, np.ndarray]:
        """The live documents a query matches (ascending document numbers) and their scores."""
        if isinstance(query, wq.Term):
            return self._term(query)
        if isinstance(query, BestField):
            docs, inverse, each = _gathered([self.scores(q) for q in query.subqueries])
            total = np.bincount(inverse, weights=each, minlength=len(docs))
            best = np.full(len(docs), -np.inf)
            np.maximum.at(best, inverse, each)
            return docs, self._boosted(query, best + query.tiebreak * (total - best))
        if isinstance(query, wq.Or) and not query.scale and not query.minmatch:
            docs, inverse, each = _gathered([self.scores(q) for q in query.subqueries])
            return docs, self._boosted(query, np.bincount(inverse, weights=each, minlength=len(docs)))
        if isinstance(query, wq.And):
            parts = [self.scores(q) for q in query.subqueries]
            docs, inverse, each = _gathered(parts)
            keep = np.bincount(inverse, minlength=len(docs)) == len(parts)
            return docs[keep], self._boosted(query, np.bincount(inverse, weights=each, minlength=len(docs))[keep])
        if isinstance(query, wq.AndMaybe):
            (docs, required), (maybe_docs, optional) = self.scores(query.a), self.scores(query.b)
            return docs, self._boosted(query, required + _lookup(docs, maybe_docs, optional))
        if isinstance(query, wq.AndNot):
            (docs, score), (excluded, _s) = self.scores(query.a), self.scores(query.b)
            keep = ~np.isin(docs, excluded, assume_unique=True)
            return docs[keep], self._boosted(query, score[keep])
        if isinstance(query, wq.WrappingQuery) and type(query).matcher is wq.WrappingQuery.matcher:
            docs, score = self.scores(query.child)
            return docs, self._boosted(query, score)
        return self._whoosh(query)

    def matching(self, query: wq.Query) -> np.ndarray:
        """The document numbers of the live documents a query matches, ascending."""
        return self.scores(query)[0]

    def top(self, query: wq.Query, limit: int) -> list[tuple[int, float]]:
        """The best `limit` (document number, score) pairs: by score, then by document number."""
        docs, score = self.scores(query)
        if len(docs) > limit > 0:
            # Everything scoring at least the limit-th best, ties included, then Whoosh's order.
            cut = np.partition(score, len(docs) - limit)[len(docs) - limit]
            docs, score = docs[score >= cut], score[score >= cut]
        order = np.lexsort((docs, -score))[:limit]
        return [(int(docs[i]), float(score[i])) for i in order]

    def _term(self, query: wq.Term) -> tuple[np.ndarray, np.ndarray]:
        btext = self.term_bytes(query.fieldname, query.text)
        docs, tf = self.postings(query.fieldname, btext) if btext is not None else _EMPTY
        if not len(docs):
            return _EMPTY
        searcher = self.searcher
        idf = searcher.idf(query.fieldname, btext)
        average = searcher.avg_field_length(query.fieldname) or 1
        length = self.lengths(query.fieldname)[docs]
        K1, B = self.K1, self.B
        return docs, self._boosted(query, idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * length / average))))

    def _whoosh(self, query: wq.Query) -> tuple[np.ndarray, np.ndarray]:
        """Whoosh's own matcher, walked over every matching document of every segment."""
        docs, scores = [], []
        context = self.searcher.context()
        for sub, offset in self.leaves:
            matcher = query.matcher(sub, context)
            while matcher.is_active():
                docs.append(offset + matcher.id())
                scores.append(matcher.score())
                matcher.next()
        found = np.asarray(docs, dtype=np.int64)
        live = self.alive[found]
        return found[live], np.asarray(scores, dtype=np.float64)[live]

    @staticmethod
    def _boosted(query: wq.Query, score: np.ndarray) -> np.ndarray:
        boost = getattr(query, "boost", 1.0)
        return score * boost if boost != 1.0 else score


def _gathered(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The union of the parts' documents, each part's entry's place in it, and the entries' scores.

    Entries keep the parts' order, so per-document sums add up in the order a matcher tree would.
    """
    if not parts:
        return _EMPTY[0], _EMPTY[0], _EMPTY[1]
    docs = np.concatenate([d for d, _s in parts])
    each = np.concatenate([s for _d, s in parts])
    union, inverse = np.unique(docs, return_inverse=True)
    return union, inverse, each


def _lookup(docs: np.ndarray, keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """values[keys == doc] for each doc (0.0 where `keys`, sorted, lacks it)."""
    if not len(keys):
        return np.zeros(len(docs))
    at = np.minimum(np.searchsorted(keys, docs), len(keys) - 1)
    return np.where(keys[at] == docs, values[at], 0.0)


_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0))
