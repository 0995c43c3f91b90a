"""A committed keyword index opened for reading: what the search stage reads of it, and nothing of Whoosh.

    keyword = KeywordIndex(generation_folder)   # its keyword/ folder and lengths.npz
    keyword.passage(number)                      # the passage stored under a document number
    keyword.postings("body", b"attention")       # document numbers and term frequencies, every segment at once

Document numbers run from 0 through every segment of the index
(`size`), deleted documents included: `alive()` says which are live.
Postings and positions are read a block at a time (segment/reader.py); year
and date ranges and "every passage" are Whoosh's own matchers, walked here.
The scorer (search/rank/scorer.py) computes BM25F from what this gives:
postings, idf, average and per-document field lengths.
"""

from __future__ import annotations

import os

import numpy as np
from whoosh import index
from whoosh import query as wq
from whoosh.searching import Searcher

from corpus.errors import KeywordIndexError
from corpus.model import Passage
from indexer.keyword import pickles
from indexer.keyword.documents import BYTE_LENGTHS, NUMBER_BITS, from_record, load_lengths, number_field
from indexer.keyword.segment import reader as segment

pickles.install()  # before any index is opened: Whoosh's pickles build Whoosh's classes and nothing else

KEYWORD = "keyword"  # the keyword index's folder in a generation folder

_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0))


