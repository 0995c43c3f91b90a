"""notesearch as a Model Context Protocol server over stdio: tools an AI assistant calls to search the notes.

    notesearch mcp --index DIR [--watch]

Tools: `search` (the answer `search --json` prints, paths absolute), `related`
(papers or passages to read with one, each with its reasons), `get` (the
passage at PATH:LINE with lines around it, read from disk; only notes of the
index) and `status` (folders, counts, model, generation, last update). Each has
a JSON schema for its input and its output (structured content).

The index and the model stay loaded between calls (search.serve.warm.WarmIndex,
which also opens a newly committed generation); with `watch`, notes changed
under the index's folders are indexed as they change (search.serve.updates). A
problem comes back as a tool error of one line: the library error's own words,
or what the caller's `describe(error)` makes of them (the command line adds
what to do). stdout carries
the protocol only: the SDK's stdio transport points file descriptor 1 at
stderr while it runs, and `serve` keeps it there while the index loads.

Needs the `mcp` extra (`pip install -e ".[mcp]"`): the official MCP Python SDK, 2.x.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field, ValidationError

from corpus.errors import NoIndex, NotesearchError, echo
from search.notes.excerpts import excerpt
from search.notes.locations import MAX_LOCATION, parse_location
from search.query.syntax import EMPTY_QUERY, MAX_QUERY_CHARS, has_words, plain_query, readable
from search.relate.papers import MAX_PAPER_NAME
from search.results import Mode, excerpt_data, related_data, result_data, stats_data
from search.serve.mcp_schema import Excerpt, RelatedAnswer, SearchAnswer, Status
from search.serve.updates import IndexRuns, Run
from search.serve.warm import WarmIndex

if TYPE_CHECKING:
    from search.serve.served import ServedIndex

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
# Every argument is bounded before any work (the SDK refuses a longer one in one line): a query is searched by
# its first MAX_QUERY_CHARS characters anyway, a filter value or a paper name is far shorter.
MAX_QUERY_ARGUMENT = 10 * MAX_QUERY_CHARS
MAX_FILTER = 200


class NoteTools:
    """The tools' work on one warm index, callable from any thread (the SDK runs each call in a worker thread)."""

    def __init__(self, directory: str, watch: bool = False, watched: Callable[[Run], None] | None = None,
                 describe: Callable[[Exception], str] | None = None, embedder=None, served: ServedIndex | None = None):
        """`watched(run)` hears of each run the watcher starts; `describe(error)` words a tool error. With `served`
        (MCP over HTTP beside the API: search/serve/mcp_http.py), the tools share its warm index, runs and
        watcher, which are its to close; `directory`, `watch`, `watched` and `embedder` are then its own."""
        self.describe = describe or _one_line
        self.stop = threading.Event()
        self.owned = served is None
        if served is not None:
            self.directory, self.notes, self.runs, self.watching = \
                served.directory, served.notes, served.runs, served.watching
            return
        self.directory = os.path.abspath(directory)
        self.notes = WarmIndex(self.directory, embedder, lazy=True)
        with contextlib.suppress(NoIndex):
            self.notes.refresh()  # load now, so the first call is fast; a missing index is reported per call
        self.runs = IndexRuns(self.notes, watched)
        self.watching = watch
        if watch:
            self.runs.watch(self.stop)

    def close(self) -> None:
        """Stop watching and close the index (when they are the tools' own)."""
        self.stop.set()
        if self.owned:
            self.notes.close()

    @contextlib.contextmanager
    def _index(self) -> Iterator[Any]:
        try:
            with self.notes.reading() as index:
                yield index
        except (NotesearchError, ValueError, OSError) as error:
            raise ToolError(" ".join(self.describe(error).split())) from error

    def search(self, query: str, mode: Mode, k: int, filters: dict[str, str | None]) -> dict:
        from search import search

        text = _with_filters(query, filters)
        if not has_words(text):
            raise ToolError(f"{EMPTY_QUERY}: give words to search for, or a field filter")
        with self._index() as index:
            result = search(index, text, mode=mode, k=k)
        return {**result_data(result), "warnings": list(result.warnings)}

    def related(self, paper: str | None, passage: str | None, k: int) -> dict:
        from search.relate.papers import related, related_passage

        if (paper is None) == (passage is None):
            raise ToolError("give either 'paper' (a title, a fragment of one, or an author) or 'passage' (PATH:LINE)")
        with self._index() as index:
            if passage is not None:
                where = parse_location(passage)
                result = related_passage(index, where.path, where.line, k=k, region=where.region)
            else:
                result = related(index, paper, k=k)
        if result.anchor is None and not result.candidates:
            raise ToolError(f"no paper matches {echo(paper)!r}: try words of its title or an author's name")
        return related_data(result)

    def get(self, location: str, context: int) -> dict:
        with self._index() as index:
            where = parse_location(location)
            found = excerpt(index, where.path, where.line, context=context, region=where.region)
        return excerpt_data(found)

    def status(self) -> dict:
        from search import stats

        with self._index() as index:
            held = stats(index)
        return {**stats_data(held), "index": self.directory, "watching": self.watching,
                "updating": self.runs.running, "last_run": self._run_data(self.runs.last)}

    def _run_data(self, run: Run | None) -> dict | None:
        if run is None:
            return None
        finished = datetime.datetime.fromtimestamp(run.finished).astimezone().isoformat(timespec="seconds")
        return {"by": run.by, "finished": finished, "report": run.report,
                "error": None if run.error is None else self.describe(run.error)}


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _with_filters(query: str, filters: dict[str, str | None]) -> str:
    """The query with each field filter added in the query language (`author:"geoffrey hinton"`).

    Nothing in a value or in the query can drop a filter: a value is quoted
    whenever it holds anything but a plain word (a parenthesis, a space, a
    leading `-`), and a query that would not parse as written (an unbalanced
    parenthesis or quote) goes in as the plain words the parser would fall
    back to, cut so that the whole stays within MAX_QUERY_CHARS.
    """
    parts = []
    for name, value in filters.items():
        value = " ".join((value or "").replace('"', " ").split())
        if value:
            plain = not any(ch in value for ch in " ()") and not value.startswith("-")
            parts.append(f"{name}:{value}" if plain else f'{name}:"{value}"')
    if not parts:
        return query
    tail = " ".join(parts)
    room = MAX_QUERY_CHARS - len(tail) - 3
    if not query.strip():
        return tail
    if readable(query) and len(query) <= room:
        return f"({query}) {tail}"
    head = plain_query(query)[:max(0, room)].rpartition(" ")[0] if len(plain_query(query)) > room \
        else plain_query(query)
    return f"{head} {tail}".strip()


