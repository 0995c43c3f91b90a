"""A query parsed and analysed once: the plain value every later step reads.

    plan = plan_query("自监督 视觉", index.analyzer, index.glossary)

The plan holds the parsed tree; the analysis of every word, phrase, field
value and glossary term in it (tokens, grouped into main terms and their
parts); the glossary terms the free words stand for; whether it looks like
code; and the words to embed, to mark and to hold for an exact match.
Keyword ranking, vector ranking, fusion and snippets read it; none of them
goes back to the query text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from corpus import script
from corpus.dates import decades
from corpus.text import HAN_RUN, fold
from indexer.analysis import Analyzer, Token, path_tokens, phrase_terms
from search.query.glossary import Glossary
from search.query.syntax import FieldTerm, Group, Not, Phrase, Word, parse

# Code in a query: a call `f(`, an attribute `np.dot`, snake_case or camelCase, an operator, a keyword of code.
_CODE = re.compile(r"[A-Za-z_]\w*\(|\b[A-Za-z_]\w*\.[A-Za-z_]\w*|\b[a-z]+_\w+|\b[a-z]+[A-Z]\w*|==|!=|<=|>=|->|::|\+=|"
                   r"\b(?:import|def|return|lambda|class)\s")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Analysis:
    """A piece of query text as the index's analyzer reads it.

    `groups` are its main terms, each with the parts that follow it (`gpt-4` →
    gpt-4, gpt, 4; `卷积神经网络` → the word and the words inside it); `whole`
    the main terms alone; `phrase` one term per position (what a phrase of it
    matches); `marked` the terms a snippet marks (no Chinese word inside a
    longer one); `han_runs` its runs of Chinese characters; `all_han` whether
    it is Chinese characters only (spaces aside); `decades` the decades it
    names (corpus/dates.py: where, first and last year).
    """

    text: str
    tokens: tuple[Token, ...]
    groups: tuple[tuple[Token, ...], ...]
    whole: tuple[str, ...]
    phrase: tuple[str, ...]
    marked: tuple[str, ...]
    han_runs: tuple[str, ...]
    all_han: bool
    decades: tuple[tuple[int, int, int, int], ...] = ()


def analyse(text: str, analyzer: Analyzer) -> Analysis:
    """`text` analysed once: everything the later steps read of it."""
    tokens = tuple(analyzer.tokens(text))
    groups: list[list[Token]] = []
    for token in tokens:
        if token.part and groups:
            groups[-1].append(token)
        else:
            groups.append([token])
    return Analysis(
        text=text, tokens=tokens, groups=tuple(tuple(group) for group in groups),
        whole=tuple(t.text for t in tokens if not t.part), phrase=tuple(phrase_terms(list(tokens))),
        marked=tuple(t.text for t in tokens if not (t.part and HAN_RUN.match(t.text))),
        han_runs=tuple(HAN_RUN.findall(text)), all_han=bool(HAN_RUN.fullmatch(_SPACES.sub("", text) or "x")),
        decades=tuple(decades(text)),
    )


def looks_like_code(text: str) -> bool:
    """True when a query holds code: a call, an attribute, an identifier with `_` or inner capitals, an operator."""
    return bool(_CODE.search(text))


@dataclass(frozen=True)
class QueryPlan:
    """A query parsed and analysed once (see the module docstring).

    `words` are the positive words and phrases in order; `free` the optional
    words of the top-level AND, which the glossary and the coordination factor
    read; `expansions` maps the index of a free word to the glossary terms it
    stands for, each with the number of free words that share it. `analyses`
    holds every word, phrase, field value and glossary term by its text;
    `path_words` the words of each `path:` value.
    """

    text: str
    root: Group
    warnings: tuple[str, ...]
    words: tuple[str, ...]
    free: tuple[str, ...]
    plain: bool
    analyses: Mapping[str, Analysis]
    path_words: Mapping[str, tuple[str, ...]]
    expansions: Mapping[int, tuple[tuple[str, int], ...]]
    code: bool

    def analysis(self, text: str) -> Analysis:
        """The analysis of a word, phrase, field value or glossary term of this query."""
        return self.analyses[text]

    @cached_property
    def embed_text(self) -> str:
        """What the embedder reads: the positive words and phrases (fields, exclusions and operators aside), folded
        as the index reads text (corpus/script.py: Traditional characters as Simplified, nothing invisible, full-width
        letters as half-width), so a question ranks the same whichever way it was typed."""
        return unicodedata.normalize("NFKC", script.folded(" ".join(self.words)))

    @cached_property
    def translated_text(self) -> str:
        """The embedded words followed by the glossary terms they stand for (those the words do not already
        hold), in parentheses; "" when there are none: `self-supervised learning (SSL, 自监督学习)` over the bundled
        notes. The notes' own translation of a term takes the query vector towards notes in the other language."""
        said = self.embed_text.lower()
        terms = [name for terms in self.expansions.values() for name, _shared in terms if name.lower() not in said]
        return f"{self.embed_text} ({', '.join(dict.fromkeys(terms))})" if terms else ""

    @cached_property
    def folded_words(self) -> tuple[str, ...]:
        """The positive words folded (case, spaces and punctuation aside), as an exact match compares them."""
        return tuple(word for word in (fold(text) for text in self.words) if word)

    @cached_property
    def spaced_words(self) -> tuple[tuple[str, ...], ...]:
        """The words of each positive phrase of several words (a snippet marks the phrase whole)."""
        return tuple(tuple(text.split()) for text in self.words if len(text.split()) > 1)

    @cached_property
    def han_runs(self) -> tuple[str, ...]:
        """The runs of two or more Chinese characters in the positive words (a snippet marks them as written)."""
        return tuple(run for text in self.words for run in self.analyses[text].han_runs if len(run) > 1)

    @cached_property
    def marked(self) -> tuple[str, ...]:
        """The index terms a snippet marks: each word's terms and Latin parts, and the glossary terms the words
        stand for (`VAE` for `variational autoencoder`), in order, once each.

        The Chinese words inside a longer query word are left out: a query for
        马克思 marks 马克思, never a lone 马克.
        """
        out = [term for text in self.words for term in self.analyses[text].marked]
        out += [term for terms in self.expansions.values() for name, _shared in terms
                for term in self.analyses[name].whole]
        return tuple(dict.fromkeys(out))


