"""A note file's bytes → its Note and passages, whatever its kind: the one place that reads by kind.

    document = read_document("notes/vit.org", data)   # Note + passages packed (corpus/packing.py), dated
    lines = region_lines("papers/mae.pdf", data, "p3")  # what `get` shows of page 3

Markdown and text files are read by corpus/reading.py and corpus/markdown.py
(a note about one paper also gives that paper's record: corpus/paper_notes.py),
BibTeX libraries by corpus/bibtex.py (a paper record per entry), notebooks by
corpus/notebook.py, Org files by corpus/org.py, PDFs by corpus/pdf.py; each
gives the same Note and Passage shapes, so nothing after
the corpus stage knows what kind of file a passage came from. A passage of a
notebook or a PDF lives in a region of its file (a cell, a page) and its lines
are lines of that region; `region_lines` gives them back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from corpus.dates import note_date
from corpus.decoding import decode
from corpus.kinds import kind_of
from corpus.markdown import passages_of
from corpus.model import Note, Passage
from corpus.packing import pack_sections
from corpus.paper_notes import with_paper_record
from corpus.reading import parse_note


@dataclass(frozen=True)
class Document:
    """A note file read: its Note (its text is what words are learned from) and its passages as answers."""

    note: Note
    passages: list[Passage]


def read_document(path: str, data: bytes) -> Document:
    """The Note and passages of the file `path` whose content is `data`, read by its kind.

    Raises ValueError with a reason when it cannot be read (binary, not a
    notebook, a PDF that is encrypted, damaged or a scan, …).
    """
    kind = kind_of(path)
    if kind == "notebook":
        from corpus.notebook import read_notebook

        note, passages = read_notebook(path, data)
    elif kind == "org":
        from corpus.org import read_org

        note, passages = read_org(path, data)
    elif kind == "pdf":
        from corpus.pdf import read_pdf

        note, passages = read_pdf(path, data)
    elif kind == "bibtex":
        from corpus.bibtex import read_library

        decoded = decode(data)
        note, passages = read_library(path, decoded.text, decoded.warnings)
    else:
        decoded = decode(data)
        note = parse_note(path, decoded.text, decoded.warnings)
        passages = with_paper_record(note, passages_of(note))
    date = note_date(note.date)
    passages = pack_sections(passages)
    return Document(note, [replace(p, date=date) for p in passages] if date else passages)


def region_lines(path: str, data: bytes, region: str = "") -> list[str]:
    """The lines of the file `path` (content `data`) that a passage's lines number: the whole file's for a
    plain file, else those of its `region` (a notebook's cell, a PDF's page). Raises ValueError."""
    kind = kind_of(path)
    if kind == "notebook" and region:
        from corpus.notebook import cell_lines

        return cell_lines(data, region)
    if kind == "pdf" and region:
        from corpus.pdf import page_lines

        return page_lines(data, region)
    if region:
        raise ValueError(f"{path} has no region {region!r}: only notebooks (cells) and PDFs (pages) have regions")
    lines = decode(data).text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()  # the end of the last line, not a line
    return lines
