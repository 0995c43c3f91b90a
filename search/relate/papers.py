"""Related papers: given one paper record (or any passage), which others to read with it.

    result = related(index, "Attention is All You Need", k=10)

Each other paper record is scored by five signals, each 0..1, and says why:

- **references**: one record's note names the other paper — its first author's
  surname (`Bahdanau`) or a term the other paper owns (`LSTM`, `Transformer`: the
  capitalised name or acronym its own note uses most; ties go to the earliest paper);
- **named together**: a paragraph that is not a paper record names both papers;
- **similar text**: cosine similarity of the two records' vectors;
- **shared terms**: tf-idf cosine of their terms (title and note);
- **shared authors**, and **nearness in time**.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Mapping

import numpy as np

from corpus.markdown import MAX_ROW
from corpus.model import Passage
from corpus.text import fold
from search.notes.index import NoteIndex
from search.rank.engine import search
from search.rank.snippets import snippet
from search.results import Hit, RelatedResult

# Fitted on the 25 related judgements (bench/quality.py --cv): leave-one-query-out nDCG@10 0.754 against
# 0.742 for the weights before ({"reference": 1.5, "together": 0.5, "similar": 1.0, "terms": 1.0, ...}).
WEIGHTS = {"reference": 1.0, "together": 1.0, "similar": 2.0, "terms": 2.0, "authors": 0.25, "year": 0.6}
YEAR_SCALE = 5.0
MAX_CANDIDATES = 5
# The longest paper name looked for: a table row longer than this is no paper record (corpus/markdown.py MAX_ROW).
MAX_PAPER_NAME = MAX_ROW
# A paper goes by a name when its note and title hold this share of the name's uses in all the papers' notes.
GOES_BY = 2 / 3
# A capitalised word or acronym in a note: a name, a model, an organisation.
# A capitalised name, hyphenated parts included (`R-CNN`, `Back-Propagating`).
_NAME = re.compile(r"(?<![A-Za-z0-9-])((?:[A-Z][A-Za-z0-9]*-)*(?:[A-Z][A-Za-z0-9]*[A-Z0-9][A-Za-z0-9]*"
                   r"|[A-Z][a-z]{3,}[A-Za-z0-9]*))(?![A-Za-z-])")
_WORD = re.compile(r"[A-Za-z][A-Za-z\-]*")
_COMMON = {"The", "This", "That", "These", "With", "From", "When", "What", "Learning", "Neural", "Network",
           "Networks", "Deep", "Model", "Models"}


def _surname(author: str) -> str:
    parts = author.replace("-", " - ").split()
    return parts[-1] if parts else ""


def _mentions(text: str, name: str) -> int:
    return len(re.findall(rf"(?<![A-Za-z]){re.escape(name)}s?(?![A-Za-z])", text))


class PaperGraph:
    """The paper records of an index with the links between them (built once per index)."""

    def __init__(self, index: NoteIndex):
        passages = index.passages()
        self.papers = [p for p in passages if p.paper is not None]
        self.others = [p for p in passages if p.paper is None]
        self.index = index
        author_words = {w for p in self.papers for a in p.paper.authors for w in a.split()}
        self.owner = self._term_owners(author_words)
        self.surnames: dict[str, list[Passage]] = defaultdict(list)
        for p in self.papers:
            if p.paper.authors and len(_surname(p.paper.authors[0])) >= 3:
                self.surnames[_surname(p.paper.authors[0])].append(p)
        self.cited = {p.id: self._cited_by(p.paper.note + " " + p.paper.title, p) for p in self.papers}
        self.together: dict[tuple[str, str], list[Passage]] = defaultdict(list)
        for passage in self.others:
            named = sorted(self._cited_by(passage.text, None))
            for a in named:
                for b in named:
                    if a != b:
                        self.together[a, b].append(passage)
        self._terms = self._term_vectors(self.papers)

    def _term_owners(self, author_words: set[str]) -> dict[str, Passage]:
        """Each name the notes use → the paper whose note uses it most (its title counts twice; ties: earliest).

        Keeps the counts in `name_uses`, for find() to tell a name a paper goes by from a shared one.
        """
        counts: dict[str, Counter] = defaultdict(Counter)
        self.name_uses = counts
        for p in self.papers:
            for name in _NAME.findall(p.paper.note):
                if name not in author_words and name not in _COMMON:
                    counts[name][p.id] += 1
            for name in _NAME.findall(p.paper.title):
                if name.isupper() or not name[1:].islower():
                    counts[name][p.id] += 2
        by_id = {p.id: p for p in self.papers}
        order = {p.id: (p.paper.year or 9999, n) for n, p in enumerate(self.papers)}
        return {name: by_id[min(c, key=lambda i: (-c[i], order[i]))] for name, c in counts.items()}

    def _cited_by(self, text: str, source: Passage | None) -> dict[str, tuple[Passage, str]]:
        """The papers `text` names → (paper, the name used); the source paper itself excluded."""
        out: dict[str, tuple[Passage, str]] = {}
        for surname, papers in self.surnames.items():
            if not _mentions(text, surname):
                continue
            for paper in papers:
                if source is None or paper.id != source.id:
                    out.setdefault(paper.id, (paper, surname))
        for name, paper in self.owner.items():
            if (source is None or paper.id != source.id) and paper.id not in out and _mentions(text, name):
                out[paper.id] = (paper, name)
        return out

    def include_all_passages(self) -> None:
        """Weigh terms over every passage, not only paper records (for "more like this")."""
        self._terms = self._term_vectors(self.papers + self.others)

    def _term_vectors(self, passages: list[Passage]) -> dict[str, dict[str, float]]:
        """tf-idf vectors of the passages' terms: idf over every passage of the index, each term weighed by how
        specific it is (Latin words and rare Chinese words fully, common words of the language little)."""
        analyzer = self.index.analyzer
        every = {p.id: [t.text for t in analyzer.tokens(p.paper.title + " " + p.paper.note if p.paper else p.text)
                        if not t.part and _specificity(analyzer, t.text) > 0] for p in self.papers + self.others}
        df = Counter(term for terms in every.values() for term in set(terms))
        n = len(every)
        out = {}
        for pid in (p.id for p in passages):
            weights = {t: (1 + math.log(c)) * math.log((1 + n) / df[t]) * _specificity(analyzer, t)
                       for t, c in Counter(every[pid]).items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            out[pid] = {t: w / norm for t, w in weights.items()}
        return out

    def shared_terms(self, a: str, b: str) -> tuple[float, list[str]]:
        """The tf-idf cosine of two papers' terms, and the terms that weigh most in it."""
        va, vb = self._terms.get(a, {}), self._terms.get(b, {})
        # In term order, not set order (which varies with PYTHONHASHSEED): ties and sums come out the same every run.
        parts = {t: va[t] * vb[t] for t in sorted(va.keys() & vb.keys())}
        return sum(parts.values()), sorted(parts, key=lambda t: -parts[t])[:3]

    def goes_by(self, name: str) -> Passage | None:
        """The paper that goes by `name` (`R-CNN`, `CLIP`): its own note and title hold at least GOES_BY of the
        name's uses in all the papers' notes. A name many notes share (`RNN`, `Transformer`) goes with none."""
        for term, paper in self.owner.items():
            if fold(term) == fold(name):
                uses = self.name_uses[term]
                return paper if uses[paper.id] >= GOES_BY * sum(uses.values()) else None
        return None

    def find(self, name: str) -> list[Passage]:
        """The paper records `name` could mean, best first: one when it names a paper clearly."""
        exact = [p for p in self.papers if fold(p.paper.title) == fold(name)]
        if exact:
            return exact[:1]
        owner = self.goes_by(name)
        pattern = re.compile(rf"(?<![A-Za-z]){re.escape(name.strip().lower())}(?![A-Za-z])")
        in_title = [p for p in self.papers if pattern.search(p.paper.title.lower())]
        if owner is not None and (not in_title or owner in in_title):
            return [owner]
        if in_title:
            return in_title[:MAX_CANDIDATES]
        spelled = by_initials(self.papers, name)
        if spelled:
            return spelled[:MAX_CANDIDATES]
        by_author = [p for p in self.papers if any(fold(_surname(a)) == fold(name) for a in p.paper.authors)]
        if by_author:
            return by_author[:MAX_CANDIDATES]
        hits = search(self.index, name, mode="keyword", k=30).hits
        return [h.passage for h in hits if h.passage.paper is not None][:MAX_CANDIDATES]


