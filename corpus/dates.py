"""Dates as notes and queries give them: a note's front-matter `date:` and a `date:` query value.

A date is kept as the number yyyymmdd, with 00 for a month or a day the date
does not give: `2024` is 20240000, `2024-03` is 20240300, `2024-03-01` is
20240301. A query value stands for the range of numbers of every date within
it: `date:2024-03` is 20240300..20240399, so a note dated 2024-03-05, or just
2024-03, is in it, and a note dated only 2024 is not (it may be another month).
"""

from __future__ import annotations

import datetime
import re

# A front-matter date: 2024, 2024-03, 2024-03-01, with - / . or 年月日 between, and anything after the day
# (a time, a time zone). YAML reads an unquoted 2024-03-01 as a date, which prints as 2024-03-01.
_NOTE_DATE = re.compile(r"\s*(\d{4})(?:\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2}))?)?(?!\d)")
# A query date: the whole value is one.
_QUERY_DATE = re.compile(r"(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?")
_RANGE = re.compile(r"(.*?)\.\.(.*)")


def _number(year: str, month: str | None, day: str | None) -> int:
    """yyyymmdd of a date, 00 for what it does not give; raises ValueError for a date that does not exist."""
    y, m, d = int(year), int(month or 0), int(day or 0)
    datetime.date(max(y, 1), m or 1, d or 1)  # raises ValueError: month 13, 30 February, year 0
    if d and not m:
        raise ValueError("a day without a month")
    return y * 10000 + m * 100 + d


def note_date(text: str) -> str:
    """A front-matter date as `2024`, `2024-03` or `2024-03-01`; empty when it is none."""
    match = _NOTE_DATE.match(text)
    if not match:
        return ""
    try:
        _number(*match.groups())
    except ValueError:
        return ""
    year, month, day = match.groups()
    return "-".join([year] + [f"{int(part):02d}" for part in (month, day) if part])


def date_number(date: str) -> int:
    """The number of a date as note_date gives it (`2024-03` → 20240300)."""
    year, _sep, rest = date.partition("-")
    month, _sep, day = rest.partition("-")
    return _number(year, month or None, day or None)


def _bounds(value: str) -> tuple[int, int]:
    """The first and last number of the dates within a query date (`2024-03` → 20240300, 20240399)."""
    match = _QUERY_DATE.fullmatch(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a date")
    year, month, day = match.groups()
    low = _number(year, month, day)
    return low, low + (0 if day else 99 if month else 9999)


def date_range(value: str) -> tuple[int | None, int | None]:
    """The numbers (first, last) of the dates a `date:` value stands for; None for an open end.

    `2024`, `2024-03`, `2024-03-01` (or with `/`), a range `2024-01..2024-06`
    with either end left open (`2024-03..`), or `>2024-03`, `>=`, `<`, `<=`.
    Raises ValueError for anything else.
    """
    value = value.strip()
    ranged = _RANGE.fullmatch(value)
    if ranged:
        first, last = ranged.group(1).strip(), ranged.group(2).strip()
        if not (first or last):
            raise ValueError("a range needs at least one end")
        low = _bounds(first)[0] if first else None
        high = _bounds(last)[1] if last else None
        if low is not None and high is not None and low > high:
            raise ValueError("the range ends before it starts")
        return low, high
    for op in (">=", "<=", ">", "<"):
        if value.startswith(op):
            low, high = _bounds(value[len(op):])
            return {">=": (low, None), "<=": (None, high), ">": (high + 1, None), "<": (None, low - 1)}[op]
    return _bounds(value)


def year_range(low: int | None, high: int | None) -> tuple[int | None, int | None]:
    """The numbers of the dates within the years low..high (either open): what `year:` matches of note dates."""
    return (low * 10000 if low is not None else None, high * 10000 + 9999 if high is not None else None)


# A decade as a question names it: 1990s, 1990年代, the 90s, ’80s, 80 年代, 八十年代, 上世纪八十年代, 二十世纪九十年代.
# Two-digit decades are read as the 1930s–1990s only (`10s` or `20s` may be seconds, and which century?).
_DECADE = re.compile(
    r"(?:(?:上个?世纪|二十世纪|20\s*世纪)\s*)?(?P<han>[三四五六七八九])十\s*年代"
    r"|(?<![\dA-Za-z])(?P<full>(?:1[89]|20)\d0)\s*(?:['’]?s(?![A-Za-z])|年代)"
    r"|(?<![\d.A-Za-z])['’]?(?P<short>[3-9]0)\s*(?:['’]?s(?![A-Za-z])|年代)"
)
_HAN_DIGITS = {digit: n for n, digit in enumerate("零一二三四五六七八九")}


def decades(text: str) -> list[tuple[int, int, int, int]]:
    """The decades `text` names: (start, end) of each mention in it, and its first and last year.

    `papers from the 1990s` → [(16, 21, 1990, 1999)]; `上世纪八十年代的论文` → [(0, 7, 1980, 1989)].
    """
    out = []
    for match in _DECADE.finditer(text):
        if match["han"]:
            first = 1900 + 10 * _HAN_DIGITS[match["han"]]
        elif match["full"]:
            first = int(match["full"])
        else:
            first = 1900 + int(match["short"])
        out.append((match.start(), match.end(), first, first + 9))
    return out
