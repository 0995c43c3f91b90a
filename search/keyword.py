"""Keyword ranking: a parsed query → a Whoosh query → passages ranked by BM25F.

A free word searches the paper title, authors, section and body (with boosts)
and, for Chinese, the character-gram field as an exact-substring fallback.
Phrases, fields and year ranges are required; `-word` excludes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from whoosh import query as wq
from whoosh.scoring import BM25F

from indexer.analysis import HAN, Analyzer, char_grams
from search.query import FieldTerm, Group, Not, ParsedQuery, Phrase, Word, YearRange

BOOSTS = {"title": 2.0, "authors": 2.0, "section": 0.3, "tags": 0.5, "body": 1.0}
GRAM_BOOST = 0.4
# The parts of a compound (`gpt` and `4` of `gpt-4`) count less than the whole.
PART_WEIGHT = 0.5
NUMBER_PART_WEIGHT = 0.1
_HAN_RUN = re.compile(f"[{HAN}]+")


@dataclass(frozen=True)
class KeywordHit:
    """A passage id with its BM25F score and the terms of the query it matched."""

    id: str
    score: float
    record: str


class QueryCompiler:
    """Turns a ParsedQuery into a Whoosh query with the index's analyzer."""

    def __init__(self, analyzer: Analyzer):
        self.analyzer = analyzer

    def compile(self, parsed: ParsedQuery) -> wq.Query | None:
        """The Whoosh query, or None when nothing searchable is left (e.g. only stop words)."""
        return self._group(parsed.root)

    def terms(self, parsed: ParsedQuery) -> list[str]:
        """Every index term the positive parts of the query look for (for highlighting)."""
        out: list[str] = []
        for text in parsed.words():
            out.extend(t.text for t in self.analyzer.tokens(text))
        return list(dict.fromkeys(out))

    def _group(self, group: Group) -> wq.Query | None:
        required, optional, excluded = [], [], []
        for child in group.children:
            if isinstance(child, Not):
                q = self._node(child.node)
                if q is not None:
                    excluded.append(q)
                continue
            q = self._node(child)
            if q is None:
                continue
            if isinstance(child, Word) and group.op == "AND":
                optional.append(q)
            else:
                required.append(q)
        if group.op == "OR":
            positive = wq.Or(required + optional) if required or optional else None
        elif required and optional:
            positive = wq.AndMaybe(wq.And(required) if len(required) > 1 else required[0], wq.Or(optional))
        elif required:
            positive = wq.And(required) if len(required) > 1 else required[0]
        elif optional:
            positive = wq.Or(optional) if len(optional) > 1 else optional[0]
        else:
            positive = None
        if excluded:
            positive = wq.AndNot(positive if positive is not None else wq.Every(), wq.Or(excluded))
        return positive

    def _node(self, node) -> wq.Query | None:
        if isinstance(node, Group):
            return self._group(node)
        if isinstance(node, Word):
            return self.word(node.text)
        if isinstance(node, Phrase):
            return self.phrase(node.text)
        if isinstance(node, FieldTerm):
            return self.field(node)
        if isinstance(node, YearRange):
            return wq.NumericRange("year", node.low, node.high)
        if isinstance(node, Not):
            inner = self._node(node.node)
            return wq.AndNot(wq.Every(), inner) if inner is not None else None
        return None

    def word(self, text: str, fields: dict[str, float] = BOOSTS) -> wq.Query | None:
        """Any field matching any term of the word, plus the character-gram fallback."""
        parts: list[wq.Query] = []
        weights: dict[str, float] = {}
        for token in self.analyzer.tokens(text):
            weight = (PART_WEIGHT if not token.text.isdigit() else NUMBER_PART_WEIGHT) if token.part else 1.0
            weights[token.text] = max(weights.get(token.text, 0.0), weight)
        for term, weight in weights.items():
            parts.extend(wq.Term(name, term, boost=boost * weight) for name, boost in fields.items())
        parts.extend(self._grams(text, GRAM_BOOST))
        if not parts:
            return None
        return wq.Or(parts) if len(parts) > 1 else parts[0]

    def phrase(self, text: str, fields: tuple[str, ...] = ("title", "body")) -> wq.Query | None:
        """The words of `text` next to each other, in order, in a title or body."""
        terms = self.analyzer.query_terms(text)
        parts: list[wq.Query] = []
        if terms:
            for name in fields:
                parts.append(wq.Phrase(name, terms, boost=BOOSTS[name]) if len(terms) > 1
                             else wq.Term(name, terms[0], boost=BOOSTS[name]))
        if _HAN_RUN.fullmatch(re.sub(r"\s+", "", text) or "x"):
            parts.extend(self._grams(text, GRAM_BOOST))
        if not parts:
            return None
        return wq.Or(parts) if len(parts) > 1 else parts[0]

    def field(self, node: FieldTerm) -> wq.Query | None:
        if node.field == "path":
            words = [w.lower() for w in re.findall(r"[^\W_]+", node.text)]
            if not words:
                return None
            terms = [wq.Term("path", w) for w in words]
            return wq.And(terms) if len(terms) > 1 else terms[0]
        fields = ("title", "section") if node.field == "title" else (node.field,)
        if node.phrase:
            return self.phrase(node.text, fields)
        terms = self.analyzer.query_terms(node.text)
        if not terms:
            return None
        per_field = []
        for name in fields:
            clauses = [wq.Term(name, term) for term in terms]
            per_field.append(wq.And(clauses) if len(clauses) > 1 else clauses[0])
        return wq.Or(per_field) if len(per_field) > 1 else per_field[0]

    @staticmethod
    def _grams(text: str, boost: float) -> list[wq.Query]:
        """Each Chinese run of `text` as an exact sequence of characters (bigram phrase)."""
        out = []
        for run in _HAN_RUN.findall(text):
            grams = [t.text for t in char_grams(run) if len(t.text) == 2]
            if len(run) == 1:
                out.append(wq.Term("grams", run, boost=boost))
            elif len(grams) == 1:
                out.append(wq.Term("grams", grams[0], boost=boost))
            else:
                out.append(wq.Phrase("grams", grams, boost=boost))
        return out


def rank(searcher, compiled: wq.Query | None, limit: int) -> list[KeywordHit]:
    """The best `limit` passages for a compiled query, best first."""
    if compiled is None or limit <= 0:
        return []
    results = searcher.search(compiled, limit=limit)
    return [KeywordHit(hit["id"], float(hit.score), hit["record"]) for hit in results]


WEIGHTING = BM25F(B=0.75, K1=1.2)
