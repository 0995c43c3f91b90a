"""The client side of warm mode: find the running server of an index and call its HTTP API.

    server = connect(index_dir)            # None when no server answers: the caller works in process
    answer, warnings = server.search("自监督 视觉", mode="hybrid", k=10, explain=False, every=False, cwd=os.getcwd())
    report = server.index({"paths": None}, progress=show)    # an index run there, its steps told to show()

Only the standard library is imported here: a served search must start fast.
A server is found through serve.json in the index folder (its port and its
Bearer token, readable by its owner alone; see search/serve/server.py). A
server that does not take the connection within CONNECT_TIMEOUT, or does not
answer a ping within PING_TIMEOUT (stopped, hung, or someone else's), is given
up on, and the caller searches in process: a hung server costs a search about a second.
"""

from __future__ import annotations

import http.client
import json
import os
import stat
import urllib.parse
from collections.abc import Callable

STATE_FILE = "serve.json"
HOST = "127.0.0.1"
CONNECT_TIMEOUT = 0.2  # seconds; a server that does not take the call this fast is treated as absent
PING_TIMEOUT = 1.0  # seconds; a server that does not answer a ping this fast is stopped or hung
ANSWER_TIMEOUT = 30.0  # seconds for an answer once the server has answered the ping (a rebuilt index reopens)
STOP_TIMEOUT = 10.0  # seconds a stopped index run has to say how it ended
WILDCARDS = ("0.0.0.0", "::", "")


def _read(path: str) -> dict | None:
    """A state file's content, or None when it is missing, damaged, or not private to this user.

    A file owned by someone else, or readable by others, is ignored: it could
    send the queries elsewhere.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if info.st_uid != os.getuid() or info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            return None
        state = json.loads(os.read(fd, 1 << 16))
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    if not (isinstance(state, dict) and isinstance(state.get("pid"), int) and isinstance(state.get("port"), int)
            and isinstance(state.get("token"), str)):
        return None
    return state


def remove_state(path: str, token: str) -> None:
    """Remove the state file `path` unless another server has replaced it meanwhile."""
    state = _read(path)
    if state and state["token"] == token:
        try:
            os.unlink(path)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive, and not the server
        return True
    return True


def same_folder(a: object, b: str) -> bool:
    """Whether `a` is a path naming the folder `b` (through symbolic links too)."""
    return isinstance(a, str) and os.path.realpath(a) == os.path.realpath(b)


def read_state(directory: str) -> dict | None:
    """The serve.json of a live server for this index, or None; a file left by a dead server is removed."""
    path = os.path.join(directory, STATE_FILE)
    state = _read(path)
    if state is not None and not _alive(state["pid"]):
        remove_state(path, state["token"])
        return None
    return state


class Answer:
    """One answer of the server: its status, its JSON body (None when it is not JSON) and its headers."""

    def __init__(self, status: int, data: object, headers: http.client.HTTPMessage):
        self.status, self.data, self.headers = status, data, headers

    @property
    def error(self) -> dict | None:
        """The answer's {"kind", "message", ...} when it is an error."""
        if self.status < 400:
            return None
        error = self.data.get("error") if isinstance(self.data, dict) else None
        return error if isinstance(error, dict) else {"kind": "", "message": f"HTTP {self.status}"}


