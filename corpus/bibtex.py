"""A BibTeX library (`.bib`, as Zotero, JabRef or Mendeley export it) → one paper record per entry.

Read by bibtexparser (2.x), the one module here that imports it. Each entry is
a passage of kind "paper" over its lines (at most MAX_SPAN after its first):
its title, authors, venue and year, abstract and keywords, all searchable;
the abstract (else the annotation, `annote`) is the record's note (what its
vector reads beside the title).
LaTeX in a field (`M{\\"u}ller`, `\\&`) is decoded where there is some, braces
dropped everywhere. An entry bibtexparser cannot read is left out with a
warning that names its line; `@string` abbreviations are resolved.
"""

from __future__ import annotations

import bisect
import logging
import re
from pathlib import PurePath

import bibtexparser
from bibtexparser import middlewares

from corpus.model import Note, Paper, Passage
from corpus.packing import MAX_SPAN
from corpus.paper_ids import arxiv_id, doi

logging.getLogger("bibtexparser").setLevel(logging.ERROR)  # its failures come back as warnings of the note

# At most this many characters of an abstract are indexed (and shown).
MAX_ABSTRACT = 4000
_VENUE_FIELDS = ("journal", "journaltitle", "booktitle", "eventtitle", "howpublished", "publisher", "school",
                 "institution", "organization")
# What an entry says of its paper: its abstract, else the annotation a reference manager keeps (`annote`).
_NOTE_FIELDS = ("abstract", "annote", "annotation")
_ARXIV_FIELDS = ("eprint", "arxivid", "arxiv", "journal", "url", "note")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_BRACES = re.compile(r"[{}]")
_SPACES = re.compile(r"\s+")
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_KEYWORD_SEPARATOR = re.compile(r"\s*[,;]\s*")


def read_library(path: str, text: str, warnings: tuple[str, ...] = ()) -> tuple[Note, list[Passage]]:
    """The note of a BibTeX file (its title the file's name, its text that of its records) and its paper records,
    in the file's order; the entries that could not be read are named in the note's warnings."""
    library = bibtexparser.parse_string(text)
    decoder, coauthors = middlewares.LatexDecodingMiddleware(), middlewares.SeparateCoAuthors()
    lines = text.count("\n") + 1
    starts = sorted({block.start_line for block in library.blocks} | {lines})
    title = PurePath(path).stem
    records = []
    for entry in library.entries:
        if any("\\" in _text(field.value) for field in entry.fields):
            entry = decoder.transform_entry(entry, library)  # slow (pylatexenc): only where there is LaTeX
        entry = coauthors.transform_entry(entry, library)
        first = entry.start_line + 1
        following = starts[bisect.bisect_right(starts, entry.start_line)]  # `lines` ends the list: always one
        last = max(first, min(following, first + MAX_SPAN))
        last = min(last, first + _text(entry.raw).rstrip().count("\n"))
        paper = _paper(entry)
        if paper is None:
            continue
        records.append(Passage(path=path, line_start=first, line_end=last, section="", title=title,
                               text=_record_text(paper), kind="paper", tags=paper.keywords, paper=paper))
    problems = [f"BibTeX entry at line {block.start_line + 1} not read ({_reason(block)})"
                for block in library.failed_blocks]
    body = "\n".join(record.text for record in records)
    return Note(path=path, text=body, title=title, warnings=(*warnings, *problems)), records


def _paper(entry) -> Paper | None:
    """The paper of one entry, or None when it has no title."""
    fields = {field.key.lower(): field.value for field in entry.fields}
    title = _clean(fields.get("title", ""))
    if not title:
        return None
    authors = fields.get("author") or fields.get("editor") or []
    if isinstance(authors, str):
        authors = _AND.split(authors)
    names = tuple(name for name in (_person(a) for a in authors) if name and name.lower() != "others")
    year_text = _clean(fields.get("year", "")) or _clean(fields.get("date", ""))
    year = _YEAR.search(year_text)
    identifiers = " ".join(_clean(fields.get(name, "")) for name in _ARXIV_FIELDS)
    eprint = _clean(fields.get("eprint", ""))
    return Paper(
        year=int(year.group(1)) if year else None, authors=names, title=title,
        note=next((_clean(fields[name]) for name in _NOTE_FIELDS if _clean(fields.get(name, ""))), "")[:MAX_ABSTRACT],
        venue=next((_clean(fields[name]) for name in _VENUE_FIELDS if _clean(fields.get(name, ""))), ""),
        doi=doi(_clean(fields.get("doi", ""))) or doi(_clean(fields.get("url", ""))),
        arxiv=arxiv_id(identifiers) or (arxiv_id(eprint) if eprint else ""),
        url=_clean(fields.get("url", "")),
        keywords=tuple(k for k in _KEYWORD_SEPARATOR.split(_clean(fields.get("keywords", ""))) if k),
        citekey=entry.key, source="bib",
    )


def _record_text(paper: Paper) -> str:
    """What an entry's record says, a line each: title, authors, venue and year, abstract, keywords."""
    where = ", ".join(part for part in (paper.venue, str(paper.year or "")) if part)
    parts = [paper.title, ", ".join(paper.authors), where, paper.note,
             "Keywords: " + ", ".join(paper.keywords) if paper.keywords else ""]
    return "\n".join(part for part in parts if part)


def _person(name: str) -> str:
    """`Devlin, Jacob` → `Jacob Devlin`; `{Google Brain}` → `Google Brain`."""
    name = _clean(name)
    if name.count(",") == 1:
        last, first = (part.strip() for part in name.split(","))
        name = f"{first} {last}".strip()
    elif name.count(",") == 2:  # `von Last, Jr, First`
        last, junior, first = (part.strip() for part in name.split(","))
        name = f"{first} {last} {junior}".strip()
    return name


def _text(value: object) -> str:
    return value if isinstance(value, str) else " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _clean(value: object) -> str:
    """A field's value as plain text: braces dropped, spaces collapsed."""
    return _SPACES.sub(" ", _BRACES.sub("", _text(value))).strip()


def _reason(block) -> str:
    """Why bibtexparser could not read a block, in a few words."""
    if isinstance(block, bibtexparser.model.DuplicateBlockKeyBlock):
        return f"a second entry with the key {block.key!r}"
    return "its braces or quotes do not close" if "aborted" in str(block.error).lower() or \
        type(block.error).__name__ == "BlockAbortedException" else str(block.error).split("\n")[0]
