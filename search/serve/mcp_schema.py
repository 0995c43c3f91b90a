"""The shapes of the MCP tools' answers (search/serve/mcp_server.py): typed dicts whose JSON schemas the SDK
publishes as each tool's output schema, with a description where a field's name does not say enough.

They mirror the JSON of search/results.py (`search --json`, `related --json`,
`get --json`, index runs); paths are absolute.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import NotRequired, TypedDict

REGION = ("the part of the file the lines count in: 'c5' the fifth cell of a notebook, 'p3' the third page of a "
          "PDF; empty for a plain note, whose lines are the file's")


class PlaceData(TypedDict):
    path: str
    region: str
    line_start: int
    line_end: int


class PaperIds(TypedDict):
    doi: NotRequired[str]
    arxiv: NotRequired[Annotated[str, Field(description="the arXiv id, without version")]]
    citekey: NotRequired[str]
    url: NotRequired[str]


class PaperObject(TypedDict):
    """The paper a hit belongs to: its record's, or the one its note is about."""

    title: str
    authors: list[str]
    year: int | None
    venue: str
    ids: PaperIds
    keywords: list[str]


class HitData(TypedDict):
    """One hit, as `search --json` prints it."""

    rank: int
    path: Annotated[str, Field(description="the note (absolute path)")]
    region: Annotated[str, Field(description=REGION)]
    line_start: Annotated[int, Field(description="first line of the passage in the note (in its region), from 1")]
    line_end: int
    title: Annotated[str, Field(description="the paper title for a paper record, else the note title")]
    section: Annotated[str, Field(description="the headings above the passage, ' > '-separated")]
    score: float
    keyword_rank: int | None
    vector_rank: int | None
    snippet: Annotated[str, Field(description="the passage with the matched words in **bold**, shortened")]
    text: Annotated[str, Field(description="the passage's whole text")]
    also: Annotated[list[PlaceData], Field(description="other places that hold the very same text")]
    reasons: NotRequired[Annotated[list[str], Field(description="why a related result was chosen")]]
    paper: NotRequired[Annotated[PaperObject, Field(description="the paper the passage belongs to, if any")]]


class SearchAnswer(TypedDict):
    query: str
    mode: str
    took_ms: float
    hits: list[HitData]
    warnings: list[str]


class PaperData(TypedDict):
    path: str
    region: str
    line_start: int
    line_end: int
    title: str
    year: int | None
    authors: list[str]
    paper: NotRequired[PaperObject]


class NamedPaperData(PaperData):
    name: Annotated[str, Field(description="the name the passage names the paper by: a title, or a name it goes "
                                           "by (BERT, ResNet)")]


class RelatedAnswer(TypedDict):
    query: str
    mode: str
    took_ms: float
    anchor: Annotated[PaperData | None, Field(description="the paper or passage asked about; null when the "
                                                          "name fits several papers (see candidates)")]
    candidates: list[PaperData]
    hits: list[HitData]
    named: Annotated[list[NamedPaperData], Field(description="for a passage of prose: the papers it names")]


class Excerpt(TypedDict):
    path: str
    region: Annotated[str, Field(description=REGION)]
    line: int
    line_start: Annotated[int, Field(description="the passage's first line")]
    line_end: int
    title: str
    section: str
    text: Annotated[str, Field(description="the passage's text as indexed (markdown removed)")]
    first_line: Annotated[int, Field(description="the line number of lines[0]")]
    last_line: int
    lines: Annotated[list[str], Field(description="the note's lines first_line..last_line (of its region), as on "
                                                  "disk now")]
    changed: Annotated[bool, Field(description="the note changed since it was indexed: lines may have moved")]


class Folder(TypedDict):
    path: str
    files: int
    passages: int


class Report(TypedDict):
    """An index run's account (search.results.report_data)."""

    generation: Annotated[int, Field(description="the generation it committed")]
    changed: bool
    added: int
    updated: int
    removed: int
    unchanged: int
    renamed: int
    passages: int
    embedded: Annotated[int, Field(description="passages embedded by this run (the others' vectors were kept)")]
    resumed: Annotated[int, Field(description="vectors taken from a run stopped before its commit")]
    seconds: float
    warnings: list[str]
    skipped: Annotated[list[list[str]], Field(description="[path, reason] of each note file not indexed for a new "
                                                          "reason")]
    skipped_before: Annotated[int, Field(description="note files not indexed for the same reason as the run before")]
    folders: Annotated[list[str], Field(description="the index's folders after the run")]
    folders_added: list[str]
    folders_removed: list[str]


class LastRun(TypedDict):
    by: Annotated[str, Field(description="watch (notes changed) or request (an index run asked for)")]
    finished: Annotated[str, Field(description="when it ended (ISO 8601, local time)")]
    report: Annotated[Report | None, Field(description="what it did; null when it failed")]
    error: Annotated[str | None, Field(description="why it failed; null when it did not")]


class Status(TypedDict):
    index: str
    generation: int
    model: str
    fingerprint: str
    folders: list[Folder]
    exclude: list[str]
    files: int
    kinds: Annotated[dict[str, int], Field(description="the files of each kind read: markdown, notebook, org, pdf")]
    not_indexed: Annotated[dict[str, int], Field(description="files of kinds that are not read, by suffix")]
    passages: int
    papers: Annotated[int, Field(description="paper records: table rows, notes about one paper, BibTeX entries")]
    paper_notes: Annotated[int, Field(description="notes that are about one paper (each one paper)")]
    words: Annotated[int, Field(description="words the index learned from the notes (bold terms, names)")]
    skipped: Annotated[list[list[str]], Field(description="[path, reason] of each note file not indexed")]
    updated: Annotated[str, Field(description="when the generation was committed (ISO 8601, local time)")]
    watching: bool
    updating: Annotated[bool, Field(description="an index run is going on now")]
    last_run: Annotated[LastRun | None, Field(description="the last index run of this server, if any")]
    warnings: list[str]
