"""The HTTP API of `serve`: each call answers what the matching `--json` prints, and the gate refuses what is
not for it (no token, a wrong or reused one, a foreign Host or origin, a path outside the folders), with the
security headers on every answer and an error's kind and status."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import serving

import cli
from search.serve import app
from search.serve.client import STATE_FILE
from search.serve.guard import CSP
from search.serve.server import NoteServer

NOTE = "corpus/notes/dl-research-trends-2022-2024.md"
BERT = "BERT: Pre - training of Deep Bidirectional Transformers for Language Understanding"


@pytest.fixture(scope="module")
def index_dir(bundled_index_dir, tmp_path_factory) -> str:
    directory = str(tmp_path_factory.mktemp("http") / "index")
    shutil.copytree(bundled_index_dir, directory)
    return directory


@pytest.fixture(scope="module")
def server(index_dir, embedder) -> Iterator[NoteServer]:
    with serving(index_dir, embedder) as running:
        yield running


def call(server: NoteServer, path: str, method: str = "GET", token: str | None = "", body: bytes | None = None,
         **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one request; the server's token unless `token` is given
    (None: no Authorization header)."""
    sent = {"Host": f"127.0.0.1:{server.port}", **{k.replace("_", "-"): v for k, v in headers.items()}}
    if token is not None:
        sent["Authorization"] = f"Bearer {token or server.token}"
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def query(**params) -> str:
    return urllib.parse.urlencode(params)


def error_kind(answer: tuple[int, dict, bytes]) -> tuple[int, str]:
    status, headers, body = answer
    assert headers["content-type"] == "application/json"
    return status, json.loads(body)["error"]["kind"]


API_CALLS = ["/api/search?q=Hinton", "/api/related?paper=ResNet", f"/api/get?location={NOTE}:37",
             f"/api/note?path={NOTE}", "/api/stats", "/api/ping"]


@pytest.mark.parametrize("path", API_CALLS)
def test_every_api_call_needs_the_token(server, path):
    assert error_kind(call(server, path, token=None)) == (401, "Unauthorized")
    assert error_kind(call(server, path, token="0" * 32)) == (401, "Unauthorized")
    assert call(server, path)[0] == 200


@pytest.mark.parametrize("header", ["Basic " + "0" * 32, "Bearer", "Bearer é", "bearer  "])
def test_a_malformed_authorization_is_refused(server, header):
    status, headers, _body = call(server, "/api/ping", token=None, Authorization=header)
    assert status == 401 and headers["connection"] == "close"


def test_a_refused_request_closes_its_connection(server):
    assert call(server, "/api/ping", token=None)[1]["connection"] == "close"
    assert "connection" not in call(server, "/api/ping")[1]  # a token holder's stays open


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.2", "localhost.evil.example",
                                  "127.0.0.1:1", ""])
def test_a_foreign_host_is_refused_even_with_the_token(server, host):
    assert error_kind(call(server, "/api/ping", Host=host)) == (403, "ForeignHost")


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"])
def test_loopback_hosts_with_or_without_the_port_are_answered(server, host):
    assert call(server, "/api/ping", Host=host)[0] == 200
    assert call(server, "/api/ping", Host=f"{host}:{server.port}")[0] == 200


def test_a_call_from_another_origin_is_refused(server):
    assert error_kind(call(server, "/api/ping", Origin="http://localhost:9999")) == (403, "ForeignOrigin")
    assert error_kind(call(server, "/api/ping", Sec_Fetch_Site="same-site")) == (403, "ForeignOrigin")
    assert call(server, "/api/ping", Origin=f"http://127.0.0.1:{server.port}", Sec_Fetch_Site="same-origin")[0] == 200


@pytest.mark.parametrize("path", ["/", "/?token=wrong", "/api/ping", "/api/nothing", "/static/app.js"])
@pytest.mark.parametrize("token", [None, ""])
def test_every_answer_carries_the_security_headers_and_no_cors(server, path, token):
    _status, headers, _body = call(server, path, token=token)
    assert headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP and "frame-ancestors 'none'" in CSP
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
    assert not [name for name in headers if name.startswith("access-control-")]


