"""Search answers and index runs as JSON-ready dicts: what `search --json` prints and the server sends.

The CLI renders its human output from these same dicts (cli_render.py), so an
answer from a warm server prints exactly as one computed in process. Paths are shown relative
to the asker's working directory (`cwd`), which for a server is not its own.
This module imports nothing heavy: a client of the server loads it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from corpus.model import Paper, Passage
    from indexer import BuildReport
    from search.excerpts import Excerpt
    from search.results import Hit, RelatedResult, SearchResult


def display_path(path: str, cwd: str | None = None) -> str:
    """`path` relative to `cwd` (default: the working directory) when it lies below it, else absolute."""
    try:
        relative = os.path.relpath(path, cwd)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def hit_data(hit: Hit, explain: bool = False, cwd: str | None = None) -> dict:
    """One hit in the results format of ../shared/eval/README.md (plus scores when `explain`)."""
    p = hit.passage
    data = {
        "rank": hit.rank, "path": display_path(p.path, cwd), "line_start": p.line_start, "line_end": p.line_end,
        "title": p.display_title, "section": p.section, "score": round(hit.score, 6),
        "keyword_rank": hit.keyword_rank, "vector_rank": hit.vector_rank, "snippet": hit.snippet, "text": p.text,
        "also": [{"path": display_path(path, cwd), "line_start": first, "line_end": last}
                 for path, first, last in hit.also],
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
    """The answer to one query: query, mode, took_ms, hits (and the route when `explain`)."""
    data = {"query": result.query, "mode": result.mode, "took_ms": round(result.took_ms, 2),
            "hits": [hit_data(h, explain, cwd) for h in result.hits]}
    if explain:
        data["route"] = result.route
    return data


def paper_data(passage: Passage, cwd: str | None = None, paper: Paper | None = None) -> dict:
    """A paper record: where it is, its title, year and authors (and the paper object when `paper` is given)."""
    p = passage
    data = {"path": display_path(p.path, cwd), "line_start": p.line_start, "line_end": p.line_end,
            "title": p.display_title, "year": p.paper.year if p.paper else None,
            "authors": list(p.paper.authors) if p.paper else []}
    paper = paper or p.paper
    if paper is not None:
        data["paper"] = paper_object(paper)
    return data


def related_data(result: RelatedResult, cwd: str | None = None) -> dict:
    """The papers related to one paper (or the candidates when its name was ambiguous)."""
    return {"query": result.query, "mode": "related", "took_ms": round(result.took_ms, 2),
            "anchor": paper_data(result.anchor, cwd, result.paper) if result.anchor else None,
            "candidates": [paper_data(p, cwd) for p in result.candidates],
            "hits": [hit_data(h, cwd=cwd) for h in result.hits]}


def report_data(report: BuildReport) -> dict:
    """One build: what it did to the note files, the generation it committed, its warnings and skipped files."""
    return {"generation": report.generation, "changed": report.changed, "added": report.added,
            "updated": report.updated, "removed": report.removed, "unchanged": report.unchanged,
            "renamed": report.renamed, "passages": report.passages, "embedded": report.embedded,
            "resumed": report.resumed,
            "seconds": round(report.timings.get("total", 0.0), 3), "warnings": list(report.warnings),
            "skipped": [[skipped.path, skipped.reason] for skipped in report.skipped],
            "skipped_before": report.skipped_before, "folders": list(report.folders),
            "folders_added": list(report.folders_added), "folders_removed": list(report.folders_removed)}


def excerpt_data(found: Excerpt, cwd: str | None = None) -> dict:
    """What `get --json` prints: the passage holding a line, and the note's lines around it as on disk now."""
    p = found.passage
    return {"path": display_path(p.path, cwd), "line": found.line, "line_start": p.line_start,
            "line_end": p.line_end, "title": p.display_title, "section": p.section, "text": p.text,
            "first_line": found.first, "last_line": found.first + len(found.lines) - 1,
            "lines": list(found.lines), "changed": found.changed}