class _Server(MCPServer):
    """MCPServer whose argument errors are one line (pydantic's own span several)."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context=None):
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as error:
            cause = error.__cause__
            if not isinstance(cause, ValidationError):
                raise
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in cause.errors())
            raise ToolError(f"bad arguments for {name}: {problems}") from cause


def build_server(tools: NoteTools) -> MCPServer:
    """The MCP server exposing `tools` as search, related, get and status."""
    server = _Server("notesearch", version=_version(), log_level="WARNING", instructions=(
        "Search the user's personal notes (Chinese and English; notes on papers, tables of papers). "
        "Use `search` to find passages, `get` to read a hit's passage with lines around it, `related` for "
        "papers or passages to read with one, `status` for what the index holds."))

    @server.tool(annotations=READ_ONLY, structured_output=True)
    def search(
        query: Annotated[str, Field(max_length=MAX_QUERY_ARGUMENT,
                                    description="words or a question, in Chinese or English; the query language "
                                                "works too: \"exact phrase\", -excluded, a OR b, field:value")],
        mode: Annotated[Mode, Field(description="hybrid: keyword and meaning fused (best in general); keyword: "
                                                "the words themselves; semantic: meaning only")] = "hybrid",
        k: Annotated[int, Field(ge=1, le=100, description="how many hits")] = 10,
        title: Annotated[str | None, Field(max_length=MAX_FILTER, description="only papers whose title has this word")] = None,
        author: Annotated[str | None, Field(max_length=MAX_FILTER, description="only papers by this author (a name)")] = None,
        venue: Annotated[str | None, Field(max_length=MAX_FILTER, description="only papers published at this venue (CVPR, NeurIPS)")] = None,
        section: Annotated[str | None, Field(max_length=MAX_FILTER, description="only passages under a heading with this word")] = None,
        tags: Annotated[str | None, Field(max_length=MAX_FILTER, description="only notes with this front-matter tag")] = None,
        path: Annotated[str | None, Field(max_length=MAX_FILTER, description="only notes whose path has this word")] = None,
        year: Annotated[str | None, Field(max_length=MAX_FILTER, description="only papers of this year or range, or notes dated in it: "
                                                       "2015, 2012..2017")] = None,
        date: Annotated[str | None, Field(max_length=MAX_FILTER, description="only notes whose front-matter date is in this day, month, "
                                                       "year or range: 2024-03-01, 2024-03, 2024, "
                                                       "2024-01..2024-06")] = None,
    ) -> SearchAnswer:
        """Search the notes: the best passages for a query, each with its note's path and lines.

        Returns the hits as `notesearch search --json` prints them (rank, path, line_start, line_end, title,
        section, score, keyword_rank, vector_rank, snippet, text), paths absolute, plus warnings about the query.
        Pass a hit's `path:line_start` (`path:region:line_start` when it has a region) to `get` to read it.
        """
        filters = {"title": title, "author": author, "venue": venue, "section": section, "tags": tags, "path": path,
                   "year": year, "date": date}
        return tools.search(query, mode, k, filters)

    @server.tool(annotations=READ_ONLY, structured_output=True)
    def related(
        paper: Annotated[str | None, Field(max_length=MAX_PAPER_NAME,
                                           description="a paper: its title, a fragment of it, a name it goes by, an "
                                                       "author, or the path of its note")] = None,
        passage: Annotated[str | None, Field(max_length=MAX_LOCATION,
                                             description="instead of a paper, any passage: PATH:LINE (or "
                                                         "PATH:REGION:LINE) as a search hit gives it")] = None,
        k: Annotated[int, Field(ge=1, le=100, description="how many results")] = 10,
    ) -> RelatedAnswer:
        """Papers to read with a paper, or passages like a passage, each with the reasons it was chosen.

        Reasons: a note that names the other paper, both named in one paragraph, similar text, shared terms,
        shared authors, nearness in time. When a paper name fits several papers, `anchor` is null and
        `candidates` lists them: ask again with the full title. For a passage of prose, `named` lists the papers
        it names (by a title, or a name the paper goes by: BERT, ResNet).
        """
        return tools.related(paper, passage, k)

    @server.tool(annotations=READ_ONLY, structured_output=True)
    def get(
        location: Annotated[str, Field(max_length=MAX_LOCATION,
                                       description="PATH:LINE of a note of the index, as a search hit gives it "
                                                   "(path, line_start), or PATH:REGION:LINE for a hit with a region "
                                                   "(a notebook's cell, a PDF's page: nb.ipynb:c5:3, "
                                                   "paper.pdf:p3:12); PATH:REGION opens a whole page")],
        context: Annotated[int, Field(ge=0, le=200, description="lines of the note before and after the "
                                                                "passage")] = 3,
    ) -> Excerpt:
        """Read the passage at a line of a note, with lines around it, from the note as it is on disk now.

        Only notes of the index can be read: any other path is refused.
        """
        return tools.get(location, context)

    @server.tool(annotations=READ_ONLY, structured_output=True)
    def status() -> Status:
        """What the index holds: its folders with file and passage counts, model, generation, when it was
        last updated, and whether it follows changes to the notes (watch)."""
        return tools.status()

    return server


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("notesearch")
    except PackageNotFoundError:
        return "0"


def run(directory: str, watch: bool = False, watched: Callable[[Run], None] | None = None,
        describe: Callable[[Exception], str] | None = None) -> None:
    """Serve the index in `directory` over stdio until the client closes the connection.

    `watched` and `describe` as for NoteTools.
    """
    with _stdout_to_stderr():
        tools = NoteTools(directory, watch=watch, watched=watched, describe=describe)  # loading jieba and the model must print nothing
    try:
        build_server(tools).run("stdio")
    finally:
        tools.close()


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Point file descriptor 1 (and sys.stdout) at stderr for a while: the protocol owns stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