class Served:
    """The server of an index, reached over one connection (kept open for a batch of calls)."""

    def __init__(self, state: dict, directory: str):
        host = state.get("host")
        self.host = HOST if not isinstance(host, str) or host in WILDCARDS else host.strip("[]")
        self.port = state["port"]
        self.directory = directory
        self.headers = {"Authorization": f"Bearer {state['token']}",
                        "Host": f"{'[' + self.host + ']' if ':' in self.host else self.host}:{self.port}"}
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=CONNECT_TIMEOUT)

    def call(self, method: str, path: str, params: dict | None = None, body: dict | None = None,
             timeout: float = ANSWER_TIMEOUT) -> Answer:
        """The server's answer to one call; raises OSError or http.client.HTTPException when there is none."""
        response = self._send(method, path, params, body, timeout)
        data = response.read()
        try:
            decoded = json.loads(data) if response.getheader("content-type", "").startswith("application/json") \
                else None
        except ValueError:
            decoded = None
        return Answer(response.status, decoded, response.headers)

    def _send(self, method: str, path: str, params: dict | None, body: dict | None,
              timeout: float) -> http.client.HTTPResponse:
        if self.connection.sock is None:
            self.connection.connect()  # within CONNECT_TIMEOUT
        self.connection.sock.settimeout(timeout)
        target = path + ("?" + urllib.parse.urlencode(params) if params else "")
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.connection.request(method, target, body=data, headers=headers)
        return self.connection.getresponse()

    def ping(self) -> dict | None:
        """The server's {"pid", "index", "generation", "answered"}, or None when it is not this index's server."""
        answer = self.call("GET", "/api/ping", timeout=PING_TIMEOUT)
        if answer.status != 200 or not isinstance(answer.data, dict):
            return None
        return answer.data if same_folder(answer.data.get("index"), self.directory) else None

    def search(self, query: str, mode: str, k: int, explain: bool, every: bool,
               cwd: str) -> tuple[dict, list[str]] | Answer:
        """(what `search --json` prints, the search's warnings), or the Answer when it is an error."""
        answer = self.call("GET", "/api/search", {"q": query, "mode": mode, "k": k, "explain": int(explain),
                                                  "all": int(every), "cwd": cwd})
        if answer.status != 200 or not isinstance(answer.data, dict):
            return answer
        warnings = json.loads(answer.headers.get("Notesearch-Warnings", "[]"))
        return answer.data, [str(warning) for warning in warnings]

    def index(self, request: dict, progress: Callable[[str, int, int], None] | None = None) -> dict | None:
        """The end of an index run there: {"report": ...} or {"error": {...}}; its steps told to
        `progress(stage, done, total)` as they come. None when the server stops answering.

        Ctrl-C (KeyboardInterrupt) meanwhile stops the run (DELETE /api/index/RUN),
        and the end that follows (Cancelled, or its report when it had already
        committed) comes back with "interrupted": True. A second Ctrl-C stops waiting for it.
        """
        try:
            response = self._send("POST", "/api/index", None, request, timeout=None)
        except (OSError, http.client.HTTPException):
            return None
        if response.status != 200:
            data = response.read()
            try:
                return json.loads(data)
            except ValueError:
                return {"error": {"kind": "", "message": f"HTTP {response.status}"}}
        try:
            last = _last_line(response, progress)
            response.read()  # the end of the stream: the connection can take the next call
            return last
        except (OSError, ValueError, http.client.HTTPException):
            return None
        except KeyboardInterrupt:
            pass
        run = response.getheader("Notesearch-Run", "")
        try:
            stopper = Served({"host": self.host, "port": self.port, "token": self.headers["Authorization"][7:]},
                             self.directory)
            stopper.call("DELETE", f"/api/index/{int(run)}", timeout=STOP_TIMEOUT)
            stopper.close()
            self.connection.sock.settimeout(STOP_TIMEOUT)
            last = _last_line(response, None)
        except (OSError, ValueError, http.client.HTTPException):
            last = None
        return {**(last or {"error": {"kind": "", "message": "the server did not say whether the run stopped"}}),
                "interrupted": True}

    def close(self) -> None:
        self.connection.close()


def _last_line(response: http.client.HTTPResponse, progress: Callable[[str, int, int], None] | None) -> dict | None:
    """The first line of an index run's answer that is not a step (steps go to `progress`); None at the end."""
    while True:
        line = response.readline()
        if not line:
            return None
        message = json.loads(line)
        if not isinstance(message, dict):
            return None
        step = message.get("progress")
        if not isinstance(step, dict):
            return message
        if progress is not None:
            progress(str(step.get("stage")), int(step.get("done", 0)), int(step.get("total", 0)))


def connect(directory: str) -> Served | None:
    """The running server of the index in `directory`, having answered a ping; None when there is none, or it
    does not answer within CONNECT_TIMEOUT + PING_TIMEOUT."""
    directory = os.path.abspath(directory)
    state = read_state(directory)
    if state is None or not same_folder(state.get("index"), directory):
        return None
    served = Served(state, directory)
    try:
        if served.ping() is not None:
            return served
    except (OSError, ValueError, http.client.HTTPException):  # a timeout is an OSError
        pass
    served.close()
    return None


def ping(directory: str) -> dict | None:
    """The running server's answer to a ping ({"pid", "index", "generation", "answered"}), or None."""
    served = connect(directory)
    if served is None:
        return None
    try:
        return served.ping()
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        served.close()
