"""Index runs handed to `serve`: their progress shows on the client, Ctrl-C on the client stops them (nothing
committed, the embedded vectors kept), and `--wait` bounds how long one waits to begin."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from functools import partial

import numpy as np
import pytest
from conftest import ROOT, serving
from test_server import cli_output

import cli_served
from cli_render import Progress
from corpus.errors import Cancelled
from indexer import build, checkpoint
from indexer.generations import read_manifest
from indexer.passage_vectors import EMBED_BATCH
from search.serve.client import connect, ping


class SlowEmbedder:
    """The real embedder, taking `pause` seconds more per batch: a run long enough to watch and to stop."""

    def __init__(self, embedder, pause: float):
        self.inner, self.pause = embedder, pause
        self.name, self.dim = embedder.name, embedder.dim
        self.batches = 0

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def encode(self, texts) -> np.ndarray:
        time.sleep(self.pause)
        self.batches += 1
        return self.inner.encode(texts)

    def encode_query(self, text: str) -> np.ndarray:
        return self.inner.encode_query(text)


def write_notes(folder, count: int) -> None:
    for n in range(count):
        (folder / f"note{n}.md").write_text(f"# Note {n}\n\nCucumber variety {n} grows in week {n % 13}.\n\n"
                                            f"Basil number {n * 7} likes the sun.\n", encoding="utf-8")


@pytest.fixture
def garden(notes_dir, tmp_path, embedder):
    folder = notes_dir({"garden.md": "# Plants\n\nTomatoes need full sun.\n"})
    directory = str(tmp_path / "index")
    build([str(folder)], directory, embedder=embedder)
    return folder, directory


def embedded_rows(directory: str) -> int:
    """How many texts the committed index holds a vector of (rows with a content key)."""
    from indexer import vectors

    return sum(1 for key in vectors.load(os.path.join(directory, read_manifest(directory).folder)).keys if key)


def index_request(**fields) -> dict:
    return {"paths": None, "exclude": None, "model": None, "wait": 30, **fields}


def run_served(directory: str, request: dict, progress=None) -> dict | None:
    """The end of an index run asked of the running server ({"report": ...} or {"error": ...})."""
    served = connect(directory)
    assert served is not None
    try:
        return served.index(request, progress)
    finally:
        served.close()


def test_a_served_run_tells_its_steps_then_its_report(garden, embedder):
    folder, directory = garden
    write_notes(folder, 40)
    before = embedded_rows(directory)
    steps: list[tuple[str, int, int]] = []
    with serving(directory, embedder):
        response = run_served(directory, index_request(), lambda *step: steps.append(step))
    new = embedded_rows(directory) - before  # the texts of the 40 notes, each embedded once
    assert response["report"]["added"] == 40 and response["report"]["embedded"] == new > 40
    assert [stage for stage, _d, _t in steps if stage == "read"] == ["read"] * 40
    embedded = [(done, total) for stage, done, total in steps if stage == "embed"]
    assert embedded[-1] == (new, new) and len(embedded) == -(-new // EMBED_BATCH)
    assert all(0 < done <= total for _stage, done, total in steps)


def test_a_served_run_shows_its_progress_on_the_client(garden, embedder, capsys, monkeypatch):
    folder, directory = garden
    write_notes(folder, 10)
    # stderr is no terminal here: a line every `every` seconds (0: every step).
    monkeypatch.setattr(cli_served, "Progress", partial(Progress, terminal=False, every=0.0))
    with serving(directory, embedder):
        code, out, err = cli_output(capsys, "index", "--index", directory)
    assert code == 0 and out.startswith("added 10, updated 0, removed 0, unchanged 1")
    assert "notesearch: reading 10/10 notes (" in err and "notesearch: embedding 20/20 passages (" in err


def test_a_served_run_answers_the_remove_of_a_folder(garden, embedder, tmp_path, capsys):
    folder, directory = garden
    other = tmp_path / "other"
    other.mkdir()
    (other / "g.md").write_text("Pumpkins.\n", encoding="utf-8")
    build([str(other)], directory, embedder=embedder)
    with serving(directory, embedder) as server:
        code, out, err = cli_output(capsys, "index", "--remove", str(other), "--index", directory)
        assert code == 0, err
        assert server.updates == 1
    assert out.splitlines()[0] == f"folder removed: {other}"
    assert read_manifest(directory).roots == (str(folder),)


@pytest.mark.slow
def test_ctrl_c_on_the_client_stops_the_served_run_and_keeps_its_vectors(garden, embedder):
    folder, directory = garden
    # 600 passages: ten batches at 0.5 s each at least. Stopped after two, the run has four seconds or more
    # left, so that a loaded machine (a slow client process) cannot let it commit before Ctrl-C arrives.
    write_notes(folder, 300)
    generation = read_manifest(directory).generation
    before = embedded_rows(directory)
    slow = SlowEmbedder(embedder, 0.5)
    with serving(directory, slow) as server:
        # The client takes Ctrl-C as from a terminal even where this run ignores it (a background job does, and
        # its children inherit that): a handled signal is reset to its default in the child.
        ignored = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            client = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "index", "--index", directory],
                                      cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        finally:
            signal.signal(signal.SIGINT, ignored)
        deadline = time.monotonic() + 60
        while slow.batches < 2 and time.monotonic() < deadline:
            time.sleep(0.02)  # once the run has embedded two batches
        client.send_signal(signal.SIGINT)
        out, err = client.communicate(timeout=60)
        assert client.returncode == 130, (err, out, slow.batches, server.runs.done)
        assert out == ""
        assert err.strip() == (f"notesearch: the index run was stopped before it committed: the index at "
                               f"{directory} is as it was; the passages embedded so far are kept, and the next "
                               f"'notesearch index --index {directory}' goes on from them")
        assert isinstance(server.runs.last.error, Cancelled)
        assert ping(directory)["generation"] == generation
        assert server.runs.done == 1 and not server.runs.running
    assert not [name for name in os.listdir(directory) if name.startswith(("gen-", ".trash-"))
                and name != f"gen-{generation:06d}"]
    assert os.listdir(os.path.join(directory, checkpoint.FOLDER))
    # The next run goes on from the vectors the stopped one embedded.
    report = build(None, directory, embedder=embedder)
    assert report.resumed >= EMBED_BATCH and report.embedded + report.resumed == embedded_rows(directory) - before


@pytest.mark.slow
def test_wait_bounds_how_long_a_served_run_waits_behind_another(garden, embedder, capsys):
    folder, directory = garden
    write_notes(folder, 100)
    with serving(directory, SlowEmbedder(embedder, 0.5)) as server:
        first = threading.Thread(target=run_served, args=(directory, index_request()))
        first.start()
        while not server.runs.running:
            time.sleep(0.02)
        started = time.monotonic()
        code, out, err = cli_output(capsys, "index", "--index", directory, "--wait", "1")
        waited = time.monotonic() - started
        assert (code, out) == (1, "")
        assert err == (f"notesearch: the index at {directory} is busy: another indexer holds it: wait for it, or "
                       "give --wait SECONDS\n")
        assert 1.0 <= waited < 5.0  # bounded by --wait, not by the first run (7 s or more)
        assert server.runs.running  # the first run goes on
        first.join(120)
        assert server.runs.done == 1  # the second one never ran
    assert build(None, directory, embedder=embedder).changed is False


@pytest.mark.slow
def test_a_client_that_goes_away_stops_its_served_run(garden, embedder):
    folder, directory = garden
    write_notes(folder, 300)  # ten batches at 0.5 s each at least: it cannot commit before the client leaves
    generation = read_manifest(directory).generation
    slow = SlowEmbedder(embedder, 0.5)
    with serving(directory, slow) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        connection.request("POST", "/api/index", body=json.dumps(index_request()),
                           headers={"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.readline())["progress"]
        while slow.batches < 1:
            time.sleep(0.02)
        connection.close()  # gone, without a word
        deadline = time.monotonic() + 30
        while server.runs.running and time.monotonic() < deadline:
            time.sleep(0.05)
        assert isinstance(server.runs.last.error, Cancelled) and slow.batches < 10
        assert ping(directory)["generation"] == generation and server.updates == 0


def test_progress_on_a_terminal_is_one_line_redrawn(capsys):
    clock = iter([0.0, 0.0, 2.0, 4.0]).__next__
    progress = Progress(quiet=False, terminal=True, clock=clock)
    progress("embed", 64, 128)
    progress("embed", 128, 128)
    err = capsys.readouterr().err
    assert err.startswith("\rembedding 64/128 passages (0/s)")
    assert "\rembedding 128/128 passages (64/s)   \n" in err


def test_progress_off_a_terminal_is_a_line_now_and_then(capsys):
    now = [0.0]
    progress = Progress(quiet=False, terminal=False, every=30.0, clock=lambda: now[0])
    for second in range(0, 95, 5):
        now[0] = float(second)
        progress("embed", second * 10, 1000)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["notesearch: embedding 300/1000 passages (10/s, 70 s left)",
                     "notesearch: embedding 600/1000 passages (10/s, 40 s left)",
                     "notesearch: embedding 900/1000 passages (10/s, 10 s left)"]
    Progress(quiet=True, terminal=False, every=0.0)("embed", 1, 2)
    assert capsys.readouterr().err == ""


def test_ctrl_c_on_an_index_run_in_process_says_what_is_kept(garden, embedder, capsys, monkeypatch):
    import cli

    folder, directory = garden
    write_notes(folder, 5)

    def stopping(*_args, **_kwargs):
        def progress(stage, done, total):
            if stage == "embed":
                raise KeyboardInterrupt

        return progress

    monkeypatch.setattr(cli, "Progress", stopping)
    monkeypatch.setattr("indexer.passage_vectors.load_embedder", lambda _name: embedder)  # the one embedder loaded
    code, out, err = cli_output(capsys, "index", "--index", directory, "--no-server")
    assert (code, out) == (130, "")
    assert "stopped before it committed" in err and "goes on from them" in err
    assert read_manifest(directory).generation == 1
