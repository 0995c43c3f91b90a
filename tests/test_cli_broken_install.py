"""A broken install (a dependency gone, a module of notesearch left out) is one line that says what to do, never
a traceback (--debug shows it)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT


def run_without(module: str, *args: str) -> subprocess.CompletedProcess:
    """`notesearch ARGS` in a fresh process in which `module` cannot be imported."""
    code = f"import sys; sys.modules[{module!r}] = None; sys.argv[0] = 'notesearch'; import cli; sys.exit(cli.main())"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.mark.parametrize("module, says", [
    ("jieba", ("notesearch: jieba, which notesearch needs, cannot be imported (ModuleNotFoundError): install it "
              "again (pip install jieba), or reinstall notesearch with its dependencies")),
    ("whoosh", "(pip install whoosh-reloaded)"),
    ("indexer.keyword.segment", ("notesearch: this install of notesearch is incomplete (indexer.keyword.segment is "
                                "missing): install it again (pip install --force-reinstall notesearch, or pip "
                                "install -e . in a checkout)")),
    ("search.results", "this install of notesearch is incomplete (search.results is missing)"),  # cli imports it
])
def test_a_missing_module_is_one_line_that_says_what_to_do(bundled_index_dir, module, says):
    done = run_without(module, "search", "自监督", "--mode", "keyword", "--index", bundled_index_dir, "--no-server")
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr and "Traceback" not in done.stderr


def test_debug_shows_the_traceback_of_a_missing_module(bundled_index_dir):
    done = run_without("jieba", "search", "自监督", "--mode", "keyword", "--index", bundled_index_dir, "--no-server",
                       "--debug")
    assert done.returncode == 1 and "Traceback" in done.stderr and "ModuleNotFoundError" in done.stderr
