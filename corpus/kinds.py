"""The kinds of note file notesearch reads, told by their suffix: the one table of them.

Every stage asks here, never looks at a suffix itself: corpus/documents.py reads
a file by its kind, corpus/reading.py finds the files of these kinds (and counts
the others), the watcher follows them and `stats` counts them.
"""

from __future__ import annotations

import os

# Suffix → kind. A `.txt` note is read as Markdown (plain text is Markdown without markup).
KINDS = {".md": "markdown", ".markdown": "markdown", ".txt": "markdown", ".ipynb": "notebook", ".org": "org",
         ".pdf": "pdf", ".bib": "bibtex"}
SUFFIXES = tuple(KINDS)
# The largest file of each kind that is read. A text note over 2 MB is an export or a log, not a note
# (2 MB of Chinese is ~2,000 passages); a notebook's size is mostly its images, which are never read; a PDF
# is read in a child process bounded in time and memory (corpus/pdf.py), and a book of 500 pages is ~10 MB;
# a BibTeX library is records, not prose: an export of 20,000 papers with their abstracts is about 20 MB.
MAX_BYTES = {"markdown": 2 * 1024 * 1024, "org": 2 * 1024 * 1024, "notebook": 20 * 1024 * 1024,
             "pdf": 100 * 1024 * 1024, "bibtex": 64 * 1024 * 1024}


def kind_of(path: str) -> str | None:
    """The kind of the file at `path` (`markdown`, `notebook`, `org`, `pdf`, `bibtex`), or None when it is not read."""
    return KINDS.get(os.path.splitext(path)[1].lower())


def other_suffix(name: str) -> str:
    """How a file that is not read is counted: its suffix, lower-cased (`.docx`), or `(no suffix)`."""
    return os.path.splitext(name)[1].lower() or "(no suffix)"