def test_the_page_without_a_login_says_to_open_the_printed_url(server):
    status, headers, body = call(server, "/", token=None)
    assert status == 401 and headers["content-type"].startswith("text/html")
    assert b"Open the URL the server printed" in body


def test_the_login_url_works_once_and_gives_a_cookie_for_the_api(server, index_dir):
    url = json.loads(Path(index_dir, STATE_FILE).read_text(encoding="utf-8"))["url"]
    assert url == server.access.url and url.startswith(f"http://127.0.0.1:{server.port}/?token=")
    login = urllib.parse.urlsplit(url).query
    status, headers, _body = call(server, f"/?{login}", token=None)
    assert status == 303 and headers["location"] == "/"
    cookie = headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    session = cookie.split(";")[0]
    assert call(server, "/api/ping", token=None, Cookie=session)[0] == 200
    assert call(server, "/api/ping", token=None, Cookie=session + "x")[0] == 401
    # Used once: the same URL no longer logs in, and serve.json holds the next one.
    status, _headers, body = call(server, f"/?{login}", token=None)
    assert status == 401 and b"used already" in body
    fresh = json.loads(Path(index_dir, STATE_FILE).read_text(encoding="utf-8"))["url"]
    assert fresh != url and fresh == server.access.url
    assert call(server, "/?" + urllib.parse.urlsplit(fresh).query, token=None)[0] == 303


def test_served_search_answers_exactly_what_search_json_prints(server, index_dir, capsys):
    for q, mode in [("自监督 视觉", "hybrid"), ("year:2014 author:goodfellow", "keyword"), ('"扩散模型', "semantic")]:
        status, headers, body = call(server, "/api/search?" + query(q=q, mode=mode, k=5, explain=1, cwd=os.getcwd()))
        assert status == 200 and headers["content-type"] == "application/json"
        assert cli.main(["search", q, "--mode", mode, "-k", "5", "--explain", "--json", "--index", index_dir,
                         "--no-server"]) == 0
        printed = capsys.readouterr()
        blank = re.compile(r'"took_ms": [0-9.]+')
        assert blank.sub("", body.decode()) == blank.sub("", printed.out.strip())
        warnings = json.loads(headers["notesearch-warnings"])
        assert all(warning in printed.err for warning in warnings)
    assert any("unbalanced quote" in w for w in json.loads(call(server, "/api/search?q=%22x")[1]["notesearch-warnings"]))


def test_the_first_hit_of_a_search_opens_at_its_line(server):
    body = json.loads(call(server, "/api/search?" + query(q="自监督 视觉"))[2])
    hit = body["hits"][0]
    assert hit["path"].endswith("dl-research-trends-2022-2024.md") and hit["line_start"] == 37
    found = json.loads(call(server, "/api/get?" + query(location=f"{hit['path']}:{hit['line_start']}", context=1))[2])
    assert found["line_start"] == 37 and found["first_line"] == 36 and len(found["lines"]) == 3
    note = json.loads(call(server, "/api/note?" + query(path=hit["path"]))[2])
    assert set(note) == {"path", "region", "lines", "changed", "html"} and note["changed"] is False
    assert '<p data-line="37" data-line-end="37">' in note["html"]  # the page marks the passage by its lines
    assert note["lines"][36] == found["lines"][1]
    assert note["lines"] == Path(cli.corpus.BUNDLED_NOTES, os.path.basename(NOTE)).read_text(
        encoding="utf-8").splitlines()


def test_stats_answers_what_stats_json_prints(server, index_dir, capsys):
    status, _headers, body = call(server, "/api/stats")
    assert cli.main(["stats", "--json", "--index", index_dir]) == 0
    assert status == 200 and json.loads(body) == json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("template", ["vscode://file{path}:{line}", "none"])
def test_stats_tells_the_page_the_editor_link_template_when_one_is_set(server, monkeypatch, template):
    monkeypatch.setenv("NOTESEARCH_HYPERLINK", template)
    answer = json.loads(call(server, "/api/stats")[2])
    if template == "none":
        assert "hyperlink" not in answer
    else:
        assert (answer["hyperlink"], answer["cwd"]) == (template, os.getcwd()) and answer["host"]


