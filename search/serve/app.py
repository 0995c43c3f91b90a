"""The HTTP API and the page of a served index: a Starlette app over one warm index (search/serve/server.py).

    GET  /api/search?q=自监督+视觉&mode=hybrid&k=10&all=0&explain=0   what `search --json` prints
    GET  /api/related?paper=ResNet&k=10 | ?passage=PATH:LINE          what `related --json` prints
    GET  /api/get?location=PATH:LINE&context=3                        what `get --json` prints
    GET  /api/note?path=PATH[&region=p3]                              the whole note: {path, region, lines, changed,
                                                                      html} (html: search/serve/render.py)
    GET  /api/stats                                                   what `stats --json` prints (and the
                                                                      NOTESEARCH_HYPERLINK template, when set)
    GET  /api/ping                                                    {pid, index, generation, answered}
    GET  /api/events                                                  server-sent events (search/serve/events.py)
    POST /api/index  {"paths", "exclude", "remove", "model", "wait"}  the run's steps, then its report (JSON lines)
    DELETE /api/index/RUN                                             stops the run whose answer said Notesearch-Run
    POST /mcp                                                         MCP's tools (search/serve/mcp_http.py)
    GET  /                                                            the page (search/serve/page/index.html)
    GET  /static/NAME                                                 its files

Every answer is the JSON that search/results.py builds, the same the command
line prints with `--json`; a search's warnings come in the header
`Notesearch-Warnings` (a JSON list, ASCII). Paths are shown relative to the
optional `cwd` parameter (an absolute folder, the asker's), else as the
index stores them. An error is `{"error": {"kind": <the library's error
class>, "message": ...}}` with its status: 400 for a bad argument, 404 for
something not in the index (or outside its folders), 409 when the index is
busy, 500 otherwise.

`POST /api/index` runs the same build as `notesearch index`, in the server's
queue of runs (search/serve/updates.py). Its answer waits until the run has
taken its first step, so that a run that cannot begin (busy: 409) or fails at
once (a folder that is gone: 404) answers with its status; then it streams
`application/x-ndjson`: `{"progress": {"stage", "done", "total"}}` a step,
and last `{"report": ...}` (what `index --json` would print) or `{"error":
...}`. A client that goes away stops its run (nothing committed), and so
does `DELETE /api/index/RUN` (the run's last line then says Cancelled, or gives
its report when it had committed already).

The gate in front (search/serve/guard.py) checks the host, the origin and
the token; this module trusts what reaches it.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from corpus.errors import BadArgument, Cancelled, IndexBusy, NotesearchError
from search.results import MODES, excerpt_data, note_data, related_data, stats_data

if TYPE_CHECKING:
    from search.serve.served import ServedIndex

PAGE = Path(__file__).parent / "page"
MAX_K = 1000  # hits a call may ask for
MAX_BODY = 1 << 20  # bytes of an index request
MAX_WAIT = 3600.0  # seconds a run may wait to begin
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
                 ".ico": "image/x-icon", ".json": "application/json", ".txt": "text/plain; charset=utf-8"}
_PAGE_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# The status of each of the library's errors (by class name); any other is 500.
STATUS = {"BadArgument": 400, "ValueError": 400, "TypeError": 400, "NoNotes": 400, "OutsideIndex": 404,
          "NoPassage": 404, "NoIndex": 404, "UnknownFolder": 404, "MissingFolder": 404, "IndexBusy": 409,
          "Cancelled": 409}
INDEX_FIELDS = ("paths", "exclude", "remove", "model", "wait")


# ---------------------------------------------------------------- answers

def json_response(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """`data` as the command line prints it (UTF-8, not ASCII-escaped)."""
    return Response(json.dumps(data, ensure_ascii=False), status, headers, media_type="application/json")


def error_data(error: BaseException) -> dict:
    """{"error": {"kind", "message"}} (and the data a caller acts on: how long a busy index was waited for)."""
    data = {"kind": type(error).__name__, "message": str(error) or type(error).__name__}
    if isinstance(error, IndexBusy):
        data["waited"] = error.waited
    return {"error": data}


def error_response(error: BaseException) -> Response:
    return json_response(error_data(error), STATUS.get(type(error).__name__, 500))


def answers(handler: Callable[[ServedIndex, Request], Awaitable[Response]], server: ServedIndex):
    """A route's endpoint: `handler(server, request)`, its errors answered as JSON with their status."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(server, request)
        except ClientDisconnect:
            return Response(status_code=400)
        except (NotesearchError, ValueError, TypeError, OSError) as error:
            return error_response(error)

    return endpoint


