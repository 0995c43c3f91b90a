"""The client side of warm mode: find a running server for an index and ask it.

    response = ask(index_dir, {"op": "search", "query": "自监督 视觉", "mode": "hybrid",
                               "k": 10, "explain": False, "cwd": os.getcwd()})

`ask` returns None when no server answers, and the caller searches in process.
Only the standard library is imported here: a served search must start fast.
See search/server.py for the protocol and its security.
"""

from __future__ import annotations

import json
import os
import socket
import stat

STATE_FILE = "serve.json"
HOST = "127.0.0.1"
CONNECT_TIMEOUT = 0.2  # seconds; a server that does not take the call this fast is treated as absent
ANSWER_TIMEOUT = 10.0  # seconds; covers reopening a rebuilt index


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


def ask(directory: str, request: dict, connect_timeout: float = CONNECT_TIMEOUT,
        timeout: float = ANSWER_TIMEOUT) -> dict | None:
    """The server's response to `request` (a dict, maybe {"error": ...}), or None when no server answers."""
    directory = os.path.abspath(directory)
    state = read_state(directory)
    if state is None or not same_folder(state.get("index"), directory):
        return None
    line = json.dumps({**request, "token": state["token"], "index": directory}).encode("ascii") + b"\n"
    try:
        with socket.create_connection((HOST, state["port"]), timeout=connect_timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(line)
            with sock.makefile("rb") as reply:
                response = json.loads(reply.readline())
    except (OSError, ValueError):
        return None
    return response if isinstance(response, dict) else None
