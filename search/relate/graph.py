"""The paper graph of an index read for `related`: its papers and topic notes, and each one's signals of
relatedness to an anchor, each an array over all of them (search/relate/papers.py ranks and answers).

The graph was built when the notes were indexed (indexer/paper_graph.py); this
reads it once per opened index and keeps the lookups a query needs (titles,
names, authors, tags, the term postings). A query's work is linear in the number
of papers: a product of their vectors, a pass over the postings of the anchor's
terms.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from corpus.model import RECORD_SOURCES, Paper, Passage
from corpus.text import fold
from indexer.paper_graph import paper_of
from search.notes.index import NoteIndex
from search.rank.settings import RELATED_WEIGHTS
from search.rank.snippets import snippet
from search.results import Hit

WEIGHTS = RELATED_WEIGHTS  # the default related_weights of search.Settings
YEAR_SCALE = 5.0
MAX_CANDIDATES = 5
# A paper goes by a name when its material holds this share of the name's uses in all the papers' material.
GOES_BY = 2 / 3
# A note names a paper by a name the paper goes with when the paper's material holds at least this share of the
# name's uses (a name every note uses, `Language`, names none of them).
NAME_SHARE = 0.5
# Shared terms a reason shows,
SHOWN_TERMS = 3
# and only terms that fewer than this share of the nodes hold: a term most notes use (这篇文章, 结果表明) says
# nothing of what two of them share.
SHOWN_TERM_SHARE = 0.3


# The signals of relatedness, each 0..1, that WEIGHTS weigh (WEIGHTS["topic"] scales a topic note's sum).
SIGNALS = ("link", "reference", "together", "similar", "terms", "authors", "tags", "year")


@dataclass(frozen=True)
class Signals:
    """Every node's signals of relatedness to one anchor (a row per node, a column per SIGNALS), and what the
    reasons show: the cosines of their vectors, their shared terms' tf-idf cosines, shared authors and tags."""

    values: np.ndarray
    others: np.ndarray
    topics: np.ndarray
    cosine: np.ndarray
    has_vector: np.ndarray
    terms: np.ndarray
    authors: dict[int, list[str]]
    tags: dict[int, list[str]]

    def scores(self, weights: Mapping[str, float]) -> np.ndarray:
        """Each node's score under `weights`: its signals weighed and summed, a topic note's times weights["topic"]."""
        score = self.values @ np.array([weights[name] for name in SIGNALS], dtype=np.float64)
        score[self.topics] *= weights["topic"]
        return score

    def candidates(self, weights: Mapping[str, float]) -> np.ndarray:
        """Which nodes may be answers: every other one, topic notes only while their weight is above 0."""
        return self.others & ~self.topics if weights["topic"] <= 0 else self.others


@dataclass(frozen=True)
class Node:
    """A paper or a topic note of the graph: where its hit points, and what is known of it."""

    number: int
    kind: str
    title: str
    path: str
    lines: tuple[int, int]
    record: str | None
    paper: Paper | None
    places: tuple[dict, ...]
    files: tuple[str, ...]
    tags: tuple[str, ...]
    authors: tuple[tuple[str, tuple[str, ...]], ...]


