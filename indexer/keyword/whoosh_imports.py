"""Whoosh without two imports it never uses: urllib (in whoosh.compat) and asyncio (in whoosh.reading).

Every Whoosh module imports whoosh.compat, which imports `urlretrieve` from
urllib.request, bringing in http, ssl and email: half of Whoosh's import time
in a cold search, for a function Whoosh never calls. whoosh.reading takes its
`cached_property` from the package of that name, which imports asyncio to
support coroutines; Whoosh's one such property (`deleted_docs_set`) is a
plain method.

`install()` (indexer/__init__.py calls it) puts a finder first on
sys.meta_path that, while each of these two modules runs, gives it a stand-in
for the module it imports from:

- urllib.request: an `urlretrieve` that imports the real one when called;
- cached_property: functools.cached_property, which caches a plain method's
  value in the instance as the package's does.

A stand-in is in sys.modules only while Whoosh's module runs, and only when
the real module is not loaded already: any other import gets the real one.
The finder leaves sys.meta_path once both modules are loaded.
tests/indexer/keyword/test_whoosh_imports.py checks both, and that a keyword search
loads neither urllib.request nor asyncio.
"""

from __future__ import annotations

import functools
import sys
import types
from collections.abc import Callable
from importlib.machinery import PathFinder


def _urllib_request() -> types.ModuleType:
    module = types.ModuleType("urllib.request", "A stand-in while whoosh.compat imports (indexer/keyword/whoosh_imports.py).")

    def urlretrieve(*args, **kwargs):
        from urllib.request import urlretrieve as real

        return real(*args, **kwargs)

    module.urlretrieve = urlretrieve
    return module


def _cached_property() -> types.ModuleType:
    module = types.ModuleType("cached_property", "A stand-in while whoosh.reading imports (indexer/keyword/whoosh_imports.py).")
    module.cached_property = functools.cached_property
    return module


# Whoosh's module → the modules it imports from and how to make their stand-ins.
STAND_INS: dict[str, dict[str, Callable[[], types.ModuleType]]] = {
    "whoosh.compat": {"urllib.request": _urllib_request},
    "whoosh.reading": {"cached_property": _cached_property},
}


class _Loader:
    """Whoosh's own loader for a module, run with the stand-ins in place."""

    def __init__(self, loader, stand_ins: dict[str, Callable[[], types.ModuleType]]):
        self._loader = loader
        self._stand_ins = stand_ins

    def __getattr__(self, name: str):
        return getattr(self._loader, name)  # get_source, get_code… for tracebacks and inspect

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        placed = {name: make() for name, make in self._stand_ins.items() if name not in sys.modules}
        sys.modules.update(placed)
        try:
            self._loader.exec_module(module)
        finally:
            for name, stand_in in placed.items():
                if sys.modules.get(name) is stand_in:
                    del sys.modules[name]


class _Finder:
    """Finds Whoosh's modules of STAND_INS as the path finder does, with a loader that places their stand-ins."""

    def __init__(self):
        self.waiting = set(STAND_INS)

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname not in self.waiting:
            return None
        self.waiting.discard(fullname)
        if not self.waiting:
            sys.meta_path.remove(self)
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader, STAND_INS[fullname])
        return spec


def install() -> None:
    """Make the next import of Whoosh skip urllib and asyncio (nothing when Whoosh is loaded already)."""
    if any(isinstance(finder, _Finder) for finder in sys.meta_path):
        return
    finder = _Finder()
    finder.waiting -= set(sys.modules)
    if finder.waiting:
        sys.meta_path.insert(0, finder)
