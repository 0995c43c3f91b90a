"""The query language: fields, year ranges, phrases, exclusion, OR, and the fallback
for malformed queries (which never raises)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.analysis import Analyzer, char_grams
from indexer.keyword.documents import TEXT_FIELDS
from search.query.compiler import compile_query
from search.query.nodes import leaf_terms
from search.query.plan import plan_query
from search.query.syntax import MAX_QUERY_CHARS, FieldTerm, Group, Not, Quoted, Word, YearRange, parse


def children(query: str) -> tuple:
    return parse(query).root.children


@pytest.mark.parametrize("query, expected", [
    ("year:2015", (YearRange(2015, 2015),)),
    ("year:2012..2017", (YearRange(2012, 2017),)),
    ("year:2012..", (YearRange(2012, None),)),
    ("year:>2015", (YearRange(2016, None),)),
    ("author:hinton", (FieldTerm("authors", "hinton"),)),
    ('author:"Geoffrey Hinton"', (FieldTerm("authors", "Geoffrey Hinton", phrase=True),)),
    ("path:papers", (FieldTerm("path", "papers"),)),
    ('"quoted phrase"', (Quoted("quoted phrase"),)),
    ('"机器翻译"', (Quoted("机器翻译"),)),
    ("-exclude keep", (Not(Word("exclude")), Word("keep"))),
    ("NOT exclude keep", (Not(Word("exclude")), Word("keep"))),
    ("gan OR vae", (Group("OR", (Word("gan"), Word("vae"))),)),
    ("(gan OR vae) 2014", (Group("OR", (Word("gan"), Word("vae"))), Word("2014"))),
    ("自监督 视觉", (Word("自监督"), Word("视觉"))),
    ("ＧＰＴ-4", (Word("GPT-4"),)),
    ("x:y", (Word("x:y"),)),
])
def test_parse(query, expected):
    parsed = parse(query)
    assert parsed.root.children == expected
    assert parsed.warnings == ()


@pytest.mark.parametrize("query, words", [
    ('"unbalanced quote', ["unbalanced", "quote"]),
    ("(a b", ["a", "b"]),
    ("a b)", ["a", "b"]),
    ("NOT NOT x", ["x"]),
    ("--x", [Not(Word("x"))]),
    ("a OR", ["a"]),
    ("OR", []),
    ("(" * 1000 + "x" + ")" * 1000, ["x"]),
    ("transformer -bert (", ["transformer", Not(Word("bert"))]),  # an exclusion stays one in the fallback
    ('"attention -rnn', ["attention", Not(Word("rnn"))]),
])
def test_malformed_query_falls_back_to_its_words_with_a_warning(query, words):
    parsed = parse(query)
    assert parsed.root == Group("AND", tuple(Word(w) if isinstance(w, str) else w for w in words))
    assert parsed.warnings


@pytest.mark.parametrize("query", ["a (b", 'x --y "z', 'title:"BERT (large)" ok', "OR a", "a -b", "((((x", "-"])
def test_the_plain_words_of_any_query_parse_as_written_and_mean_its_fallback(query):
    from search.query.syntax import plain_query, readable

    plain = plain_query(query)
    assert readable(plain) and parse(plain).warnings == ()
    if not readable(query):
        assert parse(plain).root == parse(query).root


@pytest.mark.parametrize("query, expected, warning", [
    ("year:9999999999", (YearRange(10000, 10000),), "year:9999999999 is past 9999: no paper has such a year"),
    ("year:" + "9" * 900, (YearRange(10000, 10000),), "is past 9999"),
    ("year:>9999", (YearRange(10000, None),), "is past 9999"),
    ("year:2015..99999", (YearRange(2015, 10000),), None),
    ("year:00002015", (YearRange(2015, 2015),), None),
    ("year:<0", (YearRange(None, -1),), None),
    ("year:3000-1000", (YearRange(3000, 1000),), "runs backwards"),
    ("year:abc transformer", (Group("AND", ()), Word("transformer")), "year:abc is not a year"),
    ("year:abc..", (Group("AND", ()),), "left out of the query"),
    ("year:𐩀", (Group("AND", ()),), "left out of the query"),  # a digit int() cannot read
    ("year:２０１５", (YearRange(2015, 2015),), None),  # full-width digits are folded
])
def test_an_odd_year_value_is_a_warning_and_the_rest_of_the_query_stands(query, expected, warning):
    parsed = parse(query)
    assert parsed.root.children == expected
    if warning is None:
        assert parsed.warnings == ()
    else:
        assert len(parsed.warnings) == 1 and warning in parsed.warnings[0]


def test_very_long_query_is_cut_with_a_warning():
    parsed = parse("词" * 100_000)
    assert len(parsed.text) <= MAX_QUERY_CHARS
    assert parsed.warnings


def test_control_characters_separate_words():
    assert children("a\x00b\x07c\u200bd") == (Word("a"), Word("b"), Word("c"), Word("d"))


def test_words_lists_positive_terms_only():
    assert parse('gan -vae "机器翻译" author:hinton path:papers').words() == ["gan", "机器翻译", "hinton"]


def test_plain_query_is_plain_and_field_query_is_not():
    assert parse("自监督 视觉").is_plain()
    assert not parse("year:2015 gan").is_plain()


SYNTAX = ['"', "(", ")", "-", ":", " ", " OR ", " AND ", " NOT ", "year:", "author:", "path:", "..", "\x00",
          "\n", "图", "马克思", "GPT-4", "ＧＰＴ", "C++", "2015", "a", "\u200b", "（", "＂", "*", "\\"]
queries = st.lists(st.sampled_from(SYNTAX), max_size=20).map("".join) | st.text(max_size=30)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries)
def test_parser_never_raises_on_generated_queries(query):
    parsed = parse(query)
    assert isinstance(parsed.root, Group)
    assert all(isinstance(w, str) for w in parsed.warnings)
    assert all(isinstance(word, str) for word in parsed.words())


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory) -> Analyzer:
    return Analyzer(cache_dir=str(tmp_path_factory.mktemp("jieba")))


def _has_year_range(node) -> bool:
    if isinstance(node, YearRange):
        return True
    if isinstance(node, Not):
        return _has_year_range(node.node)
    return isinstance(node, Group) and any(_has_year_range(child) for child in node.children)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(queries)
def test_any_query_compiles_to_terms_its_plan_analysed(analyzer, query):
    plan = plan_query(query, analyzer)
    compiled = compile_query(plan)
    tokens = {t.text for analysis in plan.analyses.values() for t in analysis.tokens}
    words = tokens | {word for path in plan.path_words.values() for word in path}
    grams = {gram.text for text in (*plan.analyses, *tokens) for gram in char_grams(text)}
    leaves = list(leaf_terms(compiled)) if compiled is not None else []
    for field, text in leaves:
        assert field in TEXT_FIELDS and text in (grams if field == "grams" else words), (field, text)
    # Nothing searchable is left exactly when no word yields a term and no year range is asked for.
    assert (compiled is None) == (not words and not _has_year_range(plan.root))
    assert set(plan.marked) <= tokens
