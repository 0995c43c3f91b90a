"""Connections to the HTTP server: one that never sends a whole request is closed at its deadline, strangers'
slow connections are capped and cannot starve a token holder, and idle ones delay nobody."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import time

import pytest
from conftest import serving

from search.serve.server import NoteServer


@pytest.fixture
def index_dir(bundled_index_dir, tmp_path) -> str:
    directory = str(tmp_path / "index")
    shutil.copytree(bundled_index_dir, directory)
    return directory


def timed_search(server: NoteServer, q: str = "Hinton") -> float:
    """Seconds a token holder's keyword search takes, over a new connection."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", f"/api/search?q={q}&mode=keyword&k=3",
                           headers={"Authorization": f"Bearer {server.token}"})
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["hits"]
    finally:
        connection.close()
    return time.monotonic() - started


def closed(sock: socket.socket, within: float) -> bool:
    """Whether the server closes `sock` within `within` seconds."""
    sock.settimeout(within)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True
    except OSError:
        return False


def test_a_connection_that_sends_nothing_is_closed_at_its_deadline(index_dir, embedder, monkeypatch):
    monkeypatch.setattr(NoteServer, "client_timeout", 1.0)
    with serving(index_dir, embedder) as server, socket.create_connection(("127.0.0.1", server.port)) as idle:
        started = time.monotonic()
        assert timed_search(server) < 1.0  # the idle connection delays nobody
        assert closed(idle, 5)
        assert 0.8 < time.monotonic() - started < 3


@pytest.mark.slow
def test_a_slow_sender_is_cut_off_at_its_deadline_and_delays_nobody(index_dir, embedder, monkeypatch):
    monkeypatch.setattr(NoteServer, "client_timeout", 1.0)
    with serving(index_dir, embedder) as server, socket.create_connection(("127.0.0.1", server.port)) as slow:
        request = (f"GET /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {server.token}\r\n\r\n"
                   .encode())
        started = time.monotonic()
        cut = False
        for byte in request:  # a byte every 0.2 s: each is quick, the whole request is not
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                cut = True
                break
            assert timed_search(server) < 1.0
            time.sleep(0.2)
            if time.monotonic() - started > 3:
                break
        cut = cut or closed(slow, 5)
    assert cut and time.monotonic() - started < 4


@pytest.mark.slow
def test_many_slow_strangers_cannot_starve_a_token_holder(index_dir, embedder, monkeypatch):
    monkeypatch.setattr(NoteServer, "client_timeout", 3.0)
    monkeypatch.setattr(NoteServer, "max_waiting", 16)
    with serving(index_dir, embedder) as server:
        strangers = []
        try:
            for _ in range(200):  # each sends the start of a request, and never the rest
                sock = socket.create_connection(("127.0.0.1", server.port))
                sock.sendall(b"GET /api/search?q=x HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                strangers.append(sock)
            took = [timed_search(server) for _ in range(10)]
            # Past the cap the oldest were closed at once: at most 16 are left waiting for their deadline.
            still_open = sum(not closed(sock, 0.05) for sock in strangers)
        finally:
            for sock in strangers:
                sock.close()
    assert max(took) < 1.0
    assert still_open <= 16


def test_a_refused_stranger_keeps_no_connection(index_dir, embedder):
    with serving(index_dir, embedder) as server, socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.settimeout(5)
        answer = b""
        while chunk := sock.recv(1 << 16):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 401 ")  # answered, then closed by the server (recv gave b"")


def test_answers_on_a_kept_open_connection_wait_for_no_delayed_ack(index_dir, embedder):
    # Without TCP_NODELAY on the server's sockets, each answer's body waits for the client's delayed ACK of its
    # headers: 40 ms a call on Linux, more than a whole keyword search.
    with serving(index_dir, embedder) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        took = []
        for _ in range(15):
            started = time.perf_counter()
            connection.request("GET", "/api/ping", headers={"Authorization": f"Bearer {server.token}"})
            assert connection.getresponse().read()
            took.append(time.perf_counter() - started)
        connection.close()
    assert sorted(took)[len(took) // 2] < 0.03
