"""A PDF that is a paper → its paper record: title, authors, year and abstract, from its metadata and first page.

A PDF is a paper when its first page holds an abstract (a line that starts
`Abstract` or `摘要`), or when its metadata names both a title (not a file name)
and an author. The title is the metadata's, else the largest text above the
abstract; the authors the metadata's, else the lines between the title and the
abstract that are not affiliations or addresses; the year that of its arXiv
identifier (`arXiv:1706.03762` is 2017), else of its creation date. The record
sits on the title's lines of page 1 (region `p1`), its note the abstract; its
DOI and arXiv id (also its links) and its title join it to the same paper's
note, table row or BibTeX entry (corpus/paper_ids.py).
"""

from __future__ import annotations

import re

from corpus.model import Note, Paper, Passage
from corpus.paper_ids import doi as read_doi
from corpus.papers import split_authors
from corpus.pdf_layout import PdfText, line_pitch, named_title, paragraphs

_ABSTRACT = re.compile(r"^\s*(?:abstract|摘\s*要)\b\s*[:：.—-]?\s*", re.IGNORECASE)
_ARXIV = re.compile(r"arxiv:\s*(\d{2})(\d{2})\.(\d{4,5})(v\d+)?", re.IGNORECASE)
_CREATED = re.compile(r"^D?:?((?:19|20)\d\d)")
# A line of the first page that says where the authors work or how to write to them, not who they are.
_AFFILIATION = re.compile(r"@|univers|institut|department|school|college|laborator|\blab\b|inc\.|corporation|"
                          r"research|大学|学院|研究|实验室|公司|\d{5}", re.IGNORECASE)
_MARKS = re.compile(r"[*†‡§¶∗⋆]|(?<=[^\W\d])\d+\b|\s\d+(?=\s*(?:,|$))")
MAX_NOTE = 1500
# What tools write as the author of a document no one named (reportlab's default is `anonymous`).
_NO_AUTHOR = re.compile(r"^(?:anonymous|unknown|author|user|admin|none)?$", re.IGNORECASE)


def paper_passage(note: Note, found: PdfText) -> Passage | None:
    """The paper record of a PDF that is a paper, else None."""
    page = found.pages[0] if found.pages else []
    meta_title = named_title(found.meta.get("title", ""))
    author = found.meta.get("author", "").strip()
    meta_authors = () if _NO_AUTHOR.match(author) else split_authors(author)
    abstract = next((n for n, line in enumerate(page) if _ABSTRACT.match(line.text)), None)
    if abstract is None and not (meta_title and meta_authors):
        return None
    above = page[:abstract] if abstract is not None else page[:12]
    title_lines = _title_lines(above)
    title = meta_title or " ".join(line.text.strip() for _n, line in title_lines)
    if not title:
        return None
    authors = meta_authors or _authors(above[title_lines[-1][0] + 1:] if title_lines else [])
    text = "\n".join(line.text for line in page)
    arxiv = _ARXIV.search(text)
    created = _CREATED.search(found.meta.get("creationdate", ""))
    year = 2000 + int(arxiv.group(1)) if arxiv else int(created.group(1)) if created else None
    found_doi = read_doi(found.meta.get("doi", "") + " " + text)
    found_arxiv = f"{arxiv.group(1)}{arxiv.group(2)}.{arxiv.group(3)}" if arxiv else ""
    links = [*([f"https://doi.org/{found_doi}"] if found_doi else []),
             *([f"https://arxiv.org/abs/{found_arxiv}"] if found_arxiv else [])]
    # Its DOI, arXiv id and title join it to the same paper's note, row or BibTeX entry (corpus/paper_ids.py),
    # and the whole PDF is that paper's material, as a note about one paper is.
    paper = Paper(year=year, authors=authors, title=title[:300], note=_abstract(page, abstract)[:MAX_NOTE],
                  doi=found_doi, arxiv=found_arxiv, source="pdf")
    first = title_lines[0][0] + 1 if title_lines else 1
    last = title_lines[-1][0] + 1 if title_lines else 1
    record = " ".join(part for part in (str(year) if year else "", "、".join(authors), paper.title) if part)
    return Passage(path=note.path, line_start=first, line_end=last, section="", title=note.title, text=record,
                   kind="paper", paper=paper, links=tuple(links), region="p1")


def _title_lines(lines) -> list[tuple[int, object]]:
    """The lines of the largest text among `lines` that come first and together: (index, line)."""
    sized = [(n, line) for n, line in enumerate(lines) if re.search(r"[^\W\d_]", line.text)]
    if not sized:
        return []
    largest = max(line.size for _n, line in sized)
    title = [(n, line) for n, line in sized if line.size >= largest - 0.5]
    run = [title[0]]
    for n, line in title[1:]:
        if n != run[-1][0] + 1:
            break
        run.append((n, line))
    return run


def _authors(lines) -> tuple[str, ...]:
    """Author names from the lines between a paper's title and its abstract: affiliations and addresses out."""
    names: list[str] = []
    for line in lines:
        text = _MARKS.sub(" ", line.text)
        if _AFFILIATION.search(line.text) or not text.strip():
            continue
        names.extend(name for name in split_authors(text) if 1 <= len(name.split()) <= 5)
    return tuple(dict.fromkeys(names))[:50]


def _abstract(page, abstract: int | None) -> str:
    """The text of the abstract: the rest of its line and the paragraph that follows."""
    if abstract is None:
        return ""
    rest = page[abstract:]
    first = _ABSTRACT.sub("", rest[0].text, count=1).strip()
    paragraphs_after = paragraphs(rest[1:], line_pitch([page]))
    body = " ".join(line.text.strip() for line in paragraphs_after[0][1]) if paragraphs_after else ""
    return " ".join(part for part in (first, body) if part)
