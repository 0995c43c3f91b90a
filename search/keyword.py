"""Keyword ranking: a parsed query → a Whoosh query → passages ranked by BM25F.

Each term of a free word searches the paper title, authors, section, tags,
body and link words (the best field counts, the others add a little) and, for
Chinese, the character-gram field as an exact-substring fallback. A run of
words that the notes' glossary translates also searches the translation. A
passage that matches more of the query's terms ranks higher (a coordination
factor). Phrases, fields and year ranges are required; `-word` excludes.
search/scorer.py computes the scores.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.query.wrappers import WrappingQuery
from whoosh.scoring import BM25F

from indexer.analysis import HAN, Analyzer, Token, char_grams
from indexer.keyword import year_query
from indexer.stopwords import ENGLISH_STOP_WORDS
from search.query import FieldTerm, Group, Not, ParsedQuery, Phrase, Word, YearRange
from search.scorer import ArrayScorer, BestField

BOOSTS = {"title": 2.0, "authors": 2.0, "section": 0.3, "tags": 0.5, "body": 1.0, "links": 0.3}
GRAM_BOOST = 0.4
# A bigram of a longer Chinese word, found on its own, counts this share of GRAM_BOOST.
BIGRAM_WEIGHT = 0.5
# The parts of a compound (`gpt` and `4` of `gpt-4`) count less than the whole.
PART_WEIGHT = 0.5
NUMBER_PART_WEIGHT = 0.1
# A term's best field counts fully, each other matching field adds this share.
FIELD_TIEBREAK = 0.1
# score × (share of the query's terms matched) ** COORDINATION, over the best RERANK_POOL passages.
COORDINATION = 1.0
RERANK_POOL = 200
# A Chinese run of the query up to this length must also match as an exact substring to get the gram bonus.
MAX_GRAM_PHRASE = 8
_HAN_RUN = re.compile(f"[{HAN}]+")
# Only an acronym of this many letters is matched by initials (two letters match too many word pairs).
MIN_INITIALS = 3
MAX_INITIALS = 8
# The most query words one glossary term can stand for.
MAX_RUN = 10
# An English compound is read as two words for its initials when it starts with one of these and
# MIN_COMPOUND_REST more letters: `autoencoder` → auto + encoder. (Not `pre`, `sub`, `super`, `under`…:
# too many plain words start with them — `prediction`, `supervised`, `understand`.)
COMPOUND_PREFIXES = ("auto", "back", "cross", "feed", "hyper", "meta", "multi", "self", "semi")
MIN_COMPOUND_REST = 4
# A glossary term a query word stands for scores this share of a word (split among the words it stands for).
GLOSSARY_WEIGHT = 1.0


@dataclass(frozen=True)
class Unit:
    """The search for one query term, and how much of the term each of its clauses stands for.

    A passage matching the term itself (or its characters in a row) holds all of
    it (share 1.0); one matching only a part (`采样` of `采样效率`) or a stray
    character pair holds PART_WEIGHT of it.
    """

    query: wq.Query
    shares: tuple[float, ...]


class Coordinated(WrappingQuery):
    """A compiled query with its coordination units: the searches for each term of the free words."""

    def __init__(self, child: wq.Query, units: tuple[wq.Query, ...] = ()):
        super().__init__(child)
        self.units = units

    def _rewrap(self, child: wq.Query) -> Coordinated:
        return Coordinated(child, self.units)


@dataclass(frozen=True)
class KeywordHit:
    """A passage id with its BM25F score and the terms of the query it matched."""

    id: str
    score: float
    record: str


class Glossary:
    """The notes' own translations (`长短期记忆` ↔ `LSTM`), looked up from either side.

    An English name is found by its words (`diffusion models`) or, for an
    acronym, by the initials of the query's words: `self-supervised learning`
    spells SSL, the acronym the notes give `自监督学习`, and `variational
    autoencoder` spells VAE (`变分自编码器`), the compound counting as two words.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()):
        self.by_english: dict[tuple[str, ...], set[str]] = {}
        self.by_initials: dict[str, set[str]] = {}
        self.by_chinese: dict[str, set[str]] = {}
        for english, chinese in pairs:
            words = tuple(_english_words(english))
            if not words:
                continue
            self.by_english.setdefault(words, set()).update((chinese, english))
            self.by_chinese.setdefault(chinese, set()).add(english)
            capitals = "".join(ch for ch in english if ch.isupper()).lower()
            if len(words) == 1 and len(capitals) >= MIN_INITIALS:
                self.by_initials.setdefault(capitals, set()).update((chinese, english))

    def expansions(self, words: Sequence[str]) -> dict[int, list[tuple[str, int]]]:
        """For each query word, the glossary terms it stands for, with how many query words share each.

        A run of words stands for a term when the run is the term's English
        name, or when its initials spell the term's acronym; a single Chinese
        word stands for the English names of its term.
        """
        out: dict[int, list[tuple[str, int]]] = {}
        folded = [tuple(_english_words(word)) for word in words]
        for i in range(len(words)):
            if words[i] in self.by_chinese:
                out.setdefault(i, []).extend((term, 1) for term in sorted(self.by_chinese[words[i]]))
            spelled = {""}
            for j in range(i, min(len(words), i + MAX_RUN)):
                if not folded[j]:
                    break
                run = tuple(part for parts in folded[i:j + 1] for part in parts)
                # Initials run over content words only (`mixture of experts` is found by its name, never by ME).
                stop = j > i and all(part in ENGLISH_STOP_WORDS for part in folded[j])
                spelled = set() if stop else {a + b for a in spelled for b in _initials(folded[j])
                                              if len(a + b) <= MAX_INITIALS}
                found = set(self.by_english.get(run, ()))
                for letters in spelled:
                    found |= self.by_initials.get(letters, set())
                typed = " ".join(words[i:j + 1]).lower()
                found = {term for term in found if term.lower() != typed}
                for n in range(i, j + 1):
                    out.setdefault(n, []).extend((term, j - i + 1) for term in sorted(found))
        return {n: list(dict.fromkeys(terms)) for n, terms in out.items() if terms}


