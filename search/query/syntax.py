"""The query language: free words, "quoted phrases", field:value, -exclude, OR, ( ).

Fields: `title:`, `author:` (or `authors:`), `venue:`, `year:2015`, `year:2012..2017`,
`date:2024`, `date:2024-03`, `date:2024-01..2024-06` (a note's front-matter
date, see corpus/dates.py), `section:`, `tags:` (or `tag:`), `path:`. A query that does not parse (unbalanced quotes or
parentheses, `NOT NOT x`, nesting deeper than MAX_DEPTH) or is longer than
MAX_QUERY_CHARS falls back to its plain words, and `warnings` says so.
Parsing never raises.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from corpus.dates import date_range
from corpus.errors import echo

MAX_QUERY_CHARS = 1000
MAX_DEPTH = 32
# Years beyond this match no paper (the index holds four-digit years; its field is 32 bits).
MAX_YEAR = 9999
FIELDS = {"title": "title", "author": "authors", "authors": "authors", "year": "year", "venue": "venue",
          "section": "section", "tags": "tags", "tag": "tags", "path": "path", "date": "date"}
# What a search of the empty query, or of one without words, says (search/rank/engine.py says the same).
EMPTY_QUERY = "empty query: nothing to search for"
_YEAR_RANGE = re.compile(r"^([0-9]+)?\s*(?:\.\.|-|–)\s*([0-9]+)?$")
_TOKEN = re.compile(r'\s+|"[^"]*"|"|\(|\)|[^\s()"]+')


@dataclass(frozen=True)
class Word:
    text: str


@dataclass(frozen=True)
class Quoted:
    """Words in double quotes: found next to each other, in order (the keyword query's nodes.Phrase)."""

    text: str


@dataclass(frozen=True)
class FieldTerm:
    field: str
    text: str
    phrase: bool = False


@dataclass(frozen=True)
class YearRange:
    low: int | None
    high: int | None


@dataclass(frozen=True)
class DateRange:
    """Notes whose front-matter date lies within low..high (corpus/dates.py numbers; either end may be open)."""

    low: int | None
    high: int | None


@dataclass(frozen=True)
class Not:
    node: object


@dataclass(frozen=True)
class Group:
    """Children joined by AND (all required) or OR (any)."""

    op: str
    children: tuple


@dataclass(frozen=True)
class ParsedQuery:
    """The query tree (an AND/OR Group), the cleaned text, and what was not understood."""

    root: Group
    text: str
    warnings: tuple[str, ...] = field(default=())

    def words(self) -> list[str]:
        """Every positive word and phrase text, in order (for snippets and the embedder)."""
        out: list[str] = []

        def walk(node, positive=True):
            if isinstance(node, Group):
                for child in node.children:
                    walk(child, positive)
            elif isinstance(node, Not):
                walk(node.node, False)
            elif positive and (isinstance(node, (Word, Quoted)) or isinstance(node, FieldTerm) and node.field != "path"):
                out.append(node.text)

        walk(self.root)
        return out

    def is_plain(self) -> bool:
        """True when the query is free words only (no phrases, fields or operators).

        Parentheses around words alone, as in prose "(e.g. a deep network)", are
        still free words: semantic search must not turn them into a filter.
        """

        def words_only(group: Group) -> bool:
            return all(isinstance(child, Word) or (isinstance(child, Group) and child.op == "AND"
                                                   and words_only(child)) for child in group.children)

        return words_only(self.root)


class _ParseError(Exception):
    pass


def clean(text: str) -> str:
    """The query with control characters replaced by spaces, trimmed."""
    return "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text).strip()


def has_words(text: str) -> bool:
    """Whether a query has anything to search for: a letter or a digit (not only spaces, punctuation, symbols)."""
    return any(ch.isalnum() for ch in text)


def parse(text: str) -> ParsedQuery:
    """Parse a user query; never raises (falls back to plain words, with a warning).

    A query without words (`？！。，`) is the empty query.
    """
    warnings: list[str] = []
    text = clean(text if isinstance(text, str) else str(text))
    text = unicodedata.normalize("NFKC", text)
    if not has_words(text):
        text = ""
    if len(text) > MAX_QUERY_CHARS:
        # Too long to be a real query (1000 nested parentheses, a pasted page): its first words, plainly.
        warnings.append(f"query longer than {MAX_QUERY_CHARS} characters: searching its first words as plain words")
        text = " ".join(_plain_words(text))[:MAX_QUERY_CHARS].strip()
        return ParsedQuery(_plain_group(text.split()), text, tuple(warnings))
    try:
        tokens = [t for t in _TOKEN.findall(text) if not t.isspace()]
        parser = _Parser(tokens)
        root = parser.parse()
        warnings.extend(parser.warnings)
    except (_ParseError, RecursionError) as error:
        warnings.append(f"could not parse the query ({error}); searching its words instead")
        root = _plain_group(_plain_words(text))
    return ParsedQuery(root, text, tuple(warnings))


def readable(text: str) -> bool:
    """Whether the query parses as written (no fallback to its plain words, not over MAX_QUERY_CHARS)."""
    text = unicodedata.normalize("NFKC", clean(text))
    if len(text) > MAX_QUERY_CHARS:
        return False
    try:
        _Parser([t for t in _TOKEN.findall(text) if not t.isspace()]).parse()
    except (_ParseError, RecursionError):
        return False
    return True


def plain_query(text: str) -> str:
    """The query's words as a query that always parses, meaning what the parser falls back to: no quotes,
    parentheses or operators, each excluded word once `-word`."""
    return " ".join("-" + word.lstrip("-") if word.startswith("-") else word
                    for word in _plain_words(unicodedata.normalize("NFKC", clean(text))))


def _plain_words(text: str) -> list[str]:
    """The words of a query that does not parse, without quotes, parentheses and operators; an excluded word
    keeps its `-` (`-word` still leaves out what holds the word)."""
    words = re.sub(r'["()]', " ", text).split()
    return [w for w in words if w.lstrip("-") and w not in ("OR", "AND", "NOT")]


def _plain_group(words: list[str]) -> Group:
    """Plain words joined by AND; `-word` (one dash or more) excludes the word."""
    return Group("AND", tuple(Not(Word(w.lstrip("-"))) if w.startswith("-") else Word(w) for w in words))


class _Parser:
    def __init__(self, tokens: list[str]):
        self.tokens = tokens
        self.i = 0
        self.depth = 0
        self.warnings: list[str] = []

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Group:
        group = self.sequence()
        if self.peek() is not None:
            raise _ParseError("unbalanced ')'")
        return group

    def sequence(self) -> Group:
        """item item OR item …: OR binds tighter than the implicit AND."""
        items: list = []
        while self.peek() not in (None, ")"):
            item = self.unary()
            while self.peek() == "OR":
                self.take()
                if self.peek() in (None, ")"):
                    raise _ParseError("OR without a right side")
                right = self.unary()
                item = Group("OR", (*(item.children if isinstance(item, Group) and item.op == "OR" else (item,)), right))
            items.append(item)
        return Group("AND", tuple(items))

    def unary(self):
        token = self.peek()
        if token == "OR":
            raise _ParseError("OR without a left side")
        if token == "AND":
            self.take()
            if self.peek() in (None, ")", "OR", "AND"):
                raise _ParseError("AND without a right side")
            return self.unary()
        if token == "NOT" or (token is not None and token.startswith("-") and len(token) > 1):
            if token == "NOT":
                self.take()
                if self.peek() in (None, ")", "OR", "NOT", "AND"):
                    raise _ParseError("NOT must be followed by a term")
            else:
                self.tokens[self.i] = token[1:]
                if self.tokens[self.i].startswith("-"):
                    raise _ParseError("double negation")
            return Not(self.atom())
        return self.atom()

    def atom(self):
        token = self.take()
        if token == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _ParseError(f"more than {MAX_DEPTH} nested parentheses")
            group = self.sequence()
            if self.peek() != ")":
                raise _ParseError("unbalanced '('")
            self.take()
            self.depth -= 1
            return group if len(group.children) != 1 else group.children[0]
        if token == ")":
            raise _ParseError("unbalanced ')'")
        if token == '"':
            raise _ParseError("unbalanced quote")
        if token.startswith('"'):
            inner = token[1:-1].strip()
            return Quoted(inner) if inner else Group("AND", ())
        name, sep, value = token.partition(":")
        if sep and name.lower() in FIELDS and (value or self.peek_phrase()):
            return self.field(FIELDS[name.lower()], value)
        return Word(token)

    def peek_phrase(self) -> bool:
        token = self.peek()
        return bool(token and token.startswith('"') and len(token) > 1)

    def field(self, name: str, value: str):
        phrase = False
        if not value:
            value, phrase = self.take()[1:-1].strip(), True
        if name == "year":
            return self.year(value)
        if name == "date":
            return self.date(value)
        return FieldTerm(name, value, phrase)

    def year(self, value: str):
        """A YearRange; a value that is not a year is left out of the query, with a warning."""
        found = _year(value.strip())
        if found is None:
            self.warnings.append(f"year:{echo(value)} is not a year or a range like 2012..2017: left out of the query")
            return Group("AND", ())
        if found.low is not None and found.low > MAX_YEAR:
            self.warnings.append(f"year:{echo(value)} is past {MAX_YEAR}: no paper has such a year")
        elif found.low is not None and found.high is not None and found.low > found.high:
            self.warnings.append(f"year:{echo(value)} runs backwards: no year is in it")
        return found

    def date(self, value: str):
        """A DateRange; a value that is not a date is left out of the query, with a warning."""
        try:
            return DateRange(*date_range(value))
        except ValueError as error:
            self.warnings.append(f"date:{echo(value)} is not a date like 2024, 2024-03 or 2024-03-01, or a range "
                                 f"like 2024-01..2024-06 ({echo(str(error))}): left out of the query")
            return Group("AND", ())


def _year(value: str) -> YearRange | None:
    """`2015`, `2012..2017`, `2012..`, `..2017`, `>2015`, `<=2015` as a range; None for anything else."""
    if _is_number(value):
        return YearRange(_number(value), _number(value))
    match = _YEAR_RANGE.match(value)
    if match and (match.group(1) or match.group(2)):
        low, high = match.group(1), match.group(2)
        return YearRange(_number(low) if low else None, _number(high) if high else None)
    for op, make in ((">=", lambda n: YearRange(n, None)), ("<=", lambda n: YearRange(None, n)),
                     (">", lambda n: YearRange(n + 1, None)), ("<", lambda n: YearRange(None, n - 1))):
        if value.startswith(op) and _is_number(value[len(op):]):
            return make(_number(value[len(op):]))
    return None


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _number(digits: str) -> int:
    """A year, or MAX_YEAR + 1 for any larger number (read without int(): 5,000 digits raise ValueError)."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= len(str(MAX_YEAR)) else MAX_YEAR + 1
