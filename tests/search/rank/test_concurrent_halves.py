"""A hybrid search reads its query's vector on another thread while the keyword ranking runs (search/rank/engine.py)."""

from __future__ import annotations

import threading

import pytest

from search import search
from search.rank import engine


def test_the_query_vector_is_read_while_the_keyword_ranking_runs(bundled_index, monkeypatch):
    reading, ranking_done = threading.Event(), threading.Event()
    seen = {}
    real_vector, real_keyword = engine.query_vector, engine.keyword_ranking

    def vector(*args, **kwargs):
        seen["vector thread"] = threading.current_thread()
        reading.set()
        seen["keyword ran meanwhile"] = ranking_done.wait(5)
        return real_vector(*args, **kwargs)

    def keyword(*args, **kwargs):
        seen["waited"] = reading.wait(5)  # never set if the vector is read only after the keyword ranking
        try:
            return real_keyword(*args, **kwargs)
        finally:
            ranking_done.set()

    monkeypatch.setattr(engine, "query_vector", vector)
    monkeypatch.setattr(engine, "keyword_ranking", keyword)
    together = search(bundled_index, "自监督 视觉", mode="hybrid", k=5)
    assert seen["waited"] and seen["keyword ran meanwhile"]
    assert seen["vector thread"] is not threading.current_thread()
    monkeypatch.setattr(engine, "query_vector", real_vector)
    monkeypatch.setattr(engine, "keyword_ranking", real_keyword)
    assert together.hits == search(bundled_index, "自监督 视觉", mode="hybrid", k=5).hits


def test_an_error_reading_the_vector_reaches_the_caller(bundled_index, monkeypatch):
    def failing(*args, **kwargs):
        raise RuntimeError("the model failed")

    monkeypatch.setattr(engine, "query_vector", failing)
    with pytest.raises(RuntimeError, match="the model failed"):
        search(bundled_index, "自监督 视觉", mode="hybrid", k=5)
    assert search(bundled_index, "自监督 视觉", mode="keyword", k=5).hits  # a keyword search reads no vector
