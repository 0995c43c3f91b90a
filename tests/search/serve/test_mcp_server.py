"""The MCP tools through the SDK's own client, in process: schemas, answers equal to the library's,
and one-line tool errors. (tests/search/serve/test_mcp_stdio.py runs `cli.py mcp` as a subprocess over stdio.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import partial

import anyio
import pytest
from conftest import BUNDLED_NOTES, ROOT, line_of
from mcp import Client

from cli_render import describe
from indexer import build
from search import excerpt, related, search
from search.serve.mcp_server import NoteTools, build_server

TRENDS = BUNDLED_NOTES / "dl-research-trends-2022-2024.md"
PAPERS = BUNDLED_NOTES / "famous-deep-learning-papers.md"  # dated 2025-01-03
MAE_LINE = line_of(TRENDS, "两大范式在这段时间都有所发展")


def call(tools: NoteTools, *calls: tuple[str, dict]) -> list:
    """The results of tool calls made in order through an in-process SDK client."""

    async def main() -> list:
        async with Client(build_server(tools)) as client:
            return [await client.call_tool(name, arguments) for name, arguments in calls]

    return anyio.run(main)


@pytest.fixture(scope="module")
def tools(bundled_index_dir, embedder, tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("mcp") / "index")
    shutil.copytree(bundled_index_dir, directory)
    notes = NoteTools(directory, embedder=embedder)
    yield notes
    notes.close()


def places(answer: dict) -> list[str]:
    """Every path an answer names: its hits', the places that hold the same text, its anchor's and candidates'."""
    found = [hit["path"] for hit in answer["hits"]] + [place["path"] for hit in answer["hits"] for place in hit["also"]]
    return found + [paper["path"] for paper in [answer.get("anchor"), *answer.get("candidates", [])] if paper]


def on_disk_absolute(paths: list[str]) -> bool:
    return bool(paths) and all(os.path.isabs(path) and os.path.isfile(path) for path in paths)


def test_the_four_tools_are_listed_with_descriptions_and_schemas(tools):
    async def main():
        async with Client(build_server(tools)) as client:
            return (await client.list_tools()).tools

    listed = {tool.name: tool for tool in anyio.run(main)}
    assert set(listed) == {"search", "related", "get", "status"}
    for tool in listed.values():
        assert len(tool.description) > 40 and tool.input_schema["type"] == "object"
        assert tool.output_schema and tool.output_schema["type"] == "object"
        assert tool.annotations.read_only_hint is True
    query = listed["search"].input_schema["properties"]
    assert listed["search"].input_schema["required"] == ["query"]
    assert set(query) == {"query", "mode", "k", "title", "author", "venue", "section", "tags", "path", "year", "date"}
    assert query["mode"]["enum"] == ["hybrid", "keyword", "semantic"] and query["mode"]["default"] == "hybrid"
    assert (query["k"]["minimum"], query["k"]["maximum"]) == (1, 100)
    hit = listed["search"].output_schema["$defs"]["HitData"]["properties"]
    assert {"path", "line_start", "line_end", "title", "section", "score", "snippet", "text"} <= set(hit)
    assert listed["get"].input_schema["required"] == ["location"]


@pytest.mark.parametrize("query, mode", [("自监督 视觉", "hybrid"), ("masked autoencoders", "keyword"),
                                         ("self-supervised vision", "semantic"), ('"扩散模型', "hybrid")])
def test_search_answers_as_the_library_does_with_absolute_paths(tools, bundled_index, query, mode, monkeypatch):
    monkeypatch.chdir(ROOT)  # the notes lie below this folder: `search --json` run here prints them relative
    (result,) = call(tools, ("search", {"query": query, "mode": mode, "k": 5}))
    assert not result.is_error
    expected = search(bundled_index, query, mode=mode, k=5)
    got = result.structured_content
    assert [(hit["rank"], hit["path"], hit["line_start"], hit["line_end"], hit["snippet"], hit["score"])
            for hit in got["hits"]] == [(hit.rank, hit.passage.path, hit.passage.line_start, hit.passage.line_end,
                                         hit.snippet, round(hit.score, 6)) for hit in expected.hits]
    assert on_disk_absolute(places(got)) and got["warnings"] == list(expected.warnings) and got["took_ms"] >= 0