class PaperGraph:
    """An index's paper graph, read for queries: its nodes, and the lookups a query needs (built once per index)."""

    def __init__(self, index: NoteIndex):
        stored = index.paper_graph()
        self.index = index
        self.stored = stored
        self.nodes = [_node(n, data) for n, data in enumerate(stored.nodes)]
        self.papers = [node for node in self.nodes if node.kind == "paper"]
        self.names = stored.names
        self.by_file: dict[str, list[Node]] = defaultdict(list)
        for node in self.nodes:
            for path in node.files:
                self.by_file[path].append(node)
        # The files that are a node's material whole: a paper's own note (and the notes in its folder), a topic note.
        self.whole_files = {place["path"]: node for node in self.nodes for place in node.places
                            if place["source"] not in RECORD_SOURCES}
        self.by_record = {node.record: node for node in self.nodes if node.record}
        self.by_record.update({place["record"]: node for node in self.nodes for place in node.places
                               if place["record"]})
        self.edges: dict[int, list[tuple[int, str, str, bool]]] = defaultdict(list)
        for source, target, kind, evidence in stored.edges:
            self.edges[source].append((target, kind, evidence, True))
            self.edges[target].append((source, kind, evidence, False))
        self.by_author: dict[str, set[int]] = defaultdict(set)
        for node in self.nodes:
            for _name, keys in node.authors:
                for key in keys:
                    self.by_author[key].add(node.number)
        self.by_tag: dict[str, set[int]] = defaultdict(set)
        for node in self.nodes:
            for tag in node.tags:
                self.by_tag[fold(tag)].add(node.number)
        self.topics = np.array([node.kind == "topic" for node in self.nodes], dtype=bool)
        self.has_vector = np.any(stored.vectors != 0, axis=1) if len(stored.vectors) else \
            np.zeros(len(self.nodes), dtype=bool)
        self.by_title: dict[str, list[Node]] = defaultdict(list)
        for node in self.papers:
            self.by_title[fold(node.title)].append(node)
        self.name_of_fold = {fold(name): name for name in self.names}
        self.years = np.array([node.paper.year if node.paper and node.paper.year else np.nan for node in self.nodes],
                              dtype=np.float64)
        # The term postings, term by term (the stored rows are node by node).
        order = np.argsort(stored.terms, kind="stable")
        self.term_nodes = np.repeat(np.arange(len(self.nodes)), np.diff(stored.indptr))[order]
        self.term_weights = stored.weights[order]
        self.term_starts = np.searchsorted(stored.terms[order], np.arange(len(stored.vocabulary) + 1))
        self.distinctive = stored.shown & (np.diff(self.term_starts) < max(2, SHOWN_TERM_SHARE * len(self.nodes)))

    def passage(self, node: Node) -> Passage:
        """The passage a node's hit points at: its paper's record, or a topic note's title line."""
        found = self.index.passage(node.record) if node.record else None
        if found is not None:
            return found
        return Passage(path=node.path, line_start=node.lines[0], line_end=node.lines[1], section="", title=node.title,
                       text=node.title, kind="note")

    def node_of(self, passage: Passage) -> Node | None:
        """The node a passage belongs to: the paper of its record, or of its note when that is a paper's."""
        if passage.id in self.by_record:
            return self.by_record[passage.id]
        return self.whole_files.get(passage.path)

    def paper_of(self, passage: Passage) -> Paper | None:
        """The paper a passage belongs to (its record's, or its note's when that note is a paper's), or None."""
        node = self.node_of(passage)
        return node.paper if node is not None and node.kind == "paper" else passage.paper

    def goes_by(self, name: str) -> Node | None:
        """The paper that goes by `name` (`R-CNN`, `DepGraph`): its material holds at least GOES_BY of the name's
        uses in all the papers'. A name many notes share (`RNN`, `Transformer`) goes with none."""
        term = self.name_of_fold.get(fold(name))
        if term is None:
            return None
        owner, uses, total = self.names[term]
        return self.nodes[owner] if uses >= GOES_BY * total else None

    def find(self, name: str) -> list[Node]:
        """The papers `name` could mean, best first: one when it names a paper clearly."""
        exact = self.by_title.get(fold(name))
        if exact:
            return exact[:1]
        owner = self.goes_by(name)
        pattern = re.compile(rf"(?<![A-Za-z]){re.escape(name.strip().lower())}(?![A-Za-z])")
        in_title = [node for node in self.papers if pattern.search(node.title.lower())]
        if owner is not None and (not in_title or owner in in_title):
            return [owner]
        if in_title:
            return in_title[:MAX_CANDIDATES]
        spelled = by_initials(self.papers, name)
        if spelled:
            return spelled[:MAX_CANDIDATES]
        by_author = [node for node in self.papers if any(fold(_surname(a)) == fold(name) for a in node.paper.authors)]
        if by_author:
            return by_author[:MAX_CANDIDATES]
        from search.rank.engine import search  # a name no title, acronym or author fits: the papers its words find

        found: list[Node] = []
        for hit in search(self.index, name, mode="keyword", k=30).hits:
            node = self.node_of(hit.passage)
            if node is not None and node.kind == "paper" and node not in found:
                found.append(node)
        return found[:MAX_CANDIDATES]

    def signals(self, anchor: Node) -> Signals:
        """Each node's signals (SIGNALS, each 0..1) of relatedness to `anchor`, and what the reasons need."""
        count = len(self.nodes)
        others = np.ones(count, dtype=bool)
        others[anchor.number] = False
        vectors = self.stored.vectors
        cosine = vectors @ vectors[anchor.number] if len(vectors) else np.zeros(count, dtype=np.float32)
        has_vector = self.has_vector & bool(self.has_vector[anchor.number])
        terms = self._term_scores(anchor)
        values = np.zeros((count, len(SIGNALS)), dtype=np.float64)
        column = {name: n for n, name in enumerate(SIGNALS)}
        values[:, column["similar"]] = _scaled(cosine, others & has_vector)
        values[:, column["terms"]] = _scaled(terms, others)
        for other, kind, evidence, _outgoing in self.edges.get(anchor.number, ()):
            if kind == "together":
                values[other, column["together"]] = 1.0
            elif kind == "links":
                values[other, column["link"]] = 1.0
            elif self._names_clearly(evidence):
                values[other, column["reference"]] = 1.0
        authors = self._shared_authors(anchor)
        for other, names in authors.items():
            values[other, column["authors"]] = min(1.0, len(names) / 2)
        tags = self._shared_tags(anchor)
        for other, shared in tags.items():
            values[other, column["tags"]] = min(1.0, len(shared) / 2)
        if anchor.paper and anchor.paper.year:
            values[:, column["year"]] = np.nan_to_num(np.exp(-np.abs(self.years - anchor.paper.year) / YEAR_SCALE))
        values[~others] = 0.0
        return Signals(values, others, self.topics, cosine, has_vector, terms, authors, tags)

    def rank(self, anchor: Node, k: int, weights: Mapping[str, float] = WEIGHTS) -> list[Hit]:
        """The `k` nodes most related to `anchor`, each Hit carrying its reasons."""
        found = self.signals(anchor)
        score = found.scores(weights)
        candidates = found.candidates(weights)
        chosen = [n for n in np.lexsort((np.arange(len(score)), -score)) if candidates[n]][:k]
        hits = []
        for rank, n in enumerate(chosen, 1):
            node = self.nodes[n]
            shared = self._shared_terms(anchor, node)
            cosine = float(found.cosine[n]) if found.has_vector[n] else None
            reasons = self._reasons(anchor, node, shared, found.authors.get(n, ()), found.tags.get(n, ()), cosine)
            passage = self.passage(node)
            hits.append(Hit(passage=passage, rank=rank, score=float(score[n]),
                            keyword_rank=_rank(found.terms, found.others, n),
                            vector_rank=_rank(found.cosine, found.others & found.has_vector, n), keyword_score=float(found.terms[n]), vector_score=cosine,
                            snippet=snippet(passage.text, []), matched=tuple(shared), reasons=tuple(reasons),
                            also=_also(node), paper=node.paper))
        return hits

    def _names_clearly(self, name: str) -> bool:
        """Whether naming `name` names its paper: a surname, or a name the paper's material holds most uses of."""
        found = self.names.get(name)
        return found is None or found[1] >= NAME_SHARE * found[2]

    def _term_scores(self, anchor: Node) -> np.ndarray:
        """The tf-idf cosine of the anchor's terms with every node's."""
        stored = self.stored
        start, end = stored.indptr[anchor.number], stored.indptr[anchor.number + 1]
        terms = stored.terms[start:end]
        if not len(terms):
            return np.zeros(len(self.nodes), dtype=np.float64)
        firsts, lasts = self.term_starts[terms], self.term_starts[terms + 1]
        postings = np.concatenate([np.arange(a, b) for a, b in zip(firsts, lasts)])
        weights = np.repeat(stored.weights[start:end], lasts - firsts) * self.term_weights[postings]
        return np.bincount(self.term_nodes[postings], weights=weights, minlength=len(self.nodes))

    def _shared_terms(self, anchor: Node, node: Node) -> list[str]:
        """The terms that weigh most in two nodes' shared terms, those a reason may show (not verbs or adverbs)."""
        stored = self.stored

        def row(n: int) -> dict[int, float]:
            start, end = stored.indptr[n], stored.indptr[n + 1]
            return dict(zip(stored.terms[start:end].tolist(), stored.weights[start:end].tolist()))

        mine, theirs = row(anchor.number), row(node.number)
        products = {t: mine[t] * theirs[t] for t in sorted(mine.keys() & theirs.keys()) if self.distinctive[t]}
        return [stored.vocabulary[t] for t in sorted(products, key=lambda t: -products[t])[:SHOWN_TERMS]]

    def _shared_authors(self, anchor: Node) -> dict[int, list[str]]:
        """The nodes that share an author with the anchor → the anchor's names of those authors."""
        out: dict[int, list[str]] = defaultdict(list)
        for name, keys in anchor.authors:
            for other in sorted({n for key in keys for n in self.by_author.get(key, ())} - {anchor.number}):
                theirs = next((their for their, their_keys in self.nodes[other].authors if set(keys) & set(their_keys)),
                              name)
                out[other].append(min(name, theirs, key=len))
        return out

    def _shared_tags(self, anchor: Node) -> dict[int, list[str]]:
        out: dict[int, list[str]] = defaultdict(list)
        for tag in anchor.tags:
            for other in sorted(self.by_tag.get(fold(tag), set()) - {anchor.number}):
                out[other].append(tag)
        return out

    def _reasons(self, anchor: Node, node: Node, shared_terms: list[str], authors, tags,
                 cosine: float | None) -> list[str]:
        reasons = []
        for other, kind, evidence, outgoing in self.edges.get(anchor.number, ()):
            if other != node.number:
                continue
            if kind == "links":
                reasons.append(f"link: the anchor's note links to {_label(node)}" if outgoing
                               else f"link: {_label(node)} links to the anchor's note")
            elif kind == "names" and self._names_clearly(evidence):
                reasons.append(f"reference: the anchor's note names {evidence}" if outgoing
                               else f"reference: its note names {evidence} of the anchor")
            elif kind == "together" and outgoing:
                reasons.append(f"named together in {evidence}")
        # One reason of each kind: the anchor's own link or reference before the other's.
        reasons = [reason for n, reason in enumerate(reasons)
                   if not any(other.split(":")[0] == reason.split(":")[0] for other in reasons[:n])]
        if authors:
            reasons.append("shared authors: " + ", ".join(dict.fromkeys(authors)))
        if tags:
            reasons.append("shared tags: " + ", ".join(tags))
        if node.kind == "topic":
            reasons.append("a note on the topic")
        if cosine is not None:
            reasons.append(f"similar text (cosine {cosine:.2f})")
        if shared_terms:
            reasons.append("shared terms: " + ", ".join(shared_terms))
        if anchor.paper and node.paper and anchor.paper.year and node.paper.year:
            gap = abs(anchor.paper.year - node.paper.year)
            reasons.append("the same year" if not gap else f"{gap} year{'s' if gap > 1 else ''} apart")
        return reasons


