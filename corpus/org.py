"""An Org file (`.org`) → a Note and its passages, read with orgparse and then as Markdown.

orgparse reads the outline: each heading's level, text (without its TODO
keyword and tags), tags (inherited ones too) and properties. Every line of the
file is then given its Markdown equivalent on the same line — a heading `#`s,
a source or example block a code fence, a table's `|---+---|` rule a Markdown
one, `[[target][label]]` a link, `=code=` and `~code~` code — and keywords
(`#+…`), comments, drawers (`:PROPERTIES:` … `:END:`) and planning lines
(`SCHEDULED:`) are blank: so corpus/markdown.py splits it into passages with
the file's own line numbers. `#+TITLE` is the title (else the first heading,
else the file name), `#+DATE` the date and `#+FILETAGS` the tags of every
passage; a passage under a tagged heading carries that heading's tags too.
A heading with an `:AUTHOR:` or `:YEAR:` property is a paper: a paper record
on its line (its title the heading, its note the first paragraph under it),
as a row of a table of papers is in Markdown.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from corpus.decoding import decode
from corpus.frontmatter import tags_of, text_of
from corpus.markdown import passages_of
from corpus.model import Note, Paper, Passage
from corpus.papers import split_authors

_BLOCK_BEGIN = re.compile(r"^\s*#\+begin_(\w+)", re.IGNORECASE)
_BLOCK_END = re.compile(r"^\s*#\+end_(\w+)", re.IGNORECASE)
_CODE_BLOCKS = ("src", "example")
_KEYWORD = re.compile(r"^\s*#\+")
_COMMENT = re.compile(r"^\s*#(?:\s|$)")
_DRAWER = re.compile(r"^\s*:[\w-]+:\s*$")
_DRAWER_END = re.compile(r"^\s*:end:\s*$", re.IGNORECASE)
_PLANNING = re.compile(r"^\s*(?:CLOSED|SCHEDULED|DEADLINE):")
_HEADING = re.compile(r"^\*+\s")
_TABLE_RULE = re.compile(r"^\s*\|[-+:| ]*-[-+:| ]*$")
_LINK = re.compile(r"\[\[([^\[\]]{1,2000})\](?:\[([^\[\]]{1,2000})\])?\]")
_VERBATIM = re.compile(r"(?<![\w=~])([=~])(?=\S)([^\n]{0,500}?\S)\1(?![\w=~])")
_DATE = re.compile(r"\d{4}(?:-\d{1,2}(?:-\d{1,2})?)?")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
# A fence no line of Org text opens with, so a source block's lines never close it.
_FENCE = "~~~~~"


def read_org(path: str, data: bytes) -> tuple[Note, list[Passage]]:
    """The Org file's Note (its text the Markdown lines) and its passages, paper records among them.

    Raises ValueError with a reason for a file orgparse cannot read.
    """
    import orgparse

    decoded = decode(data)
    text = decoded.text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        root = orgparse.loads(text)
        nodes = list(root[1:])
    except Exception as error:  # orgparse raises what its regular expressions and date parsing meet
        raise ValueError(f"not an Org file orgparse can read ({' '.join(str(error).split())[:200]})") from error
    lines = markdown_lines(text.split("\n"))
    for node in nodes:
        lines[node.linenumber - 1] = "#" * min(node.level, 6) + " " + _inline(node.heading)
    title = text_of(root.get_file_property("TITLE")) or (text_of(nodes[0].heading) if nodes else "")
    date = _DATE.search(text_of(root.get_file_property("DATE")))
    note = Note(path=path, text="\n".join(lines), title=title or Path(path).stem, date=date.group() if date else "",
                tags=tags_of(root.get_file_property_list("FILETAGS") or []), warnings=decoded.warnings)
    passages = passages_of(note)
    # Each passage carries the tags of the heading it is under (orgparse's tags include inherited ones).
    starts = [(node.linenumber, tuple(sorted(node.tags))) for node in nodes]
    tagged = []
    for passage in passages:
        above = [tags for line, tags in starts if line <= passage.line_start]
        tags = tuple(dict.fromkeys((*passage.tags, *(above[-1] if above else ()))))
        tagged.append(replace(passage, tags=tags) if tags != passage.tags else passage)
    papers = [_paper_record(note, node, tagged) for node in nodes if {"AUTHOR", "YEAR"} & {*node.properties}]
    return note, sorted(tagged + papers, key=lambda p: p.line_start)


def markdown_lines(lines: list[str]) -> list[str]:
    """Each Org line's Markdown equivalent, one for one (headings are orgparse's: see read_org)."""
    out = []
    block = ""  # the kind of block the line is in
    drawer = False
    for line in lines:
        if block:
            end = _BLOCK_END.match(line)
            if end and end.group(1).lower() == block:
                out.append(_FENCE if block in _CODE_BLOCKS else "")
                block = ""
            else:
                out.append(line if block in _CODE_BLOCKS else _inline(line))
            continue
        if drawer:
            drawer = not _DRAWER_END.match(line)
            out.append("")
            continue
        if begin := _BLOCK_BEGIN.match(line):
            block = begin.group(1).lower()
            out.append(_FENCE if block in _CODE_BLOCKS else "")
        elif _HEADING.match(line):
            out.append("#" + line.lstrip("*"))
        elif _DRAWER.match(line):
            drawer = not _DRAWER_END.match(line)
            out.append("")
        elif _KEYWORD.match(line) or _COMMENT.match(line) or _PLANNING.match(line):
            out.append("")
        elif _TABLE_RULE.match(line):
            out.append(line.replace("+", "|"))
        else:
            out.append(_inline(line))
    if block in _CODE_BLOCKS:
        out.append(_FENCE)  # a block never closed ends with the file, as orgparse reads it
    return out


def _inline(line: str) -> str:
    """Org's inline markup as Markdown's: links and verbatim text (emphasis reads the same)."""
    line = _LINK.sub(lambda m: f"[{m.group(2) or m.group(1)}]({m.group(1)})", line)
    return _VERBATIM.sub(lambda m: f"`{m.group(2)}`", line)


def _paper_record(note: Note, node, passages: list[Passage]) -> Passage:
    """The paper record of a heading with an :AUTHOR: or :YEAR: property: on the heading's line."""
    properties = {key.upper(): text_of(value) for key, value in node.properties.items()}
    year = _YEAR.search(properties.get("YEAR", ""))
    title = text_of(node.heading)
    under = [p for p in passages if p.line_start > node.linenumber and p.section.endswith(title)]
    paper = Paper(year=int(year.group()) if year else None, authors=split_authors(properties.get("AUTHOR", "")),
                  title=title, note=under[0].text if under else "")
    text = " ".join(part for part in (year.group() if year else "", "、".join(paper.authors), title) if part)
    return Passage(path=note.path, line_start=node.linenumber, line_end=node.linenumber,
                   section=_parent_section(node), title=note.title, text=text, kind="paper",
                   tags=tuple(sorted(node.tags)), paper=paper)


def _parent_section(node) -> str:
    """The headings above `node`, as the section of what is under its parent."""
    names = []
    parent = node.parent
    while parent is not None and getattr(parent, "level", 0) > 0:
        names.append(text_of(parent.heading))
        parent = parent.parent
    return " > ".join(reversed(names))
