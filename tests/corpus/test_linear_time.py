"""Reading a note takes time linear in its size, whatever a line holds (a note is untrusted input).

Each hostile line once took quadratic time in a regular expression: one 80 KB
line of `[a` repeated took 46 s. Times are CPU times of this process, so other
work on the machine does not count; the bound is generous, and the growth check
(twice the line, about twice the time, never four times) is what catches a
quadratic pattern.
"""

from __future__ import annotations

import time

import pytest

from corpus.inline import link_target, strip_inline_links
from corpus.markdown import passages_of
from corpus.reading import parse_note
from indexer.dictionary import learn_glossary, learn_words

TABLE = "| 年份 | 作者 | 注释 |\n|---|---|---|\n| 2020 | {} | x |\n"

# name → (repeated unit, how the line is placed in a note)
HOSTILE_LINES = {
    "open brackets": ("[a", "{}"),
    "open image brackets": ("![a", "{}"),
    "links without a closing parenthesis": ("[a](", "{}"),
    "links with an unclosed nested parenthesis": ("[a](x(", "{}"),
    "closing brackets and parentheses": ("]](", "{}"),
    "nested brackets": ("[", "{}"),
    "a link target of spaces": (" ", "[a](x{} \"t)"),
    "underscores in a paper cell": ("_a ", TABLE),
    "stars in a paper cell": ("*a ", TABLE),
    "links in a paper cell": ("[a", TABLE),
    "hyphenated English before a parenthesis": ("a-", "{}（中文）"),
    "plus signs": ("a+", "{}"),
    "a heading of hashes": ("# ", "# {}x"),
    "a run of hashes": ("#", "{}x"),
    "emphasis marks": ("**a", "{}"),
    "backslashes": ("\\", "{}"),
    "html openings": ("<a ", "{}"),
    "bold Chinese": ("**中文", "{}"),
    "Chinese before parentheses": ("中文（", "{}"),
}


def read(text: str) -> float:
    """CPU seconds to read one note's text as the indexer does (passages, words, glossary)."""
    started = time.process_time()
    note = parse_note("hostile.md", text)
    passages_of(note)
    learn_words(note.text)
    learn_glossary(note.text)
    return time.process_time() - started


def best_of(times: int, text: str) -> float:
    return min(read(text) for _ in range(times))


@pytest.mark.parametrize("unit, layout", HOSTILE_LINES.values(), ids=HOSTILE_LINES.keys())
def test_an_80_kb_hostile_line_reads_in_well_under_a_second_and_linearly(unit, layout):
    line = unit * (80_000 // len(unit))
    single = best_of(2, layout.format(line))
    assert single < 1.0
    double = best_of(2, layout.format(line * 2))
    # Below 50 ms a ratio is mostly noise; a quadratic pattern takes seconds here.
    assert double < max(3 * single, 0.05), f"80 KB: {single:.3f} s, 160 KB: {double:.3f} s"


def test_the_issue_line_of_open_brackets_keeps_its_text():
    text, links = strip_inline_links("[a" * 40_000)
    assert text == "[a" * 40_000 and links == []


@pytest.mark.parametrize("line, text, targets", [
    ("see [the docs](https://example.com/a_(b)) now", "see the docs now", ["https://example.com/a_(b)"]),
    ("[see [1]](https://x.org/y)", "see [1]", ["https://x.org/y"]),
    ("[![logo](logo.png)](https://x.org)", "logo", ["https://x.org"]),
    ('[MAE](https://arxiv.org/abs/2111.06377 "paper")', "MAE", ["https://arxiv.org/abs/2111.06377"]),
    ("[a](<https://x.org/a b>)", "a", ["https://x.org/a b"]),
    ("[a [b](c)", "[a b", ["c"]),
    ("[unclosed](https://x.org", "[unclosed](https://x.org", []),
])
def test_links_with_brackets_and_parentheses_one_level_deep(line, text, targets):
    stripped, links = strip_inline_links(line)
    assert stripped == text
    assert [target for _offset, target in links] == targets


@pytest.mark.parametrize("target, url", [
    ('https://x.org "a title"', "https://x.org"),
    ("https://x.org 'a title'", "https://x.org"),
    ('"only a title"', '"only a title"'),
    ("https://x.org/%E4%B8%AD", "https://x.org/中"),
    (" " * 50_000 + '"', '"'),
])
def test_link_target_drops_the_title_and_decodes(target, url):
    assert link_target(target) == url
