"""A note's Markdown as the page shows it (search/serve/render.py): blocks with their lines, and notes that try
to run code rendered inert."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

import corpus
from search.serve.render import render_lines, render_note, safe_link


class Elements(HTMLParser):
    """The start tags of an HTML text, each as (tag, attributes)."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def lines_of(html: str, tag: str) -> list[tuple[int, int]]:
    return [(int(a["data-line"]), int(a["data-line-end"])) for t, a in Elements(html).tags
            if t == tag and "data-line" in a]


def test_blocks_carry_their_first_and_last_line_in_the_note():
    note = ["# Title", "", "A paragraph", "on two lines.", "", "- one", "- two", "", "|a|b|", "|---|---|",
            "|1|2|", "|3|4|", "", "```python", "x = 1", "```", "", "## Next"]
    html = render_note("n.md", note)
    assert lines_of(html, "h1") == [(1, 1)]
    assert lines_of(html, "p") == [(3, 4)]
    assert lines_of(html, "li") == [(6, 6), (7, 7)]
    assert lines_of(html, "tr") == [(9, 9), (11, 11), (12, 12)]
    assert lines_of(html, "code") == [(14, 16)]
    assert lines_of(html, "h2") == [(18, 18)]
    assert "<td>1</td>" in html and '<code data-line="14" data-line-end="16" class="language-python">x = 1' in html


def test_front_matter_is_shown_as_text_and_the_lines_after_it_keep_their_numbers():
    html = render_note("n.md", ["---", "title: 'x'", "tags: [a]", "---", "", "# Heading"])
    assert '<pre class="front-matter" data-line="1" data-line-end="4">---\ntitle: &#x27;x&#x27;' in html
    assert lines_of(html, "h1") == [(6, 6)]
    assert "<hr" not in html


def test_formulas_are_kept_as_text_without_emphasis():
    html = render_note("n.md", ["Loss $a_i * b_i * c$ here.", "", "$$", "E = m c^2_{x*y}", "$$"])
    assert '<span class="math">a_i * b_i * c</span>' in html
    assert '<div class="math" data-line="3" data-line-end="5">E = m c^2_{x*y}</div>' in html
    assert "<em>" not in html


def test_the_bundled_paper_table_row_is_at_its_line():
    lines = corpus.BUNDLED_NOTES.joinpath("famous-deep-learning-papers.md").read_text(encoding="utf-8").splitlines()
    html = render_note("famous-deep-learning-papers.md", lines)
    rows = dict(lines_of(html, "tr"))
    assert 44 in rows
    row = re.search(r'<tr data-line="44"[^>]*>(.*?)</tr>', html, re.DOTALL).group(1)
    assert "Generative Adversarial Nets" in row and "Goodfellow" in row


@pytest.mark.parametrize("text", [
    "<script>window.pwned = 1</script>",
    '<img src="x" onerror="window.pwned = 1">',
    '<iframe src="https://example.com"></iframe>',
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    'Inline <b onclick="x()">bold</b> html',
])
def test_raw_html_in_a_note_is_shown_as_text(text):
    html = render_note("n.md", ["# Note", "", text])
    assert [t for t, _ in Elements(html).tags] == ["h1", "p"]
    assert text.replace("<", "&lt;").split(">")[0] in html.replace("&quot;", '"')


@pytest.mark.parametrize("link", [
    "[x](javascript:alert(1))", "[x](JavaScript:alert(1))", "[x](java\tscript:alert(1))",
    "<javascript:alert(1)>", "[x](data:text/html,<script>alert(1)</script>)", "[x](vbscript:msgbox)",
    "[x](file:///etc/passwd)", "[x](ms-settings:privacy)", "[x][r]\n\n[r]: javascript:alert(1)",
])
def test_links_to_other_schemes_keep_no_target(link):
    html = render_note("n.md", link.split("\n"))
    assert not [a for t, a in Elements(html).tags if t == "a"], html


@pytest.mark.parametrize("link, href", [
    ("[x](https://arxiv.org/abs/1512.03385)", "https://arxiv.org/abs/1512.03385"),
    ("<http://example.com>", "http://example.com"), ("[m](mailto:me@example.com)", "mailto:me@example.com"),
    ("[other](../papers/ResNet.md)", "../papers/ResNet.md"), ("[s](#section)", "#section"),
])
def test_safe_links_keep_their_target(link, href):
    anchors = [a for t, a in Elements(render_note("n.md", [link])).tags if t == "a"]
    assert [a["href"] for a in anchors] == [href]
    assert anchors[0]["rel"] == "noopener noreferrer"


def test_images_are_never_loaded():
    html = render_note("n.md", ["![a figure](https://example.com/f.png) ![local](fig.png) ![bad](javascript:x)"])
    tags = Elements(html).tags
    assert not [t for t, _ in tags if t in ("img", "picture", "video", "iframe")]
    assert [a["href"] for t, a in tags if t == "a"] == ["https://example.com/f.png", "fig.png"]
    assert "[a figure]" in html and "[local]" in html


def test_text_that_is_not_markdown_is_shown_line_by_line():
    html = render_lines(["第一行 <b>", "# not a heading"], first=4)
    assert lines_of(html, "div") == [(4, 4), (5, 5)]
    assert "&lt;b&gt;" in html and "<h1" not in html
    assert render_lines([""]).count("data-line=") == 1


@pytest.mark.parametrize("url, kept", [
    ("https://x.org", True), ("HTTP://x.org", True), ("notes/a.md", True), ("a:b.md", False), ("", True),
    (" javascript:alert(1)", False), ("\x01javascript:x", False),
])
def test_safe_link(url, kept):
    assert safe_link(url) is kept


def test_a_region_of_a_notebook_or_a_pdf_and_an_org_file_are_shown_line_by_line():
    assert "<h1" not in render_note("nb.ipynb", ["# 计算H", "H = X.T @ X"], region="c5")
    assert "<h1" not in render_note("notes.md", ["# title"], region="p1")
    assert "<h1" not in render_note("vit.org", ["* ViT"])
    assert "<h1" in render_note("vit.markdown", ["# ViT"])
