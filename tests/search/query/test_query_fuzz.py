"""Hostile queries never raise and never hang: a seeded part of scripts/query_fuzz.py, and Hypothesis.

The full run (10,000 queries in process, 300 through the CLI) is
`scripts/query_fuzz.py`; here a seeded slice of the same generator runs on the
bundled notes, and Hypothesis searches the query syntax for what the
generator misses.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import MODES, search


def _query_fuzz():
    spec = importlib.util.spec_from_file_location("query_fuzz", ROOT / "scripts" / "query_fuzz.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["query_fuzz"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


fuzz = _query_fuzz()


def test_the_generator_is_seeded_and_covers_every_kind_of_query():
    queries = fuzz.hostile_queries(400, seed=7)
    assert queries == fuzz.hostile_queries(400, seed=7) != fuzz.hostile_queries(400, seed=8)
    assert any(len(q) >= 100_000 for q in queries)
    assert any("\x1b" in q for q in queries) and any("\ud800" <= ch <= "\udfff" for q in queries for ch in q)
    assert any(q.startswith("year:") and len(q) > 20 for q in queries)
    assert any('"' in q and "OR" in q for q in queries)


@pytest.mark.slow
def test_450_seeded_hostile_queries_answer_in_every_mode_without_error(bundled_index):
    report = fuzz.fuzz_library(bundled_index, fuzz.hostile_queries(450, seed=14))
    assert report.queries == 450
    assert report.failures == []
    assert report.slowest < fuzz.LIMIT


@pytest.mark.slow
def test_60_seeded_hostile_queries_through_the_cli_batch(bundled_index_dir):
    report = fuzz.fuzz_cli(bundled_index_dir, fuzz.hostile_queries(60, seed=15))
    assert report.queries == 60
    assert report.failures == []


FIELD = st.sampled_from(["title", "author", "year", "section", "tags", "path", "Year", "nofield"])
VALUE = st.one_of(st.integers(-10**30, 10**30).map(str), st.text(max_size=12), st.sampled_from(fuzz.YEAR_VALUES))
TOKEN = st.one_of(
    st.sampled_from(fuzz.WORDS + fuzz.SYNTAX + fuzz.CONTROLS),
    st.tuples(FIELD, VALUE).map(lambda pair: f"{pair[0]}:{pair[1]}"),
    st.text(max_size=8),
)
QUERY = st.one_of(st.lists(TOKEN, max_size=12).map(" ".join), st.lists(TOKEN, max_size=12).map("".join),
                  st.text(max_size=200))


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=QUERY, mode=st.sampled_from(MODES), k=st.integers(1, 30))
def test_any_query_answers_with_at_most_k_hits_in_rank_order(bundled_index, query, mode, k):
    hits = search(bundled_index, query, mode=mode, k=k).hits
    assert len(hits) <= k and [hit.rank for hit in hits] == list(range(1, len(hits) + 1))