# ---------------------------------------------------------------- arguments

def text(request: Request, name: str, default: str | None = None) -> str:
    value = request.query_params.get(name, default)
    if value is None:
        raise BadArgument(name, None, "given (a parameter of this call)")
    return value


def number(request: Request, name: str, default: int, low: int, high: int) -> int:
    value = request.query_params.get(name)
    if value is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", value) or not low <= int(value) <= high:
        raise BadArgument(name, value, f"a whole number from {low} to {high}")
    return int(value)


def flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name, "0").lower()
    if value not in ("0", "1", "false", "true", ""):
        raise BadArgument(name, value, "0 or 1")
    return value in ("1", "true")


def asker_folder(request: Request) -> str | None:
    """The asker's folder (`cwd`), which paths are shown relative to; None: as the index stores them."""
    cwd = request.query_params.get("cwd")
    if cwd is not None and not os.path.isabs(cwd):
        raise BadArgument("cwd", cwd, "an absolute path (paths are shown relative to it)")
    return cwd


def index_arguments(body: object) -> tuple[dict, float]:
    """The arguments of WarmIndex.update and the `wait` of an index request, checked as the command line's
    options are: absolute paths, glob strings, a model name, a number of seconds. Raises BadArgument."""
    if not isinstance(body, dict):
        raise BadArgument("an index request", body, f"a JSON object with any of {', '.join(INDEX_FIELDS)}")
    unknown = sorted(set(body) - set(INDEX_FIELDS))
    if unknown:
        raise BadArgument("a field", unknown[0], f"one of {', '.join(INDEX_FIELDS)}")

    def paths(name: str, value: object, none: bool) -> list[str] | None:
        if value is None and none:
            return None
        if not isinstance(value, list) or not all(isinstance(p, str) and os.path.isabs(p) and "\0" not in p
                                                  for p in value):
            raise BadArgument(name, value, f"a list of absolute paths{' or null' if none else ''}")
        return list(value)

    exclude = body.get("exclude")
    if exclude is not None and (not isinstance(exclude, list)
                                or not all(isinstance(g, str) and g and "\0" not in g for g in exclude)):
        raise BadArgument("exclude", exclude, "a list of glob patterns (non-empty strings), or null for the index's own")
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise BadArgument("model", model, "a model name (a string), or null for the index's own")
    wait = body.get("wait", 30.0)
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 <= wait <= MAX_WAIT \
            or math.isnan(wait):
        raise BadArgument("wait", wait, f"a number of seconds from 0 to {MAX_WAIT:.0f}")
    new = paths("paths", body.get("paths"), none=True)
    if new == []:
        raise BadArgument("paths", new, "a list of folders or files (an empty one would remove every note), or null "
                          "for the index's own")
    arguments = {"paths": new, "exclude": exclude, "remove": paths("remove", body.get("remove", []), none=False),
                 "model": model or None}
    return arguments, float(wait)


# ---------------------------------------------------------------- the API

async def search_route(server: ServedIndex, request: Request) -> Response:
    query = text(request, "q")
    mode = text(request, "mode", "hybrid")
    if mode not in MODES:
        raise BadArgument("mode", mode, f"one of {', '.join(MODES)}")
    response = await run_in_threadpool(server.notes.search, query, mode, number(request, "k", 10, 1, MAX_K),
                                       flag(request, "explain"), asker_folder(request), flag(request, "all"))
    server.count_answer()
    warnings = json.dumps(response["warnings"])  # ASCII: a header carries Latin-1 only
    return json_response(response["answer"], headers={"Notesearch-Warnings": warnings})