def _initials(parts: Sequence[str]) -> set[str]:
    """The ways one query word's parts can be abbreviated: each part but a stop word gives its initial,
    a compound its two or one (`autoencoder` → AE or A)."""
    spelled = {""}
    for part in parts:
        if part in ENGLISH_STOP_WORDS:
            continue
        choices = {part[0]}
        for prefix in COMPOUND_PREFIXES:
            if part.startswith(prefix) and len(part) - len(prefix) >= MIN_COMPOUND_REST:
                choices.add(part[0] + part[len(prefix)])
        spelled = {a + b for a in spelled for b in choices if len(a + b) <= MAX_INITIALS}
    return spelled


def term_groups(analyzer: Analyzer, text: str) -> list[list[Token]]:
    """The tokens of `text`, each main term with the parts that follow it (`gpt-4` → gpt-4, gpt, 4)."""
    groups: list[list[Token]] = []
    for token in analyzer.tokens(text):
        if token.part and groups:
            groups[-1].append(token)
        else:
            groups.append([token])
    return groups


def _english_words(text: str) -> list[str]:
    """Lower-cased Latin words and their hyphen parts: `Short-Term Memory` → short, term, memory."""
    return re.findall(r"[a-z0-9]+", text.lower()) if re.fullmatch(r"[A-Za-z0-9 .+/-]+", text) else []


