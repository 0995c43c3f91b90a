"""A note's markdown → passages with their line spans and heading path.

Paragraphs, list items and table rows become passages; headings become the
section of the passages under them (and passages themselves when nothing is
under them); code blocks are kept as passages of their own. A block longer than MAX_PIECE characters is split at sentence ends, each
piece keeping the lines it came from.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from corpus.inline import strip_inline, strip_inline_links
from corpus.model import Note, Passage
from corpus.papers import PaperTable, split_row
from corpus.text import CJK_TEXT_CHAR, FENCE, SENTENCE_END

# Pieces of a long block aim at TARGET_PIECE characters and never exceed MAX_PIECE.
TARGET_PIECE = 300
MAX_PIECE = 500
# A heading longer than this is cut in the section path every passage under it carries.
MAX_HEADING = 300
# A table row longer than this (in characters of markdown) is split into pieces, and is no paper record.
MAX_ROW = 2000

# A line of `#`s alone, however many, is an empty heading too (a rule drawn with `#`s ends a paragraph).
_ATX = re.compile(r"^ {0,3}(#{1,6})(?=[ \t]|$|#*[ \t]*$)")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_QUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+")
_ITEM = re.compile(r"^([ \t]*)(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_SOFT_BREAK = re.compile(r"(?<=[，,、：])")

# Sphinx/MyST directives alone on a line (`:label:`sec_gd``, `:begin_tab:`pytorch``) are markup, not text
# (inline roles, `:numref:`sec_gd``, leave the text in corpus/inline.py).
_DIRECTIVE_LINE = re.compile(r"^\s*:[a-z_]+:(?:`[^`\n]*`)?\s*$")
# A line that is nothing but a link to a heading of the note (`#…`) or to another note: navigation.
_TARGET_CHAR = r"(?:[^()\s]|\([^()\s]*\))"
_NAVIGATION = re.compile(rf"^\s*\[[^\]\n]*\]\((?:#{_TARGET_CHAR}*|(?![a-z][a-z0-9+.-]*:){_TARGET_CHAR}*\.(?:md|markdown|txt)"
                         rf"(?:#{_TARGET_CHAR}*)?|)\)\s*$", re.IGNORECASE)


@dataclass
class _Block:
    kind: str
    first: int  # 1-based line of the first line
    lines: list[str]


def passages_of(note: Note, keep_headings: bool = False) -> list[Passage]:
    """All passages of a note, in reading order.

    A note of headings only gives a passage for each heading with nothing
    under it (no subheading either), so it is found by them; a note of front
    matter only is one passage of its title (with its tags). (In a note with
    text, an empty heading is left out: short heading passages crowd out the
    text in semantic results — hybrid nDCG on seed_more fell 0.012.) With
    `keep_headings` they are kept whatever the note holds: a notebook's
    closing `### 结论：…` cell is a heading with nothing under it, and all it says.
    """
    out: list[Passage] = []
    empty_headings: list[Passage] = []
    # Open headings: level, text shown in the section path, line, and how many passages came before it.
    headings: list[tuple[int, str, int, int]] = []
    lines = note.text.split("\n")

    def section() -> str:
        return " > ".join(heading[1] for heading in headings)

    def close(level: int) -> None:
        while headings and headings[-1][0] >= level:
            _level, text, line, before = headings.pop()
            if len(out) + len(empty_headings) == before:
                empty_headings.append(Passage(path=note.path, line_start=line, line_end=line, section=section(),
                                              title=note.title, text=text, kind="heading", tags=note.tags))

    # The list items above the current one: (indent, text); a nested item's context is its parent item.
    items: list[tuple[int, str]] = []
    for block in _blocks(lines, note.body_line):
        if block.kind == "heading":
            items.clear()
            level, text = block.lines
            text = strip_inline(text)
            close(level)
            before = len(out) + len(empty_headings)
            if len(text) > MAX_HEADING:
                # Not a title but a paragraph behind `#`: searchable as one, cut short in the section path.
                out.extend(_text_passages(note, _Block("paragraph", block.first, [text]), section()))
                text = text[:MAX_HEADING].rstrip() + "…"
            if text:
                headings.append((level, text, block.first, before))
        elif block.kind == "table":
            items.clear()
            out.extend(_table_passages(note, block, section()))
        elif block.kind == "item":
            indent = len(_ITEM.match(block.lines[0]).group(1).expandtabs(4))
            while items and items[-1][0] >= indent:
                items.pop()
            passages = _text_passages(note, block, section(), items[-1][1] if items else "")
            out.extend(passages)
            if passages:
                items.append((indent, _short(passages[0].text)))
        else:
            items.clear()
            out.extend(_text_passages(note, block, section()))
    close(0)
    out = out + empty_headings if keep_headings else out or empty_headings
    if not out and note.body_line > 1:
        out.append(Passage(path=note.path, line_start=1, line_end=note.body_line - 1, section="", title=note.title,
                           text=note.title, kind="title", tags=note.tags))
    return sorted(out, key=lambda passage: passage.line_start)


def _short(text: str, limit: int = 30) -> str:
    """The start of an item's text as the context of the items nested in it: up to its first colon or full stop."""
    cut = re.split(r"[：:。；;\n]", text, maxsplit=1)[0].strip()
    return cut if len(cut) <= limit else cut[:limit].rstrip() + "…"


