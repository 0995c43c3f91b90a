"""A note's text as safe HTML for the page: Markdown rendered by markdown-it-py, every block marked with its lines.

Notes are untrusted input (a cloned or shared folder may hold anything), so the
HTML is inert by construction, not by filtering afterwards:

- raw HTML in a note is not passed through: markdown-it escapes it, and the
  page shows `<script>` as the text `<script>`;
- a link keeps its target only when it is http, https, mailto or relative (no
  `javascript:`, `data:`, `file:`); other links are shown as their text;
- an image is never loaded: it is shown as its alt text, linked to its source
  under the same rule as links (the page's CSP forbids other origins anyway).

Every block element (heading, paragraph, list item, table row, code block,
block quote, formula) carries `data-line` and `data-line-end`, its first and
last line in the note (1-based, as `path:line` counts them), so that the page can
scroll to a passage and mark its lines. A front matter is shown as a block of
its own, as text. Formulas (`$…$`, `$$…$$`) are kept as text, untouched by
emphasis. Text that is not Markdown (a notebook's cell, a PDF's page, an Org
file's lines) is shown line by line (`render_lines`).
"""

from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline

# The link targets a note may keep: a scheme among these, or none (a relative path, a #fragment).
_SAFE_SCHEMES = ("http", "https", "mailto")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_FRONT_MATTER_END = re.compile(r"^(---|\.\.\.)\s*$")


def safe_link(url: str) -> bool:
    """Whether a link target may be kept: http(s), mailto or relative (controls and spaces ignored, as browsers
    ignore them when they read a scheme: `java\\tscript:` is javascript:)."""
    folded = re.sub(r"[\x00-\x20\x7f]", "", url)
    match = _SCHEME.match(folded)
    return match is None or match.group(1).lower() in _SAFE_SCHEMES


def _math_inline(state: StateInline, silent: bool) -> bool:
    """`$…$` on one line as a formula: its text kept as written (no emphasis inside, no escapes taken)."""
    src, start = state.src, state.pos
    if src[start] != "$" or src.startswith("$$", start):
        return False
    end = src.find("$", start + 1)
    while end != -1 and src[end - 1] == "\\":
        end = src.find("$", end + 1)
    if end == -1 or end == start + 1 or src[start + 1].isspace() or src[end - 1].isspace():
        return False
    if not silent:
        token = state.push("math_inline", "span", 0)
        token.content = src[start + 1:end]
        token.markup = "$"
    state.pos = end + 1
    return True


def _math_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """A `$$` block (from a line that starts with `$$` to the line that ends with one) as a formula, as text."""
    begin = state.bMarks[start_line] + state.tShift[start_line]
    first = state.src[begin:state.eMarks[start_line]]
    if state.sCount[start_line] - state.blkIndent >= 4 or not first.startswith("$$"):
        return False
    line, body = start_line, [first[2:]]
    closed = first.rstrip().endswith("$$") and len(first.rstrip()) >= 4
    while not closed and line + 1 < end_line:
        line += 1
        text = state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]
        body.append(text)
        closed = text.rstrip().endswith("$$")
    if not closed:
        return False
    if silent:
        return True
    body[-1] = body[-1].rstrip()[:-2]
    token = state.push("math_block", "div", 0)
    token.content = "\n".join(body).strip()
    token.map = [start_line, line + 1]
    token.markup = "$$"
    state.line = line + 1
    return True


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = safe_link
    md.inline.ruler.before("escape", "math_inline", _math_inline)
    md.block.ruler.before("fence", "math_block", _math_block, {"alt": ["paragraph", "reference", "blockquote"]})
    rules = md.renderer.rules
    rules["math_inline"] = lambda tokens, i, *_: f'<span class="math">{html.escape(tokens[i].content)}</span>'
    rules["math_block"] = lambda tokens, i, *_: (
        f'<div class="math"{_lines_attrs(tokens[i].map)}>{html.escape(tokens[i].content)}</div>\n')
    rules["image"] = _image
    return md


def _lines_attrs(line_map: list[int] | None) -> str:
    if not line_map:
        return ""
    return f' data-line="{line_map[0] + 1}" data-line-end="{line_map[1]}"'


def _image(tokens, i, options, env) -> str:
    """An image as its alt text (never loaded), linked to its source when the link is one a note may keep."""
    token = tokens[i]
    alt = "".join(child.content for child in token.children or ()) or token.attrGet("src") or "image"
    src = token.attrGet("src") or ""
    label = f'<span class="image" title="image not loaded">[{html.escape(alt)}]</span>'
    if src and safe_link(src):
        return f'<a href="{html.escape(src)}" rel="noopener noreferrer">{label}</a>'
    return label


_MD = _parser()


def split_front_matter(lines: list[str]) -> int:
    """How many lines at the head of a note are its YAML front matter (`---` … `---`), 0 when it has none."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for n, line in enumerate(lines[1:], 2):
        if _FRONT_MATTER_END.match(line):
            return n
    return 0


def render_markdown(lines: list[str]) -> str:
    """A Markdown note (its lines, without line ends) as HTML whose block elements carry `data-line` and
    `data-line-end` (1-based lines of the note)."""
    head = split_front_matter(lines)
    parts = []
    if head:
        front = html.escape("\n".join(lines[:head]))
        parts.append(f'<pre class="front-matter" data-line="1" data-line-end="{head}">{front}</pre>\n')
    # The front matter's lines are kept as blank lines, so that the parser's line numbers stay the note's.
    text = "\n" * head + "\n".join(lines[head:])
    tokens = _MD.parse(text)
    for token in tokens:
        if token.map and token.nesting >= 0:
            first, end = token.map
            while end > first + 1 and not lines[end - 1].strip():
                end -= 1  # a list item's span takes in the blank line after it: the item ends before
            token.map = [first, end]
            if token.type != "math_block":
                token.attrSet("data-line", str(first + 1))
                token.attrSet("data-line-end", str(end))
        for child in token.children or ():
            if child.type == "link_open":
                child.attrSet("rel", "noopener noreferrer")
    parts.append(_MD.renderer.render(tokens, _MD.options, {}))
    return "".join(parts)


def render_lines(lines: list[str], first: int = 1) -> str:
    """Text that is not Markdown, one element a line (`data-line` from `first`), as text."""
    rows = [f'<div class="line" data-line="{n}" data-line-end="{n}">{html.escape(line) or "&#8203;"}</div>'
            for n, line in enumerate(lines, first)]
    return '<div class="plain">' + "".join(rows) + "</div>\n"


MARKDOWN_SUFFIXES = (".md", ".markdown", ".txt")


def render_note(path: str, lines: list[str], region: str = "") -> str:
    """A note as the page shows it: Markdown rendered when the note is Markdown, any other text (a notebook's
    cell, a PDF's page: a `region`; an Org file) line by line."""
    if path.lower().endswith(MARKDOWN_SUFFIXES) and not region:
        return render_markdown(lines)
    return render_lines(lines)
