"""The warm index a server keeps: the embedder it loads is prepared for many queries."""

from __future__ import annotations

from search.serve import warm


class Recording:
    """The session's embedder, noting whether it was prepared for many queries."""

    def __init__(self, inner):
        self.inner, self.prepared = inner, 0
        self.name, self.dim = inner.name, inner.dim

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def encode(self, texts):
        return self.inner.encode(texts)

    def encode_query(self, text):
        return self.inner.encode_query(text)

    def prepare_queries(self) -> None:
        self.prepared += 1


def test_a_server_prepares_the_embedder_it_loads_for_many_queries(bundled_index_dir, embedder, monkeypatch):
    loaded = []
    monkeypatch.setattr(warm, "load_embedder", lambda name: loaded.append(Recording(embedder)) or loaded[-1])
    notes = warm.WarmIndex(bundled_index_dir)
    try:
        assert [recording.prepared for recording in loaded] == [1]
        assert notes.search("注意力", "hybrid", 3, False, bundled_index_dir)["answer"]
    finally:
        notes.close()


def test_a_given_embedder_is_used_as_given(bundled_index_dir, embedder):
    given = Recording(embedder)
    notes = warm.WarmIndex(bundled_index_dir, given)
    try:
        assert given.prepared == 0
    finally:
        notes.close()
