"""indexer/keyword/segment/reader.py, the reading half of the Whoosh seam: each fast path gives what Whoosh's public API gives, and is the one taken."""

from __future__ import annotations

import numpy as np
import pytest
from whoosh_reference import whoosh_searcher

from indexer.keyword.segment import reader as postings


def _terms(reader, size: int = 80) -> list[tuple[str, bytes]]:
    """Some (field, term) pairs a segment holds, frequent and rare, from every text field."""
    pairs = []
    for name in ("title", "authors", "section", "body", "links", "grams", "path"):
        terms = list(reader.lexicon(name))
        pairs += [(name, term) for term in terms[:: max(1, len(terms) // size)]]
    return pairs


def _segments(searcher):
    return [sub.reader() for sub, _offset in searcher.leaf_searchers()]


@pytest.fixture(scope="module", params=["bundled_index", "segmented_index"])
def index(request):
    """Whoosh's searcher of an index's keyword folder (its segments are what the fast paths read)."""
    with whoosh_searcher(request.getfixturevalue(request.param).folder) as searcher:
        yield searcher


def test_the_segmented_index_has_several_segments_and_deleted_documents(segmented_index):
    with whoosh_searcher(segmented_index.folder) as searcher:
        readers = _segments(searcher)
        assert len(readers) == 2 and any(len(postings.deleted(reader)) for reader in readers)


def test_block_read_postings_equal_the_public_matchers(index, monkeypatch):
    def public_path_taken(matcher):
        raise AssertionError(f"the public path was taken for {matcher!r}")

    checked = 0
    for reader in _segments(index):
        for name, term in _terms(reader):
            expected = postings.public_postings(reader.postings(name, term))
            with monkeypatch.context() as patch:
                patch.setattr(postings, "public_postings", public_path_taken)
                ids, weights = postings.postings(reader, name, term)
            assert ids.tolist() == expected[0].tolist() and weights.tolist() == expected[1].tolist()
            checked += 1
    assert checked > 150


def test_deleted_documents_equal_the_public_answer(index, monkeypatch):
    for reader in _segments(index):
        expected = postings.public_deleted(reader)
        with monkeypatch.context() as patch:
            patch.setattr(postings, "public_deleted", lambda reader: pytest.fail("the public path was taken"))
            assert postings.deleted(reader).tolist() == expected.tolist()


def test_posting_blocks_are_read_without_unpickling_their_values(index, monkeypatch):
    # Every block of a field with positions is cut where its values start: none is unpickled whole.
    loads = postings.pickles.loads
    streams = []

    def recording(data):
        streams.append(data)
        return loads(data)

    monkeypatch.setattr(postings.pickles, "loads", recording)
    for reader in _segments(index):
        for name, term in _terms(reader):
            if name in ("body", "grams"):
                postings.postings(reader, name, term)
    assert len(streams) > 50 and all(data.endswith(postings._NO_VALUES) for data in streams)


def test_block_read_positions_equal_the_public_matchers(index, monkeypatch):
    checked = 0
    for reader in _segments(index):
        every = np.arange(reader.doc_count_all())
        for name, term in _terms(reader):
            if name not in ("title", "body", "grams"):
                continue
            holding = postings.public_postings(reader.postings(name, term))[0]
            # Some documents holding the term, and some that do not.
            for docs in (holding, holding[::3], np.union1d(holding[1::2], every[::7])):
                expected = postings.public_positions(reader.postings(name, term), docs)
                with monkeypatch.context() as patch:
                    patch.setattr(postings, "public_positions", lambda *args: pytest.fail("the public path was taken"))
                    owners, spots = postings.positions(reader, name, term, docs)
                assert owners.tolist() == expected[0].tolist() and spots.tolist() == expected[1].tolist()
                assert set(owners.tolist()) == set(docs.tolist()) & set(holding.tolist())
                checked += 1
    assert checked > 150