def _blocks(lines: list[str], first_line: int):
    """Split lines into heading, paragraph, item, table and code blocks."""
    i = 0
    current: _Block | None = None

    def flush():
        nonlocal current
        block, current = current, None
        return block

    while i < len(lines):
        line = lines[i]
        number = first_line + i
        stripped = line.strip()
        fence = FENCE.match(line)
        if fence:
            if current:
                yield flush()
            marker = fence.group(1)
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith(marker[0] * len(marker)):
                j += 1
            body = lines[i + 1:j]
            if any(part.strip() for part in body):
                yield _Block("code", number + 1, body)
            i = j + 1
            continue
        if not stripped or _DIRECTIVE_LINE.match(line):
            if current:
                yield flush()
            i += 1
            continue
        atx = _ATX.match(line)
        if atx:
            if current:
                yield flush()
            yield _Block("heading", number, [len(atx.group(1)), _heading_text(line[atx.end():])])
            i += 1
            continue
        setext = _SETEXT.match(line)
        if setext and current and current.kind == "paragraph":
            level = 1 if setext.group(1).startswith("=") else 2
            text, _starts = _join([part.strip() for part in current.lines], None)
            yield _Block("heading", current.first, [level, text])
            current = None
            i += 1
            continue
        if _THEMATIC_BREAK.match(line):
            if current:
                yield flush()
            i += 1
            continue
        if stripped.startswith("|"):
            if not (current and current.kind == "table"):
                if current:
                    yield flush()
                current = _Block("table", number, [])
            current.lines.append(line)
            i += 1
            continue
        if _ITEM.match(line):
            if current:
                yield flush()
            current = _Block("item", number, [line])
            i += 1
            continue
        if current and current.kind in ("paragraph", "item"):
            current.lines.append(line)
        else:
            if current:
                yield flush()
            current = _Block("paragraph", number, [line])
        i += 1
    if current:
        yield flush()


def _heading_text(rest: str) -> str:
    """The text of an ATX heading after its opening `#`s, without its closing `#`s (`## Title ##`).

    Closing `#`s count only after a space, so `# C#` keeps its `#`. (Done without a
    regular expression: `(.*?)[ \t#]*$` took quadratic time on a line of `# # # …`.)
    """
    text = rest.strip(" \t")
    bare = text.rstrip("#")
    if not bare:
        return ""
    return bare.rstrip(" \t") if bare != text and bare[-1] in " \t" else text


def plain_passages(note: Note, first: int, lines: list[str], section: str, kind: str = "paragraph"
                   ) -> list[Passage]:
    """Passages of a block of plain text (no markdown to strip: a paragraph of a PDF's page), lines `first`..
    joined as a reader reads them (nothing between Chinese characters, else a space), and pieces of a long one
    cut at sentence ends, each with its lines."""
    return _text_passages(note, _Block(kind, first, lines), section, markup=False)


def _text_passages(note: Note, block: _Block, section: str, parent: str = "", markup: bool = True
                   ) -> list[Passage]:
    if block.kind == "code":
        texts = [line.rstrip() for line in block.lines]
        joiner = "\n"
    elif not markup:
        stripped = [(line.strip(), []) for line in block.lines]
        texts = [text for text, _links in stripped]
        joiner = None
    else:
        stripped = [strip_inline_links(_ITEM.sub("", line, count=1) if n == 0 and block.kind == "item"
                                       else _QUOTE.sub("", line))
                    for n, line in enumerate(block.lines)]
        texts = [text for text, _links in stripped]
        joiner = None
    text, starts = _join(texts, joiner)
    links = [] if block.kind == "code" else [(start + offset, target) for start, (_text, line_links)
                                              in zip(starts, stripped) for offset, target in line_links]
    if not text.strip():
        return []
    kind = block.kind
    if kind != "code" and all(_NAVIGATION.match(_ITEM.sub("", line, count=1)) for line in block.lines if line.strip()):
        kind = "toc"
    pieces = split_long(text)
    offsets = [offset for offset, _target in links]
    out = []
    for n, (begin, end) in enumerate(pieces):
        # The span of a piece is that of its first and last visible character: a piece
        # that starts with the space joining two lines belongs to the second line only.
        piece = text[begin:end]
        # A link belongs to the piece holding the end of its label (links are in text order).
        low = 0 if begin == 0 else bisect.bisect_right(offsets, begin)
        piece_links = tuple(dict.fromkeys(target for _offset, target in links[low:bisect.bisect_right(offsets, end)]))
        begin += len(piece) - len(piece.lstrip())
        end -= len(piece) - len(piece.rstrip())
        first = block.first + bisect.bisect_right(starts, begin) - 1
        last = block.first + bisect.bisect_right(starts, max(begin, end - 1)) - 1
        out.append(Passage(
            path=note.path, line_start=first, line_end=last, section=section, title=note.title,
            text=text[begin:end].strip(), kind=kind, tags=note.tags,
            piece=n if len(pieces) > 1 else 0, links=piece_links, parent=parent,
        ))
    return [p for p in out if p.text]


