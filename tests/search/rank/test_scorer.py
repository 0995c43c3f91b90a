"""ArrayScorer gives Whoosh's own BM25F scores, whole posting lists at a time.

Checked against Whoosh's searcher (through scorer.whoosh_query) on the bundled
index and on an index of several segments with deleted documents (an
incremental update).
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer import build
from indexer.keyword import load_lengths
from search import open_index, search
from search.query.nodes import And, AndMaybe, AndNot, BestField, Character, Or, Phrase, Term, Years
from search.rank.scorer import K1, ArrayScorer, B, whoosh_query

FIELDS = ("title", "body", "section", "grams", "links")


@functools.lru_cache(maxsize=4)
def _vocabulary(searcher, size: int = 40) -> list[tuple[str, str]]:
    """Some (field, term) pairs of the index, frequent and rare, plus one it does not hold."""
    reader = searcher.reader()
    pairs = []
    for name in FIELDS:
        terms = [text.decode() if isinstance(text, bytes) else text for text in reader.lexicon(name)]
        pairs += [(name, term) for term in terms[:: max(1, len(terms) // size)]]
    return pairs + [("body", "nonexistentterm")]


def _whoosh_scores(searcher, query) -> dict[int, float]:
    return {hit.docnum: hit.score for hit in searcher.search(whoosh_query(query), limit=None)}


def _array_scores(scorer: ArrayScorer, query) -> dict[int, float]:
    docs, scores = scorer.scores(query)
    assert list(docs) == sorted(set(docs.tolist()))
    return dict(zip(docs.tolist(), scores.tolist()))


# Trees of terms (as indexes into a vocabulary, so failing examples stay short). Whoosh is no reference
# for two shapes, which are left out here and checked against term scores below:
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
    expected = _whoosh_scores(searcher, query)
    got = _array_scores(scorer, query)
    assert got.keys() == expected.keys()
    for doc, score in expected.items():
        assert got[doc] == pytest.approx(score, rel=1e-9, abs=1e-12)


def test_the_updated_index_has_segments_and_deletions(segmented_index):
    reader = segmented_index.searcher.reader()
    assert not reader.is_atomic() and reader.has_deletions()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=_TREES)
def test_scores_equal_whooshs_on_the_bundled_index(bundled_index, tree):
    query = _query(tree, _vocabulary(bundled_index.searcher))
    _check_equal(bundled_index.searcher, bundled_index.scorer, query)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=_TREES)
def test_scores_equal_whooshs_across_segments_with_deleted_documents(segmented_index, tree):
    query = _query(tree, _vocabulary(segmented_index.searcher))
    _check_equal(segmented_index.searcher, segmented_index.scorer, query)


def test_and_not_keeps_the_positive_scores_of_documents_without_the_negative(bundled_index):
    scorer = bundled_index.scorer
    positive, negative = Term("body", "network"), Term("body", "deep")
    expected = {doc: score for doc, score in _array_scores(scorer, positive).items()
                if doc not in set(scorer.matching(negative).tolist())}
    assert 0 < len(expected) < len(_array_scores(scorer, positive))
    assert _array_scores(scorer, AndNot(positive, negative)) == expected


def test_and_maybe_inside_and_adds_its_optional_side_wherever_it_matches(bundled_index):
    scorer = bundled_index.scorer
    a, b = Term("section", "学习"), Term("grams", "监督")
    each_a, each_b = _array_scores(scorer, a), _array_scores(scorer, b)
    expected = {doc: each_a[doc] + each_b[doc] + each_a[doc] for doc in each_a.keys() & each_b.keys()}
    assert expected
    got = _array_scores(scorer, And((a, AndMaybe(b, a))))
    assert got.keys() == expected.keys()
    assert all(got[doc] == pytest.approx(score) for doc, score in expected.items())


def test_an_excluded_word_removes_even_the_first_matching_passage(bundled_index):
    hits = search(bundled_index, "Accelerated -深度学习", mode="keyword").hits
    assert all("深度学习" not in f"{h.passage.title} {h.passage.section} {h.passage.text}" for h in hits)


def test_phrases_and_year_ranges_score_as_whoosh_scores_them(bundled_index):
    query = Or((Phrase("body", ("masked", "autoencoders")), Years(2012, 2015)))
    _check_equal(bundled_index.searcher, bundled_index.scorer, query)


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


@pytest.mark.parametrize("fixture", ["bundled_index", "segmented_index"])
def test_phrases_match_and_score_exactly_as_whooshs_phrase_query(fixture, request):
    index = request.getfixturevalue(fixture)
    phrases = _phrases(index.searcher)
    matched = 0
    for phrase in phrases:
        expected = _whoosh_scores(index.searcher, phrase)
        assert _array_scores(index.scorer, phrase) == expected, phrase
        matched += bool(expected)
    assert len(phrases) > 40 and matched > len(phrases) // 3
    assert {phrase.field for phrase in phrases} >= {"body", "grams"}


def test_best_field_counts_the_best_field_fully_and_the_others_by_the_tiebreak(bundled_index):
    scorer = bundled_index.scorer
    parts = (Term("title", "hinton", boost=2.0), Term("authors", "hinton", boost=2.0), Term("body", "hinton"))
    best_field = _array_scores(scorer, BestField(parts, tiebreak=0.1))
    each = [_array_scores(scorer, part) for part in parts]
    doc = max(best_field, key=lambda d: sum(1 for s in each if d in s))
    scores = sorted((s.get(doc, 0.0) for s in each), reverse=True)
    assert sum(1 for s in scores if s > 0) >= 2
    assert best_field[doc] == pytest.approx(scores[0] + 0.1 * sum(scores[1:]))


def test_top_orders_by_score_then_document_number(bundled_index):
    scorer = bundled_index.scorer
    query = Or((Term("grams", "模型"), Term("body", "learning")))
    top = scorer.top(query, 15)
    assert [(-score, doc) for doc, score in top] == sorted((-score, doc) for doc, score in top)
    everything = sorted((-score, int(doc)) for doc, score in _array_scores(scorer, query).items())
    assert [(-score, doc) for doc, score in top] == everything[:15]
    assert ArrayScorer(bundled_index.searcher, load_lengths(bundled_index.folder)).top(query, 15) == top


@pytest.mark.parametrize("fixture", ["bundled_index", "segmented_index"])
def test_field_lengths_read_at_once_equal_whooshs_per_document(request, fixture):
    index = request.getfixturevalue(fixture)
    for name in ("title", "authors", "section", "body", "grams", "links"):
        lengths = index.scorer.lengths(name)
        for sub, offset in index.scorer.leaves:
            reader = sub.reader()
            for doc in range(reader.doc_count_all()):
                assert lengths[offset + doc] == (reader.doc_field_length(doc, name, 1) or 1)


def test_the_postings_kept_stay_within_their_bound(bundled_index, monkeypatch):
    import search.rank.scorer

    scorer = ArrayScorer(bundled_index.searcher, load_lengths(bundled_index.folder))
    monkeypatch.setattr(search.rank.scorer, "MAX_HELD_POSTINGS", 100)
    query = Or((Term("grams", "模型"), Term("body", "learning"), Term("grams", "学习")))
    first = _array_scores(scorer, query)
    for name, text in _vocabulary(bundled_index.searcher):
        scorer.scores(Term(name, text))
        assert scorer._held == sum(len(docs) for docs, _tf in scorer._postings.values())
        assert scorer._held <= 100 or len(scorer._postings) == 1
    assert _array_scores(scorer, query) == first


@pytest.mark.parametrize("char", ["学", "网", "型", "络", "的"])
def test_a_character_scores_as_one_term_of_its_occurrences_in_the_passages(bundled_index, char):
    import math

    from whoosh.scoring import bm25

    from indexer.analysis import normalize
    from indexer.keyword import from_record

    searcher = bundled_index.searcher
    reader = searcher.reader()
    counts = {}
    for docnum, stored in reader.iter_docs():
        passage = from_record(stored["record"])
        text = " ".join(part for part in (passage.paper.title if passage.paper else "", passage.section, passage.text)
                        if part)
        if normalize(text)[0].count(char):
            counts[docnum] = normalize(text)[0].count(char)
    assert counts
    idf = math.log(reader.doc_count_all() / (len(counts) + 1)) + 1
    average = searcher.avg_field_length("grams")
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
    with open_index(directory, embedder=embedder) as index:
        phrases = [Phrase("grams", ("哈哈",) * n) for n in (2, 3, 4)] + \
                  [Phrase("body", ("test",) * n) for n in (2, 3, 4)] + [Phrase("body", ("test", "test", "and"))]
        found = []
        for phrase in phrases:
            expected = _whoosh_scores(index.searcher, phrase)
            assert _array_scores(index.scorer, phrase) == expected, phrase
            found.append(len(expected))
    assert found[0] >= 2 and found[1] >= 1 and found[2] == 0 and found[3] >= 2 and found[4] >= 1


@pytest.mark.parametrize("query", ["图", "图 像", "图像"])
def test_an_index_whose_notes_are_all_gone_finds_nothing_without_failing(notes_dir, tmp_path, embedder, query):
    # The last note removed leaves an index of no documents: a Chinese character searched in the gram field
    # must not take the log of 0 documents for its idf (found by test_crash_safety's incremental runs).
    notes = notes_dir({"a.md": "# 图\n\n图像识别的笔记。\n"})
    directory = str(tmp_path / "index")
    build([str(notes)], directory, embedder=embedder)
    (notes / "a.md").unlink()
    build([str(notes)], directory, embedder=embedder)
    with open_index(directory, embedder=embedder) as index:
        assert index.scorer.size == 0 or not index.scorer.alive.any()
        assert index.scorer.matching(Character("grams", "图")).size == 0
        for mode in ("keyword", "hybrid"):
            assert search(index, query, mode=mode, k=10).hits == ()
