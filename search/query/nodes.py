"""The keyword query as notesearch's own tree: what search/query/compiler.py builds and search/rank/scorer.py scores.

Leaves name index terms; inner nodes say how their children's scores add up.
None of them is a Whoosh class: the scorer computes every node itself but
Years, Dates and Every, which the keyword index answers
(indexer/keyword/reading.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """A term in one field, its BM25F score times `boost`."""

    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class Phrase:
    """Terms next to each other in one field, in order (scored as Whoosh's Phrase query scores them)."""

    field: str
    words: tuple[str, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class Character:
    """One Chinese character anywhere in the gram field, scored as one term (BM25F times `boost`).

    The gram field holds each character's gram (it and the next character of
    its run), so a character occurs in a passage as often as grams start with
    it there: the scorer reads those grams' postings as the character's own.
    """

    field: str
    char: str
    boost: float = 1.0


@dataclass(frozen=True)
class Contains:
    """Any term of one field that holds `text` (a run of Chinese characters) inside it.

    A field value matches the longer words it is part of (`section:自监督` the
    section word 自监督学习), as free text finds them through its characters.
    The scorer reads the terms from the field's lexicon.
    """

    field: str
    text: str


@dataclass(frozen=True)
class Years:
    """Paper records of a year range; either end may be open (matched by Whoosh)."""

    low: int | None
    high: int | None


@dataclass(frozen=True)
class Dates:
    """Passages of notes whose front-matter date number lies in low..high; either end may be open (matched by
    Whoosh)."""

    low: int | None
    high: int | None


@dataclass(frozen=True)
class Every:
    """Every passage (the positive side of a query that only excludes)."""


@dataclass(frozen=True)
class Or:
    """Any child; the score is the sum of the children that match."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class And:
    """Every child; the score is their sum."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class AndMaybe:
    """`required` must match; `optional` adds its score where it matches too."""

    required: Node
    optional: Node


@dataclass(frozen=True)
class AndNot:
    """`positive` where `excluded` does not match, with `positive`'s score."""

    positive: Node
    excluded: Node


@dataclass(frozen=True)
class BestField:
    """A term in any of several fields: the best field's score plus `tiebreak` times the others'."""

    children: tuple[Term, ...]
    tiebreak: float


@dataclass(frozen=True)
class Unit:
    """The search for one term of the free words, and how much of the term each of its clauses stands for.

    A passage matching the term itself (or its characters in a row) holds all
    of it (share 1.0); one matching only a part (`采样` of `采样效率`) or a
    stray character pair holds less.
    """

    clauses: tuple[Node, ...]
    shares: tuple[float, ...]

    @property
    def query(self) -> Node:
        """The unit as one query: its clauses ORed."""
        return any_of(self.clauses)


@dataclass(frozen=True)
class Coordinated:
    """A query with its coordination units: ranking favours passages that match more of them."""

    query: Node
    units: tuple[Unit, ...]


Node = Term | Phrase | Character | Contains | Years | Dates | Every | Or | And | AndMaybe | AndNot | BestField | Coordinated


def all_of(nodes: Sequence[Node]) -> Node | None:
    """A node matching where every one of `nodes` does: one node is itself, several an And (none: None)."""
    return And(tuple(nodes)) if len(nodes) > 1 else nodes[0] if nodes else None


def any_of(nodes: Sequence[Node]) -> Node | None:
    """A node matching where any of `nodes` does: one node is itself, several an Or (none: None)."""
    return Or(tuple(nodes)) if len(nodes) > 1 else nodes[0] if nodes else None


def leaf_terms(node: Node) -> Iterator[tuple[str, str]]:
    """The (field, term) pairs of every Term and Phrase under `node`."""
    if isinstance(node, Term):
        yield node.field, node.text
    elif isinstance(node, Phrase):
        for word in node.words:
            yield node.field, word
    elif isinstance(node, (Or, And, BestField)):
        for child in node.children:
            yield from leaf_terms(child)
    elif isinstance(node, AndMaybe):
        yield from leaf_terms(node.required)
        yield from leaf_terms(node.optional)
    elif isinstance(node, AndNot):
        yield from leaf_terms(node.positive)
        yield from leaf_terms(node.excluded)
    elif isinstance(node, Coordinated):
        yield from leaf_terms(node.query)
