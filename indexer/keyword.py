"""The keyword index: passages in a Whoosh index, terms from our own analyzer.

Fields: title (paper title), authors, year (numeric), section (note title and
heading path), tags, body, links (the words of link targets), path, and `grams` (Chinese character uni/bigrams of
everything, the fallback when jieba cuts a word differently). Every stored
field needed to show a hit is stored here, so a hit never needs the notes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable

from whoosh import fields, index
from whoosh import query as wq
from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer

from corpus.model import Paper, Passage
from indexer.analysis import Analyzer, Token, char_grams

# Texts up to this many characters are analysed once per tokenizer: a section heading or a file's
# tags recur in every passage under them, while body texts rarely repeat.
_CACHED_LENGTH = 200
_CACHE_SIZE = 4096


class WordTokenizer(Tokenizer):
    """Whoosh adapter for Analyzer.tokens. Pickled with the schema: keeps only its word list."""

    def __init__(self, words: Iterable[str] = ()):
        self.words = tuple(words)
        self.cache_dir: str | None = None
        self._cache: dict[str, list[Token]] = {}

    def __getstate__(self):
        return {"words": self.words}

    def __setstate__(self, state):
        self.words = state["words"]
        self.cache_dir = None
        self._cache = {}

    def __eq__(self, other):
        return type(other) is type(self) and other.words == self.words

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        yield from _whoosh_tokens(self._tokens(value), positions, chars, start_pos, start_char, mode)

    def _tokens(self, value: str) -> list[Token]:
        if len(value) > _CACHED_LENGTH:
            return Analyzer(self.words, self.cache_dir).tokens(value)
        tokens = self._cache.get(value)
        if tokens is None:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            tokens = self._cache[value] = Analyzer(self.words, self.cache_dir).tokens(value)
        return tokens


class GramTokenizer(Tokenizer):
    """Whoosh adapter for char_grams."""

    def __eq__(self, other):
        return type(other) is type(self)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        yield from _whoosh_tokens(char_grams(value), positions, chars, start_pos, start_char, mode)


class PathTokenizer(Tokenizer):
    """Lower-cased words of a file path: `notes/famous-papers.md` → notes, famous, papers, md."""

    def __eq__(self, other):
        return type(other) is type(self)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        tokens = [(m.group().lower(), m.start(), m.end()) for m in re.finditer(r"[^\W_]+", value)]
        yield from _whoosh_tokens([Token(t, n + 1, s, e) for n, (t, s, e) in enumerate(tokens)],
                                  positions, chars, start_pos, start_char, mode)


def _whoosh_tokens(tokens, positions, chars, start_pos, start_char, mode):
    t = WhooshToken(positions, chars, mode=mode)
    for token in tokens:
        t.text = token.text
        t.boost = 1.0
        t.stopped = False
        if positions:
            t.pos = start_pos + token.pos - 1
        if chars:
            t.startchar = start_char + token.start
            t.endchar = start_char + token.end
        yield t


_YEAR_BITS = 32


def _year_field() -> fields.NUMERIC:
    return fields.NUMERIC(int, bits=_YEAR_BITS, stored=True, signed=False)


def year_query(low: int | None, high: int | None) -> wq.Query:
    """Passages whose paper year is in [low, high] (None: open), each scored 1.

    Whoosh's NumericRange is wrong here: its trie ranges wrap below zero
    (whoosh.util.numeric.split_ranges), so `year:..1950`, `year:1000..1500`
    or `year:0` matched every paper. A range over the full-precision terms
    (those of shift 0, which sort by number) is exact, and for four-digit
    years just as fast.
    """
    top = (1 << _YEAR_BITS) - 1
    low = max(0, low if low is not None else 0)
    high = min(top, high if high is not None else top)
    if low > high:
        return wq.NullQuery
    field = _year_field()
    terms = wq.TermRange("year", field.to_bytes(low), field.to_bytes(high))
    return wq.ConstantScoreQuery(terms, 1.0)


def schema(words: Iterable[str]) -> fields.Schema:
    """The keyword index schema, its word fields analysed with the learned `words`."""
    words = tuple(words)

    def text() -> fields.TEXT:
        return fields.TEXT(analyzer=WordTokenizer(words), phrase=True)

    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        file=fields.ID(stored=True),
        path=fields.TEXT(analyzer=PathTokenizer(), phrase=False),
        title=text(),
        authors=text(),
        section=text(),
        tags=text(),
        body=text(),
        links=fields.TEXT(analyzer=WordTokenizer(words), phrase=False),
        grams=fields.TEXT(analyzer=GramTokenizer(), phrase=True),
        year=_year_field(),
        kind=fields.ID(stored=True),
        record=fields.STORED,
    )


def bind(ix: index.Index, cache_dir: str | None) -> index.Index:
    """Point the analyzers of an opened index at the jieba cache directory."""
    for name in ix.schema.names():
        analyzer = ix.schema[name].analyzer if hasattr(ix.schema[name], "analyzer") else None
        if isinstance(analyzer, WordTokenizer):
            analyzer.cache_dir = cache_dir
    return ix


def document(passage: Passage) -> dict:
    """The Whoosh document of a passage."""
    paper = passage.paper
    doc = {
        "id": passage.id,
        "file": passage.path,
        "path": passage.path,
        "title": paper.title if paper else "",
        "authors": " ; ".join(paper.authors) if paper else "",
        "section": " ".join(part for part in (passage.title, passage.section) if part),
        "tags": " ".join(passage.tags),
        "body": passage.text,
        "links": " ".join(link_words(link) for link in passage.links),
        "grams": " ".join(part for part in (paper.title if paper else "", passage.section, passage.text) if part),
        "kind": passage.kind,
        "record": to_record(passage),
    }
    if paper and paper.year:
        doc["year"] = paper.year
    return doc


_TEXT_FRAGMENT = re.compile(r"#:~:text=")
_URL_NOISE = re.compile(r"^(?:https?|www|ftp|mailto)$|^(?:html?|php|aspx?|pdf)$", re.IGNORECASE)


def link_words(url: str) -> str:
    """The words of a link target: `https://x.ai/blog/self-supervised-learning#:~:text=If you` → `x ai blog …`.

    A URL's path and text fragment often name the linked page in English; the
    scheme, `www` and file suffixes say nothing and are dropped.
    """
    words = re.split(r"[^\w-]+|_", _TEXT_FRAGMENT.sub(" ", url))
    return " ".join(word for word in words if word.strip("-") and not _URL_NOISE.match(word))


def to_record(passage: Passage) -> str:
    """A passage as compact JSON (what the index stores to rebuild it)."""
    data = {"p": passage.path, "a": passage.line_start, "b": passage.line_end, "s": passage.section,
                "t": passage.title, "x": passage.text, "k": passage.kind, "g": list(passage.tags), "n": passage.piece}
    if passage.links:
        data["l"] = list(passage.links)
    if passage.paper:
        p = passage.paper
        data["paper"] = [p.year, list(p.authors), p.title, p.note]
    return json.dumps(data, ensure_ascii=False)


def from_record(record: str) -> Passage:
    """The passage stored by to_record."""
    d = json.loads(record)
    paper = None
    if "paper" in d:
        year, authors, title, note = d["paper"]
        paper = Paper(year, tuple(authors), title, note)
    return Passage(path=d["p"], line_start=d["a"], line_end=d["b"], section=d["s"], title=d["t"],
                   text=d["x"], kind=d["k"], tags=tuple(d["g"]), paper=paper, piece=d["n"], links=tuple(d.get("l", ())))


def create(directory: str, words: Iterable[str], cache_dir: str | None) -> index.Index:
    """A new empty keyword index in `directory`."""
    os.makedirs(directory, exist_ok=True)
    return bind(index.create_in(directory, schema(words)), cache_dir)


def open_keyword_index(directory: str, cache_dir: str | None) -> index.Index:
    """The keyword index in `directory`, its analyzers bound to `cache_dir`."""
    return bind(index.open_dir(directory), cache_dir)
