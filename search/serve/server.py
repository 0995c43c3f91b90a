"""Warm mode: one index and its embedder kept open, answering searches on localhost.

    notesearch serve --index DIR      # answers until SIGINT or SIGTERM
    search.serve.client.ask(DIR, {"op": "search", "query": "自监督 视觉", "mode": "hybrid", "k": 10,
                            "explain": False, "cwd": os.getcwd()})

Protocol: one request per connection, one JSON object a line each way. A
request is {"op": "ping"}, {"op": "search", "query", "mode", "k", "explain", "all",
"cwd"} or {"op": "index", "paths", "exclude", "remove", "model", "wait"}, and
always carries "token" and "index". The answer is {"answer": <the object
`search --json` prints>, "warnings": [...]}, {"report": <report_data>} (what
`index` prints), {"pong": true, ...} or {"error": "...", "kind": ...} ("kind"
names the library's error, e.g. IndexBusy, with its data); a bad request never
stops the server. An `index` request runs the same build as `notesearch
index`, here where jieba and the model are already loaded, so an update takes
a fraction of a second instead of a process start and two loads. Before its
answer come its steps, one line each: {"progress": {"stage", "done",
"total"}}. A client that closes its side of the connection (or goes away)
while its run goes on cancels it: nothing is committed, and the answer is
{"error": ..., "kind": "Cancelled"}. `wait` bounds the time the run waits to
begin, behind other runs and for the index's writer lock (IndexBusy).

Concurrency: each connection is answered in its own thread (at most
NoteServer.max_connections at once, each with a deadline for its request), so
an idle or slow client delays nobody. Searches are read-only and share one open
index (WarmIndex); index runs happen one at a time in a background thread, and
a search answers from the last committed generation while one goes on.

Security: the server binds 127.0.0.1 only, and writes `serve.json` (pid, port,
a random token, the index folder) into the index folder, readable by its owner
alone. Every request must carry the token, so another local user, who cannot
read the file, cannot query the notes. The file goes when the server stops.

The search stage loads in the server only; clients use search/serve/client.py,
which imports nothing but the standard library.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import select
import signal
import socketserver
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from corpus.errors import IndexBusy, NotesearchError, StateFileError
from indexer.files import atomic_write
from search.serve.client import HOST, STATE_FILE, remove_state, same_folder
from search.serve.warm import WarmIndex

if TYPE_CHECKING:
    from indexer.embedders import Embedder
    from search.serve.updates import Run

MAX_REQUEST = 4 << 20  # bytes; a 100 000-character Chinese query is 600 kB once JSON-escaped


def _check(request: dict, key: str, kind: type | tuple[type, ...], default: object = None) -> object:
    value = request.get(key, default)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise TypeError(f"{key!r} must be a {names}, not {value!r}")
    return value


def send(connection, message: dict) -> bool:
    """Send one line to a client; False when it is gone."""
    try:
        connection.sendall(json.dumps(message).encode("ascii") + b"\n")
    except OSError:
        return False
    return True


def gone(connection) -> bool:
    """Whether a client has closed its side of the connection (it does so to cancel its index run) or left."""
    try:
        readable, _w, _x = select.select([connection], [], [], 0)
        return bool(readable) and not connection.recv(1 << 12)
    except OSError:
        return True


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        line = self.read_request()
        if line is None:
            return
        send(self.request, self.server.respond(line, self.request))

    def read_request(self) -> bytes | None:
        """The request line (at most MAX_REQUEST + 1 bytes), or None when the client sends none in time.

        The deadline is for the whole line: a client sending a byte a second cannot keep its slot.
        """
        deadline = time.monotonic() + self.server.client_timeout
        data = bytearray()
        while b"\n" not in data and len(data) <= MAX_REQUEST:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                self.request.settimeout(left)
                chunk = self.request.recv(1 << 16)
            except OSError:
                return None
            if not chunk:
                break
            data += chunk
        end = data.find(b"\n")
        return bytes(data[:end + 1] if end >= 0 else data[:MAX_REQUEST + 1])


class NoteServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """A TCP server on 127.0.0.1 answering requests for one index, each connection in its own thread.

    At most `max_connections` connections are served at once; further ones
    wait in the kernel's accept queue (`request_queue_size`), and one that
    waits there longer than `client_timeout` is closed unanswered (its client
    searches in process). A connection has `client_timeout` seconds to send its
    request. Searches share one open index (see WarmIndex); index runs, asked
    for or started by the watcher, run one at a time in a background thread
    (search/serve/updates.py), so a search never waits for one.
    """

    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # connections the kernel accepts while every slot is busy
    max_connections = 32
    client_timeout = 2.0  # seconds to send the request line; a client sends it right after connecting

    def __init__(self, directory: str, port: int = 0, embedder: Embedder | None = None, watch: bool = False,
                 watched: Callable[[Run], None] | None = None):
        import indexer.builder  # noqa: F401 (loaded now, so the first `index` request does not wait for it)
        from search.serve.updates import IndexRuns

        self.notes = WarmIndex(directory, embedder)
        self.directory = self.notes.directory
        self.token = secrets.token_hex(16)
        self.answered = 0  # searches answered
        self.updates = 0  # index runs asked for and done
        self._count = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.max_connections)
        self.runs = IndexRuns(self.notes, watched)
        self.stop_watching = threading.Event()
        try:
            super().__init__((HOST, port), _Handler)
        except BaseException:
            self.notes.close()
            raise
        if watch:
            self.runs.watch(self.stop_watching)

    def process_request(self, request, client_address) -> None:
        # In the accept loop: at the bound, wait for a slot (not forever, so that shutdown() is heard).
        if not self._slots.acquire(timeout=self.client_timeout):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def respond(self, line: bytes, connection=None) -> dict:
        """The answer to one request line; every problem becomes {"error": ...} (with its "kind", for the
        library's errors). An index run's steps are sent to `connection` as it goes."""
        try:
            if len(line) > MAX_REQUEST:
                raise ValueError(f"request over {MAX_REQUEST} bytes")
            request = json.loads(line)
            if not isinstance(request, dict):
                raise TypeError("a request is a JSON object")
            token = _check(request, "token", str, "")
            if not hmac.compare_digest(token.encode("utf-8", "surrogatepass"), self.token.encode()):
                return {"error": "wrong token: read it from serve.json in the index folder"}
            if not same_folder(_check(request, "index", str, ""), self.directory):
                return {"error": f"this server answers for {self.directory}"}
            op = request.get("op")
            if op == "ping":
                index = self.notes.refresh()
                return {"pong": True, "pid": os.getpid(), "index": self.directory,
                        "generation": index.manifest.generation, "answered": self.answered}
            if op == "search":
                cwd = _check(request, "cwd", str)
                if not os.path.isabs(cwd):
                    raise ValueError("'cwd' must be an absolute path: paths are shown relative to it")
                # The search itself refuses a k below 1 or an unknown mode (BadArgument).
                response = self.notes.search(_check(request, "query", str), _check(request, "mode", str, "hybrid"),
                                             _check(request, "k", int, 10), _check(request, "explain", bool, False), cwd,
                                             _check(request, "all", bool, False))
                with self._count:
                    self.answered += 1
                return response
            if op == "index":
                wait = request.get("wait", 30.0)
                if isinstance(wait, bool) or not isinstance(wait, (int, float)) or wait < 0:
                    raise TypeError(f"'wait' must be a number of seconds, not {wait!r}")
                arguments = {"paths": _check(request, "paths", (list, type(None))),
                             "exclude": _check(request, "exclude", (list, type(None))),
                             "remove": _check(request, "remove", list, []),
                             "model": _check(request, "model", str, "") or None}
                response = self.runs.follow(arguments, float(wait), partial(send, connection), partial(gone, connection))
                with self._count:
                    self.updates += 1
                return response
            return {"error": f"unknown op {op!r}: use 'search', 'index' or 'ping'"}
        except NotesearchError as error:
            return {"error": str(error), "kind": type(error).__name__, **({"waited": error.waited}
                                                                          if isinstance(error, IndexBusy) else {})}
        except Exception as error:  # noqa: BLE001 (a request must never stop the server)
            return {"error": str(error) or type(error).__name__}

    def state(self) -> dict:
        """What serve.json holds: how to reach this server."""
        return {"pid": os.getpid(), "host": HOST, "port": self.port, "token": self.token, "index": self.directory}

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

    def close(self) -> None:
        """Stop watching and listening, remove serve.json if it is still this server's, close the index."""
        self.stop_watching.set()
        remove_state(os.path.join(self.directory, STATE_FILE), self.token)
        self.server_close()
        self.notes.close()


def run(directory: str, port: int = 0, ready: Callable[[NoteServer], None] | None = None, watch: bool = False,
        watched: Callable[[Run], None] | None = None) -> None:
    """Serve the index in `directory` on 127.0.0.1:`port` (0: any free port) until SIGINT or SIGTERM.

    With `watch`, notes changed under the index's folders are indexed as they
    change; `watched(run)` hears of each such run. Calls `ready(server)` once serve.json
    is written. Raises NoIndex, or OSError when the port is taken.
    """
    server = NoteServer(directory, port, watch=watch, watched=watched)
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        server.publish()
        if ready:
            ready(server)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
