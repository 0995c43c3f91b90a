"""Dates: a note's front-matter date and a `date:` query value, as the numbers the index compares."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus.dates import date_number, date_range, note_date, year_range


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


@pytest.mark.parametrize("value, numbers", [
    ("2024", (20240000, 20249999)),
    ("2024-03", (20240300, 20240399)),
    ("2024/3", (20240300, 20240399)),
    ("2024-03-01", (20240301, 20240301)),
    ("2024-01..2024-06", (20240100, 20240699)),
    ("2024-03..", (20240300, None)),
    ("..2024-06", (None, 20240699)),
    (">2024-03", (20240400, None)),
    (">=2024-03", (20240300, None)),
    ("<2024", (None, 20239999)),
    ("<=2024-03-05", (None, 20240305)),
])
def test_date_range(value, numbers):
    assert date_range(value) == numbers


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


def test_year_range_covers_every_date_of_those_years():
    assert year_range(2012, 2017) == (20120000, 20179999)
    assert year_range(None, 2014) == (None, 20149999) and year_range(2015, None) == (20150000, None)
