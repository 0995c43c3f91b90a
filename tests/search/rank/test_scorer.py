"""ArrayScorer's arithmetic where Whoosh is no reference: AndNot, AndMaybe below an And, BestField, the order of
`top`, the postings it keeps, and an index of no documents.

Its scores against Whoosh's own (terms, Or, And, AndMaybe, phrases, characters, ranges, field lengths) are checked
beside the keyword index, in tests/indexer/keyword/test_scores_against_whoosh.py.
"""

from __future__ import annotations

import pytest

from indexer import build
from indexer.keyword.reading import KeywordIndex
from search import open_index, search
from search.query.nodes import And, AndMaybe, AndNot, BestField, Character, Or, Term
from search.rank.scorer import ArrayScorer


def _array_scores(scorer: ArrayScorer, query) -> dict[int, float]:
    docs, scores = scorer.scores(query)
    assert list(docs) == sorted(set(docs.tolist()))
    return dict(zip(docs.tolist(), scores.tolist()))


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
    with KeywordIndex(bundled_index.folder) as keyword:
        assert ArrayScorer(keyword).top(query, 15) == top  # a scorer that has read nothing before


def test_the_postings_kept_stay_within_their_bound(bundled_index, monkeypatch):
    import search.rank.scorer

    monkeypatch.setattr(search.rank.scorer, "MAX_HELD_POSTINGS", 100)
    query = Or((Term("grams", "模型"), Term("body", "learning"), Term("grams", "学习")))
    with KeywordIndex(bundled_index.folder) as keyword:
        scorer = ArrayScorer(keyword)
        first = _array_scores(scorer, query)
        vocabulary = [(name, term) for name in ("title", "body", "grams") for term in keyword.lexicon(name)[::25]]
        assert len(vocabulary) > 40
        for name, text in vocabulary:
            scorer.scores(Term(name, text))
            assert scorer._postings.held == sum(len(docs) for docs, _tf in scorer._postings.values())
            assert scorer._postings.held <= 100 or len(scorer._postings) == 1
        assert _array_scores(scorer, query) == first


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
