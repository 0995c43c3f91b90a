"""A Jupyter notebook (`.ipynb`) → a Note and its passages, read with nbformat.

Markdown cells are read as Markdown (corpus/markdown.py: headings, lists,
tables), their headings the sections of every cell after them; code cells are
code passages; of the outputs only short text ones are kept (OUTPUT_LINES,
OUTPUT_CHARS), never images or HTML. Each passage's region is its cell (`c5`,
the fifth cell, counting every cell from 1), and its lines are lines of that
cell: its source, then the text of its kept outputs, as `cell_lines` gives them
(what `get` shows). The notebook's title is its first level-1 heading, else its
first heading, else its file name.

The cells are read as one Markdown text, each cell after a blank line, a code
cell inside a fence longer than any its source holds, and a fence a Markdown
cell leaves open closed after it, so no block runs from one cell into the next;
each line of that text remembers the cell line it came from.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from corpus.decoding import decode
from corpus.frontmatter import text_of
from corpus.markdown import passages_of
from corpus.model import Note, Passage
from corpus.text import FENCE

# An output is kept when its text is at most this long: a printed value or a short table, not a log.
OUTPUT_LINES = 20
OUTPUT_CHARS = 1000
# A value's text that only names an object shown otherwise (`<Figure size 640x480 with 1 Axes>`).
_OBJECT_REPR = re.compile(r"^<[^<>\n]*>$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")


def read_notebook(path: str, data: bytes) -> tuple[Note, list[Passage]]:
    """The notebook's Note (its text is that of all its cells) and its passages, each in its cell's region.

    Raises ValueError with a reason for a file that is not a notebook.
    """
    cells = notebook_cells(data)
    lines: list[str] = []
    places: list[tuple[int, int]] = []  # (cell, line in it) of each line of `lines`
    for number, (kind, cell) in enumerate(cells, 1):
        last = max(1, len(cell))
        if kind == "code":
            body = _fenced(cell)
            cell_places = [(number, 1), *((number, n) for n in range(1, len(cell) + 1)), (number, last)]
        else:
            body = cell + _closing_fence(cell)
            cell_places = [(number, n) for n in range(1, len(cell) + 1)] + [(number, last)] * (len(body) - len(cell))
        lines += [*body, ""]  # a blank line ends every block of the cell
        places += [*cell_places, (number, last)]
    text = "\n".join(lines)
    note = Note(path=path, text=text, title=_title(cells) or Path(path).stem)
    passages = []
    for passage in passages_of(note, keep_headings=True):
        cell, first = places[passage.line_start - 1]
        _cell, last = places[passage.line_end - 1]
        passages.append(replace(passage, region=f"c{cell}", line_start=first, line_end=max(first, last)))
    return note, passages


def notebook_cells(data: bytes) -> list[tuple[str, list[str]]]:
    """Each cell of the notebook as (kind, lines): `markdown` or `code` (raw cells read as code), lines as
    `cell_lines` numbers them. Raises ValueError for a file that nbformat cannot read as a notebook."""
    import nbformat

    text = decode(data).text
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises JSON, validation and conversion errors of many kinds
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        raise ValueError(f"not a notebook nbformat can read ({reason})") from error
    cells = []
    for cell in notebook.get("cells", []):
        kind = cell.get("cell_type")
        source = _text(cell.get("source", ""))
        lines = source.split("\n") if source else []
        if kind == "code":
            lines += [line for output in cell.get("outputs", []) for line in _output_lines(output)]
        cells.append(("markdown" if kind == "markdown" else "code", lines))
    return cells


def cell_lines(data: bytes, region: str) -> list[str]:
    """The lines of the cell `region` names (`c5`): its source, then its kept outputs. Raises ValueError when
    the notebook holds no such cell."""
    cells = notebook_cells(data)
    number = int(region[1:]) if re.fullmatch(r"c\d+", region) else 0
    if not 1 <= number <= len(cells):
        raise ValueError(f"the notebook has no cell {region!r} ({len(cells)} cells)")
    return cells[number - 1][1]


def _text(value: object) -> str:
    """A notebook string field: nbformat joins a list of lines, but a hand-made file may hold anything."""
    if isinstance(value, list):
        value = "".join(part for part in value if isinstance(part, str))
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else ""


def _output_lines(output: dict) -> list[str]:
    """The lines of an output worth reading: a short stream or plain-text value; none for an image, HTML or an
    error (a traceback of escape codes)."""
    kind = output.get("output_type")
    if kind == "stream":
        text = _text(output.get("text", ""))
    elif kind in ("execute_result", "display_data"):
        data = output.get("data") or {}
        if not isinstance(data, dict) or any(mime != "text/plain" and not mime.endswith("json") for mime in data):
            return []  # an image or HTML, with a text/plain stand-in (`<Figure size …>`) beside it
        text = _text(data.get("text/plain", ""))
    else:
        return []
    text = _ANSI.sub("", text).strip("\n")
    lines = text.split("\n")
    if not text.strip() or len(lines) > OUTPUT_LINES or len(text) > OUTPUT_CHARS or _OBJECT_REPR.match(text):
        return []
    return lines


def _fenced(cell: list[str]) -> list[str]:
    """A code cell's lines inside a fence longer than any run of backticks that opens one of its lines."""
    longest = max((len(match.group(1)) for line in cell if (match := FENCE.match(line))), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, *cell, fence]


def _closing_fence(cell: list[str]) -> list[str]:
    """The line that closes a fence the Markdown cell leaves open (as corpus/markdown.py reads fences), or none."""
    marker = ""
    for line in cell:
        if marker:
            if line.strip().startswith(marker):
                marker = ""
        elif opening := FENCE.match(line):
            marker = opening.group(1)[0] * len(opening.group(1))
    return [marker] if marker else []


def _title(cells: list[tuple[str, list[str]]]) -> str:
    """The first level-1 heading of the Markdown cells, else their first heading (outside code fences)."""
    headings = []
    for kind, cell in cells:
        if kind != "markdown":
            continue
        marker = ""
        for line in cell:
            if marker:
                marker = "" if line.strip().startswith(marker) else marker
            elif opening := FENCE.match(line):
                marker = opening.group(1)[0] * len(opening.group(1))
            elif heading := _HEADING.match(line):
                headings.append((len(heading.group(1)), heading.group(2)))
    top = next((text for level, text in headings if level == 1), headings[0][1] if headings else "")
    return text_of(top)
