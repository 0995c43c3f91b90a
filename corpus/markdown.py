"""A note's markdown → passages with their line spans and heading path.

Paragraphs, list items and table rows become passages; headings become the
section of the passages under them; code blocks are kept as passages of their
own. A block longer than MAX_PIECE characters is split at sentence ends, each
piece keeping the lines it came from.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from urllib.parse import unquote

from corpus.model import Note, Passage
from corpus.papers import PaperTable, split_row
from corpus.text import CJK_TEXT_CHAR

# Pieces of a long block aim at TARGET_PIECE characters and never exceed MAX_PIECE.
TARGET_PIECE = 300
MAX_PIECE = 500

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t#]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_QUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+")
_ITEM = re.compile(r"^([ \t]*)(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|(?<=[.:])(?=\s)|\n")
_SOFT_BREAK = re.compile(r"(?<=[，,、：])")

# Sphinx/MyST directives alone on a line (`:label:`sec_gd``, `:begin_tab:`pytorch``) are markup, not text;
# inline roles (`:numref:`sec_gd``) are cross-references, dropped from the text.
_DIRECTIVE_LINE = re.compile(r"^\s*:[a-z_]+:(?:`[^`\n]*`)?\s*$")
_ROLE = re.compile(r":[a-z_]+:`[^`\n]*`")
# A line that is nothing but a link to a heading of the note (`#…`) or to another note: navigation.
_TARGET_CHAR = r"(?:[^()\s]|\([^()\s]*\))"
_NAVIGATION = re.compile(rf"^\s*\[[^\]\n]*\]\((?:#{_TARGET_CHAR}*|(?![a-z][a-z0-9+.-]*:){_TARGET_CHAR}*\.(?:md|markdown|txt)"
                         rf"(?:#{_TARGET_CHAR}*)?|)\)\s*$", re.IGNORECASE)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()]|\([^)]*\))*\)")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
_EMPHASIS = re.compile(r"\\?\*+|(?<![\w\\])__?(?=\S)|(?<=\S)__?(?!\w)")
_CODE_TICKS = re.compile(r"`+")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
# Stands in the text for a link's end while the line is stripped (a private-use character).
_MARK = "\ue000"


def strip_inline(line: str) -> str:
    """The text of one line with inline markdown removed (emphasis, links, code ticks)."""
    return strip_inline_links(line)[0]


def strip_inline_links(line: str) -> tuple[str, list[tuple[int, str]]]:
    """The text of one line without inline markdown, and each link's target with the offset where its label ends.

    A link keeps its label in the text; its target (a URL whose words often
    name the linked page, e.g. `…/self-supervised-learning-trends#:~:text=…`)
    is returned apart, for the index to search.
    """
    targets: list[str] = []

    def mark(match: re.Match) -> str:
        targets.append(_link_target(match.group()))
        return match.group(1) + _MARK

    line = _ROLE.sub("", line)
    line = _IMAGE.sub(r"\1", line.replace(_MARK, ""))
    line = _LINK.sub(mark, line)
    line = _HTML_TAG.sub("", line)
    line = _EMPHASIS.sub("", line)
    line = _CODE_TICKS.sub("", line)
    line = _ESCAPE.sub(r"\1", line)
    parts = line.split(_MARK)
    text = "".join(parts)
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    links, offset = [], 0
    for part, target in zip(parts, targets):
        offset += len(part)
        links.append((min(max(offset - lead, 0), len(stripped)), target))
    return stripped, links


def _link_target(link: str) -> str:
    """The target of a markdown link `[label](target "title")`, percent-decoded."""
    target = link[link.index("](") + 2:-1].strip()
    target = re.sub(r"""\s+(?:"[^"]*"|'[^']*')$""", "", target).strip("<>")
    return unquote(target)


@dataclass
class _Block:
    kind: str
    first: int  # 1-based line of the first line
    lines: list[str]


def passages_of(note: Note) -> list[Passage]:
    """All passages of a note, in reading order."""
    out: list[Passage] = []
    headings: list[tuple[int, str]] = []
    lines = note.text.split("\n")

    def section() -> str:
        return " > ".join(text for _level, text in headings)

    def set_heading(level: int, text: str) -> None:
        while headings and headings[-1][0] >= level:
            headings.pop()
        if text:
            headings.append((level, text))

    # The list items above the current one: (indent, text); a nested item's context is its parent item.
    items: list[tuple[int, str]] = []
    for block in _blocks(lines, note.body_line):
        if block.kind == "heading":
            items.clear()
            level, text = block.lines
            set_heading(level, strip_inline(text))
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
    return out


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
        fence = _FENCE.match(line)
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
            yield _Block("heading", number, [len(atx.group(1)), atx.group(2) or ""])
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


def _text_passages(note: Note, block: _Block, section: str, parent: str = "") -> list[Passage]:
    if block.kind == "code":
        texts = [line.rstrip() for line in block.lines]
        joiner = "\n"
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
    out = []
    for n, (begin, end) in enumerate(pieces):
        # The span of a piece is that of its first and last visible character: a piece
        # that starts with the space joining two lines belongs to the second line only.
        piece = text[begin:end]
        # A link belongs to the piece holding the end of its label.
        piece_links = tuple(dict.fromkeys(target for offset, target in links
                                          if begin < offset <= end or (offset == begin == 0)))
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
    for match in _SENTENCE_END.finditer(text):
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
