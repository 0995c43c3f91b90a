"""The plain records that flow out of the corpus stage: notes, passages, papers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from corpus.text import sentence_runs

# The most characters of a passage an embedder reads (none of the development corpora comes near).
MAX_CONTEXT = 2000
# A passage of several sentences is embedded whole and, beside that, in runs of sentences of at least this many
# characters (corpus.text.sentence_runs), each after the passage's headings (a paper's title): a question about
# one sentence of a 300-character paragraph finds it. Chosen by leave-one-corpus-out cross-validation with
# indexer/vectors.py's FIRST_SHARE (bench/quality.py; README's Quality section).
MIN_SENTENCE_RUN = 60


@dataclass(frozen=True)
class Note:
    """One note file: its decoded text and the metadata from its front matter.

    `body_line` is the 1-based line where the body starts (after front matter),
    so passages keep the line numbers of the file itself. `warnings` say what
    could not be read as written (bad bytes, a skipped front matter). `meta` is
    the front matter as YAML gave it (a note about one paper gives its authors,
    year, DOI there: corpus/paper_notes.py reads them).
    """

    path: str
    text: str
    title: str
    date: str = ""
    tags: tuple[str, ...] = ()
    body_line: int = 1
    warnings: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict, compare=False)


# Where a paper record was read from: a row of a table of papers, a note about one paper (or the README of a
# folder of one paper), an entry of a BibTeX file. A reader of another kind of file that finds one paper in it (a
# PDF of the paper) may name its own source: a record of any source but a row or an entry is its file's whole.
PAPER_SOURCES = ("row", "note", "bib", "pdf")
RECORD_SOURCES = ("row", "bib")


@dataclass(frozen=True)
class Paper:
    """A paper record: a row of a table of papers, a note about one paper, or a BibTeX entry.

    `note` is what the record says of the paper (a row's note, an entry's
    abstract; empty for a note, whose passages say it). `arxiv` is an arXiv id
    without version (`1810.04805`), `doi` lower-cased (`10.18653/v1/n19-1423`);
    corpus/paper_ids.py reads and compares them. `source` is one of PAPER_SOURCES.
    """

    year: int | None
    authors: tuple[str, ...]
    title: str
    note: str
    venue: str = ""
    doi: str = ""
    arxiv: str = ""
    url: str = ""
    keywords: tuple[str, ...] = ()
    citekey: str = ""
    source: str = "row"

    @property
    def whole_file(self) -> bool:
        """Whether the paper is its file's whole (a note about it), not one record among many (a row, an entry)."""
        return self.source not in RECORD_SOURCES


@dataclass(frozen=True)
class Passage:
    """The unit of retrieval: a paragraph, list item, table row or piece of one.

    `line_start`/`line_end` are 1-based and inclusive, in the source file, or in its `region` when it has one:
    a part of the file that has lines of its own (`c5`, the fifth cell of a notebook; `p3`, the third page of a
    PDF; empty for a plain text file), so a location reads `paper.pdf:p3:12`.
    `text` has the markdown syntax stripped; it is what is indexed and shown.
    `piece` numbers the pieces a long block was split into (0 for a whole block).
    `links` are the targets of the markdown links in the passage (not part of `text`).
    `parts` are the texts a joined passage (kind "group") was made of, each embedded on its own.
    `parent` is the start of the list item a nested item sits in (its context, like a heading).
    `date` is its note's front-matter date (`2024-03-01`, `2024-03` or `2024`; see corpus/dates.py).
    """

    path: str
    line_start: int
    line_end: int
    section: str
    title: str
    text: str
    kind: str = "paragraph"
    tags: tuple[str, ...] = ()
    paper: Paper | None = None
    piece: int = 0
    links: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()
    parent: str = ""
    date: str = ""
    region: str = ""

    @property
    def id(self) -> str:
        return f"{self.path}:{self.place}-{self.line_end}#{self.piece}"

    @property
    def place(self) -> str:
        """Where the passage starts, as a location shows it after the path: `12`, or `p3:12` in a region."""
        return f"{self.region}:{self.line_start}" if self.region else str(self.line_start)

    @property
    def display_title(self) -> str:
        """The paper title for a paper record, the note title otherwise."""
        return self.paper.title if self.paper else self.title

    def context_text(self) -> str:
        """The text an embedder reads for this passage: its heading path (note title first, once), then its text.

        Empty for a code block: a sentence encoder cannot place code, and its
        vectors crowd out prose in semantic results; keyword search finds code.
        Empty for a table of contents too: it is never an answer.
        At most MAX_CONTEXT characters: an encoder's time and memory grow with
        its input (60 KB took 1.2 GB), and a passage is at most a few hundred.
        """
        if self.kind in ("code", "toc"):
            return ""
        if self.paper:
            p = self.paper
            authors = ", ".join(p.authors)
            year = f" ({p.year})" if p.year else ""
            return f"{p.title}{year}. {authors}. {p.note}"[:MAX_CONTEXT]
        headings = [heading for heading in self.section.split(" > ") if heading]
        if self.title and self.title not in headings[:1]:
            headings.insert(0, self.title)
        if self.parent:
            headings.append(self.parent)
        return (f"{' > '.join(headings)}: {self.text}" if headings else self.text)[-MAX_CONTEXT:]

    def embed_texts(self) -> tuple[str, ...]:
        """What an embedder reads, one vector each: for each part of a joined passage (else the passage itself)
        its context text, then, when it holds several sentences, each run of them (MIN_SENTENCE_RUN) after the
        same headings, or after a paper's title. The first is the passage's own text, or its first part's.
        Nothing for code and tables of contents."""
        if self.parts:
            return tuple(text for part in self.parts
                         for text in replace(self, text=part, parts=(), kind="paragraph").embed_texts())
        text = self.context_text()
        if not text:
            return ()
        if self.paper:
            head, body = f"{self.paper.title}: ", self.paper.note
        else:
            head, body = (text[:-len(self.text)] if text.endswith(self.text) else ""), self.text
        # The runs read what the whole text reads, at most MAX_CONTEXT characters: a long note adds no work.
        runs = sentence_runs(body[:MAX_CONTEXT], MIN_SENTENCE_RUN)
        return (text, *((head + run)[:MAX_CONTEXT] for run in runs))
