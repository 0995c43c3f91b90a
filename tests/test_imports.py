"""The shape of the house, read from the source (nothing is imported): no import circle among the project's
modules, and Whoosh imported only by the keyword index's package."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGES = ("corpus", "indexer", "search")
TOP_MODULES = ("cli.py", "cli_render.py", "cli_served.py")
# Every folder of Python source the project keeps (its packages, tests, benchmarks and scripts).
SOURCE = (*PACKAGES, "tests", "bench", "scripts")
# Where Whoosh may be imported: the keyword index's package; its tests, which compare its fast paths with
# Whoosh's public API; and the benchmark that runs plain Whoosh as a peer engine beside tantivy and bm25s.
WHOOSH_ALLOWED = ("indexer/keyword/", "tests/indexer/keyword/", "bench/peers.py")


def project_modules() -> dict[str, Path]:
    """Every module of the project's packages and top-level command line, by dotted name."""
    found = {path.stem: ROOT / path for path in map(Path, TOP_MODULES)}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported_names(path: Path, module: str, modules: set[str]) -> set[str]:
    """The project modules a module imports anywhere in it (under TYPE_CHECKING and inside functions too):
    `from package import name` is the submodule when `name` is one, else the package."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                         for alias in node.names)
    return names & modules - {module}


def import_graph() -> dict[str, set[str]]:
    """Each project module → the project modules it imports by name (not the parent packages Python runs
    first: only what the source names)."""
    modules = project_modules()
    return {module: imported_names(path, module, set(modules)) for module, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_reads_the_imports_the_source_names():
    graph = import_graph()
    assert "search.rank.scorer" in graph["search.notes.index"]  # a plain import
    assert "search.notes.index" in graph["search.rank.ranking"]  # under TYPE_CHECKING
    assert "search.serve.server" in graph["cli"]  # inside a function, as `from search.serve import server`
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_itself_back_through_others():
    assert circles(import_graph()) == []


def importers_of(package: str) -> list[str]:
    """The project's source files (relative paths) that import `package` or a module of it, anywhere in them."""
    files = [ROOT / name for name in TOP_MODULES] + [path for folder in SOURCE for path in (ROOT / folder).rglob("*.py")]
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            if any(name == package or name.startswith(package + ".") for name in names):
                found.append(path.relative_to(ROOT).as_posix())
                break
    return sorted(found)


def test_only_the_keyword_index_package_imports_whoosh():
    importers = importers_of("whoosh")
    assert any(path.startswith("indexer/keyword/") for path in importers)  # the check sees the imports it looks for
    assert [path for path in importers if not path.startswith(WHOOSH_ALLOWED)] == []