def _join(texts: list[str], joiner: str | None) -> tuple[str, list[int]]:
    """Join lines into one text; returns it and the offset where each line starts.

    Without an explicit joiner, lines are joined with nothing between two Chinese
    characters and a space otherwise, as a reader would read them.
    """
    parts: list[str] = []
    starts: list[int] = []
    length = 0
    for n, piece in enumerate(texts):
        if n:
            cjk = CJK_TEXT_CHAR.match(parts[-1][-1:] or " ") and CJK_TEXT_CHAR.match(piece[:1] or " ")
            sep = joiner if joiner is not None else ("" if cjk else " ")
            parts.append(sep)
            length += len(sep)
        starts.append(length)
        parts.append(piece)
        length += len(piece)
    return "".join(parts), starts


def split_long(text: str) -> list[tuple[int, int]]:
    """Character spans of the pieces of `text`: the whole text if short, else sentence-packed pieces."""
    if len(text) <= MAX_PIECE:
        return [(0, len(text))]
    spans = []
    for begin, end in _sentences(text):
        if spans and end - spans[-1][0] <= TARGET_PIECE:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((begin, end))
    return spans


def _sentences(text: str):
    """Spans of sentences, each at most MAX_PIECE characters (cut at commas, then anywhere)."""
    begin = 0
    for match in SENTENCE_END.finditer(text):
        end = match.end()
        if end > begin:
            yield from _bounded(text, begin, end)
            begin = end
    if begin < len(text):
        yield from _bounded(text, begin, len(text))


def _bounded(text: str, begin: int, end: int):
    if end - begin <= MAX_PIECE:
        yield begin, end
        return
    cut = begin
    for match in _SOFT_BREAK.finditer(text, begin, end):
        if match.end() - cut > TARGET_PIECE:
            yield from _hard_cut(text, cut, match.end())
            cut = match.end()
    yield from _hard_cut(text, cut, end)


def _hard_cut(text: str, begin: int, end: int):
    """Spans of at most MAX_PIECE characters, cut after a space where there is one."""
    while end - begin > MAX_PIECE:
        space = text.rfind(" ", begin + 1, begin + TARGET_PIECE)
        cut = space + 1 if space > begin else begin + TARGET_PIECE
        yield begin, cut
        begin = cut
    if begin < end:
        yield begin, end


def _table_passages(note: Note, block: _Block, section: str) -> list[Passage]:
    rows = block.lines
    header: list[str] | None = None
    body_start = 0
    if len(rows) >= 2 and _TABLE_SEPARATOR.match(rows[1]):
        header = split_row(rows[0])
        body_start = 2
    papers = PaperTable.from_header(header) if header else None
    out = []
    for offset, row in enumerate(rows[body_start:], start=body_start):
        if _TABLE_SEPARATOR.match(row):
            continue
        line = block.first + offset
        cells = split_row(row)
        if len(row) > MAX_ROW:
            # Not a record but text in a table: read in pieces like a paragraph (no embedder reads 60 KB at once).
            out.extend(_text_passages(note, _Block("row", line, [" ".join(cells)]), section))
            continue
        paper = papers.paper(cells) if papers else None
        stripped = [strip_inline_links(cell) for cell in cells]
        text = " ".join(cell_text for cell_text, _links in stripped if cell_text)
        if not text:
            continue
        links = tuple(dict.fromkeys(target for _text, cell_links in stripped for _offset, target in cell_links))
        out.append(Passage(
            path=note.path, line_start=line, line_end=line, section=section, title=note.title,
            text=text, kind="paper" if paper else "row", tags=note.tags, paper=paper, links=links,
        ))
    return out
