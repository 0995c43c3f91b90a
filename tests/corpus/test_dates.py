"""Dates: a note's front-matter date and a `date:` query value, as the numbers the index compares."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus.dates import date_number, date_range, decades, note_date, year_range


@pytest.mark.parametrize("text, date", [
    ("2024-03-01", "2024-03-01"),
    ("2024-03-01 10:00:00", "2024-03-01"),  # YAML reads this as a datetime
    ("2024-03-01T10:00:00+08:00", "2024-03-01"),
    ("2024/3/1", "2024-03-01"),
    ("2024.03.01", "2024-03-01"),
    ("2024年3月1日", "2024-03-01"),
    ("2024-03", "2024-03"),
    ("2024", "2024"),
    ("2024-13-01", ""),
    ("2024-02-30", ""),
    ("20240301", ""),
    ("March 2024", ""),
    ("", ""),
])
def test_note_date(text, date):
    assert note_date(text) == date


def holds(low: int | None, high: int | None, date: str) -> bool:
    """Whether the note date `date` (as a note's front matter gives it) lies in the range low..high."""
    number = date_number(note_date(date))
    return (low is None or low <= number) and (high is None or number <= high)


@pytest.mark.parametrize("value, inside, outside", [
    ("2024", ["2024-01-01", "2024-12-31", "2024-03", "2024"], ["2023-12-31", "2025-01-01", "2025"]),
    ("2024-03", ["2024-03-01", "2024-03-31", "2024-03"], ["2024-02-29", "2024-04-01", "2024"]),
    ("2024/3", ["2024-03-15"], ["2024-04-01"]),
    ("2024-03-01", ["2024-03-01"], ["2024-02-29", "2024-03-02", "2024-03", "2024"]),
    ("2024-01..2024-06", ["2024-01-01", "2024-06-30", "2024-04"], ["2023-12-31", "2024-07-01", "2024"]),
    ("2024-03..", ["2024-03-01", "2031-01-01", "2025"], ["2024-02-29"]),
    ("..2024-06", ["1999-01-01", "2024-06-30"], ["2024-07-01"]),
    (">2024-03", ["2024-04-01"], ["2024-03-31", "2024-03"]),
    (">=2024-03", ["2024-03-01", "2024-03"], ["2024-02-29"]),
    ("<2024", ["2023-12-31", "2023"], ["2024-01-01", "2024"]),
    ("<=2024-03-05", ["2024-03-05"], ["2024-03-06"]),
])
def test_a_date_value_holds_the_note_dates_it_names(value, inside, outside):
    low, high = date_range(value)
    assert [date for date in inside if not holds(low, high, date)] == []
    assert [date for date in outside if holds(low, high, date)] == []


@pytest.mark.parametrize("value", ["2024-13", "2024-02-30", "x", "..", "2024-06..2024-01", "24", "2024-03-01x"])
def test_a_value_that_is_no_date_is_refused(value):
    with pytest.raises(ValueError):
        date_range(value)


dates = st.dates(min_value=datetime.date(1000, 1, 1), max_value=datetime.date(9999, 12, 31))


@given(dates, dates, st.sampled_from(["year", "month", "day"]))
def test_a_note_date_is_in_a_query_range_exactly_when_the_day_is(note, query, precision):
    # A full note date against a query date of any precision: in it when the query's year (month, day) agree.
    value = {"year": f"{query:%Y}", "month": f"{query:%Y-%m}", "day": f"{query:%Y-%m-%d}"}[precision]
    low, high = date_range(value)
    inside = low <= date_number(note_date(f"{note:%Y-%m-%d}")) <= high
    width = {"year": 4, "month": 7, "day": 10}[precision]
    assert inside == (f"{note:%Y-%m-%d}"[:width] == f"{query:%Y-%m-%d}"[:width])


@given(dates, dates)
def test_a_note_dated_by_year_or_month_is_only_in_ranges_that_hold_all_of_it(note, query):
    month = date_number(note_date(f"{note:%Y-%m}"))
    low, high = date_range(f"{query:%Y-%m-%d}")
    assert not low <= month <= high  # a day never holds a whole month
    low, high = date_range(f"{query:%Y}")
    assert (low <= month <= high) == (note.year == query.year)


@pytest.mark.parametrize("first, last, inside, outside", [
    (2012, 2017, ["2012-01-01", "2017-12-31", "2014", "2015-06"], ["2011-12-31", "2018-01-01", "2018"]),
    (None, 2014, ["1990-01-01", "2014-12-31", "2014"], ["2015-01-01"]),
    (2015, None, ["2015-01-01", "2030"], ["2014-12-31", "2014"]),
])
def test_year_range_covers_every_date_of_those_years(first, last, inside, outside):
    low, high = year_range(first, last)
    assert [date for date in inside if not holds(low, high, date)] == []
    assert [date for date in outside if holds(low, high, date)] == []


@given(st.sampled_from(range(1930, 2030, 10)),
       st.sampled_from(["{d}s", "the {d}s", "{d}'s", "{d}年代", "{d} 年代的论文", "{y}s", "’{y}s", "{y}年代", "{h}十年代"]))
def test_a_decade_is_read_as_its_ten_years_however_written(decade, form):
    if ("{y}" in form or "{h}" in form) and not 1930 <= decade <= 1990:
        return  # two-digit and Chinese-numeral decades are read as the twentieth century's
    text = form.format(d=decade, y=decade % 100, h="零一二三四五六七八九"[decade % 100 // 10])
    ((start, end, first, last),) = decades(text)
    assert (first, last) == (decade, decade + 9)
    assert text[start:end].rstrip() in (text.removeprefix("the ").removesuffix("的论文"), text.removesuffix("的论文"))


@pytest.mark.parametrize("text, found", [
    ("papers from the 1990s", [(16, 21, 1990, 1999)]),
    ("the 80s and ’90s", [(4, 7, 1980, 1989), (12, 16, 1990, 1999)]),
    ("上世纪八十年代的神经网络论文", [(0, 7, 1980, 1989)]),
    ("二十世纪九十年代", [(0, 8, 1990, 1999)]),
    ("90年代的论文", [(0, 4, 1990, 1999)]),
    ("1990s的论文", [(0, 5, 1990, 1999)]),
    ("ResNet50s", []),  # a model's name, not a decade
    ("每轮 10s", []),  # seconds: two-digit decades are only the 1930s to 1990s
    ("3.50s", []),
    ("2014 年的论文", []),  # a year, not a decade: the word 2014 finds it
])
def test_decades_a_question_names(text, found):
    assert decades(text) == found
