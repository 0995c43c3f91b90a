"""What a search returns: plain frozen values, the modes a search runs in, and their JSON form.

The JSON form (`result_data`, `related_data`, `excerpt_data`, `report_data`,
`stats_data`) is
built here and only here: it is what `search --json` prints, what the server
sends and what the MCP tools answer, and the CLI renders its human output from
these same dicts (cli_render.py), so an answer from a warm server prints
exactly as one computed in process. Paths are absolute, or with `cwd` relative
to the asker's working directory (which for a server is not its own) when they
lie below it.

Standard library only (and corpus.model, corpus.errors): a caller that only reads results,
or the command line asking a warm server, need not load the search stage.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, get_args

from corpus.errors import BadArgument
from corpus.model import Paper, Passage

if TYPE_CHECKING:
    from indexer import BuildReport
    from search.notes.excerpts import Excerpt
    from search.notes.stats import IndexStats
    from search.notes.whole import NoteText

Mode = Literal["hybrid", "keyword", "semantic"]
MODES: tuple[Mode, ...] = get_args(Mode)


def checked_mode(mode: object) -> Mode:
    """`mode` when it is one of MODES; else BadArgument."""
    if not isinstance(mode, str) or mode not in MODES:
        raise BadArgument("mode", mode, f"one of {', '.join(MODES)}")
    return mode


@dataclass(frozen=True)
class Hit:
    """One answer: a passage, its place and score in each ranking, and a marked snippet.

    `score` is the fused score in hybrid mode, else the score of the one ranking;
    `vector_score` is a cosine similarity; `exact` says the passage holds the whole query;
    `reasons` say why a related paper was chosen; `also` are the other places
    (path, region, first line, last line) that hold the same text, or the same paper,
    shown as this one hit. `paper` is the paper the passage belongs to: its
    record's, or the paper its note is about.
    """

    passage: Passage
    rank: int
    score: float
    keyword_rank: int | None
    vector_rank: int | None
    keyword_score: float | None
    vector_score: float | None
    snippet: str
    matched: tuple[str, ...] = ()
    exact: bool = False
    reasons: tuple[str, ...] = ()
    also: tuple[tuple[str, str, int, int], ...] = ()
    paper: Paper | None = None


@dataclass(frozen=True)
class SearchResult:
    """The hits of one query; `route` says how hybrid mode weighed the rankings."""

    query: str
    mode: Mode
    hits: tuple[Hit, ...]
    took_ms: float
    warnings: tuple[str, ...] = field(default=())
    route: str = ""
    # Query words the index does not hold, read as words it does: `tranformer → transformer`, `zijiandu → 自监督`.
    read_as: tuple[str, ...] = ()


@dataclass(frozen=True)
class NamedPaper:
    """A paper a passage names: the `name` it uses (`BERT`, a title), and the paper with the passage its hit points
    at (its record, or its note's title line)."""

    name: str
    passage: Passage
    paper: Paper


@dataclass(frozen=True)
class RelatedResult:
    """The papers related to `anchor` (the passage its hit points at; `paper` is its paper, merged from all its
    places); when the name was ambiguous, `anchor` is None and `candidates` lists the papers it could mean. For a
    passage of prose, `hits` are the passages like it and `named` the papers it names (search/relate/naming.py)."""

    query: str
    anchor: Passage | None
    hits: tuple[Hit, ...]
    candidates: tuple[Passage, ...]
    took_ms: float
    paper: Paper | None = None
    named: tuple[NamedPaper, ...] = ()


# ---------------------------------------------------------------- the JSON form

def relative_path(path: str, cwd: str | None) -> str:
    """`path` (absolute, as the index stores it) relative to `cwd` when it lies below it, else as it is; with no
    `cwd`, as it is."""
    if cwd is None:
        return path
    try:
        relative = os.path.relpath(path, cwd)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def hit_data(hit: Hit, explain: bool = False, cwd: str | None = None) -> dict:
    """One hit in the results format of ../shared/eval/README.md (plus scores when `explain`)."""
    p = hit.passage
    data = {
        "rank": hit.rank, "path": relative_path(p.path, cwd), "region": p.region, "line_start": p.line_start,
        "line_end": p.line_end,
        "title": p.display_title, "section": p.section, "score": round(hit.score, 6),
        "keyword_rank": hit.keyword_rank, "vector_rank": hit.vector_rank, "snippet": hit.snippet, "text": p.text,
        "also": [{"path": relative_path(path, cwd), "region": region, "line_start": first, "line_end": last}
                 for path, region, first, last in hit.also],
    }
    if explain:
        data.update(keyword_score=hit.keyword_score, vector_similarity=hit.vector_score, fused_score=hit.score,
                    exact_match=hit.exact, matched=list(hit.matched))
    if hit.reasons:
        data["reasons"] = list(hit.reasons)
    if hit.paper is not None:
        data["paper"] = paper_object(hit.paper)
    return data


def paper_object(paper: Paper) -> dict:
    """A paper as `--json` shows it: title, authors, year, venue, its ids (DOI, arXiv, citekey, URL) and keywords."""
    ids = {name: getattr(paper, name) for name in ("doi", "arxiv", "citekey", "url") if getattr(paper, name)}
    return {"title": paper.title, "authors": list(paper.authors), "year": paper.year, "venue": paper.venue,
            "ids": ids, "keywords": list(paper.keywords)}


def result_data(result: SearchResult, explain: bool = False, cwd: str | None = None) -> dict:
    """The answer to one query: query, mode, took_ms, hits (and the route and the words read as others when
    `explain`)."""
    data = {"query": result.query, "mode": result.mode, "took_ms": round(result.took_ms, 2),
            "hits": [hit_data(h, explain, cwd) for h in result.hits]}
    if explain:
        data["route"] = result.route
        data["read_as"] = list(result.read_as)
    return data


def paper_data(passage: Passage, cwd: str | None = None, paper: Paper | None = None) -> dict:
    """A paper record: where it is, its title, year and authors (and the paper object when `paper` is given)."""
    p = passage
    data = {"path": relative_path(p.path, cwd), "region": p.region, "line_start": p.line_start,
            "line_end": p.line_end, "title": p.display_title, "year": p.paper.year if p.paper else None,
            "authors": list(p.paper.authors) if p.paper else []}
    paper = paper or p.paper
    if paper is not None:
        data["paper"] = paper_object(paper)
    return data


def related_data(result: RelatedResult, cwd: str | None = None) -> dict:
    """The papers related to one paper (or the candidates when its name was ambiguous); for a passage of prose, the
    passages like it and the papers it names (`named`: each paper record with the `name` the passage uses)."""
    return {"query": result.query, "mode": "related", "took_ms": round(result.took_ms, 2),
            "anchor": paper_data(result.anchor, cwd, result.paper) if result.anchor else None,
            "candidates": [paper_data(p, cwd) for p in result.candidates],
            "hits": [hit_data(h, cwd=cwd) for h in result.hits],
            "named": [{"name": n.name} | paper_data(n.passage, cwd, n.paper) for n in result.named]}


def report_data(report: BuildReport) -> dict:
    """One build: what it did to the note files, the generation it committed, its warnings and skipped files,
    and the files of other kinds it found (`not_indexed`: count by suffix)."""
    return {"generation": report.generation, "changed": report.changed, "added": report.added,
            "updated": report.updated, "removed": report.removed, "unchanged": report.unchanged,
            "renamed": report.renamed, "passages": report.passages, "embedded": report.embedded,
            "resumed": report.resumed,
            "seconds": round(report.timings.get("total", 0.0), 3), "warnings": list(report.warnings),
            "skipped": [[skipped.path, skipped.reason] for skipped in report.skipped],
            "skipped_before": report.skipped_before, "folders": list(report.folders),
            "folders_added": list(report.folders_added), "folders_removed": list(report.folders_removed),
            "not_indexed": dict(report.others), "not_indexed_changed": report.others_changed}


def stats_data(held: IndexStats) -> dict:
    """What an index holds (search.notes.stats.IndexStats): what `stats --json` prints and the MCP `status` tool
    answers (with the server's own state beside it); `updated` is when its generation was committed (ISO 8601,
    local time)."""
    return {"index": held.directory, "generation": held.generation, "model": held.model,
            "fingerprint": held.fingerprint,
            "folders": [{"path": f.path, "files": f.files, "passages": f.passages} for f in held.folders],
            "exclude": list(held.exclude), "files": held.files, "kinds": dict(held.kinds),
            "not_indexed": dict(held.not_indexed), "passages": held.passages, "papers": held.papers,
            "paper_notes": held.paper_counts.notes,
            "words": held.words, "skipped": [[path, reason] for path, reason in held.skipped],
            "updated": datetime.datetime.fromtimestamp(held.created).astimezone().isoformat(timespec="seconds"),
            "warnings": list(held.warnings)}


def excerpt_data(found: Excerpt, cwd: str | None = None) -> dict:
    """What `get --json` prints: the passage holding a line, and the note's lines around it as on disk now (a
    notebook's: its cell's; a PDF's: its page's)."""
    p = found.passage
    return {"path": relative_path(p.path, cwd), "region": p.region, "line": found.line, "line_start": p.line_start,
            "line_end": p.line_end, "title": p.display_title, "section": p.section, "text": p.text,
            "first_line": found.first, "last_line": found.first + len(found.lines) - 1,
            "lines": list(found.lines), "changed": found.changed}


def note_data(note: NoteText, cwd: str | None = None) -> dict:
    """A whole note as the served page reads it: its path, region (a notebook's cell, a PDF's page; "" for the
    whole file), its lines as on disk now, and whether it changed since it was indexed."""
    return {"path": relative_path(note.path, cwd), "region": note.region, "lines": list(note.lines),
            "changed": note.changed}
