"""The keyword query of a plan: which index terms to look for, in which fields, at what weight.

Each term of a free word searches the paper title, authors, section, tags,
body and link words (the best field counts, the others add a little) and, for
Chinese, the character-gram field as an exact-substring fallback. A run of
words that the notes' glossary translates also searches the translation. With
two or more terms in its free words the query comes with its coordination
units (nodes.Coordinated), which search/rank/ranking.py uses to favour passages
matching more of them. A decade named in words (`1990s`, `八十年代`) is one
such term, matched by any of its years. Phrases, fields, year and date ranges
are required (a year: a paper of that year or a note dated in it); `-word`
excludes. Everything is read from the plan: nothing here analyses text.
"""

from __future__ import annotations

from collections.abc import Sequence

from corpus.dates import year_range
from corpus.text import HAN_RUN
from indexer.analysis import char_grams
from search.query.nodes import (
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
    Unit,
    Years,
    all_of,
    any_of,
)
from search.query.plan import QueryPlan
from search.query.syntax import DateRange, FieldTerm, Group, Not, Quoted, Word, YearRange

BOOSTS = {"title": 2.0, "authors": 2.0, "section": 0.3, "tags": 0.5, "body": 1.0, "links": 0.3}
# A name key (search/query/names.py) found in the names field: as much as a word in the authors.
NAMES_BOOST = BOOSTS["authors"]
GRAM_BOOST = 0.4
# A bigram of a longer Chinese word, found on its own, counts this share of GRAM_BOOST.
BIGRAM_WEIGHT = 0.5
# The parts of a compound (`gpt` and `4` of `gpt-4`) count less than the whole.
PART_WEIGHT = 0.5
NUMBER_PART_WEIGHT = 0.1
# A term's best field counts fully, each other matching field adds this share.
FIELD_TIEBREAK = 0.1
# A Chinese run of the query up to this length must also match as an exact substring to get the gram bonus.
MAX_GRAM_PHRASE = 8
# A glossary term a query word stands for scores this share of a word (split among the words it stands for).
GLOSSARY_WEIGHT = 1.0


def compile_query(plan: QueryPlan) -> Node | None:
    """The keyword query of a plan, or None when nothing searchable is left (e.g. only stop words)."""
    return _Compiler(plan).compile()


