"""Snippets: the best fragment of a passage with the matched words marked.

Marks sit at the original character offsets of the passage text. Where
matches overlap (马克 inside 马克思), the longest wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from corpus import script
from corpus.names import name_spans
from corpus.script import INVISIBLE
from corpus.text import HAN, HAN_CHAR
from indexer.analysis import Analyzer, normalize
from search.query.plan import QueryPlan

MARK_OPEN, MARK_CLOSE = "**", "**"
FRAGMENT_CHARS = 160
_LATIN_OR_DIGIT = re.compile(f"[^\\W_{HAN}]")
# Runs of Chinese characters (an invisible character inside one reads as nothing), and stretches of anything else
# between spaces (no token crosses either edge).
_PIECE = re.compile(f"[{HAN}](?:[{INVISIBLE}]*[{HAN}])*|[^{HAN}\\s]+")


def match_spans(text: str, plan: QueryPlan, analyzer: Analyzer) -> list[tuple[int, int]]:
    """Non-overlapping [start, end) spans of `text` that match the query, longest first on overlap.

    A token of the text matches when its term is one the plan marks; the
    Chinese runs of the query's words match as substrings, and a phrase of
    several words matches whole (any case, any spacing); a name the query
    writes matches as the text writes it (`Kaiming He` for `K. He`).
    """
    spans = spans_of(text, plan.marked, plan.spaced_words, plan.han_runs, analyzer)
    keys = {name_key for found in plan.name_keys.values() for name_key, _weight in found}
    return longest_first([*spans, *name_spans(text, keys)]) if keys else spans


def spans_of(text: str, terms: Iterable[str], phrases: Iterable[Sequence[str]], runs: Iterable[str],
             analyzer: Analyzer) -> list[tuple[int, int]]:
    """Non-overlapping [start, end) spans of `text`: tokens whose term is in `terms`, each phrase (its
    words in order, any case and spacing) and each run of Chinese characters (in either script), longest first on
    overlap."""
    spans = token_spans(text, set(terms), analyzer)
    for words in phrases:
        phrase = r"\s+".join(re.escape(part) for part in words)
        spans.extend(m.span() for m in re.finditer(phrase, text, re.IGNORECASE))
    simplified = script.simplified(text)  # character for character, so its offsets are the text's
    for run in runs:
        run = script.folded(run)
        start = simplified.find(run)
        while start >= 0:
            spans.append((start, start + len(run)))
            start = simplified.find(run, start + 1)
    return longest_first(spans)


def longest_first(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Of overlapping spans the longest (then the first), in order of position."""
    chosen: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda s: (-(s[1] - s[0]), s[0])):
        if all(end <= a or start >= b for a, b in chosen):
            chosen.append((start, end))
    return sorted(chosen)


def token_spans(text: str, wanted: set[str], analyzer: Analyzer) -> list[tuple[int, int]]:
    """The [start, end) spans of the tokens of `text` whose term is wanted (as analysing all of it would give)."""
    return [(start + t.start, start + t.end) for start, piece in _segments(text, wanted)
            for t in analyzer.tokens(piece) if t.text in wanted]


def _segments(text: str, wanted: set[str]):
    """The (offset, piece) parts of `text` that may hold a wanted term; the rest is never segmented.

    Segmenting whole passages with jieba was most of a search's time. The
    analyzer segments each run of Chinese characters on its own, and reads
    Latin runs without jieba, so a Chinese run that holds no wanted Chinese
    word as a substring cannot yield one, and is skipped; each piece kept
    gives the tokens the whole text would.
    """
    han = [term for term in wanted if HAN_CHAR.search(term)]
    latin = any(not HAN_CHAR.search(term) for term in wanted)
    for piece in _PIECE.finditer(text):
        part = piece.group()
        if HAN_CHAR.match(part):
            if any(term in normalize(part)[0] for term in han):
                yield piece.start(), part
        elif latin and _LATIN_OR_DIGIT.search(part):
            yield piece.start(), part


def snippet(text: str, spans: list[tuple[int, int]], width: int = FRAGMENT_CHARS,
            mark: tuple[str, str] = (MARK_OPEN, MARK_CLOSE)) -> str:
    """The `width`-character window of `text` holding the most matched characters, marked."""
    text = text.replace("\n", " ")
    if len(text) <= width:
        begin, end = 0, len(text)
    else:
        begin = _best_window(spans, width, len(text))
        end = begin + width
    out = ["…" if begin > 0 else ""]
    cursor = begin
    for start, stop in spans:
        if stop <= begin or start >= end:
            continue
        start, stop = max(start, begin), min(stop, end)
        out.append(text[cursor:start])
        out.append(mark[0] + text[start:stop] + mark[1])
        cursor = stop
    out.append(text[cursor:end])
    if end < len(text):
        out.append("…")
    return "".join(out)


def _best_window(spans: list[tuple[int, int]], width: int, length: int) -> int:
    if not spans:
        return 0
    best, best_score = 0, -1
    for start, _end in spans:
        begin = max(0, min(start - width // 4, length - width))
        score = sum(min(b, begin + width) - max(a, begin) for a, b in spans if b > begin and a < begin + width)
        if score > best_score:
            best, best_score = begin, score
    return best
