"""MCP over HTTP from `serve` (search/serve/mcp_http.py): the SDK's own streamable HTTP client calls the tools at
/mcp of a real server with the token, and gets what the tools answer over stdio; without the token, or with a
foreign Host, the gate refuses it."""

from __future__ import annotations

import http.client
import json
import shutil

import anyio
import httpx2
import pytest
from conftest import BUNDLED_NOTES, line_of, serving
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from search import related, search

TRENDS = BUNDLED_NOTES / "dl-research-trends-2022-2024.md"
MAE_LINE = line_of(TRENDS, "两大范式在这段时间都有所发展")


@pytest.fixture(scope="module")
def server(bundled_index_dir, embedder, tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("mcp-http") / "index")
    shutil.copytree(bundled_index_dir, directory)
    with serving(directory, embedder) as running:
        yield running


def calls(server, *asked: tuple[str, dict]) -> tuple[list[str], list]:
    """The tools listed and the results of the calls, through the SDK's client over HTTP with the Bearer token."""

    async def main():
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {server.token}"}, timeout=60)
        url = f"http://127.0.0.1:{server.port}/mcp"
        async with http, Client(streamable_http_client(url, http_client=http)) as client:
            listed = [tool.name for tool in (await client.list_tools()).tools]
            return listed, [await client.call_tool(name, arguments) for name, arguments in asked]

    return anyio.run(main)


def test_the_tools_answer_over_http_from_the_served_index(server, bundled_index):
    listed, (found, passage) = calls(server, ("search", {"query": "自监督 视觉", "k": 3}),
                                     ("related", {"passage": f"{TRENDS}:{MAE_LINE}", "k": 2}))
    assert set(listed) == {"search", "related", "get", "status"}
    expected = search(bundled_index, "自监督 视觉", k=3)
    assert [(hit["path"], hit["line_start"]) for hit in found.structured_content["hits"]] == \
           [(hit.passage.path, hit.passage.line_start) for hit in expected.hits]
    assert found.structured_content["hits"][0]["line_start"] == MAE_LINE
    named = related(bundled_index, "BERT", k=1).anchor
    assert [(n["name"], n["line_start"]) for n in passage.structured_content["named"]] == [("BERT", named.line_start)]


def post(server, headers: dict[str, str]) -> tuple[int, dict]:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}).encode()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("POST", "/mcp", body=body, headers={
            "Content-Type": "application/json", "Accept": "application/json, text/event-stream", **headers})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize("headers, status, kind", [
    ({}, 401, "Unauthorized"),
    ({"Authorization": "Bearer 0123456789abcdef0123456789abcdef"}, 401, "Unauthorized"),
    ({"Host": "evil.example:80", "Authorization": "TOKEN"}, 403, "ForeignHost"),
    ({"Origin": "http://evil.example", "Authorization": "TOKEN"}, 403, "ForeignOrigin"),
])
def test_the_gate_refuses_mcp_without_the_token_or_from_elsewhere(server, headers, status, kind):
    sent = {"Host": f"127.0.0.1:{server.port}", **headers}
    if sent.get("Authorization") == "TOKEN":
        sent["Authorization"] = f"Bearer {server.token}"
    assert post(server, sent)[0] == status
    assert post(server, sent)[1]["error"]["kind"] == kind

