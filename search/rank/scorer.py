"""Keyword queries (search/query/nodes.py) scored with numpy, whole posting lists at a time.

Whoosh scores a query by walking a tree of matchers document by document, in
Python: a long query (a pasted English sentence is thirty terms, each searched
in six fields) takes hundreds of milliseconds. ArrayScorer gives the same
scores by reading each term's posting list once, block by block, and computing
BM25F for all its documents at once. It reads the index through
indexer/keyword/reading.py's KeywordIndex (postings, positions, idf, field
lengths), never through Whoosh:

- a term in a field: boost × idf × tf·(K1+1) / (tf + K1·(1 − B + B·length/avglength)),
  with Whoosh's own idf, average and (quantised) field lengths;
- Or and And: the sum of their parts (And only where all match); AndMaybe: the
  required part plus the optional one; AndNot: the positive part where the
  negative one does not match; BestField: the best part plus its tiebreak
  times the others;
- Coordinated: its query (search/rank/ranking.py reads its units);
- Character: the postings of the grams starting with it, summed per passage,
  scored as one term (Whoosh's idf of a term in that many passages);
- Phrase: the documents holding all its words where their positions follow
  each other, scored as Whoosh's phrase matcher scores them (its words' BM25F
  added up in the order of its tree of matchers, times the boost);
- year and date ranges and Every: the keyword index's own (Whoosh's matchers,
  each document scored 1).

`scores(query)` returns the documents a query matches and their scores, as
sparse arrays (the work grows with the postings read, not with the corpus);
`top(query, limit)` the best of them, ordered as Whoosh orders them (score,
then document number).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from indexer.caches import ForgetfulCache
from search.query.nodes import (
    And,
    AndMaybe,
    AndNot,
    BestField,
    Character,
    Contains,
    Coordinated,
    Dates,
    Every,
    Node,
    Or,
    Phrase,
    Term,
    Years,
)

if TYPE_CHECKING:
    from indexer.keyword.reading import KeywordIndex

# BM25F's constants: term frequency saturation and length normalisation (Whoosh's BM25F defaults).
K1 = 1.2
B = 0.75
# Postings an open index keeps after reading them (16 bytes each: about 80 MB at most).
MAX_HELD_POSTINGS = 5_000_000
# The most terms a Contains node stands for (a single character is inside many words).
MAX_CONTAINING = 256
# Documents are gathered in an array of the index's size rather than sorted from this share of it on.
DENSE_UNION_SHARE = 16
# Characters whose summed postings an open index keeps.
MAX_HELD_PREFIXES = 4096


class ArrayScorer:
    """Scores queries against one opened keyword index (all its segments), keeping what it reads."""

    def __init__(self, keyword: KeywordIndex, K1: float = K1, B: float = B):
        self.keyword = keyword
        self.K1, self.B = K1, B
        self.size = keyword.size
        self.alive = keyword.alive()
        self._lengths: dict[str, np.ndarray] = {}
        # A warm server asks for new terms for as long as it runs: these start over rather than grow.
        self._postings: ForgetfulCache[tuple[str, bytes], tuple[np.ndarray, np.ndarray]] = ForgetfulCache(
            MAX_HELD_POSTINGS, weigh=lambda found: len(found[0]))
        self._lexicons: dict[str, list[str]] = {}
        self._starting: ForgetfulCache[tuple[str, str], tuple[np.ndarray, np.ndarray]] = ForgetfulCache(
            MAX_HELD_PREFIXES)

    # ---------------------------------------------------------------- posting lists

    def postings(self, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers (live documents only) and term frequencies of a term (its indexed bytes)."""
        key = (fieldname, btext)
        if key not in self._postings:
            return self._postings.keep(key, self.keyword.postings(fieldname, btext))
        return self._postings[key]

    def starting(self, fieldname: str, prefix: str) -> tuple[np.ndarray, np.ndarray]:
        """Documents (live only) and summed frequencies of every term of a field that starts with `prefix`."""
        key = (fieldname, prefix)
        if key not in self._starting:
            btext = self.term_bytes(fieldname, prefix)
            lists = [self.postings(fieldname, term) for term in self.keyword.terms_starting(fieldname, btext)] \
                if btext is not None else []
            if lists:
                docs, inverse = _union(np.concatenate([d for d, _tf in lists]), self.size)
                found = docs, np.bincount(inverse, weights=np.concatenate([tf for _d, tf in lists]), minlength=len(docs))
            else:
                found = _EMPTY
            return self._starting.keep(key, found)
        return self._starting[key]

    def term_bytes(self, fieldname: str, text: str) -> bytes | None:
        """A term as the index stores it, or None when the field does not exist or cannot hold it."""
        return self.keyword.term_bytes(fieldname, text)

    def containing(self, query: Contains) -> Node:
        """The terms of a field that hold a text inside them, as an Or of Terms (at most MAX_CONTAINING)."""
        if query.field not in self._lexicons:
            self._lexicons[query.field] = self.keyword.lexicon(query.field)
        terms = [term for term in self._lexicons[query.field] if query.text in term][:MAX_CONTAINING]
        return Or(tuple(Term(query.field, term) for term in terms))

    def lengths(self, fieldname: str) -> np.ndarray:
        """Every document's length in a field, as Whoosh stores it (quantised to a byte), decoded."""
        if fieldname not in self._lengths:
            self._lengths[fieldname] = self.keyword.field_lengths(fieldname)
        return self._lengths[fieldname]

    # ---------------------------------------------------------------- scoring

    def scores(self, query: Node) -> tuple[np.ndarray, np.ndarray]:
        """The live documents a query matches (ascending document numbers) and their scores."""
        if isinstance(query, Term):
            return self._term(query)
        if isinstance(query, Character):
            docs, tf = self.starting(query.field, query.char)
            if not len(docs):
                return _EMPTY  # (and an index of no documents has no idf: log 0)
            # Whoosh's idf (scoring.WeightingModel.idf) of a term found in len(docs) documents.
            return self._bm25(query.field, docs, tf, math.log(self.size / (len(docs) + 1)) + 1, query.boost)
        if isinstance(query, BestField):
            docs, inverse, each = _gathered([self.scores(q) for q in query.children], self.size)
            total = np.bincount(inverse, weights=each, minlength=len(docs))
            best = np.full(len(docs), -np.inf)
            np.maximum.at(best, inverse, each)
            return docs, best + query.tiebreak * (total - best)
        if isinstance(query, Or):
            docs, inverse, each = _gathered([self.scores(q) for q in query.children], self.size)
            return docs, np.bincount(inverse, weights=each, minlength=len(docs))
        if isinstance(query, And):
            parts = [self.scores(q) for q in query.children]
            docs, inverse, each = _gathered(parts, self.size)
            keep = np.bincount(inverse, minlength=len(docs)) == len(parts)
            return docs[keep], np.bincount(inverse, weights=each, minlength=len(docs))[keep]
        if isinstance(query, AndMaybe):
            (docs, required), (maybe_docs, optional) = self.scores(query.required), self.scores(query.optional)
            return docs, required + _lookup(docs, maybe_docs, optional)
        if isinstance(query, AndNot):
            (docs, score), (excluded, _s) = self.scores(query.positive), self.scores(query.excluded)
            keep = ~np.isin(docs, excluded, assume_unique=True)
            return docs[keep], score[keep]
        if isinstance(query, Coordinated):
            return self.scores(query.query)
        if isinstance(query, Contains):
            return self.scores(self.containing(query))
        if isinstance(query, Phrase):
            return self._phrase(query)
        if isinstance(query, Years):
            return self.keyword.years(query.low, query.high)
        if isinstance(query, Dates):
            return self.keyword.dates(query.low, query.high)
        if isinstance(query, Every):
            return self.keyword.every()
        raise TypeError(f"cannot score {type(query).__name__}")

    def matching(self, query: Node) -> np.ndarray:
        """The document numbers of the live documents a query matches, ascending."""
        return self.scores(query)[0]

    def top(self, query: Node, limit: int) -> list[tuple[int, float]]:
        """The best `limit` (document number, score) pairs: by score, then by document number."""
        docs, score = self.scores(query)
        if len(docs) > limit > 0:
            # Everything scoring at least the limit-th best, ties included, then Whoosh's order.
            cut = np.partition(score, len(docs) - limit)[len(docs) - limit]
            docs, score = docs[score >= cut], score[score >= cut]
        order = np.lexsort((docs, -score))[:limit]
        return [(int(docs[i]), float(score[i])) for i in order]

    def _term(self, query: Term) -> tuple[np.ndarray, np.ndarray]:
        btext = self.term_bytes(query.field, query.text)
        docs, tf = self.postings(query.field, btext) if btext is not None else _EMPTY
        if not len(docs):
            return _EMPTY
        return self._bm25(query.field, docs, tf, self.keyword.idf(query.field, btext), query.boost)

    def _bm25(self, fieldname: str, docs: np.ndarray, tf: np.ndarray, idf: float,
              boost: float) -> tuple[np.ndarray, np.ndarray]:
        """BM25F of a term with frequencies `tf` in documents `docs` of a field, times `boost`."""
        if not len(docs):
            return _EMPTY
        average = self.keyword.average_length(fieldname) or 1
        length = self.lengths(fieldname)[docs]
        K1, B = self.K1, self.B
        score = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * length / average)))
        return docs, score * boost if boost != 1.0 else score

    def _phrase(self, query: Phrase) -> tuple[np.ndarray, np.ndarray]:
        """Whoosh's answer to a phrase (wq.Phrase: a SpanNear2 of its terms), from posting lists and positions.

        A document matches where the words occur at consecutive positions; it
        scores its words' BM25F summed as Whoosh's matcher tree adds them, times
        the boost. A field the index does not have matches nothing; one without
        positions cannot hold a phrase (ValueError), as Whoosh refuses it.
        """
        if not self.keyword.has_positions(query.field):
            if self.keyword.has_field(query.field):
                raise ValueError(f"phrase search: the {query.field!r} field has no positions")
            return _EMPTY
        words = [self.term_bytes(query.field, word) for word in query.words]
        if None in words or not words:
            return _EMPTY
        parts = [self._term(Term(query.field, word)) for word in query.words]
        docs = parts[0][0]
        for other, _score in parts[1:]:
            docs = np.intersect1d(docs, other, assume_unique=True)
        if len(docs) and len(words) > 1:
            docs = self._in_a_row(query.field, words, docs)
        if not len(docs):
            return _EMPTY
        score = _tree_sum([_lookup(docs, part_docs, part_score) for part_docs, part_score in parts])
        return docs, score * query.boost if query.boost != 1.0 else score

    def _in_a_row(self, fieldname: str, words: list[bytes], docs: np.ndarray) -> np.ndarray:
        """The documents of `docs` (each holding every word) where the words occur one after the other."""
        starts = None  # (document, position of the first word) pairs where the phrase can start, as one number
        for place, word in enumerate(words):
            owners, spots = self.keyword.positions(fieldname, word, docs)
            keep = spots >= place
            here = (owners[keep] << 32) + (spots[keep] - place)
            starts = here if starts is None else np.intersect1d(starts, here, assume_unique=True)
            if not len(starts):
                break
        return np.unique(starts >> 32)