def test_the_mae_paragraph_is_found_with_its_path_and_line(tools):
    (result,) = call(tools, ("search", {"query": "自监督 视觉"}))
    hits = result.structured_content["hits"]
    assert any(hit["path"] == str(TRENDS) and hit["line_start"] == MAE_LINE and "MAE" in hit["text"]
               for hit in hits[:3])


def test_field_filters_are_the_query_languages_fields(tools, bundled_index):
    (result,) = call(tools, ("search", {"query": "", "author": "goodfellow", "year": "2014", "mode": "keyword"}))
    expected = search(bundled_index, "author:goodfellow year:2014", mode="keyword")
    assert [hit["title"] for hit in result.structured_content["hits"]] == \
           [hit.passage.display_title for hit in expected.hits] == ["Generative Adversarial Nets"]
    (result,) = call(tools, ("search", {"query": "networks", "title": "generative adversarial", "mode": "keyword"}))
    assert result.structured_content["query"] == '(networks) title:"generative adversarial"'
    assert result.structured_content["hits"][0]["title"] == "Generative Adversarial Nets"
    (result,) = call(tools, ("search", {"query": "transformer", "date": "2025-01", "mode": "keyword", "k": 50}))
    assert result.structured_content["query"] == "(transformer) date:2025-01"
    assert {hit["path"] for hit in result.structured_content["hits"]} == {str(PAPERS)}


@pytest.mark.parametrize("arguments, filtered_by", [
    ({"query": "", "author": "goodfellow)"}, "author:goodfellow"),
    ({"query": "generative (", "year": "2014"}, "year:2014"),
    ({"query": "adversarial", "author": "(goodfellow"}, "author:goodfellow"),
    ({"query": '"networks', "year": "2014"}, "year:2014"),
    ({"query": "nets " * 400, "year": "2014"}, "year:2014"),  # a query too long to be read whole
    ({"query": "nets", "title": "-adversarial"}, "title:adversarial"),
])
def test_a_filter_holds_whatever_its_value_or_the_query_holds(tools, bundled_index, arguments, filtered_by):
    (result,) = call(tools, ("search", {**arguments, "mode": "keyword", "k": 50}))
    allowed = {(hit.passage.path, hit.passage.line_start)
               for hit in search(bundled_index, filtered_by, mode="keyword", k=500).hits}
    hits = result.structured_content["hits"]
    assert hits and all((hit["path"], hit["line_start"]) in allowed for hit in hits), result.structured_content


@pytest.mark.parametrize("name, arguments", [
    ("get", {"location": "a/" * 300_000 + "x.md:1"}),
    ("related", {"passage": "a/" * 300_000 + "x.md:1"}),
    ("related", {"paper": "attention " * 60_000}),
    ("search", {"query": "attention " * 60_000}),
    ("search", {"query": "x", "author": "y" * 600_000}),
])
def test_an_argument_of_600_kb_is_refused_at_once_in_one_short_line(tools, name, arguments):
    import time

    started = time.perf_counter()
    (result,) = call(tools, (name, arguments))
    assert time.perf_counter() - started < 5
    (text,) = [block.text for block in result.content]
    assert result.is_error and "\n" not in text and len(text) < 400, text[:500]


