"""What an answer is: short passages of one section joined, tables of contents marked.

A note's blocks are not all answers on their own. A question-and-answer note
puts its answer in five short list items under one heading; a tutorial says
"让我们计算梯度。" and then shows the formula. So the passages of one section
that are short are joined into one passage, in reading order, while the joined
text stays within PACK_CHARS characters and MAX_SPAN lines; a passage shorter
than MIN_ANSWER characters that is still alone joins its next neighbour (or
its previous one). A joined passage keeps the texts it was made of as its
`parts`: each part is embedded on its own, so a vector search still finds the
one sentence that matches, and answers with the whole passage.

Never joined: code blocks, paper records (each is one paper), and the pieces
of a long paragraph (they are already as long as an answer should be).

A passage whose every line is an entry of a table of contents (a numbered
title with its page number: `1.1.4 向量和矩阵的范数归纳 2`) says where an
answer is, not what it is: it becomes kind "toc", which is indexed but never
returned as an answer (corpus/markdown.py marks lists of links to the note's
own headings or to other notes the same way).

A passage whose every line is a numbered reference (`[3] K. Simonyan and A.
Zisserman. Very Deep Convolutional Networks…`) is a list of references: kind
"reference". It names sources rather than explaining anything, and the English
words of its titles match questions asked of Chinese prose; search ranks it
after the prose answers unless it holds the whole query (search/rank/engine.py).
"""

from __future__ import annotations

import re
from dataclasses import replace
from itertools import pairwise

from corpus.model import Passage

# Joined passages aim at this many characters at most,
PACK_CHARS = 450
# and a passage shorter than this is never an answer on its own.
MIN_ANSWER = 40
# A joined passage spans at most this many lines after its first (an answer is a passage, not a page).
MAX_SPAN = 12
JOINABLE = ("paragraph", "item", "row", "group")
# Where one entry of a table of contents ends: a line break, or the page number after a tab when a
# paragraph runs entries together.
_ENTRY_BREAK = re.compile(r"\n|(?:(?<=\t\d)|(?<=\t\d\d)|(?<=\t\d\d\d)|(?<=\t\d\d\d\d))[ \u00a0]+")
# A passage is a table of contents when at least this share of its lines are entries of one.
TOC_SHARE = 0.8
_TOC_ENTRY = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?\s*\S.{0,60}?\s+\d{1,4}"  # 1.1.4 向量和矩阵的范数归纳 2
    r"|\S.{0,60}?\t\s*\d{1,4}"  # 向量和矩阵的范数归纳<TAB>2
    r"|\d+(?:\.\d+)+\s*[^\s\d].{0,40})$"  # 3.10.6 Dropout的缺点 (a numbered title, no page)
)
# An entry of a list of references: `[12] Author. Title. Venue, 2015.`
_REFERENCE = re.compile(r"^\[\d{1,4}\]")
_REFERENCE_NUMBER = re.compile(r"\[(\d{1,4})\]")


def pack_sections(passages: list[Passage]) -> list[Passage]:
    """A note's passages (corpus/markdown.py, in reading order) as answers: each run of one section packed
    (and of one region: two cells of a notebook, or two pages of a PDF, are never one answer)."""
    out: list[Passage] = []
    run: list[Passage] = []
    for passage in passages:
        if run and (passage.section, passage.region) != (run[-1].section, run[-1].region):
            out.extend(pack(run))
            run = []
        run.append(passage)
    out.extend(pack(run))
    return out


def pack(passages: list[Passage]) -> list[Passage]:
    """The passages of one section as answers: short ones joined, tables of contents marked."""
    runs: list[Passage] = []
    run: list[Passage] = []
    for passage in passages:
        if not _joinable(passage) or len(passage.text) >= PACK_CHARS:
            runs.extend(_flush(run))
            runs.append(passage)
            continue
        if run and (sum(len(p.text) for p in run) + len(passage.text) > PACK_CHARS
                    or passage.line_end - run[0].line_start > MAX_SPAN):
            runs.extend(_flush(run))
        run.append(passage)
    runs.extend(_flush(run))
    return [_marked(passage) for passage in _absorb_short(runs)]


def _joinable(passage: Passage) -> bool:
    return passage.kind in JOINABLE and not passage.piece


def _flush(run: list[Passage]) -> list[Passage]:
    joined = [joined_passage(run)] if run else []
    run.clear()
    return joined


def _absorb_short(passages: list[Passage]) -> list[Passage]:
    """Each passage under MIN_ANSWER characters joined to its next neighbour, else its previous one."""
    out: list[Passage] = []
    pending: Passage | None = None
    for passage in passages:
        if pending is not None:
            if _joinable(passage) and passage.line_end - pending.line_start <= MAX_SPAN:
                passage = joined_passage([pending, passage])
            else:
                out.append(_to_previous(out, pending))
            pending = None
        if len(passage.text) < MIN_ANSWER and _joinable(passage):
            pending = passage
        else:
            out.append(passage)
    if pending is not None:
        out.append(_to_previous(out, pending))
    return out


def _to_previous(out: list[Passage], passage: Passage) -> Passage:
    """`passage` joined to the last of `out` when it can be (popping it), else `passage` itself."""
    if out and _joinable(out[-1]) and passage.line_end - out[-1].line_start <= MAX_SPAN:
        return joined_passage([out.pop(), passage])
    return passage


def joined_passage(run: list[Passage]) -> Passage:
    """One passage of consecutive passages: the first one's place and section, their lines, texts and links."""
    if len(run) == 1:
        return run[0]
    first = run[0]
    return replace(first, line_end=run[-1].line_end, text="\n".join(p.text for p in run), kind="group",
                   links=tuple(dict.fromkeys(link for p in run for link in p.links)),
                   parts=tuple(part for p in run for part in (p.parts or (p.text,))))


def _marked(passage: Passage) -> Passage:
    """The passage as kind "toc" when (nearly) every line of it is an entry of a table of contents, as kind
    "reference" when every line of it is a numbered reference."""
    if passage.kind not in JOINABLE:
        return passage
    lines = [line.strip() for line in _ENTRY_BREAK.split(passage.text) if line.strip()]
    entries = sum(bool(_TOC_ENTRY.match(line)) for line in lines)
    if lines and entries >= TOC_SHARE * len(lines):
        return replace(passage, kind="toc", parts=())
    if _references(passage.text):
        return replace(passage, kind="reference")
    return passage


def _references(text: str) -> bool:
    """True when every line of `text` starts with a reference number and its numbers run on one by one
    (`[1] …` `[2] …`; the lines of a paragraph are joined, so a line may hold several)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    numbers = [int(n) for n in _REFERENCE_NUMBER.findall(text)]
    return (bool(lines) and all(_REFERENCE.match(line) for line in lines)
            and all(b == a + 1 for a, b in pairwise(numbers)))