def _gathered(parts: list[tuple[np.ndarray, np.ndarray]], size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The union of the parts' documents, each part's entry's place in it, and the entries' scores.

    Entries keep the parts' order, so per-document sums add up in the order a matcher tree would.
    """
    if not parts:
        return _EMPTY[0], _EMPTY[0], _EMPTY[1]
    docs = np.concatenate([d for d, _s in parts])
    each = np.concatenate([s for _d, s in parts])
    union, inverse = _union(docs, size)
    return union, inverse, each


def _union(docs: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(docs, return_inverse=True) for document numbers below `size`.

    Many documents are marked in an array of the index's size rather than
    sorted: sorting them was the larger cost on a large index.
    """
    if len(docs) * DENSE_UNION_SHARE < size:
        return np.unique(docs, return_inverse=True)
    marked = np.zeros(size, dtype=bool)
    marked[docs] = True
    union = np.flatnonzero(marked)
    place = np.empty(size, dtype=np.int64)
    place[union] = np.arange(len(union))
    return union, place[docs]


def _tree_sum(parts: list[np.ndarray]) -> np.ndarray:
    """The parts added up as whoosh.util.make_binary_tree pairs matchers (each half, then the two)."""
    if len(parts) == 1:
        return parts[0]
    half = len(parts) // 2
    return _tree_sum(parts[:half]) + _tree_sum(parts[half:])


def _lookup(docs: np.ndarray, keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """values[keys == doc] for each doc (0.0 where `keys`, sorted, lacks it)."""
    if not len(keys):
        return np.zeros(len(docs))
    at = np.minimum(np.searchsorted(keys, docs), len(keys) - 1)
    return np.where(keys[at] == docs, values[at], 0.0)


_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0))
