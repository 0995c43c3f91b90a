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

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from corpus import script
from corpus.dates import decades
from corpus.text import HAN, HAN_CHAR, HAN_RUN, fold
from indexer.analysis import Analyzer, Token, path_tokens, phrase_terms
from search.query.glossary import Glossary
from search.query.names import merged, typed_names
from search.query.spelling import MIN_TYPO, Vocabulary, could_be_pinyin, toneless
from search.query.syntax import FieldTerm, Group, Not, Quoted, Word, parse

# Code in a query: a call `f(`, an attribute `np.dot`, snake_case or camelCase, an operator, a keyword of code.
_CODE = re.compile(r"[A-Za-z_]\w*\(|\b[A-Za-z_]\w*\.[A-Za-z_]\w*|\b[a-z]+_\w+|\b[a-z]+[A-Z]\w*|==|!=|<=|>=|->|::|\+=|"
                   r"\b(?:import|def|return|lambda|class)\s")
_SPACES = re.compile(r"\s+")
# A text's length as an embedder reads it, in words: a run of letters or digits other than Chinese (a word, a
# number) is one; a Chinese character HAN_CHAR_WORDS of one. e5-small's tokenizer reads the bundled notes' Chinese
# at 1.6 characters a token and their other words at 1.6 tokens a word.
_WORD = re.compile(f"[^\\W{HAN}]+")
HAN_CHAR_WORDS = 0.4
# What an index word found for a query word the index does not hold weighs, beside a word typed right: one typo
# away, two typos away (words of spelling.TWO_EDITS letters or more), each times its commonness beside the most
# common found (typo_weights); read as the pinyin typed. The typo weights are chosen by leave-one-corpus-out
# cross-validation over the typo variants and the original questions of the quality suite (bench/variants.py).
TYPO_WEIGHTS = {1: 1.0, 2: 0.6}
PINYIN_WEIGHT = 0.8
# A Chinese name read as an author's name (`何恺明` as `kaiming he`): as much as the name typed so.
NAME_WEIGHT = 1.0
# The most query words (syllables typed apart: `zi jian du`) one pinyin reading spans.
MAX_PINYIN_RUN = 8


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
    `path_words` the words of each `path:` value. `respelled` maps the index
    of a free word the index does not hold to the index words found for it
    (search/query/spelling.py: one typo away, or read as its pinyin), each
    with its weight; `read_as` says so in words (`tranformer → transformer`);
    `embedded_as` what the embedder reads instead of such a word (pinyin: the
    words read; a name: the word and the name; a typo: the word as typed, which
    the embedder reads well, while a respelling of a word the notes lack may
    change what an English question means). `name_keys` maps the index of a
    free word that writes a person's name to the name keys it searches
    (search/query/names.py), each with its weight; `initials` the free words
    that are a found name's initial (`K.` of `K. He`), which search as the
    name alone.
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
    respelled: Mapping[int, tuple[tuple[str, float], ...]] = field(default_factory=dict)
    read_as: tuple[str, ...] = ()
    embedded_as: Mapping[str, str] = field(default_factory=dict)
    name_keys: Mapping[int, tuple[tuple[str, float], ...]] = field(default_factory=dict)
    initials: frozenset[int] = frozenset()

    def analysis(self, text: str) -> Analysis:
        """The analysis of a word, phrase, field value or glossary term of this query."""
        return self.analyses[text]

    @cached_property
    def embed_text(self) -> str:
        """What the embedder reads: the positive words and phrases (fields, exclusions and operators aside), folded
        as the index reads text (corpus/script.py: Traditional characters as Simplified, nothing invisible, full-width
        letters as half-width), so a question ranks the same whichever way it was typed."""
        words = [self.embedded_as.get(word, word) for word in self.words]
        return unicodedata.normalize("NFKC", script.folded(" ".join(word for word in words if word)))

    @cached_property
    def translated_text(self) -> str:
        """The embedded words followed by the glossary terms they stand for (those the words do not already
        hold), in parentheses; "" when there are none: `self-supervised learning (SSL, 自监督学习)` over the bundled
        notes. The notes' own translation of a term takes the query vector towards notes in the other language."""
        said = self.embed_text.lower()
        terms = [name for terms in self.expansions.values() for name, _shared in terms if name.lower() not in said]
        return f"{self.embed_text} ({', '.join(dict.fromkeys(terms))})" if terms else ""

    @cached_property
    def translation_share(self) -> float:
        """The share of translated_text that its translations add (0 when there are none), its length counted
        as an embedder's tokens go (_length): a long question with one term added is barely changed by it
        (search/rank/ranking.py query_vector)."""
        if not self.translated_text:
            return 0.0
        whole = _length(self.translated_text)
        return (whole - _length(self.embed_text)) / whole

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
        out += [term for terms in (*self.expansions.values(), *self.respelled.values()) for name, _weight in terms
                for term in self.analyses[name].whole]
        return tuple(dict.fromkeys(out))


