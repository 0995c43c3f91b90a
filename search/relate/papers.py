"""Related papers: given a paper (its title, a name it goes by, an author, its note), which others to read with it.

    result = related(index, "Attention is All You Need", k=10)

The index holds a paper graph, built when it was indexed (indexer/paper_graph.py):
every paper once, whether it is a row of a table of papers, a note of its own or
a BibTeX entry, the topic notes beside them, and the links between them. A
query reads it: each other paper (and topic note) is scored by these signals,
each 0..1, and says why:

- **link**: one's note links to the other's (a markdown link or a `[[wikilink]]`);
- **reference**: one's note names the other — a name the other goes by (`LSTM`,
  `DepGraph`) or its first author's surname (`Bahdanau`);
- **named together**: a paragraph of a topic note or of a list of papers names both;
- **similar text**: cosine similarity of their vectors (a note's: the mean of its passages');
- **shared terms**: tf-idf cosine of their terms (the specific ones: a method, a model, a task);
- **shared authors**, **shared tags or keywords**, and **nearness in time**.

A topic note's score is its signals' times the weight `topic` (Settings.related_weights). The signals are
computed by search/relate/graph.py, in time linear in the number of papers, so a
library of thousands of papers answers in milliseconds.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import replace

from corpus.errors import BadArgument, NoPassage, OutsideIndex, whole_number
from corpus.markdown import MAX_ROW
from corpus.model import Passage
from search.notes.index import NoteIndex
from search.notes.locations import passage_at, resolve_note
from search.rank.settings import DEFAULT_SETTINGS, Settings
from search.relate.graph import MAX_CANDIDATES, SHOWN_TERMS, WEIGHTS, Node, PaperGraph, by_initials, paper_graph
from search.relate.naming import named_papers
from search.results import Hit, RelatedResult

# The longest paper name looked for: a table row longer than this is no paper record (corpus/markdown.py MAX_ROW).
MAX_PAPER_NAME = MAX_ROW

__all__ = ["WEIGHTS", "PaperGraph", "by_initials", "more_like", "paper_graph", "related", "related_passage",
           "related_to_note"]


def related(index: NoteIndex, paper: str, k: int = 10, graph: PaperGraph | None = None,
            settings: Settings = DEFAULT_SETTINGS, cwd: str | None = None) -> RelatedResult:
    """The `k` papers (and topic notes) most related to the paper `paper` names: a title, a fragment of one, a name
    it goes by, an author, or the path of its note (relative to `cwd`); the signals weighed by
    `settings.related_weights`.

    Raises BadArgument, before any work, for a `k` below 1 or a `paper` that is not a str. A name longer than
    MAX_PAPER_NAME names no paper (no record holds one that long): it is answered at once.
    """
    if not isinstance(paper, str):
        raise BadArgument("paper", paper, "a str (a title, a fragment of one, or an author)")
    k = whole_number("k", k)
    weights = settings.related_weights
    started = time.perf_counter()
    if len(paper) > MAX_PAPER_NAME:
        return RelatedResult(paper, None, (), (), (time.perf_counter() - started) * 1000)
    graph = graph or paper_graph(index)
    stored = _indexed_note(index, paper, cwd)
    if stored is not None:
        result = related_to_note(index, stored, None, k, graph, weights)
        if result is not None:
            return replace(result, query=paper)
    found = graph.find(paper)
    return _answer(graph, paper, found, k, weights, started)


def _indexed_note(index: NoteIndex, path: str, cwd: str | None) -> str | None:
    """The note of the index `path` names, as the index names it; None when it names none."""
    given = os.path.join(cwd or os.getcwd(), os.path.expanduser(path))
    if not os.path.isfile(given):
        return None
    try:
        return resolve_note(index, path, cwd)
    except (OutsideIndex, NoPassage):
        return None


def related_to_note(index: NoteIndex, stored_path: str, line: int | None = None, k: int = 10,
                    graph: PaperGraph | None = None, weights: Mapping[str, float] = WEIGHTS,
                    region: str = "") -> RelatedResult | None:  # weights: Settings.related_weights
    """The papers most related to the paper of an indexed note (`stored_path` as the index names it): the paper
    the note is about, or the record holding `line` (of `region`: a PDF's page, a notebook's cell) in a list of
    papers or a library. None when the file (or its line) belongs to no paper."""
    started = time.perf_counter()
    graph = graph or paper_graph(index)
    nodes = [node for node in graph.by_file.get(stored_path, ()) if node.kind == "paper"]
    whole = graph.whole_files.get(stored_path)
    if whole is not None and whole.kind == "paper":
        found = [whole]
    elif line is not None:
        found = [node for node in nodes for place in node.places
                 if place["path"] == stored_path and place["region"] == region
                 and place["lines"][0] <= line <= place["lines"][1]][:1]
    else:
        found = nodes[:MAX_CANDIDATES] if len(nodes) > 1 else nodes
    if not found:
        return None
    label = ":".join([stored_path, *([region] if region else []), *([str(line)] if line is not None else [])])
    return _answer(graph, label, found, k, weights, started)


def related_passage(index: NoteIndex, path: str, line: int | None, k: int = 10, graph: PaperGraph | None = None,
                    settings: Settings = DEFAULT_SETTINGS, cwd: str | None = None,
                    region: str = "") -> RelatedResult:
    """What to read with the passage at `path`:`line` (resolved as `get` resolves it; in `region`, a PDF's page or a
    notebook's cell, whose first passage a missing `line` means): the papers related to its paper when it belongs
    to one (any line of a paper's note, its heading included), else the passages most like it. Raises OutsideIndex
    or NoPassage when the index holds no such note, or nothing at that line; BadArgument for a `k` below 1."""
    k = whole_number("k", k)
    stored = resolve_note(index, path, cwd)
    result = related_to_note(index, stored, line, k, graph, settings.related_weights, region)
    if result is not None:
        return result
    anchor = passage_at(index, stored, line, region)
    if anchor is None:
        raise NoPassage(path, line, region=region)
    return more_like(index, anchor, k, settings, graph)


def _answer(graph: PaperGraph, query: str, found: list[Node], k: int, weights: Mapping[str, float],
            started: float) -> RelatedResult:
    if len(found) != 1:
        return RelatedResult(query, None, (), tuple(graph.passage(node) for node in found),
                             (time.perf_counter() - started) * 1000)
    anchor = found[0]
    hits = graph.rank(anchor, k, weights)
    return RelatedResult(query, graph.passage(anchor), tuple(hits), (), (time.perf_counter() - started) * 1000,
                         paper=anchor.paper)


def more_like(index: NoteIndex, anchor: Passage, k: int = 10, settings: Settings = DEFAULT_SETTINGS,
              graph: PaperGraph | None = None) -> RelatedResult:
    """The `k` passages most like `anchor` (any passage; its own lines excluded): a hybrid search of its text,
    with `settings`; and the papers `anchor` names (`named`: by a title or a name the paper goes by,
    search/relate/naming.py).

    Raises BadArgument, before any work, for a `k` below 1 or an `anchor` that is not a Passage.
    """
    from search.rank.engine import search

    if not isinstance(anchor, Passage):
        raise BadArgument("anchor", anchor, "a Passage (search.locate finds the one at a PATH:LINE)")
    k = whole_number("k", k)

    started = time.perf_counter()
    span = (anchor.path, anchor.line_start, anchor.line_end)
    found = search(index, _example(anchor.text), mode="hybrid", k=k + 5, settings=settings).hits
    hits = []
    for hit in found:
        p = hit.passage
        if (p.path, p.line_start, p.line_end) == span or p.path == anchor.path and \
                p.line_start <= anchor.line_end and anchor.line_start <= p.line_end:
            continue
        reasons = ((f"similar text (cosine {hit.vector_score:.2f})",) if hit.vector_score is not None else ()) + \
            (("shared terms: " + ", ".join(hit.matched[:SHOWN_TERMS]),) if hit.matched else ())
        hits.append(Hit(passage=p, rank=len(hits) + 1, score=hit.score, keyword_rank=hit.keyword_rank,
                        vector_rank=hit.vector_rank, keyword_score=hit.keyword_score, vector_score=hit.vector_score,
                        snippet=hit.snippet, matched=hit.matched, reasons=reasons, also=hit.also, paper=hit.paper))
        if len(hits) == k:
            break
    # A block split in pieces is one passage to its reader: the papers any of its pieces names.
    whole = "\n".join(p.text for p in index.passages_of(anchor.path)
                      if (p.region, p.line_start, p.line_end) == (anchor.region, anchor.line_start, anchor.line_end))
    named = named_papers(graph or paper_graph(index), replace(anchor, text=whole or anchor.text))
    label = f"{anchor.path}:{anchor.line_start}"
    return RelatedResult(label, anchor, tuple(hits), (), (time.perf_counter() - started) * 1000, named=named)


def _example(text: str, limit: int = 400) -> str:
    """A passage's text as a query: its words, without the syntax of the query language, at most `limit` characters."""
    words = re.sub(r'["()]|(?<!\S)-|\b(?:OR|AND|NOT)\b|:', " ", text)
    return " ".join(words.split())[:limit]

