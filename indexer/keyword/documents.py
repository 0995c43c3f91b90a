"""Passages as the keyword index's documents: the schema, each passage's analysed fields and stored record,
and the field lengths written beside the index.

Fields: title (paper title), authors, venue, year (numeric), date (numeric, the
note's front-matter date as corpus/dates.py numbers it), section (note title and
heading path), tags (a paper's keywords too), body, links (the words of link targets, and a paper's URL,
arXiv id and DOI), path, names (the keys of the people its authors and its text name, corpus/names.py:
`he_k` for Kaiming He, K. He and 何恺明; searched only by a name a query writes), and
`grams` (each Chinese character with the next one, of everything: the
fallback when jieba cuts a word differently). Every stored field needed to show a hit is stored
here, so a hit never needs the notes.

The text fields are analysed here, once per passage, with the index's
analyzer (its learned words), and their terms and positions handed to the
segment writer (indexer/keyword/segment/writer.py), which writes Whoosh's files without
Whoosh analysing anything. The schema declares the text fields as ready-made
tokens (`term`, U+001F, `position`, separated by spaces, which Whoosh's own
RegexTokenizer and DelimitedAttributeFilter take apart): what Whoosh's public
writer would be given. So the schema Whoosh pickles holds Whoosh classes
only: no learned word and no notesearch class is stored in it, and renaming
a module of notesearch cannot break an index.

Each text field's length per document (the token count, quantised to a byte
exactly as Whoosh stores it) is written to `lengths.npz` beside the keyword
index, in document-number order, so that the scorer reads the lengths BM25F
needs without Whoosh's internals.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence

import numpy as np
from whoosh import fields
from whoosh.analysis import DelimitedAttributeFilter, RegexTokenizer
from whoosh.util.numeric import byte_to_length, length_to_byte

from corpus.dates import date_number
from corpus.model import Paper, Passage
from corpus.names import author_keys, text_keys
from indexer.analysis import Analyzer, gram_terms, path_tokens
from indexer.caches import ForgetfulCache
from indexer.files import atomic_write

# A term never holds a space or this character (the analyzer yields words, digits and a few joiners).
_POSITION_MARK = "\x1f"
_READY_MADE = RegexTokenizer(r"[^ ]+") | DelimitedAttributeFilter(_POSITION_MARK, "pos", default=0, type=int)
# The text fields, each analysed as words (learned words included), character grams or path words.
WORD_FIELDS = ("title", "authors", "venue", "section", "tags", "body", "links")
TEXT_FIELDS = (*WORD_FIELDS, "grams", "path", "names")
LENGTHS = "lengths.npz"
# Texts up to this many characters are analysed once per build: a section heading or a file's tags
# recur in every passage under them, while body texts rarely repeat.
_CACHED_LENGTH = 200
_CACHE_SIZE = 4096


NUMBER_BITS = 32


def number_field(stored: bool = False) -> fields.NUMERIC:
    return fields.NUMERIC(int, bits=NUMBER_BITS, stored=stored, signed=False)


def schema() -> fields.Schema:
    """The keyword index schema: its text fields take ready-made tokens (see the module docstring)."""

    def text(phrase: bool = True) -> fields.TEXT:
        return fields.TEXT(analyzer=_READY_MADE, phrase=phrase)

    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        file=fields.ID(stored=True),
        path=text(phrase=False),
        title=text(),
        authors=text(),
        venue=text(),
        section=text(),
        tags=text(),
        body=text(),
        links=text(phrase=False),
        names=text(phrase=False),
        grams=text(),
        year=number_field(stored=True),
        date=number_field(),
        kind=fields.ID(stored=True),
        record=fields.STORED,
    )


def ready_made(terms: list[str], positions: list[int]) -> str:
    """Analysed text as the schema's analyzer reads it: term, U+001F, position (from 0); spaces between.

    What Whoosh's public `add_document` takes for a text field: the writer
    (indexer/keyword/segment/writer.py) hands Whoosh the same terms without this round trip,
    and its tests compare the two.
    """
    return " ".join(f"{term}{_POSITION_MARK}{pos}" for term, pos in zip(terms, positions))


def path_terms(path: str) -> tuple[list[str], list[int]]:
    """The terms of path_tokens(path) and their positions from 0."""
    tokens = path_tokens(path)
    return [token.text for token in tokens], [token.pos - 1 for token in tokens]


# Each text field of a document: its terms, their positions (from 0) and its length for BM25F.
Analysed = dict[str, tuple[list[str], list[int], int]]


class Documents:
    """Passages → Whoosh documents: each text field analysed with the index's analyzer, and the other fields' values.

    A field's length is its number of terms, but for the gram field: the
    number of characters its grams hold (a bigram two). That is its number of
    unigrams and bigrams, which it held before its unigrams were dropped, so
    its BM25F scores stayed those the ranking constants were tuned with.
    """

    def __init__(self, analyzer: Analyzer):
        self.analyzer = analyzer
        self._cache: ForgetfulCache[str, tuple[list[str], list[int], int]] = ForgetfulCache(_CACHE_SIZE)

    def _words(self, text: str) -> tuple[list[str], list[int], int]:
        if len(text) > _CACHED_LENGTH:
            terms, positions = self.analyzer.index_terms(text)
            return terms, positions, len(terms)
        found = self._cache.get(text)
        if found is None:
            terms, positions = self.analyzer.index_terms(text)
            found = self._cache.keep(text, (terms, positions, len(terms)))
        return found

    def document(self, passage: Passage) -> tuple[Analysed, dict[str, object]]:
        """The analysed text fields of a passage, and its other fields."""
        paper = passage.paper
        ids = (paper.url, paper.arxiv and f"arxiv {paper.arxiv}", paper.doi) if paper else ()
        texts = {
            "title": paper.title if paper else "",
            "authors": " ; ".join(paper.authors) if paper else "",
            "venue": paper.venue if paper else "",
            "section": " ".join(part for part in (passage.title, passage.section, passage.parent) if part),
            "tags": " ".join((*passage.tags, *(paper.keywords if paper else ()))),
            "body": passage.text,
            "links": " ".join(link_words(link) for link in (*passage.links, *ids) if link),
        }
        analysed = {name: self._words(text) for name, text in texts.items()}
        grams, positions = gram_terms(" ".join(part for part in (paper.title if paper else "", passage.section,
                                                                 passage.text) if part))
        analysed["grams"] = grams, positions, sum(map(len, grams))
        terms, positions = path_terms(passage.path)
        analysed["path"] = terms, positions, len(terms)
        keys = sorted(name_keys(passage))
        analysed["names"] = keys, list(range(len(keys))), len(keys)
        values = {"id": passage.id, "file": passage.path, "kind": passage.kind, "record": to_record(passage),
                  "year": paper.year if paper and paper.year else None,
                  "date": date_number(passage.date) if passage.date else None}
        return analysed, values


def name_keys(passage: Passage) -> set[str]:
    """The keys of the people a passage names: its paper's authors, and the names its title and text write."""
    paper = passage.paper
    found = {name_key for author in paper.authors for name_key in author_keys(author)} if paper else set()
    return found | text_keys(" ".join(part for part in (paper.title if paper else "", passage.text) if part))


