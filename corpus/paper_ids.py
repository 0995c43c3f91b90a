"""What names one paper wherever it appears: its DOI, its arXiv id, its title folded.

A paper may be a row of a table of papers, a note of its own and an entry of
a BibTeX library at once; `paper_keys` gives the keys by which those records
are found to be one paper (any key in common). A reader of another kind of
file (a PDF, say) that knows a paper's DOI, arXiv id or title gets the same
keys from a `Paper` it makes, and so joins the same paper.
"""

from __future__ import annotations

import re

from corpus.model import Paper
from corpus.text import fold

# A new-style arXiv id (`1810.04805`, `2301.00774v2`), in a URL or after `arXiv:`; old style (`hep-th/9901001`,
# `cs.LG/0301001`) only after `arXiv:` or in an arxiv.org URL, where it cannot be anything else.
_NEW_ID = r"(\d{4}\.\d{4,5})(?:v\d+)?"
_OLD_ID = r"([a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_ARXIV = re.compile(rf"(?:arxiv\.org/(?:abs|pdf|html)/|arxiv:\s*)(?:{_NEW_ID}|{_OLD_ID})(?![\d])", re.IGNORECASE)
# An id standing alone where a field holds an arXiv id (`eprint = {1810.04805}`, `arXiv: 1810.04805`).
_BARE_ID = re.compile(rf"^\s*(?:{_NEW_ID}|{_OLD_ID})\s*$")
# DOIs: `10.` a registrant, `/`, then anything up to a space or a closing bracket or quote.
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"'<>\])}]+)", re.IGNORECASE)
_DOI_TRAILING = ".,;:"
# A folded title shorter than this names too little to join two records by (`Introduction`).
MIN_TITLE_KEY = 12


def arxiv_id(text: str) -> str:
    """The first arXiv id in `text` (`https://arxiv.org/abs/1810.04805v2` → `1810.04805`), or ""."""
    match = _ARXIV.search(text) or _BARE_ID.match(text)
    if not match:
        return ""
    return match.group(1) or match.group(2)


def arxiv_year(identifier: str) -> int | None:
    """The year an arXiv id was given: `1810.04805` → 2018, `hep-th/9901001` → 1999; None for another id."""
    digits = identifier.rpartition("/")[2] if "/" in identifier else identifier
    if not digits[:2].isdigit():
        return None
    yy = int(digits[:2])
    if "/" in identifier:
        return 1900 + yy if yy >= 91 else 2000 + yy  # old-style ids began in August 1991
    return 2000 + yy if 7 <= yy else None  # new-style ids began in April 2007


def doi(text: str) -> str:
    """The first DOI in `text` (a bare DOI, `doi:…` or a doi.org URL), lower-cased; or ""."""
    match = _DOI.search(text)
    return match.group(1).rstrip(_DOI_TRAILING).lower() if match else ""


def title_key(title: str) -> str:
    """A title folded for comparison (case, spaces and punctuation dropped); "" when too short to join by."""
    folded = fold(title)
    return folded if len(folded) >= MIN_TITLE_KEY else ""


def paper_keys(paper: Paper) -> tuple[str, ...]:
    """The keys that name `paper`: `doi:…`, `arxiv:…`, `title:…` — two records sharing one are one paper."""
    keys = []
    if paper.doi:
        keys.append(f"doi:{paper.doi}")
    if paper.arxiv:
        keys.append(f"arxiv:{paper.arxiv}")
    folded = title_key(paper.title)
    if folded:
        keys.append(f"title:{folded}")
    return tuple(keys)