def _node(number: int, data: dict) -> Node:
    paper = paper_of(data["paper"]) if data["paper"] is not None else None
    return Node(number, data["kind"], data["title"], data["path"], tuple(data["lines"]), data["record"], paper,
                tuple(data["places"]), tuple(data["files"]), tuple(data["tags"]),
                tuple((name, tuple(keys)) for name, keys in data["authors"]))


def _label(node: Node) -> str:
    return "its note" if node.kind == "paper" else f"the note {node.title}"


def _also(node: Node) -> tuple[tuple[str, str, int, int], ...]:
    """A paper's other places: the row, note, BibTeX entry or PDF page that is not its hit."""
    return tuple((place["path"], place["region"], *place["lines"]) for place in node.places[1:]
                 if place["source"] != "topic")


def _surname(author: str) -> str:
    parts = author.replace("-", " - ").split()
    return parts[-1] if parts else ""


def _scaled(values: np.ndarray, among: np.ndarray) -> np.ndarray:
    """`values` mapped onto 0..1 over the positions `among` (lowest → 0, highest → 1); 0 elsewhere."""
    out = np.zeros(len(values), dtype=np.float64)
    if not among.any():
        return out
    low, high = float(values[among].min()), float(values[among].max())
    if high > low:
        out[among] = (values[among] - low) / (high - low)
    return out