def length_bytes(lengths: Sequence[int]) -> np.ndarray:
    """Token counts as Whoosh stores a field length: one byte each, logarithmic."""
    return np.array([length_to_byte(n) for n in lengths], dtype=np.uint8)


# Every byte a length is stored as, decoded (0, no tokens, reads as 1, as Whoosh's scorer reads it).
BYTE_LENGTHS = np.array([byte_to_length(b) or 1 for b in range(256)], dtype=np.float64)


def save_lengths(folder: str, lengths: dict[str, np.ndarray]) -> None:
    """Write each text field's length bytes (one per document number) into `folder`/lengths.npz."""
    atomic_write(os.path.join(folder, LENGTHS), lambda f: np.savez(f, **lengths))


def load_lengths(folder: str) -> dict[str, np.ndarray]:
    """The length bytes written by save_lengths: one uint8 array per text field."""
    with np.load(os.path.join(folder, LENGTHS), allow_pickle=False) as stored:
        lengths = {name: stored[name] for name in TEXT_FIELDS}
    if any(array.dtype != np.uint8 or array.ndim != 1 for array in lengths.values()):
        raise ValueError(f"{LENGTHS} in {folder} does not hold one byte per document")
    return lengths


_TEXT_FRAGMENT = re.compile(r"#:~:text=")
_URL_NOISE = re.compile(r"^(?:https?|www|ftp|mailto)$|^(?:html?|php|aspx?|pdf)$", re.IGNORECASE)


def link_words(url: str) -> str:
    """The words of a link target: `https://x.ai/blog/self-supervised-learning#:~:text=If you` → `x ai blog …`.

    A URL's path and text fragment often name the linked page in English; the
    scheme, `www` and file suffixes say nothing and are dropped.
    """
    words = re.split(r"[^\w-]+|_", _TEXT_FRAGMENT.sub(" ", url))
    return " ".join(word for word in words if word.strip("-") and not _URL_NOISE.match(word))


# The fields of a Paper stored by name in a passage's record (besides year, authors, title, note and keywords).
_PAPER_EXTRAS = ("venue", "doi", "arxiv", "url", "citekey", "source")


def to_record(passage: Passage) -> str:
    """A passage as compact JSON (what the index stores to rebuild it)."""
    data = {"p": passage.path, "a": passage.line_start, "b": passage.line_end, "s": passage.section,
                "t": passage.title, "x": passage.text, "k": passage.kind, "g": list(passage.tags), "n": passage.piece}
    if passage.links:
        data["l"] = list(passage.links)
    if passage.parts:
        data["q"] = list(passage.parts)
    if passage.parent:
        data["r"] = passage.parent
    if passage.date:
        data["d"] = passage.date
    if passage.region:
        data["z"] = passage.region
    if passage.paper:
        p = passage.paper
        extra = {name: getattr(p, name) for name in _PAPER_EXTRAS if getattr(p, name)}
        data["paper"] = [p.year, list(p.authors), p.title, p.note, {**extra, "keywords": list(p.keywords)}]
    return json.dumps(data, ensure_ascii=False)


def from_record(record: str) -> Passage:
    """The passage stored by to_record."""
    d = json.loads(record)
    paper = None
    if "paper" in d:
        year, authors, title, note, extra = d["paper"]
        paper = Paper(year, tuple(authors), title, note, **{**extra, "keywords": tuple(extra["keywords"])})
    return Passage(path=d["p"], line_start=d["a"], line_end=d["b"], section=d["s"], title=d["t"],
                   text=d["x"], kind=d["k"], tags=tuple(d["g"]), paper=paper, piece=d["n"], links=tuple(d.get("l", ())),
                   parts=tuple(d.get("q", ())), parent=d.get("r", ""), date=d.get("d", ""), region=d.get("z", ""))