def plan_query(text: str, analyzer: Analyzer, glossary: Glossary | None = None,
               vocabulary: Vocabulary | None = None) -> QueryPlan:
    """Parse and analyse a query once; never raises (see search/query/syntax.py for the fallback).

    With the index's `vocabulary`, a free word the index does not hold is looked for as the index words one
    typo away, or as the Chinese words its pinyin reads (see QueryPlan.respelled).

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
        elif isinstance(node, (Word, Quoted)):
            texts.append(node.text)
        elif isinstance(node, FieldTerm):
            (paths if node.field == "path" else texts).append(node.text)

    walk(parsed.root)
    free = tuple(child.text for child in parsed.root.children if isinstance(child, Word)) \
        if parsed.root.op == "AND" else ()
    analyses = {piece: analyse(piece, analyzer) for piece in dict.fromkeys(texts)}
    respelled: dict[int, tuple[tuple[str, float], ...]] = {}
    read_as: list[str] = []
    name_keys: dict[int, tuple[tuple[str, float], ...]] = {}
    initials: frozenset[int] = frozenset()
    embedded_as: dict[str, str] = {}
    corrected: dict[int, str] = {}
    if vocabulary is not None and free:
        respelled, read_as, embedded_as, corrected = respell(free, [analyses[word] for word in free], vocabulary,
                                                             analyzer.segmenter.part_of_speech)
        named = typed_names(free, [analyses[word] for word in free], vocabulary, analyzer.segmenter.part_of_speech)
        respelled, name_keys, initials = merged(respelled, named.written), named.keys, named.initials
        read_as += named.said
        for terms in respelled.values():
            analyses.update((term, analyse(term, analyzer)) for term, _weight in terms if term not in analyses)
    # The glossary reads a mistyped word as its respelling: `self-dupervised learning` still spells SSL.
    expansions = {n: tuple(terms) for n, terms in
                  glossary.expansions([corrected.get(n, word) for n, word in enumerate(free)]).items()}
    analyses.update((term, analyse(term, analyzer)) for terms in expansions.values() for term, _shared in terms
                    if term not in analyses)
    return QueryPlan(
        text=parsed.text, root=parsed.root, warnings=parsed.warnings, words=tuple(parsed.words()), free=free,
        plain=parsed.is_plain(), analyses=analyses,
        path_words={value: tuple(t.text for t in path_tokens(value)) for value in dict.fromkeys(paths)},
        expansions=expansions, code=looks_like_code(parsed.text), respelled=respelled, read_as=tuple(read_as),
        embedded_as=embedded_as, name_keys=name_keys, initials=initials,
    )


def _respelled(word: str, best: Mapping[str, str]) -> str:
    """`word` with each of its mistyped terms replaced by its closest and most common respelling."""
    for typed, meant in best.items():
        word = re.sub(re.escape(typed), meant, word, flags=re.IGNORECASE)
    return word


def typo_weights(found: list[tuple[str, int]], vocabulary: Vocabulary) -> list[tuple[str, float]]:
    """The index words a typo may stand for, each weighed by how close it is (TYPO_WEIGHTS by its distance) and
    how common beside the most common of them: a word ten times rarer weighs a tenth (`learnig`, itself a typo
    in the notes, beside `learning`)."""
    common = [vocabulary.commonness(term) for term, _distance in found]
    top = max(common, default=0.0)
    return [(term, TYPO_WEIGHTS[distance] * (math.exp(c - top) if math.isfinite(top) else 1.0))
            for (term, distance), c in zip(found, common, strict=True)]


def respell(free: tuple[str, ...], analysed: list[Analysis], vocabulary: Vocabulary,
            part_of_speech: Callable[[str], str] = lambda word: "",
            ) -> tuple[dict[int, tuple[tuple[str, float], ...]], list[str], dict[str, str], dict[int, str]]:
    """For each free word the index does not hold, the index words it stands for with their weights (see
    QueryPlan.respelled), what was read so, in words, and what the embedder reads instead of a free word.

    First two words in letters that romanise a name the notes write in characters (`Kaiming He` → 何恺明, a
    word jieba's dictionary lists as a name or not at all), held or not. Then pinyin: a name run together
    (`hekaiming`), a word, or a run of up to MAX_PINYIN_RUN single syllables (one of them at least not an index
    word), whose letters run together read as index words (a word alone first, then the longest run); then a
    Chinese word that jieba's dictionary does not list (`part_of_speech` gives "") read as an author's name; then
    one typo away: a compound whole, else each Latin term of a word. The last mapping gives each mistyped word
    as respelled (what the glossary reads).
    """
    # The terms of each word in letters that the index does not hold: a compound's parts too, unless it holds the
    # compound (`self-supervised` held, its `supervised` is never respelled).
    unheld = [[] if a.whole and all(vocabulary.holds(term) for term in a.whole) else
              [term for term in dict.fromkeys(t.text for t in a.tokens) if term.isalpha() and not HAN_RUN.search(term)
               and not vocabulary.holds(term)] for a in analysed]
    latin = [bool(a.whole) and could_be_pinyin(word) and not any(HAN_RUN.search(term) for term in a.whole)
             for word, a in zip(free, analysed, strict=True)]
    unknown = [is_latin and bool(terms) for is_latin, terms in zip(latin, unheld, strict=True)]
    # Syllables typed apart make a run (`zi jian du`; `jian` may be an index word, an author's name).
    joins = [is_latin and vocabulary.is_syllable(word) for word, is_latin in zip(free, latin, strict=True)]
    out: dict[int, tuple[tuple[str, float], ...]] = {}
    said: list[str] = []
    embedded: dict[str, str] = {}
    corrected: dict[int, str] = {}
    for n in range(len(free) - 1):
        # A name romanised in two words (`Kaiming He`) finds the notes that write it in characters (何恺明): a
        # word of the index that reads so and that jieba's dictionary lists as no other word than a name.
        if n in out or n + 1 in out:
            continue
        written = [term for term in vocabulary.written_name(free[n], free[n + 1]) if part_of_speech(term) in ("", "nr")]
        if written:
            out[n] = out[n + 1] = tuple((term, NAME_WEIGHT / 2) for term in written)
            said.append(f"{free[n]} {free[n + 1]} → {' / '.join(written)}")
    i = 0
    while i < len(free):
        if i in out:
            i += 1
            continue
        # A word that reads as index words on its own stands alone; syllables typed apart make a run.
        for j in (i + 1, *range(min(len(free), i + MAX_PINYIN_RUN), i + 1, -1)):
            if not any(unknown[i:j]) or (j - i > 1 and not all(joins[i:j])) or (j - i == 1 and not latin[i]) \
                    or any(n in out for n in range(i, j)):
                continue
            name = vocabulary.romanised_pinyin(free[i]) if j - i == 1 and unknown[i] else ""
            if name:
                out[i] = ((name, NAME_WEIGHT),)
                said.append(f"{free[i]} → {name}")
                embedded[free[i]] = name
                i = j
                break
            found = vocabulary.readings("".join(toneless(word) for word in free[i:j]), gaps=j - i == 1)
            if found:
                for n in range(i, j):
                    out[n] = tuple((term, PINYIN_WEIGHT / (j - i)) for term in found)
                said.append(f"{' '.join(free[i:j])} → {' / '.join(found)}")
                embedded.update((word, found[0] if n == i else "") for n, word in enumerate(free[i:j], i))
                i = j
                break
        else:
            i += 1
    for n, a in enumerate(analysed):
        if n in out:
            continue
        names = [vocabulary.romanised(t.text) for t in a.tokens if not t.part and HAN_RUN.fullmatch(t.text)
                 and not part_of_speech(t.text)]  # a word jieba's dictionary lists is no name
        names = [name for name in names if name]
        if names:
            out[n] = tuple((name, NAME_WEIGHT) for name in names)
            said.append(f"{free[n]} → {' / '.join(names)}")
            embedded[free[n]] = " ".join((free[n], *names))
            continue
        found: dict[str, float] = {}
        best: dict[str, str] = {}
        # A compound the index does not hold is respelled whole first (`self-dupervised`: its `supervised` may be
        # held only inside compounds); its parts only when that finds nothing.
        compounds = [term for term in a.whole if "-" in term and not vocabulary.holds(term)]
        for terms in (compounds, unheld[n]):
            for term in terms:
                candidates = vocabulary.respellings(term)
                for respelled, weight in typo_weights(candidates, vocabulary):
                    found[respelled] = max(found.get(respelled, 0.0), weight)
                if candidates:
                    best[term] = candidates[0][0]
            if found:
                break
        if found:
            out[n] = tuple(found.items())
            said.append(f"{free[n]} → {' / '.join(found)}")
            corrected[n] = _respelled(free[n], best)
        elif any(len(term) >= MIN_TYPO for term in unheld[n]):
            said.append(f"{free[n]} → no good match")
    return out, said, embedded, corrected


def _length(text: str) -> float:
    """The length of `text` in words, a Chinese character counting HAN_CHAR_WORDS of one."""
    return len(_WORD.findall(text)) + HAN_CHAR_WORDS * len(HAN_CHAR.findall(text))
