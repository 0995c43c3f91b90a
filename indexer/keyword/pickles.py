"""Whoosh's pickles read by an unpickler that builds Whoosh's own schema and segment classes and nothing else.

Whoosh keeps its table of contents (`_MAIN_N.toc`: the schema and the list of
segments), a compound segment's directory and its posting blocks as pickles,
and unpickles them on every open and search. A pickle can call any function it
names, so an index folder that came from elsewhere (a cloned notes repository's
`.index/`, a synced folder, a tarball) could run code on `search`. `install()`
points every name Whoosh unpickles through (`whoosh.compat`'s `loads`, `load`
and `pickle`, and the modules that imported them) at `loads` and `load` here,
whose unpickler refuses any global but:

- a class defined by Whoosh's schema, format, analysis, codec, column or
  id-set modules (a type, not a function: the fields, formats and analyzers
  of a schema, W3Codec and W3Segment);
- the few standard names those pickles hold: `_codecs.encode` (bytes in
  protocol 2), `int` and `long`, `set` and `frozenset` (a segment's deleted
  documents), `collections.defaultdict`, `re._compile` (a tokenizer's pattern).

Anything else raises pickle.UnpicklingError before it is built. Whoosh's
loaders for older table-of-contents formats (which unpickle with a renaming
unpickler of their own) are removed: notesearch only reads indexes it wrote.
tests/indexer/keyword/test_pickles.py checks that no module of Whoosh keeps the
standard unpickler after a search, and that a crafted table of contents runs
nothing.
"""

from __future__ import annotations

import io
import pickle
import sys
import types

# Whoosh's modules whose classes its pickles may build.
WHOOSH_MODULES = ("whoosh.fields", "whoosh.formats", "whoosh.analysis", "whoosh.codec", "whoosh.columns",
                  "whoosh.idsets")
# Standard names in Whoosh's pickles, as the pickle names them (protocol 2 writes Python 2's names).
STANDARD = frozenset({("_codecs", "encode"), ("builtins", "int"), ("__builtin__", "int"), ("__builtin__", "long"),
                      ("builtins", "set"), ("__builtin__", "set"), ("builtins", "frozenset"),
                      ("__builtin__", "frozenset"), ("collections", "defaultdict"), ("re", "_compile")})


class WhooshUnpickler(pickle.Unpickler):
    """An unpickler that builds only Whoosh's own classes and the standard names of STANDARD."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in STANDARD:
            return super().find_class(module, name)
        if _whoosh_module(module) and module in sys.modules:  # loaded already: a pickle imports nothing
            found = getattr(sys.modules[module], name, None)
            if isinstance(found, type) and _whoosh_module(found.__module__):
                return found
        raise pickle.UnpicklingError(f"the index holds a pickle naming {module[:60]}.{name[:60]}, which is not "
                                     "one of Whoosh's own classes: it is damaged or not an index notesearch wrote")


def _whoosh_module(name: str) -> bool:
    return any(name == module or name.startswith(module + ".") for module in WHOOSH_MODULES)


def load(file) -> object:
    """The object pickled in an open binary file, read with WhooshUnpickler."""
    return WhooshUnpickler(file).load()


def loads(data: bytes, **_options) -> object:
    """The object pickled in `data`, read with WhooshUnpickler.

    (Through a buffered reader: the unpickler then takes the bytes at once,
    not a call to `read` per opcode.)
    """
    return WhooshUnpickler(io.BufferedReader(io.BytesIO(data))).load()


class _Pickle(types.ModuleType):
    """The `pickle` module as Whoosh sees it: writing is the standard library's, reading is `loads` and `load`."""

    def __getattr__(self, name: str) -> object:
        return getattr(pickle, name)


SAFE_PICKLE = _Pickle("pickle", "pickle, reading through indexer/keyword/pickles.py")
SAFE_PICKLE.loads, SAFE_PICKLE.load, SAFE_PICKLE.Unpickler = loads, load, WhooshUnpickler
_REPLACED = {id(pickle.loads): loads, id(pickle.load): load, id(pickle): SAFE_PICKLE,
             id(pickle.Unpickler): WhooshUnpickler}


def install() -> None:
    """Make every loaded module of Whoosh (and any that imports from whoosh.compat later) unpickle through here."""
    import whoosh.compat
    import whoosh.legacy

    whoosh.compat.loads, whoosh.compat.load, whoosh.compat.pickle = loads, load, SAFE_PICKLE
    whoosh.legacy.toc_loaders.clear()  # older formats' loaders unpickle with an unpickler of their own
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "whoosh" or name.startswith("whoosh.")):
            continue
        for attribute, value in list(vars(module).items()):
            replacement = _REPLACED.get(id(value))
            if replacement is not None and attribute != "__builtins__":
                setattr(module, attribute, replacement)


def unsafe_names() -> list[str]:
    """The names in loaded modules of Whoosh still bound to the standard unpickler (none once installed)."""
    found = []
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "whoosh" or name.startswith("whoosh.")):
            continue
        found += [f"{name}.{attribute}" for attribute, value in vars(module).items() if id(value) in _REPLACED]
    return sorted(found)