def test_related_gives_papers_and_passages_with_their_reasons(tools, bundled_index):
    paper, passage, ambiguous = call(tools, ("related", {"paper": "Attention is All You Need", "k": 3}),
                                     ("related", {"passage": f"{TRENDS}:{MAE_LINE}", "k": 3}),
                                     ("related", {"paper": "Hinton"}))
    expected = related(bundled_index, "Attention is All You Need", k=3)
    got = paper.structured_content
    assert (got["anchor"]["path"], got["anchor"]["line_start"]) == (expected.anchor.path, expected.anchor.line_start)
    assert [(hit["path"], hit["line_start"], hit["reasons"]) for hit in got["hits"]] == \
           [(hit.passage.path, hit.passage.line_start, list(hit.reasons)) for hit in expected.hits]
    assert all(hit["reasons"] for hit in got["hits"]) and on_disk_absolute(places(got))
    assert passage.structured_content["anchor"]["line_start"] == MAE_LINE
    assert [(n["name"], n["year"], n["line_start"]) for n in passage.structured_content["named"]] == \
           [("BERT", 2019, line_of(PAPERS, "*BERT: Pre - training"))]
    assert got["named"] == []
    assert len(passage.structured_content["hits"]) == 3 and on_disk_absolute(places(passage.structured_content))
    assert ambiguous.structured_content["anchor"] is None and len(ambiguous.structured_content["candidates"]) > 1
    assert on_disk_absolute(places(ambiguous.structured_content))


def test_get_reads_the_passage_and_its_lines_from_disk(tools, monkeypatch):
    monkeypatch.chdir(ROOT)
    (result,) = call(tools, ("get", {"location": f"{TRENDS}:{MAE_LINE}", "context": 2}))
    got = result.structured_content
    note = TRENDS.read_text(encoding="utf-8").split("\n")
    assert got["path"] == str(TRENDS) and (got["line"], got["first_line"], got["last_line"]) == \
           (MAE_LINE, MAE_LINE - 2, MAE_LINE + 2)
    assert got["lines"] == note[MAE_LINE - 3:MAE_LINE + 2] and "MAE" in got["text"] and not got["changed"]


def test_status_says_what_the_index_holds(tools, bundled_index):
    (result,) = call(tools, ("status", {}))
    status = result.structured_content
    m = bundled_index.manifest
    assert status["folders"] == [{"path": str(BUNDLED_NOTES), "files": 2, "passages": m.passages}]
    assert (status["generation"], status["model"], status["files"]) == (1, m.model, 2)
    assert status["passages"] == m.passages == len(bundled_index.passages())
    assert status["papers"] == sum(1 for p in bundled_index.passages() if p.paper)
    assert status["updated"][:4].isdigit() and status["watching"] is False and status["last_run"] is None
    assert (status["kinds"], status["not_indexed"]) == ({"markdown": 2}, {})


@pytest.mark.parametrize("name, arguments, says", [
    ("get", {"location": "/etc/passwd:1"}, "/etc/passwd is not in the indexed folders"),
    ("get", {"location": f"{TRENDS}:2"}, "no passage of the index holds"),
    ("get", {"location": "nowhere"}, "location must be PATH:LINE"),
    ("related", {"passage": "/etc/shadow:1"}, "/etc/shadow is not in the indexed folders"),
    ("related", {"paper": "zyxwvut qqq"}, "no paper matches"),
    ("related", {}, "give either 'paper'"),
    ("search", {"query": "  "}, "empty query"),
    ("search", {"query": "？！。，"}, "empty query: nothing to search for: give words to search for, or a field filter"),
    ("search", {"query": "x", "mode": "fuzzy"}, "bad arguments for search: mode:"),
    ("search", {"query": "x", "k": 0}, "bad arguments for search: k:"),
    ("search", {}, "bad arguments for search: query:"),
    ("get", {"location": f"{TRENDS}:37", "context": -1}, "bad arguments for get: context:"),
])
def test_problems_are_tool_errors_of_one_line(tools, name, arguments, says):
    (result,) = call(tools, (name, arguments))
    assert result.is_error and result.structured_content is None
    (text,) = [block.text for block in result.content]
    assert says in text and "\n" not in text
    assert "notesearch " not in text  # the library's own words: no command line is named without `describe`