class KeywordIndex:
    """The keyword index of one generation folder, opened once for reading; `close()` when done.

    Raises KeywordIndexError when the folder holds no keyword index, and what
    reading a damaged one raises (OSError, ValueError, pickle errors…).
    """

    def __init__(self, folder: str):
        self.folder = folder
        directory = os.path.join(folder, KEYWORD)
        try:
            self._index = index.open_dir(directory)
        except index.EmptyIndexError as error:
            raise KeywordIndexError(directory, str(error)) from error
        try:
            self._searcher = Searcher(self._index.reader(), fromindex=self._index)
        except BaseException:
            self._index.close()
            raise
        self._schema = self._searcher.schema
        self._leaves = self._searcher.leaf_searchers()
        self._length_bytes: dict[str, np.ndarray] | None = None
        self._alive: np.ndarray | None = None

    # ---------------------------------------------------------------- the index as a whole

    @property
    def generation(self) -> int:
        """Whoosh's generation number of the index (a manifest records it)."""
        return self._index.latest_generation()

    @property
    def size(self) -> int:
        """How many document numbers there are: live and deleted documents of every segment."""
        return self._searcher.doc_count_all()

    @property
    def live(self) -> int:
        """How many live (not deleted) documents the index holds."""
        return self._searcher.doc_count()

    @property
    def segments(self) -> int:
        """How many segments the index is written in."""
        return len(self._leaves)

    def read_lengths(self) -> bool:
        """Read the field lengths written beside the index (lengths.npz); False when they are not one per document."""
        self._length_bytes = load_lengths(self.folder)
        return all(len(array) == self.size for array in self._length_bytes.values())

    def alive(self) -> np.ndarray:
        """Whether each document number is live (True) or deleted."""
        if self._alive is None:
            alive = np.ones(self.size, dtype=bool)
            for sub, offset in self._leaves:
                alive[offset + segment.deleted(sub.reader())] = False
            self._alive = alive
        return self._alive

    # ---------------------------------------------------------------- stored passages

    def passage(self, number: int) -> Passage:
        """The passage stored under a document number."""
        return from_record(self._searcher.stored_fields(number)["record"])

    def passage_id(self, number: int) -> str:
        """The id of the passage stored under a document number."""
        return self._searcher.stored_fields(number)["id"]

    def passage_by_id(self, passage_id: str) -> Passage | None:
        """The live passage with this id, or None."""
        reader = self._searcher.reader()
        if ("id", passage_id) not in reader:
            return None
        matcher = reader.postings("id", passage_id)  # skips deleted documents
        if not matcher.is_active():
            return None
        return self.passage(matcher.id())

    def numbers_of(self, path: str) -> list[int]:
        """The document numbers of the live passages of the note file `path` (as the index stores it)."""
        return list(self._searcher.document_numbers(file=path))

    def passages(self, paths: set[str] | None = None) -> list[Passage]:
        """Every live passage, in document order (only those of the note files `paths`, when given)."""
        return [from_record(doc["record"]) for doc in self._searcher.all_stored_fields()
                if paths is None or doc["file"] in paths]

    # ---------------------------------------------------------------- terms and postings

    def has_field(self, fieldname: str) -> bool:
        """Whether the index has this field."""
        return fieldname in self._schema

    def has_positions(self, fieldname: str) -> bool:
        """Whether a field stores its terms' positions (phrases can be matched in it)."""
        schema = self._schema
        return fieldname in schema and bool(schema[fieldname].format) and schema[fieldname].format.supports("positions")

    def term_bytes(self, fieldname: str, text: str) -> bytes | None:
        """A term as the index stores it, or None when the field does not exist or cannot hold it."""
        if fieldname not in self._schema:
            return None
        try:
            return self._schema[fieldname].to_bytes(text)
        except ValueError:
            return None

    def lexicon(self, fieldname: str) -> list[str]:
        """Every term of a field, in the index's order (none for a field it does not have)."""
        if fieldname not in self._schema:
            return []
        field = self._schema[fieldname]
        return [field.from_bytes(btext) for btext in self._searcher.reader().lexicon(fieldname)]

    def terms_starting(self, fieldname: str, btext: bytes) -> list[bytes]:
        """The terms of a field (as stored) that start with `btext`."""
        return list(self._searcher.reader().expand_prefix(fieldname, btext))

    def postings(self, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers (ascending, live documents only) and frequencies of a term (its stored bytes)."""
        ids, weights = [], []
        key = (fieldname, btext)
        for sub, offset in self._leaves:
            reader = sub.reader()
            if key in reader:
                docs, tf = segment.postings(reader, fieldname, btext)
                ids.append(docs + offset)
                weights.append(tf)
        return (np.concatenate(ids), np.concatenate(weights)) if ids else _EMPTY

    def positions(self, fieldname: str, btext: bytes, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where a term occurs in some documents: (document number, position) pairs, by document then position.

        `docs`: ascending document numbers, each holding the term; the field stores positions.
        """
        owners, spots = [], []
        for sub, offset in self._leaves:
            reader = sub.reader()
            local = docs[(docs >= offset) & (docs < offset + reader.doc_count_all())] - offset
            if not len(local):
                continue
            found, where = segment.positions(reader, fieldname, btext, local)
            owners.append(found + offset)
            spots.append(where)
        if not owners:
            return _EMPTY[0], _EMPTY[0]
        return np.concatenate(owners), np.concatenate(spots)

    # ---------------------------------------------------------------- what BM25F reads

    def idf(self, fieldname: str, btext: bytes) -> float:
        """Whoosh's inverse document frequency of a term: log(documents / (documents holding it + 1)) + 1."""
        return self._searcher.idf(fieldname, btext)

    def average_length(self, fieldname: str) -> float:
        """The average length of a field over all documents (0 for an empty index)."""
        return self._searcher.avg_field_length(fieldname)

    def field_lengths(self, fieldname: str) -> np.ndarray:
        """Every document's length in a text field, as Whoosh stores it (quantised to a byte), decoded."""
        if self._length_bytes is None:
            self.read_lengths()
        return BYTE_LENGTHS[self._length_bytes[fieldname]]

    # ---------------------------------------------------------------- ranges

    def years(self, low: int | None, high: int | None) -> tuple[np.ndarray, np.ndarray]:
        """The live passages whose paper year is in [low, high] (None: open), each scored 1.

        Whoosh's NumericRange is wrong here: its trie ranges wrap below zero
        (whoosh.util.numeric.split_ranges), so `year:..1950`, `year:1000..1500`
        or `year:0` matched every paper. A range over the full-precision terms
        (those of shift 0, which sort by number) is exact, and for four-digit
        years just as fast.
        """
        return self._matched(_range_query("year", low, high))

    def dates(self, low: int | None, high: int | None) -> tuple[np.ndarray, np.ndarray]:
        """The live passages of notes whose front-matter date (as corpus/dates.py numbers it) is in [low, high],
        each scored 1; exact as `years` is."""
        return self._matched(_range_query("date", low, high))

    def every(self) -> tuple[np.ndarray, np.ndarray]:
        """Every live passage, each scored 1."""
        return self._matched(wq.Every())

    def _matched(self, query: wq.Query) -> tuple[np.ndarray, np.ndarray]:
        """Whoosh's own matcher, walked over every matching document of every segment: numbers and scores."""
        docs, scores = [], []
        context = self._searcher.context()
        for sub, offset in self._leaves:
            matcher = query.matcher(sub, context)
            while matcher.is_active():
                docs.append(offset + matcher.id())
                scores.append(matcher.score())
                matcher.next()
        found = np.asarray(docs, dtype=np.int64)
        live = self.alive()[found]
        return found[live], np.asarray(scores, dtype=np.float64)[live]

    # ---------------------------------------------------------------- closing

    def close(self) -> None:
        """Close the searcher and the index."""
        self._searcher.close()
        self._index.close()

    def __enter__(self) -> KeywordIndex:  # noqa: PYI034 (Python 3.10 has no typing.Self)
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _range_query(name: str, low: int | None, high: int | None) -> wq.Query:
    """The numbers of a numeric field in [low, high] (None: open) as full-precision terms, each scored 1."""
    top = (1 << NUMBER_BITS) - 1
    low = max(0, low if low is not None else 0)
    high = min(top, high if high is not None else top)
    if low > high:
        return wq.NullQuery
    field = number_field()
    terms = wq.TermRange(name, field.to_bytes(low), field.to_bytes(high))
    return wq.ConstantScoreQuery(terms, 1.0)
