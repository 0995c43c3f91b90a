"""`date:` and `year:` find notes by their front-matter date, in every mode, in an index updated many times."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.dates import date_number
from indexer import build
from search import open_index, search
from search.query.nodes import Dates
from search.query.syntax import DateRange, parse

NOTES = {
    "march.md": "---\ntitle: March\ndate: 2024-03-05\n---\n\nTomatoes planted in the greenhouse.\n",
    "june.md": "---\ndate: \"2024-06\"\n---\n\nTomatoes harvested at last.\n",
    "old.md": "---\ndate: 2023\n---\n\nTomatoes dreamt of in winter.\n",
    "chinese.md": "---\ndate: 2024年1月20日\n---\n\n番茄 tomatoes 育苗。\n",
    "undated.md": "Tomatoes without a date.\n",
    "wrong.md": "---\ndate: someday\n---\n\nTomatoes some day.\n",
}


@pytest.fixture(scope="module")
def dated(tmp_path_factory, embedder):
    notes = tmp_path_factory.mktemp("dated")
    for name, text in NOTES.items():
        (notes / name).write_text(text, encoding="utf-8")
    directory = str(tmp_path_factory.mktemp("dated-index") / "index")
    build([str(notes)], directory, embedder=embedder)
    with open_index(directory, embedder=embedder) as index:
        yield index


def files(index, query: str, mode: str = "keyword") -> set[str]:
    return {os.path.basename(hit.passage.path) for hit in search(index, query, mode=mode).hits}


@pytest.mark.parametrize("query, found", [
    ("date:2024", {"march.md", "june.md", "chinese.md"}),
    ("date:2024-03", {"march.md"}),
    ("date:2024-03-05", {"march.md"}),
    ("date:2024-03-06", set()),
    ("date:2024-01..2024-06", {"march.md", "june.md", "chinese.md"}),
    ("date:2024-02..2024-05", {"march.md"}),
    ("date:2024-04..", {"june.md"}),
    ("date:..2023-12", {"old.md"}),
    ("date:<2024-03", {"old.md", "chinese.md"}),
    ('date:"2024-06"', {"june.md"}),
    ("year:2023", {"old.md"}),
    ("year:2024", {"march.md", "june.md", "chinese.md"}),
    ("year:2023..2024", {"march.md", "june.md", "old.md", "chinese.md"}),
    ("tomatoes -date:2024", {"old.md", "undated.md", "wrong.md"}),
])
@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_dates_filter_by_the_front_matter_date(dated, query, found, mode):
    assert files(dated, query, mode) == found


@pytest.mark.parametrize("query, found", [
    ("tomatoes date:2024", {"march.md", "june.md", "chinese.md"}),
    ("tomatoes date:2024-03", {"march.md"}),
    ("tomatoes year:2023", {"old.md"}),
])
def test_dates_filter_semantic_hits(dated, query, found):
    # Semantic mode embeds the words; the date filters what they find.
    assert files(dated, query, "semantic") == found


def test_words_beside_a_date_rank_within_it(dated):
    hits = search(dated, "year:2023..2024 harvested", mode="keyword").hits
    assert os.path.basename(hits[0].passage.path) == "june.md"
    assert {os.path.basename(hit.passage.path) for hit in hits} == {"march.md", "june.md", "old.md", "chinese.md"}


def test_a_front_matter_date_is_kept_with_each_passage(dated):
    dates = {os.path.basename(p.path): p.date for p in dated.passages()}
    assert dates == {"march.md": "2024-03-05", "june.md": "2024-06", "old.md": "2023", "chinese.md": "2024-01-20",
                     "undated.md": "", "wrong.md": ""}


def test_a_value_that_is_no_date_is_left_out_and_says_so(dated):
    result = search(dated, "date:2024-13 tomatoes", mode="keyword")
    assert result.warnings == (("date:2024-13 is not a date like 2024, 2024-03 or 2024-03-01, or a range like "
                                "2024-01..2024-06 (month must be in 1..12): left out of the query"),)
    assert len(result.hits) == len(NOTES)
    assert parse("date:2024-03").root.children == (DateRange(20240300, 20240399),)


def test_dates_survive_a_rebuild_of_the_keyword_index(tmp_path, embedder):
    # A new learned word rebuilds the keyword index from the stored passages of the unchanged notes.
    notes = tmp_path / "notes"
    notes.mkdir()
    for name, text in NOTES.items():
        (notes / name).write_text(text, encoding="utf-8")
    directory = str(tmp_path / "index")
    build([str(notes)], directory, embedder=embedder)
    (notes / "words.md").write_text("**温室番茄**（greenhouse tomato）是新词。\n", encoding="utf-8")
    build([str(notes)], directory, embedder=embedder)
    with open_index(directory, embedder=embedder) as index:
        assert files(index, "date:2024-03") == {"march.md"}
        assert files(index, "year:2024") == {"march.md", "june.md", "chinese.md"}


def test_year_finds_the_notes_dated_in_it(bundled_index):
    # famous-deep-learning-papers.md is dated 2025-01-03 in its front matter; no paper is of 2025.
    hits = search(bundled_index, "year:2025", mode="keyword", k=200).hits
    assert hits and {os.path.basename(hit.passage.path) for hit in hits} == {"famous-deep-learning-papers.md"}
    assert len(hits) == len(search(bundled_index, "date:2025-01", mode="keyword", k=200).hits)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(low=st.one_of(st.none(), st.integers(0, 30_000_000)), high=st.one_of(st.none(), st.integers(0, 30_000_000)))
def test_a_date_range_matches_exactly_the_notes_dated_in_it(dated, low, high):
    """Checked against the dates the passages hold (Whoosh's NumericRange would match every note for ..2023)."""
    numbers = {doc: date_number(passage.date) for doc in range(dated.scorer.size)
               if (passage := dated.stored_passage(doc)).date}
    expected = {doc for doc, number in numbers.items()
                if (low is None or number >= low) and (high is None or number <= high)}
    docs, scores = dated.scorer.scores(Dates(low, high))
    assert set(docs.tolist()) == expected and set(scores.tolist()) <= {1.0}


@pytest.mark.parametrize("query", ["papers from the 1980s", "八十年代的论文", "1980年代 论文", "the 80s"])
@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_a_decade_in_a_question_finds_the_papers_of_its_years(bundled_index, query, mode):
    eighties = {p.paper.title for p in bundled_index.passages() if p.paper and 1980 <= p.paper.year <= 1989}
    assert len(eighties) >= 4
    hits = search(bundled_index, query, mode=mode).hits
    assert 1980 <= hits[0].passage.paper.year <= 1989
    assert eighties <= {h.passage.paper.title for h in hits if h.passage.paper}