class QueryCompiler:
    """Turns a ParsedQuery into a Whoosh query with the index's analyzer and the notes' glossary."""

    def __init__(self, analyzer: Analyzer, glossary: Glossary | None = None):
        self.analyzer = analyzer
        self.glossary = glossary or Glossary()

    def compile(self, parsed: ParsedQuery) -> wq.Query | None:
        """The Whoosh query, or None when nothing searchable is left (e.g. only stop words).

        With two or more terms in its free words the query comes wrapped in
        Coordinated, which `rank` uses to favour passages matching more of them.
        """
        free = self._free_words(parsed.root)
        extra = self._glossary_clauses(free)
        query = self._group(parsed.root, extra)
        if query is None:
            return None
        units = tuple(unit for n, text in enumerate(free) for unit in self._units(text, extra=extra.get(n, ())))
        return Coordinated(query, units) if len(units) > 1 else query

    def _glossary_clauses(self, words: list[str]) -> dict[int, list[wq.Query]]:
        """For each free word, the searches for the glossary terms it stands for.

        A term that stands for k query words is searched by each of them at 1/k
        weight, so a passage holding only the term matches all k words once.
        """
        out: dict[int, list[wq.Query]] = {}
        for n, terms in self.glossary.expansions(words).items():
            for term, shared in terms:
                clause = self._whole(term, GLOSSARY_WEIGHT / shared)
                if clause is not None:
                    out.setdefault(n, []).append(clause)
        return out

    def _whole(self, text: str, boost: float) -> wq.Query | None:
        """`text` as written, in any field: its words together (a Chinese term jieba splits: or its characters in a row)."""
        terms = [t.text for t in self.analyzer.tokens(text, subwords=False)]
        clauses = [BestField([wq.Term(name, term, boost=boost * field_boost) for name, field_boost in BOOSTS.items()],
                             tiebreak=FIELD_TIEBREAK) for term in dict.fromkeys(terms)]
        words = wq.And(clauses) if len(clauses) > 1 else clauses[0] if clauses else None
        if _HAN_RUN.fullmatch(text) and len(clauses) != 1:
            # A term jieba splits (not one learned word) is also looked for as its characters in a row.
            grams = self._grams(text, GRAM_BOOST * boost)
            return wq.Or([words, grams]) if words is not None else grams
        return words

    def terms(self, parsed: ParsedQuery) -> list[str]:
        """The index terms to mark in a snippet: each word's terms and Latin parts, and the glossary terms
        the words stand for (`VAE` for `variational autoencoder`).

        The Chinese words inside a longer query word are left out: a query for
        马克思 marks 马克思, never a lone 马克.
        """
        out: list[str] = []
        for text in parsed.words():
            out.extend(t.text for t in self.analyzer.tokens(text) if not (t.part and _HAN_RUN.match(t.text)))
        for terms in self.glossary.expansions(self._free_words(parsed.root)).values():
            out.extend(t.text for term, _shared in terms for t in self.analyzer.tokens(term, subwords=False))
        return list(dict.fromkeys(out))

    @staticmethod
    def _free_words(group: Group) -> list[str]:
        """The texts of the optional words of the top-level AND (or a lone OR)."""
        return [child.text for child in group.children if isinstance(child, Word)] if group.op == "AND" else []

    def _group(self, group: Group, extra: dict[int, list[wq.Query]] | None = None) -> wq.Query | None:
        """A group's query; `extra` adds glossary clauses to its free words (by their order, top level only)."""
        required, optional, excluded = [], [], []
        free = 0
        for child in group.children:
            if isinstance(child, Not):
                q = self._node(child.node)
                if q is not None:
                    excluded.append(q)
                continue
            if isinstance(child, Word) and group.op == "AND" and extra is not None:
                q = self.word(child.text, extra=extra.get(free, ()))
                free += 1
            else:
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
            return year_query(node.low, node.high)
        if isinstance(node, Not):
            inner = self._node(node.node)
            return wq.AndNot(wq.Every(), inner) if inner is not None else None
        return None

    def word(self, text: str, fields: dict[str, float] = BOOSTS, extra: Sequence[wq.Query] = ()) -> wq.Query | None:
        """Any field matching any term of the word, plus the character-gram fallback (and `extra` alternatives)."""
        parts = [unit.query for unit in self._units(text, fields, extra)]
        if len(parts) > 1:
            # A short Chinese run found as written scores above its words found apart.
            parts.extend(self._grams(run, GRAM_BOOST) for run in _HAN_RUN.findall(text)
                         if 2 < len(run) <= MAX_GRAM_PHRASE)
        if not parts:
            return None
        return wq.Or(parts) if len(parts) > 1 else parts[0]

    def _units(self, text: str, fields: dict[str, float] = BOOSTS, extra: Sequence[wq.Query] = ()) -> list[Unit]:
        """One unit per main term of `text`: the term (or its parts) in any field, or its characters in a row.

        `extra` (the glossary terms the word stands for) are alternatives of each unit.
        """
        units = []
        for group in term_groups(self.analyzer, text):
            weights: dict[str, float] = {}
            for token in group:
                weight = (PART_WEIGHT if not token.text.isdigit() else NUMBER_PART_WEIGHT) if token.part else 1.0
                weights[token.text] = max(weights.get(token.text, 0.0), weight)
            clauses = [BestField([wq.Term(name, term, boost=boost * weight) for name, boost in fields.items()],
                                 tiebreak=FIELD_TIEBREAK)
                       for term, weight in weights.items()]
            shares = list(weights.values())
            main = group[0].text
            if _HAN_RUN.fullmatch(main):
                clauses.append(self._grams(main, GRAM_BOOST))
                shares.append(1.0)
                if len(main) > 2:
                    # jieba may have cut the word wrongly here (`尚恩有` for 尚恩 + 有): its bigrams alone count a little.
                    clauses.extend(wq.Term("grams", main[i:i + 2], boost=GRAM_BOOST * BIGRAM_WEIGHT)
                                   for i in range(len(main) - 1))
                    shares.extend([PART_WEIGHT] * (len(main) - 1))
            clauses.extend(extra)
            shares.extend([1.0] * len(extra))
            units.append(Unit(wq.Or(clauses) if len(clauses) > 1 else clauses[0], tuple(shares)))
        return units

    def phrase(self, text: str, fields: tuple[str, ...] = ("title", "body")) -> wq.Query | None:
        """The words of `text` next to each other, in order, in a title or body."""
        whole = self.analyzer.tokens(text, subwords=False)
        terms = [whole[0].text] if len(whole) == 1 else self.analyzer.query_terms(text)
        parts: list[wq.Query] = []
        if terms:
            for name in fields:
                parts.append(wq.Phrase(name, terms, boost=BOOSTS[name]) if len(terms) > 1
                             else wq.Term(name, terms[0], boost=BOOSTS[name]))
        if _HAN_RUN.fullmatch(re.sub(r"\s+", "", text) or "x"):
            runs = [self._grams(run, GRAM_BOOST) for run in _HAN_RUN.findall(text)]
            parts.append(wq.And(runs) if len(runs) > 1 else runs[0])
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
    def _grams(run: str, boost: float) -> wq.Query:
        """A run of Chinese characters as an exact sequence in the gram field (a bigram phrase)."""
        grams = [t.text for t in char_grams(run) if len(t.text) == 2]
        if len(run) == 1:
            return wq.Term("grams", run, boost=boost)
        if len(grams) == 1:
            return wq.Term("grams", grams[0], boost=boost)
        return wq.Phrase("grams", grams, boost=boost)