def _specificity(analyzer, term: str) -> float:
    """How well a term can name a topic, 0..1.

    A Latin word of three letters or more counts fully. A Chinese word counts by
    how rare it is in Chinese at large, from jieba's dictionary counts: 使用 or
    研究 (one word in a few thousand) hardly, 卷积 or 感知机 fully. A word the
    notes taught jieba counts fully; a fragment that is no word at all (what
    jieba's HMM makes of 这是) not at all.
    """
    if len(term) < 2 or term.isdigit():
        return 0.0
    if term.isascii():
        return 1.0 if len(term) >= 3 else 0.0
    segmenter = analyzer.segmenter
    if not segmenter.known(term):
        return 0.0
    count, total = segmenter.frequency(term)
    if not count:
        return 1.0
    # One in a thousand words → 0, one in a million or rarer → 1.
    return min(1.0, max(0.0, (-math.log10(count / total) - 3) / 3))


# Words an acronym may leave out of a title (`Neural Machine Translation by Jointly Learning…`).
_SMALL_WORDS = {"a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "the", "to", "via", "with"}


def by_initials(papers: list[Passage], name: str) -> list[Passage]:
    """The paper records whose title's initials spell `name`, an acronym (`LSTM` → Long Short-Term Memory).

    A hyphenated word gives an initial per part; small words may be left out.
    """
    acronym = name.strip().lower()
    if not (2 <= len(acronym) <= 10 and acronym.isascii() and acronym.isalpha()):
        return []
    found = []
    for paper in papers:
        words = [word for word in re.split(r"[\s\-–/]+", paper.paper.title) if word[:1].isalpha()]
        initials = "".join(word[0] for word in words).lower()
        content = "".join(word[0] for word in words if word.lower() not in _SMALL_WORDS).lower()
        if acronym in (initials, content):
            found.append(paper)
    return found


def _scaled(values: dict[str, float]) -> dict[str, float]:
    """Values mapped onto 0..1 (min → 0, max → 1)."""
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    return {key: (v - low) / (high - low) if high > low else 0.0 for key, v in values.items()}


def _similarities(index: NoteIndex, anchor: Passage, candidates: list[Passage]) -> dict[str, float]:
    """The cosine of the anchor's vector with each candidate's: a passage's first row, its whole text (the rows
    of its runs of sentences follow it)."""
    store = index.vector_index()
    rows: dict[str, int] = {}
    for n, pid in enumerate(store.ids):
        rows.setdefault(pid, n)
    if anchor.id not in rows:
        return {}
    query = np.asarray(store.vectors[rows[anchor.id]], dtype=np.float32)
    return {p.id: float(np.asarray(store.vectors[rows[p.id]]) @ query) for p in candidates if p.id in rows}


def rank_related(graph: PaperGraph, anchor: Passage, candidates: list[Passage], k: int,
                 weights: Mapping[str, float] = WEIGHTS) -> list[Hit]:
    """The `k` candidates most related to `anchor`, each Hit carrying its reasons; `weights` weigh the signals."""
    cosine = _similarities(graph.index, anchor, candidates)
    similar = _scaled(cosine)
    terms = {p.id: graph.shared_terms(anchor.id, p.id) for p in candidates}
    term_score = _scaled({pid: value for pid, (value, _) in terms.items()})
    cites = graph.cited.get(anchor.id, {})
    scored = []
    for p in candidates:
        reasons = []
        signals = {"similar": similar.get(p.id, 0.0), "terms": term_score.get(p.id, 0.0)}
        if p.id in cites:
            signals["reference"] = 1.0
            reasons.append(f"reference: the note of the anchor names {cites[p.id][1]}")
        elif anchor.id in graph.cited.get(p.id, {}):
            signals["reference"] = 1.0
            reasons.append(f"reference: its note names {graph.cited[p.id][anchor.id][1]} of the anchor")
        together = graph.together.get((anchor.id, p.id), [])
        if together:
            signals["together"] = 1.0
            where = together[0]
            reasons.append(f"named together in {where.title}" + (f" › {where.section}" if where.section else ""))
        if anchor.paper and p.paper:
            shared = sorted(set(anchor.paper.authors) & set(p.paper.authors))
            if shared:
                signals["authors"] = min(1.0, len(shared) / 2)
                reasons.append("shared authors: " + ", ".join(shared))
            if anchor.paper.year and p.paper.year:
                gap = abs(anchor.paper.year - p.paper.year)
                signals["year"] = math.exp(-gap / YEAR_SCALE)
        if p.id in cosine:
            reasons.append(f"similar text (cosine {cosine[p.id]:.2f})")
        if terms[p.id][1]:
            reasons.append("shared terms: " + ", ".join(terms[p.id][1]))
        if "year" in signals:
            reasons.append(f"{abs(anchor.paper.year - p.paper.year)} years apart")
        score = sum(weights[name] * value for name, value in signals.items())
        scored.append((score, p, tuple(reasons), cosine.get(p.id)))
    scored.sort(key=lambda s: -s[0])
    # Pieces of one long paragraph share its lines: keep the best piece of each span.
    best: dict[tuple[str, int, int], tuple] = {}
    for item in scored:
        best.setdefault((item[1].path, item[1].line_start, item[1].line_end), item)
    scored = list(best.values())
    by_cosine = {pid: n for n, pid in enumerate(sorted(cosine, key=lambda i: -cosine[i]), 1)}
    by_terms = {pid: n for n, pid in enumerate(sorted(terms, key=lambda i: -terms[i][0]), 1)}
    return [Hit(passage=p, rank=rank, score=score, keyword_rank=by_terms.get(p.id), vector_rank=by_cosine.get(p.id),
                keyword_score=terms[p.id][0], vector_score=similarity, snippet=snippet(p.text, []),
                matched=tuple(terms[p.id][1]), reasons=reasons)
            for rank, (score, p, reasons, similarity) in enumerate(scored[:k], 1)]


def related(index: NoteIndex, paper: str, k: int = 10, graph: PaperGraph | None = None,
            weights: Mapping[str, float] = WEIGHTS) -> RelatedResult:
    """The `k` paper records most related to the paper `paper` names (a title, a fragment, an author).

    A name longer than MAX_PAPER_NAME names no paper (no record holds one that long): it is answered at once.
    """
    started = time.perf_counter()
    if len(paper) > MAX_PAPER_NAME:
        return RelatedResult(paper, None, (), (), (time.perf_counter() - started) * 1000)
    graph = graph or PaperGraph(index)
    found = graph.find(paper)
    if len(found) != 1:
        return RelatedResult(paper, None, (), tuple(found), (time.perf_counter() - started) * 1000)
    anchor = found[0]
    candidates = [p for p in graph.papers if p.id != anchor.id]
    hits = rank_related(graph, anchor, candidates, k, weights)
    return RelatedResult(paper, anchor, tuple(hits), (), (time.perf_counter() - started) * 1000)


def more_like(index: NoteIndex, anchor: Passage, k: int = 10, graph: PaperGraph | None = None) -> RelatedResult:
    """The `k` passages most like `anchor` (any passage; other pieces of its lines excluded)."""
    started = time.perf_counter()
    graph = graph or PaperGraph(index)
    graph.include_all_passages()
    span = (anchor.path, anchor.line_start, anchor.line_end)
    candidates = [p for p in (*graph.papers, *graph.others) if (p.path, p.line_start, p.line_end) != span]
    hits = rank_related(graph, anchor, candidates, k)
    label = f"{anchor.path}:{anchor.line_start}"
    return RelatedResult(label, anchor, tuple(hits), (), (time.perf_counter() - started) * 1000)