async def related_route(server: ServedIndex, request: Request) -> Response:
    paper, passage = request.query_params.get("paper"), request.query_params.get("passage")
    if (paper is None) == (passage is None):
        raise BadArgument("paper or passage", None, "exactly one of them: a paper (a title, a fragment of one, or an "
                          "author) or a passage (PATH:LINE)")
    k, cwd = number(request, "k", 10, 1, MAX_K), asker_folder(request)

    def work() -> dict:
        from search.notes.locations import parse_location
        from search.relate.papers import related, related_passage

        with server.notes.reading() as index:
            if passage is not None:
                where = parse_location(passage)
                result = related_passage(index, where.path, where.line, k=k, region=where.region, cwd=cwd)
            else:
                result = related(index, paper, k=k, cwd=cwd)
        return related_data(result, cwd)

    return json_response(await run_in_threadpool(work))


async def get_route(server: ServedIndex, request: Request) -> Response:
    location, cwd = text(request, "location"), asker_folder(request)
    context = number(request, "context", 3, 0, 200)

    def work() -> dict:
        from search.notes.excerpts import excerpt
        from search.notes.locations import parse_location

        where = parse_location(location)
        with server.notes.reading() as index:
            found = excerpt(index, where.path, where.line, context=context, cwd=cwd, region=where.region)
        return excerpt_data(found, cwd)

    return json_response(await run_in_threadpool(work))


async def note_route(server: ServedIndex, request: Request) -> Response:
    path, region, cwd = text(request, "path"), text(request, "region", ""), asker_folder(request)

    def work() -> dict:
        from search.notes.whole import read_note
        from search.serve.render import render_note

        with server.notes.reading() as index:
            note = read_note(index, path, cwd, region)
        return note_data(note, cwd) | {"html": render_note(note.path, list(note.lines), region=note.region)}

    return json_response(await run_in_threadpool(work))


def editor_link() -> dict:
    """The page's "open in editor" target: NOTESEARCH_HYPERLINK's template, as the command line fills it
    (cli_render.link: {host} this machine, {path}, {line}, {page}), with the server's folder for a path it shows
    relative. Nothing when it is unset or `none`: a browser does not follow the default `file://` link from a
    page."""
    template = os.environ.get("NOTESEARCH_HYPERLINK", "")
    if template.lower() in ("", "none"):
        return {}
    return {"hyperlink": template, "host": socket.gethostname(), "cwd": os.getcwd()}


async def stats_route(server: ServedIndex, request: Request) -> Response:
    def work() -> dict:
        from search.notes.stats import stats

        with server.notes.reading() as index:
            return {**stats_data(stats(index)), **editor_link()}

    return json_response(await run_in_threadpool(work))


async def ping_route(server: ServedIndex, request: Request) -> Response:
    return json_response(server.ping())  # on the event loop: answered at once, however busy the workers are


async def index_route(server: ServedIndex, request: Request) -> Response:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadArgument("Content-Type", request.headers.get("content-type"), "application/json")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BadArgument("an index request", f"{len(body)} bytes or more", f"at most {MAX_BODY} bytes")
    try:
        request_body = json.loads(body)
    except ValueError:
        raise BadArgument("an index request", bytes(body[:80]), "a JSON object") from None
    arguments, wait = index_arguments(request_body)
    loop = asyncio.get_running_loop()
    steps: asyncio.Queue = asyncio.Queue()

    def told(*step) -> None:
        loop.call_soon_threadsafe(steps.put_nowait, step)

    job = server.runs.submit(arguments, wait, progress=told)
    job.future.add_done_callback(lambda _future: loop.call_soon_threadsafe(steps.put_nowait, None))
    number_of_run = server.follow_run(job)
    try:
        # Answer with a status: wait for the run's first step (or its end), and give up when it cannot begin.
        while steps.empty():
            if await request.is_disconnected():
                job.cancel()
                return Response(status_code=400)
            if job.cancel_if_late():
                raise IndexBusy(server.directory, wait)
            await asyncio.sleep(0.05)
        if job.future.done() and steps.qsize() == 1:  # ended before its first step
            if job.future.cancelled():
                return Response(status_code=400)
            error = job.future.exception()
            if error is not None:
                raise error
    except BaseException:
        server.forget_run(number_of_run)
        raise
    return StreamingResponse(_run_lines(server, job, steps, number_of_run), media_type="application/x-ndjson",
                             headers={"Notesearch-Run": str(number_of_run)})