def plan_query(text: str, analyzer: Analyzer, glossary: Glossary | None = None) -> QueryPlan:
    """Parse and analyse a query once; never raises (see search/query/syntax.py for the fallback).

    Invisible characters (a zero-width space pasted inside a word) are dropped first: they mean nothing in a query.
    """
    parsed = parse(script.visible(text))
    glossary = glossary or Glossary()
    texts: list[str] = []
    paths: list[str] = []

    def walk(node) -> None:
        if isinstance(node, Group):
            for child in node.children:
                walk(child)
        elif isinstance(node, Not):
            walk(node.node)
        elif isinstance(node, (Word, Phrase)):
            texts.append(node.text)
        elif isinstance(node, FieldTerm):
            (paths if node.field == "path" else texts).append(node.text)

    walk(parsed.root)
    free = tuple(child.text for child in parsed.root.children if isinstance(child, Word)) \
        if parsed.root.op == "AND" else ()
    expansions = {n: tuple(terms) for n, terms in glossary.expansions(list(free)).items()}
    texts += [term for terms in expansions.values() for term, _shared in terms]
    analyses = {piece: analyse(piece, analyzer) for piece in dict.fromkeys(texts)}
    return QueryPlan(
        text=parsed.text, root=parsed.root, warnings=parsed.warnings, words=tuple(parsed.words()), free=free,
        plain=parsed.is_plain(), analyses=analyses,
        path_words={value: tuple(t.text for t in path_tokens(value)) for value in dict.fromkeys(paths)},
        expansions=expansions, code=looks_like_code(parsed.text),
    )