def _rank(values: np.ndarray, among: np.ndarray, n: int) -> int | None:
    """The 1-based rank of position `n` among the positions `among` by `values`, highest first (ties: in order);
    None when `n` is not among them."""
    if not among[n]:
        return None
    value = values[n]
    ahead = among & ((values > value) | ((values == value) & (np.arange(len(values)) < n)))
    return int(ahead.sum()) + 1


# Words an acronym may leave out of a title (`Neural Machine Translation by Jointly Learning…`).
_SMALL_WORDS = {"a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "the", "to", "via", "with"}


def by_initials(papers: list[Node], name: str) -> list[Node]:
    """The papers whose title's initials spell `name`, an acronym (`LSTM` → Long Short-Term Memory).

    A hyphenated word gives an initial per part; small words may be left out.
    """
    acronym = name.strip().lower()
    if not (2 <= len(acronym) <= 10 and acronym.isascii() and acronym.isalpha()):
        return []
    found = []
    for paper in papers:
        words = [word for word in re.split(r"[\s\-–/]+", paper.title) if word[:1].isalpha()]
        initials = "".join(word[0] for word in words).lower()
        content = "".join(word[0] for word in words if word.lower() not in _SMALL_WORDS).lower()
        if acronym in (initials, content):
            found.append(paper)
    return found


def paper_graph(index: NoteIndex) -> PaperGraph:
    """The index's paper graph, read once per opened index."""
    cached = getattr(index, "_related_graph", None)
    if cached is None:
        cached = PaperGraph(index)
        index._related_graph = cached
    return cached
