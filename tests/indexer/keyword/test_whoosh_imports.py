"""Whoosh's imports of urllib.request and cached_property stood in for (indexer/keyword/whoosh_imports.py): only while
Whoosh's module runs, with stand-ins that do what the real ones do for Whoosh, and never for anyone else."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT


def child(code: str) -> dict:
    """What a fresh process that runs `code` prints as JSON."""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_whoosh_loads_without_urllib_request_or_asyncio_and_the_finder_leaves():
    found = child("""
import json, sys
import indexer
import whoosh.searching
from indexer.keyword.whoosh_imports import _Finder
print(json.dumps({"loaded": [m for m in ("urllib.request", "asyncio", "cached_property") if m in sys.modules],
                  "finder": any(isinstance(f, _Finder) for f in sys.meta_path)}))
""")
    assert found == {"loaded": [], "finder": False}


def test_the_stand_ins_do_what_whoosh_asks_of_the_real_modules(tmp_path):
    source = tmp_path / "note.md"
    source.write_text("# 笔记\n", encoding="utf-8")
    found = child(f"""
import functools, json, sys
import indexer
import whoosh.compat, whoosh.reading
copy = {str(tmp_path / "copy.md")!r}
whoosh.compat.urlretrieve({source.as_uri()!r}, copy)  # imports the real urlretrieve when called
import urllib.request
print(json.dumps({{"copied": open(copy, encoding="utf-8").read(),
                  "real_urllib": hasattr(urllib.request, "Request"),
                  "property": whoosh.reading.SegmentReader.deleted_docs_set.__class__ is functools.cached_property}}))
""")
    assert found == {"copied": "# 笔记\n", "real_urllib": True, "property": True}


def test_other_imports_get_the_real_modules():
    found = child("""
import json, sys
import indexer
import whoosh.searching
import cached_property, urllib.request
print(json.dumps({"cached_property": cached_property.__file__ is not None and hasattr(cached_property, "__version__"),
                  "urlopen": hasattr(urllib.request, "urlopen")}))
""")
    assert found == {"cached_property": True, "urlopen": True}


def test_a_process_that_loaded_whoosh_first_gets_no_finder():
    found = child("""
import json, sys
import whoosh.reading, whoosh.compat
import indexer
from indexer.keyword.whoosh_imports import _Finder
print(json.dumps({"finder": any(isinstance(f, _Finder) for f in sys.meta_path),
                  "asyncio": "asyncio" in sys.modules}))
""")
    assert found == {"finder": False, "asyncio": True}
