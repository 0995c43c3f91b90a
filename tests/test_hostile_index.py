"""A damaged index folder is healed or named: each kind of index file garbled, truncated or bit-flipped ends in
a correct answer (from the older generation when the newest is damaged) or a one-line message, through the
library, the command line, `serve` and `mcp`; and the next `index` repairs it, saying in one line what was
wrong and what it did.

The index is built twice (two generations: the second adds a note), so that an answer from the older
generation can be told from one of the newest. Every file is damaged in each of three ways in the library
(the bit flips in the fast tier); through the command line, a warm server and the MCP tools, each kind once,
its way of damage rotating.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, serving

from indexer import build
from indexer.checksums import CACHES
from indexer.files import file_sha256
from indexer.generations import read_manifest
from search import open_index, search

NOTES = {
    "a.md": "# 扩散模型\n\n扩散模型通过逐步去噪生成图像，代表工作是 DDPM。\n\n## 训练\n\n训练时预测加入的噪声。\n",
    "b.md": "# Transformer\n\nThe transformer relies on self-attention over the whole sequence.\n",
}
ADDED = {"c.md": "# 图神经网络\n\n图神经网络沿着边传递消息，GNN 用于分子性质预测。\n"}
QUERIES = ("扩散模型", "self-attention", "图神经网络 消息", "分子性质")
# Each kind of file of an index folder, by where it is (the newest generation's files are in gen-000002).
KINDS = ("manifest.json", "gen-000002/manifest.json", "gen-000002/keyword/*.toc", "gen-000002/keyword/*.seg",
         "gen-000002/lengths.npz", "gen-000002/vectors.npy", "gen-000002/vectors.json", "jieba.bychar",
         "jieba.cache")
DAMAGES = ("garbled", "truncated", "bit-flipped")
# Where a damaged file leaves the answers: the newest generation's, or the older one's.
NEWEST_ANSWERS = {"manifest.json", "gen-000002/manifest.json", "jieba.bychar", "jieba.cache"}


def answers(index: str, embedder) -> list[list[tuple[str, int]]]:
    with open_index(index, embedder=embedder) as opened:
        return [[(Path(h.passage.path).name, h.passage.line_start) for h in search(opened, q, mode="keyword").hits]
                for q in QUERIES]


@pytest.fixture(scope="module")
def built(tmp_path_factory, embedder):
    """(notes folder, index of two generations, the answers of each generation)."""
    base = tmp_path_factory.mktemp("hostile-index")
    notes = base / "notes"
    notes.mkdir()
    for name, text in NOTES.items():
        (notes / name).write_text(text, encoding="utf-8")
    index = str(base / "index")
    build([str(notes)], index, embedder=embedder)
    older = answers(index, embedder)
    for name, text in ADDED.items():
        (notes / name).write_text(text, encoding="utf-8")
    build([str(notes)], index, embedder=embedder)
    newest = answers(index, embedder)
    assert older != newest
    return notes, index, {1: older, 2: newest}


def copy_index(index: str, target: Path) -> str:
    """A copy of the index folder (files hard-linked: `damage` copies the one it changes first; the lock must have
    one name)."""
    shutil.copytree(index, target, copy_function=lambda src, dst: shutil.copy2(src, dst) if src.endswith("/lock")
                    else os.link(src, dst))
    return str(target)


def path_of(index: str, kind: str) -> str:
    folder, _slash, name = os.path.join(index, kind).rpartition("/")
    if "*" not in name:
        return os.path.join(folder, name)
    found = [entry for entry in os.listdir(folder) if entry.endswith(name.lstrip("*"))]
    older = os.listdir(folder.replace("gen-000002", "gen-000001"))
    (own,) = [entry for entry in found if entry not in older] if len(found) > 1 else found  # the newest segment
    return os.path.join(folder, own)


def damage(path: str, how: str, seed: int = 0) -> None:
    """Garble 64 bytes in the middle, cut the file to half its length, or flip one bit in its middle half."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    os.unlink(path)  # the copy's own file from now on, not the fixture's
    rng = random.Random(f"{seed}:{path}:{how}")
    if how == "garbled":
        start = max(0, len(data) // 2 - 32)
        data[start:start + 64] = rng.randbytes(len(data[start:start + 64]))
    elif how == "truncated":
        del data[len(data) // 2:]
    else:
        at = rng.randrange(len(data) // 4, 3 * len(data) // 4)
        data[at] ^= 1 << rng.randrange(8)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def expected(kind: str, generations: dict) -> list:
    return generations[2] if kind in NEWEST_ANSWERS else generations[1]


def one_line(messages) -> bool:
    return all("\n" not in message and len(message) < 600 for message in messages)


def check_repaired(index: str, generations: dict, embedder, report) -> None:
    assert report.changed and report.warnings and one_line(report.warnings), report.warnings
    with open_index(index, embedder=embedder) as opened:
        assert opened.warnings == []
        assert [[(Path(h.passage.path).name, h.passage.line_start) for h in search(opened, q, mode="keyword").hits]
                for q in QUERIES] == generations[2]
    manifest = read_manifest(index)
    for name in CACHES:
        assert file_sha256(os.path.join(index, name)) == manifest.caches[name]


@pytest.mark.parametrize("how", [pytest.param(how, marks=() if how == "bit-flipped" else pytest.mark.slow)
                                 for how in DAMAGES])
@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_file_answers_correctly_or_says_so_and_index_repairs_it(built, tmp_path, embedder, kind, how):
    _notes, pristine, generations = built
    index = copy_index(pristine, tmp_path / "index")
    damage(path_of(index, kind), how)
    with open_index(index, embedder=embedder) as opened:
        results = [search(opened, query, mode="keyword") for query in QUERIES]
        assert [[(Path(h.passage.path).name, h.passage.line_start) for h in result.hits]
                for result in results] == expected(kind, generations)
        assert all(one_line(result.warnings) for result in results)
        if kind not in ("jieba.bychar", "jieba.cache"):  # (a cache is read past without a word in this process)
            assert len(opened.warnings) == 1 and "the next index run repairs it" in opened.warnings[0]
        semantic = search(opened, "diffusion models that denoise images", mode="hybrid").hits
        assert semantic and semantic[0].passage.path.endswith("a.md")
    report = build(None, index, embedder=embedder)
    check_repaired(index, generations, embedder, report)


@pytest.mark.parametrize("text", ["[]", '{"version": 1, "generation": 2, "files": []}', "{", "null",
                                  '{"version": 1, "generation": "2", "model": 3}'])
def test_a_manifest_of_the_wrong_shape_is_a_damaged_manifest_not_a_traceback(built, tmp_path, embedder, text):
    _notes, pristine, generations = built
    index = copy_index(pristine, tmp_path / "index")
    os.unlink(os.path.join(index, "manifest.json"))
    Path(index, "manifest.json").write_text(text, encoding="utf-8")
    with open_index(index, embedder=embedder) as opened:
        assert opened.manifest.generation == 2 and len(opened.warnings) == 1
        assert opened.warnings[0].startswith(f"the index manifest {index}/manifest.json is damaged (")
    report = build(None, index, embedder=embedder)
    check_repaired(index, generations, embedder, report)


def test_a_lost_manifest_is_rebuilt_from_its_generation_and_never_brings_in_the_bundled_notes(built, tmp_path):
    notes, pristine, _generations = built
    index = copy_index(pristine, tmp_path / "index")
    os.unlink(os.path.join(index, "manifest.json"))
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "index", "--index", index, "--no-server", "--quiet"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [(f"notesearch: the index manifest {index}/manifest.json is missing: building "
                                         "a new generation on generation 2")]
    manifest = read_manifest(index)
    assert manifest.roots == (str(notes),) and sorted(Path(p).name for p in manifest.files) == ["a.md", "b.md", "c.md"]


def test_an_index_with_every_manifest_lost_asks_for_its_folders(built, tmp_path):
    _notes, pristine, _generations = built
    index = copy_index(pristine, tmp_path / "index")
    for path in (f"{index}/manifest.json", f"{index}/gen-000002/manifest.json", f"{index}/gen-000001/manifest.json"):
        os.unlink(path)
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "index", "--index", index, "--no-server"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [(
        f"notesearch: the index at {index} has no readable manifest left to say which folders it was built from "
        f"(nothing was changed): give them again ('notesearch index PATH… --index {index}')")]


# ---------------------------------------------------------------- through the command line, serve and mcp

def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False, env=dict(os.environ, NO_COLOR="1", HF_HUB_OFFLINE="1"))


def _cli_answers(index: str, cwd: Path) -> tuple[list, list[str]]:
    got, warnings = [], []
    for query in QUERIES:
        done = _cli("search", query, "--index", index, "--mode", "keyword", "--json", "--no-server", cwd=cwd)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        got.append([(Path(h["path"]).name, h["line_start"]) for h in json.loads(done.stdout)["hits"]])
        warnings += done.stderr.splitlines()
    return got, warnings


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_through_the_command_line_serve_and_mcp(built, tmp_path, embedder, kind):
    from search.serve.client import connect
    from search.serve.mcp_server import NoteTools

    def ask(index: str, query: str) -> dict:
        served = connect(index)
        try:
            answer, warnings = served.search(query, "keyword", 10, False, False, str(tmp_path))
        finally:
            served.close()
        return {"answer": answer, "warnings": warnings}

    _notes, pristine, generations = built
    how = DAMAGES[KINDS.index(kind) % len(DAMAGES)]
    want = expected(kind, generations)

    # The command line, a fresh process: the answer, and at most one line of warning per query.
    index = copy_index(pristine, tmp_path / "cli")
    damage(path_of(index, kind), how)
    got, warnings = _cli_answers(index, tmp_path)
    assert got == want and len(warnings) <= len(QUERIES) and one_line(warnings)
    done = _cli("index", "--index", index, "--no-server", "--quiet", cwd=tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr and one_line(done.stderr.splitlines())
    assert _cli_answers(index, tmp_path) == (generations[2], [])

    # serve: a warm server opens the damaged index, answers, and its own index run repairs it.
    index = copy_index(pristine, tmp_path / "serve")
    damage(path_of(index, kind), how)
    with serving(index, embedder) as server:
        served = []
        for query in QUERIES:
            response = ask(index, query)
            assert one_line(response["warnings"])
            served.append([(Path(h["path"]).name, h["line_start"]) for h in response["answer"]["hits"]])
        assert served == want
        report = server.runs.run({}, wait=60)["report"]
        assert report["changed"] and one_line(report["warnings"])
        response = ask(index, QUERIES[3])
        assert response["warnings"] == [] and [(Path(h["path"]).name, h["line_start"])
                                               for h in response["answer"]["hits"]] == generations[2][3]

    # mcp: the tools answer from what is intact and say what is wrong in `status`.
    index = copy_index(pristine, tmp_path / "mcp")
    damage(path_of(index, kind), how)
    tools = NoteTools(index, embedder=embedder)
    try:
        found = [[(Path(h["path"]).name, h["line_start"]) for h in tools.search(q, "keyword", 10, {})["hits"]]
                 for q in QUERIES]
        assert found == want
        assert one_line(tools.status()["warnings"])
    finally:
        tools.close()
    assert _cli("index", "--index", index, "--no-server", "--quiet", cwd=tmp_path).returncode == 0
    tools = NoteTools(index, embedder=embedder)
    try:
        assert tools.status()["warnings"] == []
    finally:
        tools.close()
