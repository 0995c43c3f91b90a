"""Inline markdown of one line: links, images, emphasis, code ticks, HTML tags, escapes and entities.

Every pattern here runs in time linear in the line, whatever the line holds:
a note is untrusted input, and one 80 KB line of `[a[a[a…` must not take
minutes. A link label may hold balanced brackets one level deep
(`[see [1]](url)`) and a target balanced parentheses one level deep
(`(https://en.wikipedia.org/wiki/Transformer_(model))`); neither may hold an
unbalanced bracket or parenthesis, so the scan from one `[` or `(` stops at
the next unbalanced one and no character is scanned from more than a few
starts. (Allowing `[^\\]]*` in a label, as CommonMark's lax readers do, made
every `[` scan to the end of the line: quadratic time.)
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

_LABEL = r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]"
_TARGET = r"\(((?:[^()]|\([^()]*\))*)\)"
IMAGE = re.compile("!" + _LABEL + _TARGET)
LINK = re.compile(_LABEL + _TARGET)
# A wikilink, `[[Note]]`, `[[Note#Heading|label]]` (Obsidian, Foam, Logseq); `![[file]]` embeds a file.
WIKILINK = re.compile(r"(!?)\[\[([^\[\]|#\n]{1,300})(?:#[^\[\]|\n]{0,300})?(?:\|([^\[\]\n]{0,300}))?\]\]")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
_EMPHASIS = re.compile(r"\\?\*+|(?<![\w\\])__?(?=\S)|(?<=\S)__?(?!\w)")
_CODE_TICKS = re.compile(r"`+")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
# An HTML entity reference, which markdown shows as its character: `&emsp;` an em space, `&lt;` <.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Sphinx/MyST inline roles (`:numref:`sec_gd``, `:cite:`x``) are cross-references: dropped from the text.
_ROLE = re.compile(r":[a-z_]+:`[^`\n]*`")
# Stands in the text for a link's end while the line is stripped (a private-use character).
_MARK = "\ue000"


def strip_inline(line: str) -> str:
    """The text of one line with inline markdown removed (emphasis, links, code ticks)."""
    return strip_inline_links(line)[0]


def strip_inline_links(line: str) -> tuple[str, list[tuple[int, str]]]:
    """The text of one line without inline markdown, and each link's target with the offset where its label ends.

    A link keeps its label in the text; its target (a URL whose words often
    name the linked page, e.g. `…/self-supervised-learning-trends#:~:text=…`)
    is returned apart, for the index to search. A wikilink's target is
    returned as written, in its brackets (`[[Note]]`); an embed (`![[x.png]]`)
    leaves nothing.
    """
    targets: list[str] = []

    def mark(match: re.Match) -> str:
        targets.append(link_target(match.group(2)))
        return match.group(1) + _MARK

    def mark_wiki(match: re.Match) -> str:
        if match.group(1):
            return ""
        targets.append(f"[[{match.group(2).strip()}]]")
        return (match.group(3) or match.group(2)).strip() + _MARK

    line = _ROLE.sub("", line)
    line = WIKILINK.sub(mark_wiki, line.replace(_MARK, ""))
    line = IMAGE.sub(r"\1", line)
    line = LINK.sub(mark, line)
    line = _HTML_TAG.sub("", line)
    line = _EMPHASIS.sub("", line)
    line = _CODE_TICKS.sub("", line)
    line = _ESCAPE.sub(r"\1", line)
    line = _ENTITY.sub(_character, line)
    parts = line.split(_MARK)
    text = "".join(parts)
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    links, offset = [], 0
    for part, target in zip(parts, targets):
        offset += len(part)
        links.append((min(max(offset - lead, 0), len(stripped)), target))
    return stripped, links


def _character(match: re.Match) -> str:
    """The character an entity reference stands for; a space for a line break, tab or other character that is
    not printed (a line stays one line). An unknown name stays as written, an invalid number goes."""
    character = html.unescape(match.group())
    return character if character.isprintable() else " "


def link_labels(text: str) -> str:
    """`text` with each image and link replaced by its label (a wikilink by its label, else its target)."""
    text = WIKILINK.sub(lambda m: "" if m.group(1) else (m.group(3) or m.group(2)).strip(), text)
    return LINK.sub(r"\1", IMAGE.sub(r"\1", text))


def link_target(target: str) -> str:
    """The URL of a link's `(target "title")` part, without its title, percent-decoded."""
    target = target.strip()
    quote = target[-1:]
    if quote in ('"', "'") and len(target) > 1:
        opening = target.rfind(quote, 0, len(target) - 1)
        if opening > 0 and target[opening - 1].isspace():
            target = target[:opening].rstrip()
    return unquote(target.strip("<>"))
