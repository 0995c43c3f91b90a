"""Warm mode over HTTP: one index and its embedder kept open, its API and page answered on localhost.

    notesearch serve --index DIR      # answers until SIGINT or SIGTERM
    GET http://127.0.0.1:PORT/api/search?q=自监督+视觉   (Authorization: Bearer TOKEN, from serve.json)

The API and the page are search/serve/app.py, and MCP at /mcp is search/serve/mcp_http.py; who may call them is
search/serve/guard.py; how long a connection may take to ask is
search/serve/connections.py; what they work on (the warm index, its queue of
index runs, the events) is search/serve/served.py. This module puts them on a
port with uvicorn, and writes serve.json.

Concurrency: uvicorn answers every connection on one event loop, so an idle
or slow client holds no thread and delays nobody; each search runs in a worker
thread and shares the open index (WarmIndex); index runs happen one at a time
in a background thread, and a search answers from the last committed
generation while one goes on.

Security: the server binds 127.0.0.1 unless told otherwise, and writes
`serve.json` (pid, host, port, the Bearer token, the page's URL with its
one-time login token, the index folder) into the index folder, readable by its
owner alone; the file goes when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import uvicorn

from corpus.errors import StateFileError
from indexer.files import atomic_write
from search.serve.app import build_app
from search.serve.client import HOST, STATE_FILE, remove_state
from search.serve.connections import guarded_protocol
from search.serve.guard import Access, Guard
from search.serve.mcp_http import mcp_endpoint
from search.serve.served import ServedIndex

if TYPE_CHECKING:
    from indexer.embedders import Embedder
    from search.serve.updates import Run


class _Uvicorn(uvicorn.Server):
    """uvicorn's server, stopping on SIGINT or SIGTERM without raising the signal again once stopped (uvicorn's
    own does, which would end the process before `serve` says it stopped); `stopping()` is called when it is
    asked to stop (to end the answers that never end by themselves: the event streams).

    An idle server sleeps: uvicorn's own main loop wakes ten times a second to see whether it should stop (and
    formats a date once a second), about 1% of a core for a server that does nothing. This one waits until
    `should_exit` is set, from a signal or another thread, which wakes it at once.
    """

    def __init__(self, config: uvicorn.Config, stopping: Callable[[], None]):
        self._wake: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._should_exit = False
        super().__init__(config)
        self.stopping = stopping

    @property
    def should_exit(self) -> bool:
        return self._should_exit

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self._should_exit = value
        if value and self._wake is not None:
            loop, wake = self._wake
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing waits any more
                loop.call_soon_threadsafe(wake.set)

    async def main_loop(self) -> None:
        self._wake = asyncio.get_running_loop(), asyncio.Event()
        # No date header, no request limit, no notify callback (the Config above): stopping is all there is to see.
        await self.on_tick(0)
        while not self.should_exit:
            await self._wake[1].wait()

    def handle_exit(self, sig: int, frame) -> None:
        super().handle_exit(sig, frame)
        self.stopping()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on `host`:`port` (0: any free port); raises OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on sockets that say so, and without it the body of
    # each answer waits ~40 ms for the client's delayed ACK of its headers (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


class NoteServer(ServedIndex):
    """The HTTP server of one index: bound at once (so its port is known), answering once `serve_forever` runs.

    A connection has `client_timeout` seconds to send its first request, and at
    most `max_waiting` connections may be that new at once (connections.py);
    past `max_connections` open connections, requests are answered 503.
    """

    client_timeout = 2.0
    max_waiting = 128  # well below max_connections, so that strangers alone never reach it
    max_connections = 512
    keep_alive = 5.0  # seconds an idle connection of a token holder stays open

    def __init__(self, directory: str, port: int = 0, embedder: Embedder | None = None, watch: bool = False,
                 watched: Callable[[Run], None] | None = None, host: str = HOST):
        super().__init__(directory, embedder, watch, watched)
        self.published = False
        try:
            self.socket = listening_socket(host, port)
        except BaseException:
            self.notes.close()
            raise
        self.host = host
        self.access = Access(self.port, host, changed=lambda _url: self.published and self.publish())
        mcp_route, lifespan = mcp_endpoint(self)
        app = build_app(self, (mcp_route,), lifespan)
        config = uvicorn.Config(Guard(app, self.access), http=guarded_protocol(self.client_timeout, self.max_waiting),
                                ws="none", lifespan="on" if lifespan else "off", log_config=None, log_level="warning",
                                access_log=False,
                                timeout_keep_alive=self.keep_alive, limit_concurrency=self.max_connections,
                                timeout_graceful_shutdown=2, h11_max_incomplete_event_size=1 << 20,
                                server_header=False, date_header=False)
        self.http = _Uvicorn(config, self.events.close)
        self.start_watching()

    @property
    def port(self) -> int:
        return self.socket.getsockname()[1]

    @property
    def token(self) -> str:
        """The Bearer token every API call must carry."""
        return self.access.token

    def serve_forever(self) -> None:
        """Answer until `shutdown()` is called (from another thread) or SIGINT or SIGTERM arrives."""
        self.http.run(sockets=[self.socket])

    def shutdown(self) -> None:
        """Ask `serve_forever` to stop (it returns once open answers are done, or after two seconds)."""
        self.events.close()
        self.http.should_exit = True

    def state(self) -> dict:
        """What serve.json holds: how to reach this server."""
        return {"pid": os.getpid(), "host": self.host, "port": self.port, "token": self.token,
                "url": self.access.url, "index": self.directory}

    def publish(self) -> None:
        """Write serve.json (owner-only, atomically) so that searches find this server; raises StateFileError."""
        data = json.dumps(self.state()).encode("utf-8")

        def write(f) -> None:
            os.fchmod(f.fileno(), 0o600)  # before the token is written: only the owner may read it
            f.write(data)

        try:
            atomic_write(os.path.join(self.directory, STATE_FILE), write)
        except OSError as error:
            raise StateFileError(self.directory, STATE_FILE, error) from error
        self.published = True

    def close(self) -> None:
        """Stop watching and listening, remove serve.json if it is still this server's, close the index."""
        remove_state(os.path.join(self.directory, STATE_FILE), self.token)
        self.socket.close()
        super().close()


def run(directory: str, port: int = 0, ready: Callable[[NoteServer], None] | None = None, watch: bool = False,
        watched: Callable[[Run], None] | None = None, host: str = HOST) -> None:
    """Serve the index in `directory` on `host`:`port` (0: any free port) until SIGINT or SIGTERM.

    With `watch`, notes changed under the index's folders are indexed as they
    change; `watched(run)` hears of each such run. Calls `ready(server)` once serve.json
    is written. Raises NoIndex, StateFileError, or OSError when the port is taken.
    """
    server = NoteServer(directory, port, watch=watch, watched=watched, host=host)
    try:
        server.publish()
        if ready:
            ready(server)
        server.serve_forever()
    finally:
        server.close()
