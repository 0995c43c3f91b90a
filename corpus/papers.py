"""Rows of a table of papers → paper records (year, authors, title, note).

A table is a table of papers when its header has a year column and an
author/title column, like `|年份|作者/标题|注释|`. The title is the italic part
of the author/title cell; the authors are what comes before it. A table with
an authors column and a title column of their own (`| 年份 | 作者 | 标题 | 注释 |`,
`| Year | Authors | Title | Notes |`) is read by those headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.inline import link_labels
from corpus.model import Paper

_YEAR_HEADER = re.compile(r"年份|年代|^年$|year|date", re.IGNORECASE)
_WORK_HEADER = re.compile(r"作者|标题|论文|题目|author|title|paper", re.IGNORECASE)
_AUTHORS_HEADER = re.compile(r"作者|author", re.IGNORECASE)
_TITLE_HEADER = re.compile(r"标题|论文|题目|篇名|title|paper", re.IGNORECASE)
_NOTE_HEADER = re.compile(r"注释|注解|备注|说明|评论|简介|摘要|note|comment|remark|summary|description|abstract",
                          re.IGNORECASE)
# A paper title is at most this many characters.
MAX_TITLE = 300
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
# The title holds no mark of its own kind: so the scan from each mark stops at the next one, and a
# cell of `_a _a _a …` takes linear time (with `.+?` every mark scanned to the end of the cell).
_ITALIC = re.compile(r"(?<![*\w])(\*\*|\*|_)(?!\s)((?:(?!\1).)+?)(?<!\s)\1(?![*\w])")
_AUTHOR_SEPARATOR = re.compile(r"\s*(?:、|，|,|;|；|&|\band\b|和|与|及)\s*")
_TRAILING = " ，,:：;；.。"
# Four capitalised words or more with nothing between them are several names, not one.
MIN_RUN_OF_NAMES = 4
_CAPITALISED = re.compile(r"^[A-Z\u00c0-\u00de][\w'\u2019-]*[\W\d]*$")
_PIPE = re.compile(r"(?<!\\)\|")
_MARKUP = re.compile(r"\\?\*+|`+")


def split_row(row: str) -> list[str]:
    """The cells of a markdown table row (outer pipes dropped, `\\|` kept)."""
    row = row.strip()
    row = row.removeprefix("|")
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [cell.strip().replace("\\|", "|") for cell in _PIPE.split(row)]


@dataclass(frozen=True)
class PaperTable:
    """Which columns of a table hold the year, the authors/title (or the title alone) and the note.

    `authors` is the column of the authors when they have one of their own;
    `work` is then the title column. The note is the column headed like a
    note (`注释`, `Notes`), else the last other column.
    """

    year: int
    work: int
    note: int | None
    authors: int | None = None

    @classmethod
    def from_header(cls, header: list[str]) -> PaperTable | None:
        """The column layout if `header` is that of a table of papers, else None."""
        year = next((i for i, cell in enumerate(header) if _YEAR_HEADER.search(cell)), None)
        if year is None:
            return None
        others = [i for i in range(len(header)) if i != year]
        # A column headed by authors only and another by title only: read each by its header.
        authors = next((i for i in others if _AUTHORS_HEADER.search(header[i]) and not _TITLE_HEADER.search(header[i])),
                       None)
        title = next((i for i in others if _TITLE_HEADER.search(header[i]) and not _AUTHORS_HEADER.search(header[i])),
                     None)
        if authors is None or title is None:
            authors, title = None, next((i for i in others if _WORK_HEADER.search(header[i])), None)
        if title is None:
            return None
        rest = [i for i in others if i not in (title, authors)]
        note = next((i for i in rest if _NOTE_HEADER.search(header[i])), rest[-1] if rest else None)
        return cls(year, title, note, authors)

    def paper(self, cells: list[str]) -> Paper | None:
        """The paper of one row, or None if the row has no year or no title."""
        if max(self.year, self.work) >= len(cells):
            return None
        found = _YEAR.search(cells[self.year])
        work = link_labels(cells[self.work])
        if not found or not work.strip():
            return None
        italic = _ITALIC.search(work)
        if self.authors is not None:
            title = work.strip()
            if italic and italic.group() == title:  # the whole title set in italics
                title = italic.group(2).strip()
            authors_text = cells[self.authors] if self.authors < len(cells) else ""
        elif italic:
            title = italic.group(2).strip()
            authors_text = work[: italic.start()]
        else:
            title, authors_text = work.strip(), ""
        note = cells[self.note] if self.note is not None and self.note < len(cells) else ""
        if len(title) > MAX_TITLE:
            return None  # a cell of text, not a title
        return Paper(
            year=int(found.group(1)),
            authors=split_authors(authors_text),
            title=_plain(title),
            note=_plain(note),
        )


def split_authors(text: str) -> tuple[str, ...]:
    """Author names from `A、B和C` or `A, B and C`; names in a row with nothing between them
    (`Gongfan Fang Xinyin Ma Xinchao Wang`) two words a name (an odd last word joins the name before it)."""
    text = _plain(text).strip(_TRAILING)
    names = [name.strip(_TRAILING) for name in _AUTHOR_SEPARATOR.split(text)]
    names = [name for name in names if name]
    if len(names) == 1:
        words = names[0].split()
        if len(words) >= MIN_RUN_OF_NAMES and all(_CAPITALISED.match(word) for word in words):
            pairs = [" ".join(words[i:i + 2]) for i in range(0, len(words) - len(words) % 2, 2)]
            if len(words) % 2:
                pairs[-1] += " " + words[-1]
            return tuple(pairs)
    return tuple(names)


def _plain(text: str) -> str:
    """`text` without links, emphasis marks and code ticks."""
    return _MARKUP.sub("", link_labels(text)).strip()