def test_related_answers_papers_and_passages(server):
    papers = json.loads(call(server, "/api/related?" + query(paper="Deep Residual Learning", k=5))[2])
    assert papers["anchor"]["title"] == "Deep Residual Learning for Image Recognition" and papers["hits"]
    assert all(hit["reasons"] for hit in papers["hits"])
    assert papers["named"] == []
    passages = json.loads(call(server, "/api/related?" + query(passage=f"{os.path.abspath(NOTE)}:37", k=3))[2])
    assert passages["anchor"]["line_start"] == 37 and passages["hits"]
    # The MAE paragraph names BERT, a row of the table of papers; each named paper says where it is.
    assert [(n["name"], n["title"], n["year"], os.path.basename(n["path"]), n["line_start"], n["paper"]["year"])
            for n in passages["named"]] == [("BERT", BERT, 2019, "famous-deep-learning-papers.md", 58, 2019)]
    assert error_kind(call(server, "/api/related?" + query(paper="x", passage=f"{NOTE}:37"))) == (400, "BadArgument")


@pytest.mark.parametrize("path", ["/etc/passwd", "../../../../etc/passwd", "/tmp"])
def test_get_and_note_read_nothing_outside_the_indexed_folders(server, path):
    assert error_kind(call(server, "/api/get?" + query(location=f"{path}:1"))) == (404, "OutsideIndex")
    assert error_kind(call(server, "/api/note?" + query(path=path))) == (404, "OutsideIndex")
    assert error_kind(call(server, "/api/related?" + query(passage=f"{path}:1"))) == (404, "OutsideIndex")


def test_a_file_inside_the_folders_that_is_no_note_is_not_read(server, tmp_path):
    folder = cli.corpus.BUNDLED_NOTES
    assert error_kind(call(server, "/api/note?" + query(path=str(folder / "no-such-note.md")))) == (404, "NoPassage")
    assert error_kind(call(server, "/api/get?" + query(location=f"{NOTE}:99999"))) == (404, "NoPassage")


@pytest.mark.parametrize("path, kind", [
    ("/api/search", "BadArgument"),  # no q
    ("/api/search?q=x&mode=fuzzy", "BadArgument"),
    ("/api/search?q=x&k=0", "BadArgument"),
    ("/api/search?q=x&k=3.5", "BadArgument"),
    ("/api/search?q=x&k=1001", "BadArgument"),
    ("/api/search?q=x&explain=yes", "BadArgument"),
    ("/api/search?q=x&cwd=relative", "BadArgument"),
    ("/api/get?location=nowhere", "BadArgument"),
    ("/api/get?location=x.md:3&context=-1", "BadArgument"),
    ("/api/related", "BadArgument"),
])
def test_bad_arguments_are_400_with_the_errors_kind(server, path, kind):
    assert error_kind(call(server, path)) == (400, kind)


def test_unknown_paths_and_methods_are_json_errors(server):
    assert error_kind(call(server, "/api/nothing")) == (404, "NotFound")
    assert error_kind(call(server, "/api/search", method="POST", body=b"")) == (405, "MethodNotAllowed")


def index_call(server: NoteServer, fields: object, content_type: str = "application/json"):
    return call(server, "/api/index", method="POST", body=json.dumps(fields).encode(), Content_Type=content_type)


@pytest.mark.parametrize("fields", [
    {"exclude": [1, None]}, {"exclude": "*.md"}, {"exclude": [""]}, {"paths": "notes"}, {"paths": ["relative"]},
    {"paths": []}, {"remove": [None]}, {"model": 3}, {"wait": "x"}, {"wait": -1}, {"wait": True},
    {"exlude": ["*.md"]}, [], "x",
])
def test_bad_index_requests_are_refused_before_any_work(server, index_dir, fields):
    before = Path(index_dir, "manifest.json").read_bytes()
    status, kind = error_kind(index_call(server, fields))
    assert (status, kind) == (400, "BadArgument")
    assert Path(index_dir, "manifest.json").read_bytes() == before
    assert server.runs.done == 0


def test_an_index_request_must_be_json(server):
    assert error_kind(index_call(server, {}, content_type="text/plain")) == (400, "BadArgument")
    status, _h, body = call(server, "/api/index", method="POST", body=b"{not json", Content_Type="application/json")
    assert status == 400 and json.loads(body)["error"]["kind"] == "BadArgument"


