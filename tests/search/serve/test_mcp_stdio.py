"""`cli.py mcp` as a real MCP client starts it: a subprocess over stdio, spoken to by the SDK's own stdio
client, answering as the CLI does; and nothing but protocol on its stdout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import anyio
import pytest
from conftest import BUNDLED_NOTES, ROOT, line_of
from mcp import ClientSession, StdioServerParameters, stdio_client

from indexer import build
from search import open_index

TRENDS = BUNDLED_NOTES / "dl-research-trends-2022-2024.md"
MAE_LINE = line_of(TRENDS, "两大范式在这段时间都有所发展")
# One hash seed for both sides: `related` lists tied shared terms in set order (search/relate/papers.py).
ENV = dict(os.environ, HF_HUB_OFFLINE="1", NO_COLOR="1", PYTHONHASHSEED="0")


def cli_json(cwd, *args: str) -> dict:
    """The one JSON line `cli.py ARGS --json` prints, run from `cwd` (outside the notes: paths are absolute)."""
    run = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args, "--json"], cwd=cwd, env=ENV,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def over_stdio(cwd, index: str, calls: list[tuple[str, dict]], env: dict | None = None) -> tuple[list, list]:
    """(tools listed, results of `calls`) from `cli.py mcp --index INDEX` started by the SDK's stdio client."""

    async def main():
        params = StdioServerParameters(command=sys.executable, args=[str(ROOT / "cli.py"), "mcp", "--index", index],
                                       cwd=str(cwd), env=env or ENV)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            listed = (await session.list_tools()).tools
            return listed, [await session.call_tool(name, arguments) for name, arguments in calls]

    return anyio.run(main)


@pytest.fixture(scope="module")
def index_dir(bundled_index_dir, tmp_path_factory) -> str:
    directory = str(tmp_path_factory.mktemp("mcp-stdio") / "index")
    shutil.copytree(bundled_index_dir, directory)
    return directory


@pytest.mark.slow
def test_a_real_client_lists_the_tools_and_each_answers_as_the_cli(index_dir, tmp_path):
    calls = [("search", {"query": "自监督 视觉"}),
             ("search", {"query": "year:2014 author:goodfellow", "mode": "keyword", "k": 3}),
             ("related", {"paper": "Attention is All You Need", "k": 3}),
             ("get", {"location": f"{TRENDS}:{MAE_LINE}", "context": 2}),
             ("status", {}),
             ("get", {"location": "/etc/passwd:1"})]
    listed, (mae, goodfellow, attention, passage, status, refused) = over_stdio(tmp_path, index_dir, calls)
    assert {tool.name for tool in listed} == {"search", "related", "get", "status"}

    for result, args in ((mae, ["search", "自监督 视觉"]),
                         (goodfellow, ["search", "year:2014 author:goodfellow", "--mode", "keyword", "-k", "3"]),
                         (attention, ["related", "Attention is All You Need", "-k", "3"])):
        assert not result.is_error
        expected = cli_json(tmp_path, *args, "--index", index_dir)
        got = result.structured_content
        assert got["hits"] == expected["hits"]
        assert {key: got[key] for key in expected if key not in ("took_ms", "hits")} == \
               {key: value for key, value in expected.items() if key not in ("took_ms", "hits")}
    top = mae.structured_content["hits"][:3]
    assert any(hit["path"] == str(TRENDS) and hit["line_start"] == MAE_LINE and "Masked Autoencoders" in hit["text"]
               for hit in top)
    assert all(hit["reasons"] for hit in attention.structured_content["hits"])

    assert passage.structured_content == cli_json(tmp_path, "get", f"{TRENDS}:{MAE_LINE}", "-C", "2",
                                                  "--index", index_dir)
    with open_index(index_dir) as index:
        passages = len(index.passages())
    assert passages > 50  # the two bundled notes
    assert status.structured_content["generation"] == 1 and status.structured_content["passages"] == passages
    assert status.structured_content["folders"][0]["path"] == str(BUNDLED_NOTES)
    assert refused.is_error  # in the command line's words, with what to do
    assert refused.content[0].text.endswith(": /etc/passwd is not in the indexed folders: only notes of the index "
                                            "can be opened")


@pytest.mark.slow
def test_stdout_carries_only_protocol_even_while_the_first_index_is_built(tmp_path):
    # No --index and an empty cache: the first use builds the bundled notes' index, with progress and
    # jieba's messages, before serving; none of it may reach stdout.
    env = dict(ENV, XDG_CACHE_HOME=str(tmp_path / "cache"))
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "test", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "search", "arguments": {"query": "自监督 视觉", "k": 1}}},
    ]
    server = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "mcp"], cwd=tmp_path, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for message in messages:
            server.stdin.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
        server.stdin.flush()
        lines = [server.stdout.readline(), server.stdout.readline()]
        rest, err = server.communicate(timeout=120)  # closes stdin: the server ends
    finally:
        server.kill()
    replies = [json.loads(line) for line in lines + rest.splitlines() if line.strip()]
    assert all(reply.get("jsonrpc") == "2.0" for reply in replies)
    assert [reply.get("id") for reply in replies] == [1, 2]
    hit = replies[1]["result"]["structuredContent"]["hits"][0]
    assert hit["path"].endswith("dl-research-trends-2022-2024.md")
    assert b"building the index of the bundled notes" in err and server.returncode == 0


@pytest.mark.slow
def test_with_watch_a_new_note_is_found_and_status_says_so(notes_dir, tmp_path, embedder):
    folder = notes_dir({"garden.md": "# Garden\n\nTomatoes need full sun.\n"})
    index = str(tmp_path / "index")
    build([str(folder)], index, embedder=embedder)

    async def main():
        params = StdioServerParameters(command=sys.executable,
                                       args=[str(ROOT / "cli.py"), "mcp", "--watch", "--index", index],
                                       cwd=str(tmp_path), env=ENV)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await anyio.sleep(1.0)  # the watcher is set up
            (folder / "kitchen.md").write_text("# Kitchen\n\nCucumbers pickled in brine.\n", encoding="utf-8")
            for _ in range(80):
                result = await session.call_tool("search", {"query": "cucumbers", "mode": "keyword"})
                if result.structured_content["hits"]:
                    break
                await anyio.sleep(0.1)
            return result, await session.call_tool("status", {})

    found, status = anyio.run(main)
    assert found.structured_content["hits"][0]["path"] == str(folder / "kitchen.md")
    assert status.structured_content["watching"] is True and status.structured_content["generation"] == 2
    last = status.structured_content["last_run"]
    assert last["by"] == "watch" and last["error"] is None and last["finished"][:4].isdigit()
    report = last["report"]
    assert (report["generation"], report["added"], report["updated"], report["removed"]) == (2, 1, 0, 0)
