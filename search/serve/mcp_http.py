"""MCP over HTTP from `serve`: the tools of `notesearch mcp` (search/serve/mcp_server.py) answered at `/mcp` by
the SDK's streamable HTTP transport, beside the API and the page.

    POST http://127.0.0.1:PORT/mcp    Authorization: Bearer TOKEN (the token in serve.json)

The tools work on the served index's own warm index, runs and watcher: a
search through MCP answers from the generation the API answers from. The
server's gate (search/serve/guard.py) stands in front, as for the API: the
token, a loopback Host (against DNS rebinding), no call from another origin;
the SDK's own Host check is off, as it would refuse the host `--host` names.
Stateless, and answered in JSON: each request stands alone, so a client that
goes idle holds nothing open (there is no session to resume or end).

Needs the `mcp` extra (the official MCP Python SDK, 2.x); without it, `/mcp`
answers 404 saying so.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from search.serve.served import ServedIndex

PATH = "/mcp"


class McpOverHttp:
    """The MCP endpoint of a served index: its route, and the lifespan its session manager runs in."""

    def __init__(self, served: ServedIndex, describe: Callable[[Exception], str] | None = None):
        from mcp.server.transport_security import TransportSecuritySettings

        from search.serve.mcp_server import NoteTools, build_server

        self.tools = NoteTools(served.directory, describe=describe, served=served)
        self.server = build_server(self.tools)
        app = self.server.streamable_http_app(
            streamable_http_path=PATH, stateless_http=True, json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
        (self.route,) = [route for route in app.routes if getattr(route, "path", None) == PATH]

    @contextlib.asynccontextmanager
    async def lifespan(self, _app) -> AsyncIterator[None]:
        """Runs the SDK's session manager while the server answers."""
        async with self.server.session_manager.run():
            yield


def mcp_endpoint(served: ServedIndex) -> tuple[Route, Callable | None]:
    """The `/mcp` route of `served` and the lifespan it needs; without the SDK, a route that says what to install
    (and no lifespan)."""
    try:
        endpoint = McpOverHttp(served)
    except ModuleNotFoundError as error:
        if not (error.name or "").startswith("mcp"):
            raise
        return Route(PATH, _no_sdk, methods=["GET", "POST", "DELETE"]), None
    return endpoint.route, endpoint.lifespan


async def _no_sdk(_request: Request) -> Response:
    return JSONResponse({"error": {"kind": "NotFound", "message": "MCP over HTTP needs the mcp extra: "
                                   "pip install 'notesearch[mcp]' (or use `notesearch mcp` over stdio)"}}, 404)
