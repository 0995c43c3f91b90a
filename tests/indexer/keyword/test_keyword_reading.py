"""KeywordIndex, the keyword index as the search stage reads it, gives what Whoosh's public API gives: its counts
and live documents, the passage under a document number or an id, and the passages of a file, on the bundled index
and on one of two segments with deleted documents."""

from __future__ import annotations

import pytest
from whoosh_reference import whoosh_searcher

from corpus.errors import KeywordIndexError
from indexer.keyword.documents import from_record
from indexer.keyword.reading import KeywordIndex


@pytest.fixture(scope="module", params=["bundled_index", "segmented_index"])
def both(request):
    """(KeywordIndex, Whoosh's searcher) of one index's committed generation."""
    folder = request.getfixturevalue(request.param).folder
    with KeywordIndex(folder) as keyword, whoosh_searcher(folder) as searcher:
        yield keyword, searcher


def test_counts_and_live_documents_are_whooshs(both):
    keyword, searcher = both
    assert (keyword.size, keyword.live) == (searcher.doc_count_all(), searcher.doc_count())
    assert keyword.segments == len(searcher.leaf_searchers())
    deleted = [offset + doc for sub, offset in searcher.leaf_searchers() for doc in range(sub.doc_count_all())
               if sub.reader().is_deleted(doc)]
    assert [n for n, live in enumerate(keyword.alive().tolist()) if not live] == deleted


def test_the_segmented_index_has_deleted_documents(segmented_index):
    with KeywordIndex(segmented_index.folder) as keyword:
        assert keyword.segments == 2 and keyword.live < keyword.size


def test_a_document_number_gives_the_passage_and_id_whoosh_stores(both):
    keyword, searcher = both
    for number in range(keyword.size):
        stored = searcher.stored_fields(number)
        assert keyword.passage(number) == from_record(stored["record"])
        assert keyword.passage_id(number) == stored["id"]


def test_an_id_gives_its_live_passage_and_nothing_else(both):
    keyword, searcher = both
    live = {stored["id"]: from_record(stored["record"]) for stored in searcher.all_stored_fields()}
    assert live and all(keyword.passage_by_id(passage_id) == passage for passage_id, passage in live.items())
    gone = {keyword.passage_id(number) for number in range(keyword.size) if not keyword.alive()[number]} - set(live)
    assert all(keyword.passage_by_id(passage_id) is None for passage_id in gone)
    assert keyword.passage_by_id("no/such/note.md:1:1:0") is None


def test_the_passages_of_a_file_are_its_live_documents(both):
    keyword, searcher = both
    files = {stored["file"] for stored in searcher.all_stored_fields()}
    assert files
    for path in files:
        numbers = keyword.numbers_of(path)
        assert numbers == list(searcher.document_numbers(file=path)) and all(keyword.alive()[numbers])
        assert keyword.passages({path}) == [keyword.passage(number) for number in numbers]
    assert keyword.passages() == [from_record(stored["record"]) for stored in searcher.all_stored_fields()]
    assert keyword.numbers_of("no/such/note.md") == []


def test_a_folder_without_a_keyword_index_raises_the_packages_own_error(tmp_path):
    with pytest.raises(KeywordIndexError) as refused:
        KeywordIndex(str(tmp_path))
    assert refused.value.directory == str(tmp_path / "keyword")