class _Compiler:
    def __init__(self, plan: QueryPlan):
        self.plan = plan

    def compile(self) -> Node | None:
        extra = self.glossary_clauses()
        query = self._group(self.plan.root, extra)
        if query is None:
            return None
        found = tuple(unit for n, text in enumerate(self.plan.free)
                      for unit in self.units(text, extra=extra.get(n, ()), alone=n in self.plan.initials))
        return Coordinated(query, found) if len(found) > 1 else query

    def glossary_clauses(self) -> dict[int, list[Node]]:
        """For each free word, the searches for the glossary terms it stands for, and for the index words found
        for it (a typo's, its pinyin's: QueryPlan.respelled) at their weight, and for the name keys of a name it
        writes (QueryPlan.name_keys) in the names field.

        A term that stands for k query words is searched by each of them at 1/k
        weight, so a passage holding only the term matches all k words once.
        """
        out: dict[int, list[Node]] = {}
        for n, terms in self.plan.expansions.items():
            for term, shared in terms:
                clause = self._whole(term, GLOSSARY_WEIGHT / shared)
                if clause is not None:
                    out.setdefault(n, []).append(clause)
        for n, respelled in self.plan.respelled.items():
            for term, weight in respelled:
                clause = self._whole(term, weight)
                if clause is not None:
                    out.setdefault(n, []).append(clause)
        for n, keys in self.plan.name_keys.items():
            out.setdefault(n, []).extend(Term("names", name_key, boost=NAMES_BOOST * weight) for name_key, weight in keys)
        return out

    def _whole(self, text: str, boost: float) -> Node | None:
        """`text` as written, in any field: its words together (a Chinese term jieba splits: or its characters in a row)."""
        analysis = self.plan.analysis(text)
        clauses = [BestField(tuple(Term(name, term, boost=boost * field_boost) for name, field_boost in BOOSTS.items()),
                             tiebreak=FIELD_TIEBREAK) for term in dict.fromkeys(analysis.whole)]
        words = all_of(clauses)
        if analysis.all_han and len(clauses) != 1:
            # A term jieba splits (not one learned word) is also looked for as its characters in a row.
            grams = _grams(text, GRAM_BOOST * boost)
            return Or((words, grams)) if words is not None else grams
        return words

    def _group(self, group: Group, extra: dict[int, list[Node]] | None = None) -> Node | None:
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
                q = self.word(child.text, extra=extra.get(free, ()), alone=free in self.plan.initials)
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
            positive = Or(tuple(required + optional)) if required or optional else None
        elif required and optional:
            positive = AndMaybe(all_of(required), Or(tuple(optional)))
        else:
            positive = all_of(required) if required else any_of(optional)
        if excluded:
            positive = AndNot(positive if positive is not None else Every(), Or(tuple(excluded)))
        return positive

    def _node(self, node) -> Node | None:
        if isinstance(node, Group):
            return self._group(node)
        if isinstance(node, Word):
            return self.word(node.text)
        if isinstance(node, Quoted):
            return self.phrase(node.text)
        if isinstance(node, FieldTerm):
            return self.field(node)
        if isinstance(node, YearRange):
            # A paper of that year, or a note dated in it.
            return Or((Years(node.low, node.high), Dates(*year_range(node.low, node.high))))
        if isinstance(node, DateRange):
            return Dates(node.low, node.high)
        if isinstance(node, Not):
            inner = self._node(node.node)
            return AndNot(Every(), inner) if inner is not None else None
        return None

    def word(self, text: str, fields: dict[str, float] = BOOSTS, extra: Sequence[Node] = (),
             alone: bool = False) -> Node | None:
        """Any field matching any term of the word, plus the character-gram fallback (and `extra` alternatives;
        only those when `alone`)."""
        parts = [unit.query for unit in self.units(text, fields, extra, alone)]
        if len(parts) > 1:
            # A short Chinese run found as written scores above its words found apart.
            parts.extend(_grams(run, GRAM_BOOST) for run in self.plan.analysis(text).han_runs
                         if 2 < len(run) <= MAX_GRAM_PHRASE)
        return any_of(parts)

    def units(self, text: str, fields: dict[str, float] = BOOSTS, extra: Sequence[Node] = (),
              alone: bool = False) -> list[Unit]:
        """One unit per main term of `text`: the term (or its parts) in any field, or its characters in a row.

        `extra` (the glossary terms the word stands for) are alternatives of each unit; with `alone` (the initial
        of a name, search/query/names.py) the only one.
        """
        if alone:
            return [Unit(tuple(extra), (1.0,) * len(extra))] if extra else []
        found = []
        analysis = self.plan.analysis(text)
        decades_found: set[tuple[int, int, int, int]] = set()
        for group in analysis.groups:
            decade = next((d for d in analysis.decades if d[0] <= group[0].start and group[0].end <= d[1]), None)
            if decade is not None:
                # `1990s`, `八十年代`: the years it spans, one unit for the whole mention.
                if decade not in decades_found:
                    decades_found.add(decade)
                    found.append(Unit((self._years(decade[2], decade[3], fields),), (1.0,)))
                continue
            weights: dict[str, float] = {}
            for token in group:
                weight = (PART_WEIGHT if not token.text.isdigit() else NUMBER_PART_WEIGHT) if token.part else 1.0
                weights[token.text] = max(weights.get(token.text, 0.0), weight)
            clauses: list[Node] = [
                BestField(tuple(Term(name, term, boost=boost * weight) for name, boost in fields.items()),
                          tiebreak=FIELD_TIEBREAK)
                for term, weight in weights.items()]
            shares = list(weights.values())
            main = group[0].text
            if HAN_RUN.fullmatch(main):
                clauses.append(_grams(main, GRAM_BOOST))
                shares.append(1.0)
                if len(main) > 2:
                    # jieba may have cut the word wrongly here (`尚恩有` for 尚恩 + 有): its bigrams alone count a little.
                    clauses.extend(Term("grams", main[i:i + 2], boost=GRAM_BOOST * BIGRAM_WEIGHT)
                                   for i in range(len(main) - 1))
                    shares.extend([PART_WEIGHT] * (len(main) - 1))
            clauses.extend(extra)
            shares.extend([1.0] * len(extra))
            found.append(Unit(tuple(clauses), tuple(shares)))
        return found

    @staticmethod
    def _years(first: int, last: int, fields: dict[str, float]) -> Node:
        """Any of the years first..last as a word in any field (a paper's row holds its year)."""
        return Or(tuple(BestField(tuple(Term(name, str(year), boost=boost) for name, boost in fields.items()),
                                  tiebreak=FIELD_TIEBREAK) for year in range(first, last + 1)))

    def phrase(self, text: str, fields: tuple[str, ...] = ("title", "body")) -> Node | None:
        """The words of `text` next to each other, in order, in a title or body."""
        analysis = self.plan.analysis(text)
        terms = analysis.whole[:1] if len(analysis.whole) == 1 else analysis.phrase
        parts: list[Node] = []
        if terms:
            for name in fields:
                parts.append(Phrase(name, tuple(terms), boost=BOOSTS[name]) if len(terms) > 1
                             else Term(name, terms[0], boost=BOOSTS[name]))
        if analysis.all_han:
            runs = [_grams(run, GRAM_BOOST) for run in analysis.han_runs]
            parts.append(all_of(runs))
        return any_of(parts)

    def field(self, node: FieldTerm) -> Node | None:
        if node.field == "path":
            words = self.plan.path_words[node.text]
            if not words:
                return None
            return all_of([Term("path", w) for w in words])
        fields = ("title", "section") if node.field == "title" else (node.field,)
        if node.phrase:
            return self.phrase(node.text, fields)
        analysis = self.plan.analysis(node.text)
        per_field = []
        for name in fields:
            if analysis.phrase:
                per_field.append(all_of([Term(name, term) for term in analysis.phrase]))
            if analysis.han_runs:
                # Chinese is not split at spaces: the value may be part of a longer word of the field (自监督 of
                # 自监督学习), which free text finds through its characters.
                per_field.append(all_of([Contains(name, run) for run in analysis.han_runs]))
        return any_of(per_field)


def _grams(run: str, boost: float) -> Node:
    """A run of Chinese characters as an exact sequence in the gram field (a bigram phrase; one character anywhere)."""
    grams = [t.text for t in char_grams(run) if len(t.text) == 2]
    if len(run) == 1:
        return Character("grams", run, boost=boost)
    if len(grams) == 1:
        return Term("grams", grams[0], boost=boost)
    return Phrase("grams", tuple(grams), boost=boost)

