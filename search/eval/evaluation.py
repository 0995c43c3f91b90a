"""Judged queries → nDCG@k, recall@k and MRR per mode and per kind of query.

The judgement format (one JSON object a line) is that of the shared evaluation
data: `{"id", "kind": "search"|"related", "query", "relevant": [...]}` where a
relevant item names a `target`, a `grade` (2 direct answer, 1 context) and
either a `snippet` (text on exactly one line of one corpus file) or a `file`
(relative to the corpus root) with 1-based inclusive `lines`.

A hit matches a target when its file is the target's file and their line
ranges overlap; a hit spanning more than MAX_SPAN lines matches nothing.
A target is counted once, at its first matching hit.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from corpus.text import HAN_CHAR, mixes_scripts
from search.notes.index import NoteIndex
from search.rank.engine import search
from search.relate.papers import related
from search.results import MODES

MAX_SPAN = 12
KINDS = ("Chinese", "English", "mixed", "related")


@dataclass(frozen=True)
class Target:
    """One judged answer: a snippet to locate, or a file and line range."""

    name: str
    grade: int
    snippet: str | None = None
    file: str | None = None
    lines: tuple[int, int] | None = None


@dataclass(frozen=True)
class Judgement:
    id: str
    kind: str
    query: str
    relevant: tuple[Target, ...]


@dataclass(frozen=True)
class Span:
    """Where a hit lies: its file path (absolute or relative) and 1-based lines."""

    path: str
    line_start: int
    line_end: int


@dataclass(frozen=True)
class QueryScore:
    id: str
    kind: str
    ndcg: float
    recall: float
    mrr: float
    missing_targets: int = 0


@dataclass(frozen=True)
class Summary:
    """Mean scores of a group of queries (one mode, one kind or all)."""

    mode: str
    kind: str
    queries: int
    ndcg: float
    recall: float
    mrr: float


@dataclass
class Report:
    """Per-query scores for each mode, with their means."""

    k: int
    scores: dict[str, list[QueryScore]] = field(default_factory=dict)

    def summaries(self) -> list[Summary]:
        """Means per mode for all queries, then for each kind present."""
        out = []
        for mode, rows in self.scores.items():
            groups = [("all", rows)] + [(kind, [r for r in rows if r.kind == kind]) for kind in KINDS]
            for kind, group in groups:
                if group and (kind == "all" or len({r.kind for r in rows}) > 1):
                    out.append(Summary(mode, kind, len(group), *(_mean(group, m) for m in ("ndcg", "recall", "mrr"))))
        return out


def _mean(rows: Sequence[QueryScore], metric: str) -> float:
    return sum(getattr(r, metric) for r in rows) / len(rows)


def read_judgements(path: str) -> list[Judgement]:
    """The judgements of a JSONL file, in order; raises ValueError naming the bad line."""
    out = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                targets = tuple(_target(item) for item in data["relevant"])
                out.append(Judgement(str(data["id"]), data.get("kind", "search"), data["query"], targets))
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: not a judgement ({error})") from error
    return out


def _target(item: dict) -> Target:
    if "file" in item:
        first, last = item["lines"]
        return Target(item["target"], int(item["grade"]), file=item["file"], lines=(int(first), int(last)))
    return Target(item["target"], int(item["grade"]), snippet=item["snippet"])


def query_kind(judgement: Judgement) -> str:
    """`related`, or the script of a search query: Chinese, English or mixed."""
    if judgement.kind == "related":
        return "related"
    if mixes_scripts(judgement.query):
        return "mixed"
    return "Chinese" if HAN_CHAR.search(judgement.query) else "English"


def locate_snippets(corpus_dir: str, snippets: Iterable[str]) -> dict[str, tuple[str, int] | None]:
    """Each snippet → (file name, 1-based line) of the one line holding it, or None if not exactly one."""
    found: dict[str, list[tuple[str, int]]] = {s: [] for s in snippets}
    if not found:
        return {}
    for root, _dirs, files in os.walk(corpus_dir):
        for name in files:
            try:
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    lines = list(f)
            except (UnicodeDecodeError, OSError):
                continue
            for number, line in enumerate(lines, 1):
                for snippet, places in found.items():
                    if snippet in line:
                        places.append((name, number))
    return {s: places[0] if len(places) == 1 else None for s, places in found.items()}


def score_query(judgement: Judgement, hits: Sequence[Span], places: dict[str, tuple[str, int] | None],
                k: int = 10) -> QueryScore:
    """nDCG@k (gain 2^grade − 1), recall@k of targets, and 1/rank of the first top-grade hit."""
    targets: dict[str, tuple[tuple[str, int, int], int]] = {}
    for target in judgement.relevant:
        if target.file is not None:
            targets[target.name] = ((target.file, *target.lines), target.grade)
        elif places.get(target.snippet):
            name, line = places[target.snippet]
            targets[target.name] = ((name, line, line), target.grade)
    top_grade = max((grade for _where, grade in targets.values()), default=0)
    seen: set[str] = set()
    gains: list[int] = []
    first_hit = None
    for rank, hit in enumerate(hits[:k], 1):
        path = str(hit.path).replace(os.sep, "/")
        gain = 0
        if 0 <= hit.line_end - hit.line_start <= MAX_SPAN:
            for name, ((file, first, last), grade) in targets.items():
                same_file = path == file or path.endswith("/" + file)
                if name not in seen and same_file and hit.line_start <= last and first <= hit.line_end:
                    seen.add(name)
                    gain = max(gain, grade)
        gains.append(gain)
        if gain and gain == top_grade and first_hit is None:
            first_hit = rank
    ideal = sorted((grade for _where, grade in targets.values()), reverse=True)[:k]
    idcg = _dcg(ideal)
    return QueryScore(
        judgement.id, query_kind(judgement),
        ndcg=_dcg(gains) / idcg if idcg else 0.0,
        recall=len(seen) / len(targets) if targets else 0.0,
        mrr=1.0 / first_hit if first_hit else 0.0,
        missing_targets=len(judgement.relevant) - len(targets),
    )


def _dcg(gains: Sequence[int]) -> float:
    return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


def evaluate(judgements: Sequence[Judgement], corpus_dir: str, answer: Callable[[Judgement, str], Sequence[Span]],
             modes: Sequence[str], k: int = 10) -> Report:
    """Score `answer(judgement, mode)` for every search judgement in each mode and
    `answer(judgement, "related")` for every related judgement."""
    places = locate_snippets(corpus_dir, {t.snippet for j in judgements for t in j.relevant if t.snippet})
    report = Report(k)
    for mode in modes:
        rows = [score_query(j, answer(j, mode), places, k) for j in judgements if j.kind != "related"]
        if rows:
            report.scores[mode] = rows
    related = [score_query(j, answer(j, "related"), places, k) for j in judgements if j.kind == "related"]
    if related:
        report.scores["related"] = related
    return report


def evaluate_index(index: NoteIndex, judgements: Sequence[Judgement], corpus_dir: str | None = None,
                   modes: Sequence[str] = MODES, k: int = 10) -> Report:
    """Run every search judgement in each mode and every related judgement through `related`, and score them.

    `corpus_dir` is where snippets are looked up; by default the folder the index was built from.
    """
    def answer(judgement: Judgement, mode: str) -> list[Span]:
        if mode == "related":
            hits = related(index, judgement.query, k).hits
        else:
            hits = search(index, judgement.query, mode, k).hits
        return [Span(h.passage.path, h.passage.line_start, h.passage.line_end) for h in hits]

    return evaluate(judgements, corpus_dir or corpus_root(index), answer, modes, k)


def corpus_root(index: NoteIndex) -> str:
    """The folder the index was built from (the common folder of its roots)."""
    roots = list(index.manifest.roots) or list(index.manifest.files)
    if not roots:
        return index.directory
    common = os.path.commonpath([os.path.abspath(r) for r in roots])
    return common if os.path.isdir(common) else os.path.dirname(common)