def rank(scorer: ArrayScorer, compiled: wq.Query | None, limit: int) -> list[KeywordHit]:
    """The best `limit` passages for a compiled query, best first."""
    if compiled is None or limit <= 0:
        return []
    searcher = scorer.searcher
    if not isinstance(compiled, Coordinated):
        return [_hit(searcher, docnum, score) for docnum, score in scorer.top(compiled, limit)]
    results = scorer.top(compiled, max(limit, RERANK_POOL))
    pool = np.array([docnum for docnum, _score in results], dtype=np.int64)
    documents = int(scorer.alive.sum())
    matched = np.zeros(len(pool))
    total = 0.0
    for unit in compiled.units:
        shares = _unit_shares(scorer, unit)
        # A term is as rare as the passages holding all of it (a stray bigram of it says little).
        weight = _idf(documents, int(np.count_nonzero(shares >= 1.0)))
        matched += weight * shares[pool]
        total += weight
    scored = [(score * (share / total) ** COORDINATION, docnum)
              for (docnum, score), share in zip(results, matched.tolist())]
    scored.sort(key=lambda pair: -pair[0])  # stable: ties keep the order of the first ranking
    return [_hit(searcher, docnum, score) for score, docnum in scored[:limit]]


def _hit(searcher, docnum: int, score: float) -> KeywordHit:
    stored = searcher.stored_fields(docnum)
    return KeywordHit(stored["id"], score, stored["record"])


def _unit_shares(scorer: ArrayScorer, unit: Unit) -> np.ndarray:
    """For each passage, the largest share of `unit` it holds (0 for none).

    A gram phrase counts when all its grams are there.
    """
    shares = np.zeros(scorer.size)
    clauses = list(unit.query.children()) if isinstance(unit.query, wq.Or) else [unit.query]
    for clause, share in zip(clauses, unit.shares):
        matching = _matching(scorer, clause)
        shares[matching] = np.maximum(shares[matching], share)
    return shares


def _matching(scorer: ArrayScorer, clause: wq.Query) -> np.ndarray:
    """Which passages a clause of a unit matches: a phrase or And needs all its parts, anything else one."""
    if isinstance(clause, wq.Phrase):
        return np.logical_and.reduce([_holding(scorer, clause.fieldname, word) for word in clause.words])
    if isinstance(clause, wq.And):
        return np.logical_and.reduce([_matching(scorer, child) for child in clause.children()])
    if isinstance(clause, wq.Or):
        return np.logical_or.reduce([_matching(scorer, child) for child in clause.children()])
    return np.logical_or.reduce([_holding(scorer, name, text) for name, text in clause.iter_all_terms()]
                                + [np.zeros(scorer.size, dtype=bool)])


def _holding(scorer: ArrayScorer, name: str, text) -> np.ndarray:
    """Which passages hold a term (live ones only)."""
    mask = np.zeros(scorer.size, dtype=bool)
    btext = text if isinstance(text, bytes) else scorer.term_bytes(name, text)
    if btext is not None:
        mask[scorer.postings(name, btext)[0]] = True
    return mask


WEIGHTING = BM25F(B=0.75, K1=1.2)


def _idf(documents: int, matching: int) -> float:
    """The BM25 inverse document frequency of a term found in `matching` of `documents` passages."""
    return math.log(1 + (documents - matching + 0.5) / (matching + 0.5))
