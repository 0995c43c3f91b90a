"""What the keyword index hands the scorer (postings, positions, idf, lengths, ranges) gives Whoosh's own BM25F.

search/rank/scorer.py scores notesearch's query nodes from what KeywordIndex reads, whole posting lists at a
time; here its scores are checked against Whoosh's searcher (through whoosh_reference.whoosh_query) on the
bundled index and on an index of several segments with deleted documents (an incremental update).
"""

from __future__ import annotations

import functools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh.scoring import bm25
from whoosh_reference import whoosh_scores, whoosh_searcher

from indexer import build
from indexer.analysis import normalize
from indexer.keyword.documents import from_record
from search import open_index
from search.query.nodes import And, AndMaybe, Character, Or, Phrase, Term, Years
from search.rank.scorer import K1, ArrayScorer, B

FIELDS = ("title", "body", "section", "grams", "links")


@pytest.fixture(scope="module")
def bundled_whoosh(bundled_index):
    with whoosh_searcher(bundled_index.folder) as searcher:
        yield searcher


@pytest.fixture(scope="module")
def segmented_whoosh(segmented_index):
    with whoosh_searcher(segmented_index.folder) as searcher:
        yield searcher


@functools.lru_cache(maxsize=4)
def _vocabulary(searcher, size: int = 40) -> list[tuple[str, str]]:
    """Some (field, term) pairs of the index, frequent and rare, plus one it does not hold."""
    reader = searcher.reader()
    pairs = []
    for name in FIELDS:
        terms = [text.decode() if isinstance(text, bytes) else text for text in reader.lexicon(name)]
        pairs += [(name, term) for term in terms[:: max(1, len(terms) // size)]]
    return pairs + [("body", "nonexistentterm")]


def _array_scores(scorer: ArrayScorer, query) -> dict[int, float]:
    docs, scores = scorer.scores(query)
    assert list(docs) == sorted(set(docs.tolist()))
    return dict(zip(docs.tolist(), scores.tolist()))


# Trees of terms (as indexes into a vocabulary, so failing examples stay short). Whoosh is no reference
# for two shapes, which are left out here and checked against term scores in tests/search/rank/test_scorer.py:
# - AndNot: its AndNotMatcher returns its first positive document even when the negative side holds it
#   (its _find_first skips only on equal ids);
# - AndMaybe below an And: after skip_to, AndMaybeMatcher scores a document without its optional side
#   (And(a, AndMaybe(b, a)) gave a + b instead of a + b + a). At the root, as the compiler builds it, it is fine.
_BRANCHES = st.recursive(
    st.tuples(st.integers(0, 10**6), st.sampled_from([1.0, 0.5, 2.0])),
    lambda inner: st.one_of(
        st.tuples(st.just("or"), st.lists(inner, min_size=1, max_size=4)),
        st.tuples(st.just("and"), st.lists(inner, min_size=1, max_size=3)),
    ), max_leaves=8)
_TREES = st.one_of(_BRANCHES, st.tuples(st.just("maybe"), st.lists(_BRANCHES, min_size=2, max_size=2)))


def _query(tree, vocabulary):
    if isinstance(tree[0], int):
        (name, text), boost = vocabulary[tree[0] % len(vocabulary)], tree[1]
        return Term(name, text, boost=boost)
    kind, children = tree
    subs = tuple(_query(child, vocabulary) for child in children)
    return {"or": Or, "and": And, "maybe": lambda ab: AndMaybe(*ab)}[kind](subs)


def _check_equal(searcher, scorer, query):
    expected = whoosh_scores(searcher, query)
    got = _array_scores(scorer, query)
    assert got.keys() == expected.keys()
    for doc, score in expected.items():
        assert got[doc] == pytest.approx(score, rel=1e-9, abs=1e-12)


def test_the_updated_index_has_segments_and_deletions(segmented_whoosh):
    reader = segmented_whoosh.reader()
    assert not reader.is_atomic() and reader.has_deletions()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=_TREES)
def test_scores_equal_whooshs_on_the_bundled_index(bundled_index, bundled_whoosh, tree):
    query = _query(tree, _vocabulary(bundled_whoosh))
    _check_equal(bundled_whoosh, bundled_index.scorer, query)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=_TREES)
def test_scores_equal_whooshs_across_segments_with_deleted_documents(segmented_index, segmented_whoosh, tree):
    query = _query(tree, _vocabulary(segmented_whoosh))
    _check_equal(segmented_whoosh, segmented_index.scorer, query)


def test_a_phrase_scores_as_whooshs_and_a_year_range_adds_1_to_each_paper_of_its_years(bundled_index, bundled_whoosh):
    # The year range is answered by the keyword index itself: its reference is the years the papers hold.
    phrase = next(p for p in _phrases(bundled_whoosh) if p.field == "body" and whoosh_scores(bundled_whoosh, p))
    expected = whoosh_scores(bundled_whoosh, phrase)
    years = [doc for doc in range(bundled_index.scorer.size) if (passage := bundled_index.stored_passage(doc)).paper
             and 2012 <= passage.paper.year <= 2015]
    assert expected and len(years) >= 4
    for doc in years:
        expected[doc] = expected.get(doc, 0.0) + 1.0
    got = _array_scores(bundled_index.scorer, Or((phrase, Years(2012, 2015))))
    assert got.keys() == expected.keys()
    assert all(got[doc] == pytest.approx(score, rel=1e-9) for doc, score in expected.items())


@functools.lru_cache(maxsize=4)
def _phrases(searcher, count: int = 60) -> list[Phrase]:
    """Runs of 2 to 4 terms as they follow each other in passages, and the same runs reversed (which mostly miss)."""
    reader = searcher.reader()
    phrases = []
    for name in ("title", "body", "grams"):
        at: dict[tuple[int, int], bytes] = {}  # (document, position) → term, of a few documents
        for term in reader.lexicon(name):
            for doc, spots in reader.postings(name, term).items_as("positions"):
                if doc % 5 == 0:
                    at.update(((doc, spot), term) for spot in spots)
        for (doc, spot), term in sorted(at.items())[:: max(1, len(at) // count)]:
            run = [term]
            while len(run) < 2 + spot % 3 and (doc, spot + len(run)) in at:
                run.append(at[(doc, spot + len(run))])
            if len(run) > 1:
                words = tuple(word.decode() for word in run)
                phrases += [Phrase(name, words, boost=(1.0, 0.4, 2.0)[spot % 3]), Phrase(name, words[::-1])]
    return phrases


@pytest.mark.parametrize("which", ["bundled", "segmented"])
def test_phrases_match_and_score_exactly_as_whooshs_phrase_query(which, request):
    index, searcher = request.getfixturevalue(f"{which}_index"), request.getfixturevalue(f"{which}_whoosh")
    phrases = _phrases(searcher)
    matched = 0
    for phrase in phrases:
        expected = whoosh_scores(searcher, phrase)
        assert _array_scores(index.scorer, phrase) == expected, phrase
        matched += bool(expected)
    assert len(phrases) > 40 and matched > len(phrases) // 3
    assert {phrase.field for phrase in phrases} >= {"body", "grams"}


@pytest.mark.parametrize("which", ["bundled", "segmented"])
def test_field_lengths_read_at_once_equal_whooshs_per_document(which, request):
    index, searcher = request.getfixturevalue(f"{which}_index"), request.getfixturevalue(f"{which}_whoosh")
    for name in ("title", "authors", "section", "body", "grams", "links"):
        lengths = index.scorer.lengths(name)
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            for doc in range(reader.doc_count_all()):
                assert lengths[offset + doc] == (reader.doc_field_length(doc, name, 1) or 1)


@pytest.mark.parametrize("char", ["学", "网", "型", "络", "的"])
def test_a_character_scores_as_one_term_of_its_occurrences_in_the_passages(bundled_index, bundled_whoosh, char):
    reader = bundled_whoosh.reader()
    counts = {}
    for docnum, stored in reader.iter_docs():
        passage = from_record(stored["record"])
        text = " ".join(part for part in (passage.paper.title if passage.paper else "", passage.section, passage.text)
                        if part)
        if normalize(text)[0].count(char):
            counts[docnum] = normalize(text)[0].count(char)
    assert counts
    idf = math.log(reader.doc_count_all() / (len(counts) + 1)) + 1
    average = bundled_whoosh.avg_field_length("grams")
    expected = {doc: 0.5 * bm25(idf, tf, reader.doc_field_length(doc, "grams"), average, B, K1)
                for doc, tf in counts.items()}
    got = _array_scores(bundled_index.scorer, Character("grams", char, boost=0.5))
    assert got.keys() == expected.keys()
    assert all(got[doc] == pytest.approx(score) for doc, score in expected.items())


def test_phrases_with_a_repeated_word_match_and_score_as_whooshs(notes_dir, tmp_path, embedder):
    # A run of one character (哈哈哈哈: the gram 哈哈 three times) and words repeated in a row: each word of the
    # phrase must sit at its own place, not one occurrence standing for two.
    notes = notes_dir({"a.md": "# 哈哈\n\n哈哈哈哈，天天向上。\n\ntest test test and test.\n",
                       "b.md": "# b\n\n哈哈哈，好好学习。\n\ntest and test.\n",
                       "c.md": "# c\n\n哈哈，天天。 test.\n"})
    directory = str(tmp_path / "index")
    build([str(notes)], directory, embedder=embedder)
    with open_index(directory, embedder=embedder) as index, whoosh_searcher(index.folder) as searcher:
        phrases = [Phrase("grams", ("哈哈",) * n) for n in (2, 3, 4)] + \
                  [Phrase("body", ("test",) * n) for n in (2, 3, 4)] + [Phrase("body", ("test", "test", "and"))]
        found = []
        for phrase in phrases:
            expected = whoosh_scores(searcher, phrase)
            assert _array_scores(index.scorer, phrase) == expected, phrase
            found.append(len(expected))
    assert found[0] >= 2 and found[1] >= 1 and found[2] == 0 and found[3] >= 2 and found[4] >= 1
