"""MCP `get` raced against a note that flips to a symbolic link out of the indexed folders (scripts/get_race.py,
bounded in time): no answer holds a line from outside the folders, and the server prints no traceback."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from conftest import ROOT


def _script():
    spec = importlib.util.spec_from_file_location("get_race", ROOT / "scripts" / "get_race.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["get_race"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_get_never_reads_through_a_note_flipping_to_a_link_out(tmp_path):
    outcome = _script().race(calls=400, seconds=60, work=tmp_path)
    assert outcome.calls >= 100 and outcome.flips > 0
    assert outcome.leaked == 0 and outcome.tracebacks == 0, outcome
    assert outcome.held, outcome.errors
