"""The client side of warm mode: find a running server for an index and ask it.

    response = ask(index_dir, {"op": "search", "query": "自监督 视觉", "mode": "hybrid",
                               "k": 10, "explain": False, "cwd": os.getcwd()})

`ask` returns None when no server answers, and the caller searches in process.
Only the standard library is imported here: a served search must start fast.
See search/serve/server.py for the protocol and its security.
"""

from __future__ import annotations

import json
import os
import socket
import stat
from collections.abc import Callable

STATE_FILE = "serve.json"
HOST = "127.0.0.1"
CONNECT_TIMEOUT = 0.2  # seconds; a server that does not take the call this fast is treated as absent
ANSWER_TIMEOUT = 10.0  # seconds; covers reopening a rebuilt index
STOP_TIMEOUT = 10.0  # seconds a cancelled index run has to stop and say so


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


def _connect(directory: str, request: dict, connect_timeout: float) -> socket.socket | None:
    """A connection to the server for this index with `request` sent, or None when none answers."""
    directory = os.path.abspath(directory)
    state = read_state(directory)
    if state is None or not same_folder(state.get("index"), directory):
        return None
    line = json.dumps({**request, "token": state["token"], "index": directory}).encode("ascii") + b"\n"
    try:
        sock = socket.create_connection((HOST, state["port"]), timeout=connect_timeout)
    except OSError:
        return None
    try:
        sock.sendall(line)
    except OSError:
        sock.close()
        return None
    return sock


def ask(directory: str, request: dict, connect_timeout: float = CONNECT_TIMEOUT,
        timeout: float = ANSWER_TIMEOUT) -> dict | None:
    """The server's response to `request` (a dict, maybe {"error": ...}), or None when no server answers."""
    sock = _connect(directory, request, connect_timeout)
    if sock is None:
        return None
    try:
        with sock, sock.makefile("rb") as reply:
            sock.settimeout(timeout)
            return _answer(reply, None)
    except (OSError, ValueError):
        return None


def ask_run(directory: str, request: dict, progress: Callable[[str, int, int], None] | None = None,
            connect_timeout: float = CONNECT_TIMEOUT) -> dict | None:
    """The server's answer to an `index` request, its steps told to `progress(stage, done, total)` as they come;
    None when no server answers.

    Ctrl-C (KeyboardInterrupt) meanwhile cancels the run: the connection's
    sending side is closed, which tells the server to stop it, and the answer
    that follows (its error, or its report when it had already committed)
    comes back with "interrupted": True. A second Ctrl-C stops waiting for it.
    """
    sock = _connect(directory, request, connect_timeout)
    if sock is None:
        return None
    with sock, sock.makefile("rb") as reply:
        try:
            sock.settimeout(None)  # a run takes as long as it takes; its steps show it going on
            return _answer(reply, progress)
        except (OSError, ValueError):
            return None
        except KeyboardInterrupt:
            pass
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(STOP_TIMEOUT)
            answer = _answer(reply, None)
        except (OSError, ValueError):
            answer = None
        return {**(answer or {"error": "the server did not say whether the run stopped"}), "interrupted": True}


def _answer(reply, progress: Callable[[str, int, int], None] | None) -> dict | None:
    """The first line of `reply` that is not a step of an index run (steps go to `progress`); None at the end."""
    while True:
        line = reply.readline()
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
