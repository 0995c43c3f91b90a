"""A file's decoded text → its note and the passages to index, by the kind of file.

A BibTeX library gives one paper record per entry (corpus/bibtex.py); a
markdown or text note gives its passages (corpus/markdown.py), the record of
the paper it is about when it is about one (corpus/paper_notes.py), packed
into answers (corpus/packing.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from corpus.bibtex import is_library, read_library
from corpus.markdown import passages_of
from corpus.model import Note, Passage
from corpus.packing import answers
from corpus.paper_notes import with_paper_record
from corpus.reading import parse_note


def read_passages(path: str, text: str, warnings: Iterable[str] = ()) -> tuple[Note, list[Passage]]:
    """The note of the file at `path` with text `text`, and its passages in reading order."""
    if is_library(path):
        return read_library(path, text, tuple(warnings))
    note = parse_note(path, text, warnings)
    return note, answers(with_paper_record(note, passages_of(note)))