def test_an_index_run_streams_its_steps_then_its_report(notes_dir, tmp_path, embedder):
    from indexer import build

    folder = notes_dir({"garden.md": "# Plants\n\nTomatoes need full sun.\n"})
    directory = str(tmp_path / "index")
    build([str(folder)], directory, embedder=embedder)
    for n in range(5):
        (folder / f"note{n}.md").write_text(f"# Note {n}\n\nCucumber variety {n}.\n", encoding="utf-8")
    with serving(directory, embedder) as running:
        listener = http.client.HTTPConnection("127.0.0.1", running.port, timeout=60)
        listener.request("GET", "/api/events", headers={"Authorization": f"Bearer {running.token}"})
        events = listener.getresponse()
        assert events.getheader("content-type").startswith("text/event-stream")
        assert next_event(events) == ("state", {"generation": 1, "watching": False, "updating": False})
        status, headers, body = index_call(running, {"paths": None, "wait": 5})
        assert status == 200 and headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in body.splitlines()]
        assert [line["progress"]["stage"] for line in lines[:-1]].count("read") == 5
        assert lines[-1]["report"]["added"] == 5 and running.updates == 1
        # A page listening heard the same steps, then the end of the run.
        heard = [next_event(events) for _ in lines]
        assert [data for event, data in heard[:-1]] == [{"by": "request", **line["progress"]} for line in lines[:-1]]
        assert heard[-1][0] == "run" and heard[-1][1]["report"] == lines[-1]["report"]
        listener.close()
        hits = json.loads(call(running, "/api/search?q=cucumber&mode=keyword")[2])["hits"]
        assert len(hits) == 5
        assert error_kind(index_call(running, {"paths": [str(tmp_path / "gone")]})) == (404, "MissingFolder")
        assert error_kind(index_call(running, {"remove": [str(tmp_path)]})) == (404, "UnknownFolder")


def next_event(response: http.client.HTTPResponse) -> tuple[str, dict]:
    """The next server-sent event of a stream: its name and data (comment lines skipped)."""
    event, data = "", ""
    while True:
        line = response.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif not line and event:
            return event, json.loads(data)


def test_the_page_and_its_files_are_served_to_a_signed_in_browser_only(server, tmp_path, monkeypatch):
    (tmp_path / "index.html").write_text("<!doctype html><title>page</title>", encoding="utf-8")
    (tmp_path / "app.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path / "app.css").write_text("body{}", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.js").write_text("x", encoding="utf-8")
    monkeypatch.setattr(app, "PAGE", tmp_path)
    login = urllib.parse.urlsplit(server.access.url).query
    session = call(server, f"/?{login}", token=None)[1]["set-cookie"].split(";")[0]
    status, headers, body = call(server, "/", token=None, Cookie=session)
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8" and body.startswith(b"<!doctype")
    for name, kind in [("app.js", "text/javascript; charset=utf-8"), ("app.css", "text/css; charset=utf-8")]:
        status, headers, _body = call(server, f"/static/{name}", token=None, Cookie=session)
        assert (status, headers["content-type"]) == (200, kind)
        assert call(server, f"/static/{name}", token=None)[0] == 401
    for name in ["missing.js", "sub", "sub/x.js", "..%2Fapp.py", ".hidden", "%2E%2E"]:
        assert call(server, f"/static/{name}", token=None, Cookie=session)[0] == 404, name


@pytest.mark.parametrize("bound, host, allowed", [
    ("127.0.0.1", "127.0.0.1:8000", True),
    ("127.0.0.1", "192.168.1.5:8000", False),
    ("192.168.1.5", "192.168.1.5:8000", True),  # `serve --host 192.168.1.5`: its own address too
    ("192.168.1.5", "evil.example:8000", False),
    ("0.0.0.0", "localhost:8000", True),  # every address: loopback names only (a name could be anyone's)
    ("0.0.0.0", "0.0.0.0:8000", False),
    ("::1", "[::1]:8000", True),
    ("127.0.0.1", "localhost:8001", False),
])
def test_the_hosts_a_server_answers_for(bound, host, allowed):
    from search.serve.guard import Access

    access = Access(8000, bound)
    assert access.host_allowed(host) is allowed
    assert access.url.startswith("http://") and ":8000/?token=" in access.url
