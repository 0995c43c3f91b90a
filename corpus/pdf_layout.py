"""A PDF's lines → paragraphs, headings and a title: the layout corpus/pdf.py and corpus/pdf_paper.py read.

A paragraph ends where the gap to the next line is clearly wider than the
document's line spacing (PARAGRAPH_GAP) or the font size changes; a table row
whose cells come one after another, each higher up than the cell before ends
and to its right, stays one paragraph (ROW_REACH). Text clearly larger than the
body's (HEADING_SIZE) is a heading.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from itertools import pairwise

# A line this much larger than the body's font is a heading; a gap this much wider than the usual line
# spacing ends a paragraph.
HEADING_SIZE = 1.15
PARAGRAPH_GAP = 1.3
# A table row's next cell starts at most this many font sizes above the highest line of the row so far.
ROW_REACH = 8
# A metadata title that names the file the PDF was printed from, or no title at all.
FILE_NAME = re.compile(r"\.(?:md|markdown|txt|html?|docx?|tex|pdf|ipynb|org)$|^microsoft word - ", re.IGNORECASE)
NO_TITLE = re.compile(r"^(?:untitled(?: document)?|anonymous|none)?$", re.IGNORECASE)
LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Line:
    """One line of a page: its text, where it starts (x, and y from the bottom of the page) and its font size."""

    text: str
    x: float
    y: float
    size: float


@dataclass(frozen=True)
class PdfText:
    """What the child read: each page's lines, and the document's metadata (title, author, …)."""

    pages: list[list[Line]]
    meta: dict[str, str]


def named_title(title: str) -> str:
    """A metadata title that is a document's title: not empty, `Untitled`, or the name of a file."""
    title = title.strip()
    return "" if NO_TITLE.match(title) or FILE_NAME.search(title) else title


def body_size(pages: list[list[Line]]) -> float:
    """The font size most of the text is set in (weighed by characters)."""
    weights: dict[float, int] = {}
    for page in pages:
        for line in page:
            weights[round(line.size, 1)] = weights.get(round(line.size, 1), 0) + len(line.text)
    return max(weights, key=weights.get) if weights else 0.0


def line_pitch(pages: list[list[Line]]) -> float:
    """The usual distance from one line to the next, over the font size (the document's line spacing)."""
    ratios = [(a.y - b.y) / b.size for page in pages for a, b in pairwise(page)
              if b.size and 0 < a.y - b.y < 4 * b.size and abs(a.size - b.size) < 0.5]
    return statistics.median(ratios) if ratios else 1.2


def paragraphs(page: list[Line], pitch: float) -> list[tuple[int, list[Line]]]:
    """The paragraphs of a page: (the number of its first line, its lines)."""
    out: list[tuple[int, list[Line]]] = []
    for number, line in enumerate(page, 1):
        if not line.text.strip():
            continue
        if out:
            last = out[-1][1][-1]
            gap = last.y - line.y
            same_size = abs(line.size - last.size) < 0.1 * max(line.size, last.size, 1)
            next_line = same_size and 0 < gap <= PARAGRAPH_GAP * pitch * max(line.size, last.size)
            # A table row's next cell starts to the right of the cell before and higher up than its last line
            # (cells are centred in their row), but not as high as a new column's top.
            highest = max(part.y for part in out[-1][1])
            next_cell = (same_size and line.x > last.x + 0.5 * line.size and line.y > last.y
                         and line.y - highest <= ROW_REACH * line.size)
            if next_line or next_cell:
                out[-1][1].append(line)
                continue
        out.append((number, [line]))
    return out


def first_heading(pages: list[list[Line]], body: float) -> str:
    """The first line set larger than the body, with the lines after it in the same size (a title on two)."""
    for page in pages[:2]:
        for n, line in enumerate(page):
            if line.size >= HEADING_SIZE * body and LETTER.search(line.text):
                parts = [line.text.strip()]
                for after in page[n + 1:n + 3]:
                    if abs(after.size - line.size) > 0.1:
                        break
                    parts.append(after.text.strip())
                return " ".join(parts)
    return ""