def test_without_an_index_every_tool_says_so_and_a_new_index_is_then_used(notes_dir, tmp_path, embedder):
    directory = str(tmp_path / "index")
    notes = NoteTools(directory, embedder=embedder, describe=partial(describe, index=directory))
    try:
        results = call(notes, ("status", {}), ("search", {"query": "tomatoes"}))
        for result in results:
            assert result.is_error and result.content[0].text.endswith(
                f": no index at {directory}: run 'notesearch index PATH --index {directory}' first")
        build([str(notes_dir({"garden.md": "# Plants\n\nTomatoes need full sun.\n"}))], directory, embedder=embedder)
        (result,) = call(notes, ("search", {"query": "tomatoes", "mode": "keyword"}))
        assert result.structured_content["hits"][0]["text"] == "Tomatoes need full sun."
    finally:
        notes.close()


def test_a_newly_committed_generation_is_picked_up(notes_dir, tmp_path, embedder):
    folder = notes_dir({"garden.md": "# Plants\n\nTomatoes need full sun.\n"})
    directory = str(tmp_path / "index")
    build([str(folder)], directory, embedder=embedder)
    notes = NoteTools(directory, embedder=embedder)
    try:
        (before,) = call(notes, ("search", {"query": "cucumbers", "mode": "keyword"}))
        (folder / "more.md").write_text("# More\n\nCucumbers need water.\n", encoding="utf-8")
        build([str(folder)], directory, embedder=embedder)
        after, status = call(notes, ("search", {"query": "cucumbers", "mode": "keyword"}), ("status", {}))
    finally:
        notes.close()
    assert before.structured_content["hits"] == []
    assert after.structured_content["hits"][0]["path"] == str(folder / "more.md")
    assert status.structured_content["generation"] == 2 and status.structured_content["files"] == 2


def test_while_the_index_loads_prints_to_stdout_go_to_stderr():
    code = ("import os, sys\n"
            "from search.serve.mcp_server import _stdout_to_stderr\n"
            "with _stdout_to_stderr():\n"
            "    print('from python')\n"
            "    os.write(1, b'from a library in C\\n')\n"
            "print('protocol')\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "protocol\n"
    assert "from python" in run.stderr and "from a library in C" in run.stderr


def test_the_published_schemas_name_the_fields_the_answers_hold(tools, bundled_index):
    # The schemas mirror search/results.py's JSON, the one place it is built: a field added there shows here.
    from search import stats
    from search.results import excerpt_data, hit_data, paper_data, stats_data
    from search.serve import mcp_schema

    hit = search(bundled_index, "title:Attention", k=1).hits[0]  # a paper's hit: its JSON carries the paper
    assert hit.paper is not None
    assert set(hit_data(hit)) | {"reasons"} == set(mcp_schema.HitData.__annotations__)  # reasons: related hits
    paper = next(p for p in bundled_index.passages() if p.paper)
    assert set(paper_data(paper)) == set(mcp_schema.PaperData.__annotations__)
    assert set(stats_data(stats(bundled_index))) | {"watching", "updating", "last_run"} == \
           set(mcp_schema.Status.__annotations__)
    (status,) = call(tools, ("status", {}))
    assert set(status.structured_content) == set(mcp_schema.Status.__annotations__)
    (got,) = call(tools, ("get", {"location": f"{TRENDS}:{MAE_LINE}"}))
    assert set(got.structured_content) == set(mcp_schema.Excerpt.__annotations__) == \
           set(excerpt_data(excerpt(bundled_index, str(TRENDS), MAE_LINE)))
    (passage,) = call(tools, ("related", {"passage": f"{TRENDS}:{MAE_LINE}", "k": 1}))
    assert set(passage.structured_content) == set(mcp_schema.RelatedAnswer.__annotations__)
    assert {frozenset(named) for named in passage.structured_content["named"]} == \
           {frozenset(mcp_schema.NamedPaperData.__annotations__)}
