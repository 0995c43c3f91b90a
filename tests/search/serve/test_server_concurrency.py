"""`serve` under many clients: concurrent answers equal sequential ones, idle clients delay nobody, and
searches never wait for an index run (slow and silent connections: test_http_connections.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time

import pytest
from conftest import serving
from test_serve_runs import run_served

from indexer import build
from search.serve.client import HOST, Answer, connect, ping

QUERIES = ["自监督 视觉", "masked autoencoders", "year:2014 author:goodfellow", "transformer -bert", "扩散模型 采样效率",
           "self-supervised vision", "注意力", "", '"扩散模型', "zyxwvut"]
MODES = ("hybrid", "keyword", "semantic")


def search(directory: str, query: str, mode: str = "keyword", k: int = 5) -> dict | None:
    """{"answer": what `search --json --explain` prints, "warnings": [...]} from the running server, or None."""
    served = connect(directory)
    if served is None:
        return None
    try:
        answered = served.search(query, mode, k, True, False, os.getcwd())
    finally:
        served.close()
    return None if isinstance(answered, Answer) else {"answer": answered[0], "warnings": answered[1]}


def without_time(response: dict) -> str:
    return re.sub(r'"took_ms": [0-9.e-]+', "", json.dumps(response, ensure_ascii=False, sort_keys=True))


@pytest.fixture
def index_dir(bundled_index_dir, tmp_path) -> str:
    directory = str(tmp_path / "index")
    shutil.copytree(bundled_index_dir, directory)
    return directory


@pytest.mark.slow
def test_concurrent_searches_answer_exactly_as_sequential_ones(index_dir, embedder):
    requests = [(query, mode) for query in QUERIES for mode in MODES]
    with serving(index_dir, embedder):
        expected = {request: without_time(search(index_dir, *request)) for request in requests}
        answers: dict[tuple, list[str]] = {request: [] for request in requests}
        problems: list[str] = []

        def client(offset: int) -> None:
            for n in range(len(requests)):
                request = requests[(n + offset) % len(requests)]
                response = search(index_dir, *request)
                if response is None or "answer" not in response:
                    problems.append(f"{request}: {response}")
                else:
                    answers[request].append(without_time(response))

        threads = [threading.Thread(target=client, args=(n * 3,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert problems == []
    assert all(len(got) == 8 for got in answers.values())
    assert {request: set(got) for request, got in answers.items()} == {r: {expected[r]} for r in requests}


def test_two_idle_connections_do_not_delay_a_search(index_dir, embedder):
    with serving(index_dir, embedder) as server:
        assert server.client_timeout >= 2  # the idle connections below outlive the search
        with socket.create_connection((HOST, server.port)), socket.create_connection((HOST, server.port)):
            started = time.monotonic()
            response = search(index_dir, "自监督 视觉", "hybrid")
            took = time.monotonic() - started
    assert response and response["answer"]["hits"]
    assert took < 1.0


@pytest.mark.slow
def test_searches_answer_from_the_committed_generation_while_a_run_goes_on(notes_dir, tmp_path, embedder):
    folder = notes_dir({"garden.md": "# Plants\n\nTomatoes need full sun.\n"})
    directory = str(tmp_path / "index")
    build([str(folder)], directory, embedder=embedder)
    for n in range(150):  # enough new passages to embed that the run takes a while
        (folder / f"note{n}.md").write_text(f"# Note {n}\n\nCucumber variety {n} grows in week {n % 13} "
                                            f"beside basil number {n * 7}.\n\nA second paragraph {n}.\n",
                                            encoding="utf-8")
    with serving(directory, embedder) as server:
        run = threading.Thread(target=run_served, args=(directory, {"paths": None, "exclude": None, "model": None,
                                                                   "wait": 30}))
        run.start()
        during: list[tuple[float, dict | None]] = []
        while run.is_alive():
            started = time.monotonic()
            response = search(directory, "tomatoes cucumber")
            if server.runs.running:
                during.append((time.monotonic() - started, response))
            time.sleep(0.05)
        run.join()
        after = search(directory, "cucumber variety 42")
    assert len(during) >= 3, "the run was too quick to search during it"
    assert all(response and response["answer"]["hits"] for _took, response in during)
    # From the committed generation: the new notes are not there yet.
    assert all(all("Cucumber" not in hit["text"] for hit in response["answer"]["hits"]) for _t, response in during)
    assert max(took for took, _response in during) < 2.0
    assert server.updates == 1 and "Cucumber variety 42" in after["answer"]["hits"][0]["text"]


@pytest.mark.slow
def test_searches_survive_generations_committed_under_them(notes_dir, tmp_path, embedder):
    folder = notes_dir({"garden.md": "# Plants\n\nTomatoes need full sun.\n"})
    directory = str(tmp_path / "index")
    build([str(folder)], directory, embedder=embedder)
    problems: list[str] = []
    stop = threading.Event()
    with serving(directory, embedder) as server:
        shared = server.notes.embedders[embedder.name]  # the server's: it encodes one call at a time

        def client() -> None:
            while not stop.is_set():
                response = search(directory, "tomatoes", "hybrid")
                if not response or "answer" not in response or not response["answer"]["hits"]:
                    problems.append(str(response))

        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            for n in range(6):
                (folder / f"extra{n}.md").write_text(f"# Extra\n\nTomatoes, round {n}.\n", encoding="utf-8")
                build([str(folder)], directory, embedder=shared)
        finally:
            stop.set()
            for thread in threads:
                thread.join(60)
        assert search(directory, "tomatoes")["answer"]["hits"]  # the next search opens the newest generation
        assert ping(directory)["generation"] == 7
    assert problems == []