async def _run_lines(server: ServedIndex, job, steps: asyncio.Queue, number_of_run: int) -> AsyncIterator[bytes]:
    """The JSON lines of a run's answer; the run is stopped when its client goes away (this is cancelled)."""
    try:
        while (step := await steps.get()) is not None:
            stage, done, total = step
            yield json.dumps({"progress": {"stage": stage, "done": done, "total": total}}).encode() + b"\n"
        if job.future.cancelled():
            last = error_data(Cancelled(server.directory))
        elif job.future.exception() is not None:
            last = error_data(job.future.exception())
        else:
            last = job.future.result()
            server.count_update()
        yield json.dumps(last, ensure_ascii=False).encode() + b"\n"
    finally:
        if not job.future.done():
            job.cancel()
        server.forget_run(number_of_run)


async def events_route(server: ServedIndex, request: Request) -> Response:
    first = await run_in_threadpool(server.state_event)
    return StreamingResponse(server.events.stream(first), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


async def cancel_route(server: ServedIndex, request: Request) -> Response:
    job = server.runs_followed.get(request.path_params["run"])
    if job is None:
        return json_response({"error": {"kind": "NoRun", "message": "no such run goes on"}}, 404)
    job.cancel()
    return Response(status_code=204)


# ---------------------------------------------------------------- the page

NO_LOGIN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>notesearch</title></head>
<body><h1>notesearch</h1><p>{message}</p></body></html>
"""


async def page_route(server: ServedIndex, request: Request) -> Response:
    signed_in = request.scope["state"].get("authenticated", False)
    token = request.query_params.get("token")
    if token is not None:
        if signed_in:
            return RedirectResponse("/", 303)
        session = server.access.use_login(token)
        if session is None:
            return _no_login("This login link was used already, or it is not this server's: open the url in "
                             "serve.json in the index folder (each link works once).")
        response = RedirectResponse("/", 303)
        response.raw_headers.append((b"set-cookie", server.access.set_cookie(session)))
        return response
    if not signed_in:
        return _no_login("Open the URL the server printed when it started (it holds a one-time login token); "
                         "the next one is the url in serve.json in the index folder.")
    index = PAGE / "index.html"
    if not index.is_file():
        return HTMLResponse(NO_LOGIN.format(message="This install of notesearch has no page: use the API."), 404)
    return FileResponse(index, media_type=CONTENT_TYPES[".html"], headers={"Cache-Control": "no-cache"})


def _no_login(message: str) -> Response:
    return HTMLResponse(NO_LOGIN.format(message=message), 401, headers={"Connection": "close"})


async def static_route(server: ServedIndex, request: Request) -> Response:
    name = request.path_params["name"]
    path = PAGE / name
    if not _PAGE_FILE.match(name) or name not in os.listdir(PAGE) or not path.is_file():
        return json_response({"error": {"kind": "NotFound", "message": "no such file of the page"}}, 404)
    kind = CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return FileResponse(path, media_type=kind, headers={"Cache-Control": "no-cache"})


def build_app(server: ServedIndex, more: tuple[Route, ...] = (), lifespan: Callable | None = None) -> Starlette:
    """The Starlette app of `server` (without its gate: search/serve/guard.py wraps it), with the routes `more`
    (MCP: search/serve/mcp_http.py) and the `lifespan` they need."""
    route = partial(answers, server=server)

    async def no_route(request: Request, error: Exception) -> Response:
        status = getattr(error, "status_code", 404)
        return json_response({"error": {"kind": "NotFound" if status == 404 else "MethodNotAllowed",
                                         "message": f"no {request.method} {request.url.path[:80]} here"}}, status)

    return Starlette(exception_handlers={404: no_route, 405: no_route}, lifespan=lifespan, routes=[*more,
        Route("/", route(page_route)),
        Route("/static/{name}", route(static_route)),
        Route("/api/search", route(search_route)),
        Route("/api/related", route(related_route)),
        Route("/api/get", route(get_route)),
        Route("/api/note", route(note_route)),
        Route("/api/stats", route(stats_route)),
        Route("/api/ping", route(ping_route)),
        Route("/api/events", route(events_route)),
        Route("/api/index", route(index_route), methods=["POST"]),
        Route("/api/index/{run:int}", route(cancel_route), methods=["DELETE"]),
    ])
