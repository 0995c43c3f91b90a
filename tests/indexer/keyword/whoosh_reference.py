"""Whoosh's own answers on an index notesearch built: what the keyword package's tests compare its fast paths with.

Only the tests of indexer/keyword/ import Whoosh (tests/test_imports.py checks): here it opens an index's
keyword folder through its public API, and translates notesearch's query nodes into Whoosh's queries.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.scoring import BM25F
from whoosh.searching import Searcher

from indexer.keyword.reading import KEYWORD
from search.query.nodes import And, AndMaybe, AndNot, Every, Node, Or, Phrase, Term
from search.rank.scorer import K1, B


@contextmanager
def whoosh_searcher(folder: str) -> Iterator[Searcher]:
    """Whoosh's searcher of the keyword index in a generation folder, scoring with BM25F(K1, B) as notesearch does."""
    ix = whoosh_index.open_dir(os.path.join(folder, KEYWORD))
    searcher = Searcher(ix.reader(), fromindex=ix, weighting=BM25F(B=B, K1=K1))
    try:
        yield searcher
    finally:
        searcher.close()
        ix.close()


def whoosh_query(node: Node) -> wq.Query:
    """The Whoosh query of a node Whoosh scores as notesearch does (all but BestField, Character, Contains and
    Coordinated, which Whoosh has no query for, and Years and Dates, which the keyword index answers through
    Whoosh itself: their reference is the years and dates the passages hold)."""
    if isinstance(node, Term):
        return wq.Term(node.field, node.text, boost=node.boost)
    if isinstance(node, Phrase):
        return wq.Phrase(node.field, list(node.words), boost=node.boost)
    if isinstance(node, Every):
        return wq.Every()
    if isinstance(node, Or):
        return wq.Or([whoosh_query(child) for child in node.children])
    if isinstance(node, And):
        return wq.And([whoosh_query(child) for child in node.children])
    if isinstance(node, AndMaybe):
        return wq.AndMaybe(whoosh_query(node.required), whoosh_query(node.optional))
    if isinstance(node, AndNot):
        return wq.AndNot(whoosh_query(node.positive), whoosh_query(node.excluded))
    raise TypeError(f"Whoosh cannot score {type(node).__name__} as notesearch does")


def whoosh_scores(searcher: Searcher, node: Node) -> dict[int, float]:
    """Whoosh's score of each document a node matches."""
    return {hit.docnum: hit.score for hit in searcher.search(whoosh_query(node), limit=None)}
