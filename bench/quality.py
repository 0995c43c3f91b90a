"""The development quality suite: every judgement set, on its corpus, in every mode.

    .venv/bin/python bench/quality.py [--sets seed,seed_more,dl500,d2l,cmrc] [--cmrc-sample N]
                                      [--model use-m3] [--cv] [--json] [--out FILE]
    .venv/bin/python bench/quality.py --cv-models use-m3,e5-small,use-m3@0.2+e5-small@0.8 [--costs]

Each development corpus is indexed once (in `bench/results/quality/`, rebuilt when
the code that makes an index changes; vectors are cached by text, so a rebuild
does not embed again), then every judgement file runs in every mode. The table
gives nDCG@10, recall@10 and MRR per set × mode × kind of query (Chinese,
English, mixed, related), and the mean over corpora.

`--cv` chooses each tuned constant of TUNABLES by leave-one-corpus-out
cross-validation: for each corpus, the value that scores best on the other
corpora is scored on the one left out. It prints the left-out figures beside
the fitted ones (the value best over all corpora), so a constant that only
fits one corpus shows as a gap between the two; and the same for
the vector ranking's first_share and mixed_script_shares (each value ranks the
queries again). Each value tried is passed in a search Settings
(search/rank/settings.py); no module's globals change. It also
fits the weights of the related-papers signals by leave-one-query-out over the
related judgements.
`--cv-models` chooses among embedding models (or the shares of a combination)
the same way, and `--costs` measures each model's embedding rate, query
latency and memory. (Index-time constants, such as corpus/packing.py's and
corpus/model.py's MIN_SENTENCE_RUN, are swept by running the suite once per
value: the vector cache makes that cheap.)

The judgements live in ../shared/eval (see its README); the corpora in
../shared/corpora and, for the bundled notes, corpus/notes.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # its sibling layouts.py, however this module was loaded

import layouts
import variants as typed

from indexer import build, embedders
from indexer.embedders import Combined, known_fingerprint, load_embedder, model_parts
from search import FusionConfig, Settings, open_index, related, search
from search.eval.evaluation import (
    KINDS,
    Judgement,
    QueryScore,
    Span,
    locate_snippets,
    read_judgements,
    score_query,
)
from search.rank.engine import Rankings, fuse, rankings
from search.rank.fusion import keyword_weight_for
from search.rank.settings import DEFAULT_SETTINGS, RELATED_WEIGHTS
from search.relate.papers import paper_graph

SHARED = ROOT.parent / "shared"
EVAL = SHARED / "eval"
CACHE = ROOT / "bench" / "results" / "quality"
LAYOUTS = layouts.OUT
MODES = ("keyword", "semantic", "hybrid")
K = 10
# The tuned constants of hybrid search and the values cross-validation tries for each.
TUNABLES: dict[str, tuple] = {
    "method": ("convex", "rrf"),
    "keyword_weight": (0.5, 0.6, 0.7, 0.8, 0.9),
    "full_coverage": (0.3, 0.5, 0.7, 1.0),
    "exact_first": (True, False),
}


@dataclass(frozen=True)
class Corpus:
    """A folder of notes to index, and where its judged files lie."""

    name: str
    paths: tuple[Path, ...]
    root: Path
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class JudgementSet:
    """A judgement file and the corpus its queries are asked of."""

    name: str
    corpus: str
    file: Path


CORPORA = {
    "notes": Corpus("notes", (ROOT / "corpus" / "notes",), ROOT / "corpus" / "notes"),
    "dl500": Corpus("dl500", (SHARED / "corpora" / "dl500",), SHARED / "corpora" / "dl500"),
    "d2l-zh": Corpus("d2l-zh", (SHARED / "corpora" / "d2l-zh",), SHARED / "corpora" / "d2l-zh", ("*_origin.md",)),
    "cmrc2018": Corpus("cmrc2018", (SHARED / "corpora" / "cmrc2018" / "passages",),
                       SHARED / "corpora" / "cmrc2018" / "passages"),
    "paperNotes": Corpus("paperNotes", (SHARED / "corpora" / "paperNotes" / "docs" / "contents",),
                         SHARED / "corpora" / "paperNotes"),
    # Other layouts of the same papers (bench/layouts.py makes them): a BibTeX library alone, beside the notes,
    # and paperNotes as a folder per paper.
    "bib": Corpus("bib", (LAYOUTS / "bib",), LAYOUTS / "bib"),
    "notes_bib": Corpus("notes_bib", (LAYOUTS / "notes_bib",), LAYOUTS / "notes_bib"),
    "folders": Corpus("folders", (LAYOUTS / "folders" / "docs" / "contents",), LAYOUTS / "folders"),
}
SETS = {
    "seed": JudgementSet("seed", "notes", EVAL / "seed_queries.jsonl"),
    "seed_more": JudgementSet("seed_more", "notes", EVAL / "seed_queries_more.jsonl"),
    "dl500": JudgementSet("dl500", "dl500", EVAL / "dl500_queries.jsonl"),
    "d2l": JudgementSet("d2l", "d2l-zh", EVAL / "d2l_crosslingual_queries.jsonl"),
    "cmrc": JudgementSet("cmrc", "cmrc2018", EVAL / "cmrc2018_dev_queries.jsonl"),
    "papernotes": JudgementSet("papernotes", "paperNotes", EVAL / "papernotes_related.jsonl"),
    "bib": JudgementSet("bib", "bib", LAYOUTS / "bib.jsonl"),
    "notes_bib": JudgementSet("notes_bib", "notes_bib", LAYOUTS / "notes_bib.jsonl"),
    "folders": JudgementSet("folders", "folders", LAYOUTS / "folders.jsonl"),
}
# The judgements each set's are made from: a weighting is chosen without every set of the same family.
FAMILIES = {"seed": "notes", "seed_more": "notes", "bib": "notes", "notes_bib": "notes",
            "papernotes": "paperNotes", "folders": "paperNotes"}


# ---------------------------------------------------------------- indexes

def code_fingerprint() -> str:
    """A hash of the code that decides what an index holds (corpus/ and indexer/, their sub-packages included)."""
    digest = hashlib.sha256()
    for package in ("corpus", "indexer"):
        for path in sorted((ROOT / package).rglob("*.py")):
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


class CachedEmbedder:
    """An embedder whose vectors are kept on disk by (method, text): a rebuilt index embeds nothing twice.

    It keeps the wrapped embedder's name, dimension and fingerprint, so an index
    built through it is the index the product would build.
    """

    def __init__(self, model: str, folder: Path):
        self._inner = None
        self._model = model
        self._known: dict[str, np.ndarray] = {}
        # Named by the model's fingerprint when it is known without loading it (its package's version and
        # engine), so that vectors of another version or engine are never taken for this one's.
        key = known_fingerprint(model) or model
        self._file = folder / f"embeddings-{hashlib.sha1(key.encode()).hexdigest()[:10]}.npz"
        self._added = 0
        if self._file.exists():
            with np.load(self._file, allow_pickle=False) as stored:
                self._known = dict(zip(stored["keys"].tolist(), stored["vectors"]))

    def _embedder(self):
        if self._inner is None:
            self._inner = load_embedder(self._model)
        return self._inner

    def __getattr__(self, name: str):
        return getattr(self._embedder(), name)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode("encode", self._embedder().encode, texts)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_queries([text])[0]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        inner = self._embedder()
        # Query vectors are kept by how the model reads a query (E5Small.query_reading): not the passages' fingerprint.
        reading = getattr(inner, "query_reading", "")
        method = f"encode_query/{reading}" if reading else "encode_query"  # (the earlier key when there is none)
        return self._encode(method, lambda texts: np.stack([inner.encode_query(t) for t in texts]), texts)

    def _encode(self, method: str, encode: Callable, texts: Sequence[str]) -> np.ndarray:
        # The key format of earlier runs (method, arguments, text), so that their cache still serves.
        keys = [hashlib.sha1(f"{method}\0()\0{{}}\0{text}".encode()).hexdigest() for text in texts]
        missing = [i for i, key in enumerate(keys) if key not in self._known]
        if missing:
            fresh = encode([texts[i] for i in missing])
            for row, i in enumerate(missing):
                self._known[keys[i]] = np.asarray(fresh[row], dtype=np.float32)
            self._added += len(missing)
        dim = len(next(iter(self._known.values()))) if self._known else self._embedder().dim
        if not keys:
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack([self._known[key] for key in keys])

    def save(self) -> None:
        if not self._added:
            return
        keys = np.array(list(self._known), dtype="U40")
        temp = self._file.with_suffix(".tmp.npz")
        np.savez(temp, keys=keys, vectors=np.stack(list(self._known.values())))
        os.replace(temp, self._file)
        self._added = 0


def cached_embedder(model: str):
    """The embedder of `model` whose vectors are kept on disk: a combined model caches each of its parts
    (so `use-m3@0.3+e5-small@0.7` reuses what `use-m3` and `e5-small` runs embedded)."""
    parts = model_parts(model)
    if len(parts) == 1:
        return CachedEmbedder(model, CACHE)
    return Combined([(CachedEmbedder(part, CACHE), share) for part, share in parts])


def save_cache(embedder) -> None:
    """Write the embedder's new vectors (each part's, for a combined model) to the suite's cache."""
    for part, _share in getattr(embedder, "parts", [(embedder, 1.0)]):
        part.save()


def ensure_index(corpus: Corpus, model: str, embedder, log) -> str:
    """The suite's index of `corpus` with `model`, built or brought up to date."""
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", model)
    directory = CACHE / f"{corpus.name}-{slug}-{code_fingerprint()}"
    started = time.perf_counter()
    report = build([str(p) for p in corpus.paths], str(directory), model=model, exclude=corpus.exclude,
                   embedder=embedder)
    save_cache(embedder)
    if report.changed:
        log(f"indexed {corpus.name} with {model}: {report.passages} passages in {time.perf_counter() - started:.0f} s")
    for stale in CACHE.glob(f"{corpus.name}-{slug}-*"):
        if stale != directory and stale.is_dir():
            import shutil

            shutil.rmtree(stale, ignore_errors=True)
    return str(directory)


# ---------------------------------------------------------------- running judgements

def sample(judgements: list[Judgement], size: int | None) -> list[Judgement]:
    """Every n-th judgement so that about `size` remain (all of them without a size): a fixed sample."""
    if not size or size >= len(judgements):
        return judgements
    step = len(judgements) / size
    return [judgements[int(i * step)] for i in range(size)]


@dataclass
class SetRun:
    """One judgement set's per-query scores in each mode (and `related`)."""

    name: str
    corpus: str
    scores: dict[str, list[QueryScore]]
    # (kind of variant, mode) → the scores of the set's questions rewritten so (bench/variants.py).
    variants: dict[tuple[str, str], list[QueryScore]] = field(default_factory=dict)


def run_set(index, judgement_set: JudgementSet, judgements: list[Judgement], modes: Sequence[str],
            config: FusionConfig, places: dict, variant_kinds: Sequence[str] = ()) -> SetRun:
    """Score every judgement of a set in each mode; related judgements through `related`; and each kind of
    variant of its questions (bench/variants.py) in each mode but semantic."""
    scores: dict[str, list[QueryScore]] = {}
    found: dict[tuple[str, str], list[QueryScore]] = {}
    for mode in (mode for mode in modes if mode in MODES):
        rows = []
        for j in judgements:
            if j.kind == "related":
                continue
            hits = search(index, j.query, mode=mode, k=K, settings=Settings(fusion=config)).hits
            rows.append(score_query(j, [_span(h) for h in hits], places, K))
        if rows:
            scores[mode] = rows
        for kind in variant_kinds:
            if mode == "semantic":
                continue
            found[kind, mode] = [score_query(j, [_span(h) for h in search(index, j.query, mode=mode, k=K,
                                                                          settings=Settings(fusion=config)).hits], places, K)
                                 for j in typed.variants(judgements, kind)]
    wanted = [j for j in judgements if j.kind == "related"]
    if wanted:
        graph = paper_graph(index)
        scores["related"] = [score_query(j, [_span(h) for h in related(index, j.query, K, graph).hits], places, K)
                             for j in wanted]
    return SetRun(judgement_set.name, judgement_set.corpus, scores, found)


def _span(hit) -> Span:
    return Span(hit.passage.path, hit.passage.line_start, hit.passage.line_end)


def summarise(run: SetRun) -> list[dict]:
    """Rows of mean scores: per mode for all queries, then per kind of query."""
    rows = []
    for mode, scores in run.scores.items():
        kinds = [("all", scores)] + [(kind, [s for s in scores if s.kind == kind]) for kind in KINDS]
        for kind, group in kinds:
            if group and (kind == "all" or len({s.kind for s in scores}) > 1):
                rows.append({"set": run.name, "corpus": run.corpus, "mode": mode, "kind": kind, "queries": len(group),
                             "ndcg": _mean(group, "ndcg"), "recall": _mean(group, "recall"), "mrr": _mean(group, "mrr")})
    return rows


def _mean(scores: Sequence[QueryScore], metric: str) -> float:
    return statistics.fmean(getattr(s, metric) for s in scores)


def summarise_variants(run: SetRun) -> list[dict]:
    """Per kind of variant and mode: nDCG@10 of the rewritten questions beside their originals' (the same
    judgements: the questions as judged, or for pinyin the same keywords in characters)."""
    rows = []
    for (kind, mode), scores in run.variants.items():
        if not scores:
            continue
        original_kind = typed.ORIGINAL_OF[kind]
        if original_kind == "original":
            by_id = {s.id: s for s in run.scores.get(mode, ())}
        else:
            by_id = {s.id: s for s in run.variants.get((original_kind, mode), ())}
        originals = [by_id[s.id] for s in scores if s.id in by_id]
        if len(originals) != len(scores):
            continue
        before, after = _mean(originals, "ndcg"), _mean(scores, "ndcg")
        rows.append({"set": run.name, "corpus": run.corpus, "mode": mode, "variant": kind, "queries": len(scores),
                     "original": original_kind, "ndcg_original": before, "ndcg": after,
                     "ratio": after / before if before else None})
    return rows


def render_variants(rows: list[dict]) -> str:
    """The variant rows: each figure beside its original's, with their ratio and difference."""
    if not rows:
        return ""
    lines = ["", (f"{'set':<10}{'mode':<9}{'variant':<13}{'queries':>8}{'original':>10}{'nDCG@10':>10}"
                  f"{'ratio':>8}{'diff':>8}  compared with")]
    for r in rows:
        ratio = f"{r['ratio']:.3f}" if r["ratio"] is not None else "-"
        lines.append(f"{r['set']:<10}{r['mode']:<9}{r['variant']:<13}{r['queries']:>8}{r['ndcg_original']:>10.3f}"
                     f"{r['ndcg']:>10.3f}{ratio:>8}{r['ndcg'] - r['ndcg_original']:>+8.3f}  {r['original']}")
    return "\n".join(lines)


def corpus_means(runs: Sequence[SetRun]) -> dict[str, dict[str, float]]:
    """Per mode, nDCG@10 over all queries of each corpus (search and related apart), and their mean over corpora."""
    out: dict[str, dict[str, float]] = {}
    for mode in (*MODES, "related"):
        per_corpus: dict[str, list[float]] = {}
        for run in runs:
            per_corpus.setdefault(run.corpus, []).extend(s.ndcg for s in run.scores.get(mode, ()))
        means = {corpus: statistics.fmean(values) for corpus, values in per_corpus.items() if values}
        if means:
            out[mode] = {**means, "mean": statistics.fmean(means.values())}
    return out


def render(rows: list[dict], means: dict[str, dict[str, float]]) -> str:
    lines = [f"{'set':<10}{'mode':<9}{'kind':<9}{'queries':>8}{'nDCG@10':>9}{'recall@10':>11}{'MRR':>7}"]
    for r in rows:
        lines.append(f"{r['set']:<10}{r['mode']:<9}{r['kind']:<9}{r['queries']:>8}{r['ndcg']:>9.3f}"
                     f"{r['recall']:>11.3f}{r['mrr']:>7.3f}")
    corpora = sorted({c for m in means.values() for c in m if c != "mean"})
    lines += ["", f"{'nDCG@10':<10}" + "".join(f"{c:>11}" for c in corpora) + f"{'mean':>11}"]
    for mode, values in means.items():
        lines.append(f"{mode:<10}" + "".join(f"{values[c]:>11.3f}" if c in values else f"{'':>11}" for c in corpora)
                     + f"{values['mean']:>11.3f}")
    return "\n".join(lines)


# ---------------------------------------------------------------- cross-validation

def cross_validate(prepared: list[tuple], config: FusionConfig, log) -> dict:
    """Leave-one-corpus-out choice of each tunable, in turn (the others held at their current value).

    For every constant and every corpus: the value with the best mean hybrid
    nDCG@10 over the other corpora, scored on the corpus left out; beside it the
    value best over all corpora (the fitted one) and its score there. Each
    query's rankings are computed once and fused under every value tried.
    """
    ranked = ranked_queries(prepared)
    out = {}
    for name, values in TUNABLES.items():
        table = {value: hybrid_by_corpus(ranked, replace(config, **{name: value}), f"{name}={value}", log)
                 for value in values}
        out[name] = {"current_value": getattr(config, name), **leave_one_out(table)}
    out["first_share"] = cross_validate_first_share(prepared, config, log)
    out["mixed_script_shares"] = cross_validate_mixed_script(prepared, config, log)
    out["translation_share"] = cross_validate_translation_share(prepared, config, log)
    return out


# Settings that change the vector ranking itself, so each value ranks every query again: first_share, the share
# of a passage's first row in its score; mixed_script_shares, the models' shares for a query that mixes
# Chinese and English; and translation_share, the least share of a query's translated form that its
# translations make for the form to be read; the values tried, by label.
FIRST_SHARES = (0.0, 0.3, 0.5, 1.0)
MIXED_SCRIPT_VALUES = {"use-m3 0": {"use-m3": 0.0}, "use-m3 0.1": {"use-m3": 0.1}, "its own share": {}}
TRANSLATION_SHARES = {0.0: 0.0, 0.05: 0.05, 0.1: 0.1, 0.15: 0.15, 0.2: 0.2, 0.3: 0.3, 0.5: 0.5, "never": 1.01}


def cross_validate_first_share(prepared: list[tuple], config: FusionConfig, log) -> dict:
    """Leave-one-corpus-out choice of Settings.first_share (hybrid nDCG@10)."""
    return cross_validate_setting(prepared, config, log, "first_share", {v: v for v in FIRST_SHARES})


def cross_validate_mixed_script(prepared: list[tuple], config: FusionConfig, log) -> dict:
    """Leave-one-corpus-out choice of Settings.mixed_script_shares (hybrid nDCG@10); the current value is
    indexer/embedders.py MIXED_SCRIPT_SHARES, which a search reads when its Settings give none."""
    return cross_validate_setting(prepared, config, log, "mixed_script_shares", MIXED_SCRIPT_VALUES,
                                  current=embedders.MIXED_SCRIPT_SHARES)


def cross_validate_translation_share(prepared: list[tuple], config: FusionConfig, log) -> dict:
    """Leave-one-corpus-out choice of Settings.translation_share (hybrid nDCG@10): 0 reads every query's
    translated form, "never" none."""
    return cross_validate_setting(prepared, config, log, "translation_share", TRANSLATION_SHARES)


def cross_validate_setting(prepared: list[tuple], config: FusionConfig, log, name: str,
                           values: dict[object, object], current: object = None) -> dict:
    """Leave-one-corpus-out choice of a Settings field read when the rankings are made, among `values`
    ({label: value}); `current` is the value a search takes by default (default: the Settings default)."""
    current = getattr(Settings(), name) if current is None else current
    table = {label: hybrid_by_corpus(ranked_queries(prepared, Settings(**{name: value})), config,
                                     f"{name}={label}", log)
             for label, value in values.items()}
    now = next((label for label, value in values.items() if value == current), current)
    return {"current_value": now, **leave_one_out(table)}


def ranked_queries(prepared: list[tuple], settings: Settings = DEFAULT_SETTINGS
                   ) -> list[tuple[JudgementSet, dict, list[tuple[Judgement, Rankings]]]]:
    """Each set with its snippet places and the hybrid rankings of its search queries (related ones aside),
    the vector ranking as `settings` say."""
    return [(judgement_set, places, [(j, rankings(index, index.plan(j.query), "hybrid", K, settings))
                                     for j in judgements if j.kind != "related"])
            for index, judgement_set, judgements, places in prepared]


def hybrid_by_corpus(ranked: list[tuple], config: FusionConfig, label: str, log) -> dict[str, float]:
    """Mean hybrid nDCG@10 per corpus of the ranked queries fused under `config` (logged under `label`)."""
    runs = [fused_run(judgement_set, lists, config, places) for judgement_set, places, lists in ranked]
    means = {c: m for c, m in corpus_means(runs)["hybrid"].items() if c != "mean"}
    log(f"  {label}: " + ", ".join(f"{c} {v:.3f}" for c, v in means.items()))
    return means


def fused_run(judgement_set: JudgementSet, lists: list[tuple[Judgement, Rankings]], config: FusionConfig,
              places: dict) -> SetRun:
    """The hybrid scores of a set's queries, their rankings fused under `config` (as search() would)."""
    # A span is (path, region, first line, last line); the judgements name lines of plain notes.
    rows = [score_query(j, [Span(path, first, last) for (path, _region, first, last), _score
                            in fuse(ranked, config).order[:K]], places, K)
            for j, ranked in lists]
    return SetRun(judgement_set.name, judgement_set.corpus, {"hybrid": rows})


# The weights of the related-papers signals and the values tried for each (Settings.related_weights).
RELATED_GRID: dict[str, tuple[float, ...]] = {
    "link": (1.0, 2.0, 4.0), "reference": (0.5, 1.0, 2.0), "together": (0.25, 0.5, 1.0), "similar": (1.0, 2.0, 3.0),
    "terms": (0.5, 1.0, 2.0, 3.0), "authors": (0.25, 0.5, 1.0, 2.0),
    "year": (0.3, 0.6, 1.0), "topic": (0.0, 0.5, 0.8, 1.0),
}
# No judgement's papers have tags or keywords: their weight is held at its value, not fitted.
RELATED_HELD = ("tags",)


def related_signals(prepared: list[tuple]) -> list[tuple]:
    """(set name, judgement, snippet places, signals or None, each node's span) for every related judgement: the
    signals of the nodes to its anchor, computed once, so that any weighting ranks them again in microseconds."""
    rows = []
    for index, judgement_set, judgements, places in prepared:
        graph = paper_graph(index)
        spans = [_span_of(graph.passage(node)) for node in graph.nodes]
        for j in judgements:
            if j.kind != "related":
                continue
            found = graph.find(j.query)
            rows.append((judgement_set.name, j, places, graph.signals(found[0]) if len(found) == 1 else None, spans))
    return rows


def _span_of(passage) -> Span:
    return Span(passage.path, passage.line_start, passage.line_end)


def related_score(row: tuple, weights: dict) -> float:
    """nDCG@10 of one related judgement whose nodes are ranked by `weights`."""
    _set, j, places, signals, spans = row
    if signals is None:
        return score_query(j, [], places, K).ndcg
    score = signals.scores(weights)
    candidates = signals.candidates(weights)
    order = [n for n in np.lexsort((np.arange(len(score)), -score)) if candidates[n]][:K]
    return score_query(j, [spans[n] for n in order], places, K).ndcg


def cross_validate_related(prepared: list[tuple], log) -> dict | None:
    """The related-papers weights chosen by leave-one-query-out and by leave-one-family-out cross-validation.

    Each weighting of RELATED_GRID scores every related query. Leaving one query
    out leaves out its copies in the other layouts too (the same id); leaving a
    family out leaves out every set made from the same judgements (FAMILIES).
    The weighting best on what is left is scored on what was left out; the means
    of those scores are reported beside the current weights' and the fitted ones.
    """
    rows = related_signals(prepared)
    if not rows:
        return None
    held = {name: RELATED_WEIGHTS[name] for name in RELATED_HELD}
    combos = [{**dict(zip(RELATED_GRID, values)), **held} for values in itertools.product(*RELATED_GRID.values())]
    table = np.array([[related_score(row, weights) for row in rows] for weights in combos])
    log(f"  related: {len(combos)} weightings × {len(rows)} queries")
    sets = list(dict.fromkeys(row[0] for row in rows))
    member = {name: np.array([row[0] == name for row in rows]) for name in sets}

    def mean_over_sets(columns: np.ndarray, names: list[str]) -> np.ndarray:
        """Each weighting's mean of its sets' means (each set counting alike), over `columns` of the table."""
        return np.mean([table[:, member[name] & columns].mean(axis=1) for name in names
                        if (member[name] & columns).any()], axis=0)

    everything = np.ones(len(rows), dtype=bool)
    best = int(np.argmax(mean_over_sets(everything, sets)))
    current = np.array([related_score(row, dict(RELATED_WEIGHTS)) for row in rows])
    left_out = np.zeros(len(rows))
    for query in {row[1].id for row in rows}:
        out = np.array([row[1].id == query for row in rows])
        left_out[out] = table[int(np.argmax(mean_over_sets(~out, sets))), out]
    by_set = {}
    for name in sets:
        family = [other for other in sets if FAMILIES.get(other) == FAMILIES.get(name)]
        rest = [other for other in sets if other not in family] or sets
        chosen = int(np.argmax(mean_over_sets(everything, rest)))
        by_set[name] = {"chosen": combos[chosen], "left_out": float(table[chosen, member[name]].mean()),
                        "fitted": float(table[best, member[name]].mean()),
                        "current": float(current[member[name]].mean()),
                        "left_out_by_query": float(left_out[member[name]].mean())}
    return {"current_weights": dict(RELATED_WEIGHTS), "current_mean": float(np.mean([current[member[n]].mean() for n in sets])),
            "fitted_weights": combos[best], "fitted_mean": float(mean_over_sets(everything, sets)[best]),
            "left_out_mean": float(np.mean([left_out[member[n]].mean() for n in sets])), "sets": by_set}


def leave_one_out(table: dict[object, dict[str, float]]) -> dict:
    """Leave-one-corpus-out figures from {value: {corpus: score}}.

    `fitted_value` is best on the mean over all corpora; each fold chooses the
    value best on the mean over the other corpora and reports its score on the
    corpus left out, beside the fitted value's score there.
    """
    values = list(table)
    corpora = sorted(table[values[0]])
    fitted = max(values, key=lambda v: statistics.fmean(table[v].values()))
    folds = {}
    for left_out in corpora:
        chosen = max(values, key=lambda v: statistics.fmean(table[v][c] for c in corpora if c != left_out))
        folds[left_out] = {"chosen": chosen, "left_out": table[chosen][left_out], "fitted": table[fitted][left_out]}
    return {"fitted_value": fitted, "folds": folds,
            "left_out_mean": statistics.fmean(f["left_out"] for f in folds.values()),
            "fitted_mean": statistics.fmean(f["fitted"] for f in folds.values())}


def render_cv(cv: dict) -> str:
    if not cv:
        return ""
    lines = ["", "leave-one-corpus-out (hybrid nDCG@10): value chosen without the corpus → its score there"]
    for name, result in cv.items():
        folds = "; ".join(f"{c}: {f['chosen']} → {f['left_out']:.3f} (fitted {f['fitted']:.3f})"
                          for c, f in result["folds"].items())
        lines.append(f"{name}: fitted {result['fitted_value']} (now {result['current_value']}), "
                     f"left-out mean {result['left_out_mean']:.3f} vs fitted {result['fitted_mean']:.3f}; {folds}")
    return "\n".join(lines)


def render_models(result: dict) -> str:
    """Each model's semantic and hybrid nDCG@10 per corpus (and its costs), then the leave-one-out choice."""
    cv = result["cv"]
    corpora = sorted(next(iter(cv["hybrid"].values())))
    lines = [f"{'model':<28}{'mode':<10}" + "".join(f"{c:>10}" for c in corpora) + f"{'mean':>10}"]
    for model in cv["hybrid"]:
        for mode in ("semantic", "hybrid"):
            values = cv[mode][model]
            lines.append(f"{model:<28}{mode:<10}" + "".join(f"{values[c]:>10.3f}" for c in corpora)
                         + f"{statistics.fmean(values.values()):>10.3f}")
    for model, cost in result.get("costs", {}).items():
        lines.append(f"{model}: {cost['passages_per_s']} passages/s, query {cost['query_ms_p50']} ms p50 "
                     f"/ {cost['query_ms_p95']} ms p95, model {cost['model_mb']} MB")
    return "\n".join(lines) + render_cv({"model": cv["model"]})


def render_cv_related(cv: dict | None) -> str:
    if not cv:
        return ""
    lines = [(f"\nrelated (nDCG@10, mean over sets): current weights {cv['current_mean']:.3f}; weights fitted on "
              f"all {cv['fitted_mean']:.3f} {cv['fitted_weights']}; each query left out {cv['left_out_mean']:.3f}"),
             ("related by set: current; each query left out; its family left out (fitted on all) — weights chosen "
             "without the family")]
    lines += [f"  {name}: {fold['current']:.3f}; {fold['left_out_by_query']:.3f}; {fold['left_out']:.3f} "
              f"({fold['fitted']:.3f}) {fold['chosen']}" for name, fold in cv["sets"].items()]
    return "\n".join(lines)


# ---------------------------------------------------------------- main

def prepare(model: str, set_names: Sequence[str], cmrc_sample: int | None, log) -> tuple[list[tuple], object]:
    """(index, set, judgements, snippet places) for each set, with its corpus indexed by `model`; and the
    embedder (whose cache the caller saves)."""
    embedder = cached_embedder(model)
    prepared = []
    indexes = {}
    if any(SETS[name].file.is_relative_to(LAYOUTS) for name in set_names) and not LAYOUTS.is_dir():
        layouts.make()
    for name in set_names:
        judgement_set = SETS[name]
        corpus = CORPORA[judgement_set.corpus]
        if corpus.name not in indexes:
            indexes[corpus.name] = open_index(ensure_index(corpus, model, embedder, log), embedder=embedder)
        judgements = read_judgements(str(judgement_set.file))
        if name == "cmrc":
            judgements = sample(judgements, cmrc_sample)
        places = locate_snippets(str(corpus.root), {t.snippet for j in judgements for t in j.relevant if t.snippet})
        prepared.append((indexes[corpus.name], judgement_set, judgements, places))
    return prepared, embedder


def cross_validate_models(models: Sequence[str], set_names: Sequence[str], cmrc_sample: int | None,
                          config: FusionConfig, log) -> dict:
    """Leave-one-corpus-out choice among embedding models (a combination's shares among them), by hybrid
    nDCG@10; each model's semantic figures beside it."""
    hybrid: dict[object, dict[str, float]] = {}
    semantic: dict[str, dict[str, float]] = {}
    for model in models:
        prepared, embedder = prepare(model, set_names, cmrc_sample, log)
        runs = [run_set(index, s, js, ("semantic", "hybrid"), config, places) for index, s, js, places in prepared]
        save_cache(embedder)
        means = corpus_means(runs)
        hybrid[model] = {c: m for c, m in means["hybrid"].items() if c != "mean"}
        semantic[model] = {c: m for c, m in means["semantic"].items() if c != "mean"}
        log(f"  {model}: hybrid " + ", ".join(f"{c} {v:.3f}" for c, v in hybrid[model].items())
            + "; semantic " + ", ".join(f"{c} {v:.3f}" for c, v in semantic[model].items()))
        for index in {id(p[0]): p[0] for p in prepared}.values():
            index.close()
    return {"model": {"current_value": None, **leave_one_out(hybrid)}, "semantic": semantic, "hybrid": hybrid}


def model_costs(models: Sequence[str], prepared: list[tuple], log, sample_size: int = 200) -> dict:
    """What each model costs: passages embedded per second (a fixed sample of the indexed texts), query
    encoding milliseconds (p50 and p95 over the judgements' queries), and the memory its loading adds.

    Each model is measured in a child process of its own, so its memory is its own.
    """
    import random
    import subprocess

    texts = [text for index, *_rest in prepared[:1] for p in index.passages() for text in p.embed_texts()]
    random.Random(0).shuffle(texts)
    queries = [j.query for _i, _s, judgements, _p in prepared for j in judgements][:100]
    payload = json.dumps({"texts": texts[:sample_size], "queries": queries})
    out = {}
    for model in models:
        run = subprocess.run([sys.executable, __file__, "--measure-model", model], input=payload, text=True,
                             capture_output=True, check=True, cwd=ROOT)
        out[model] = json.loads(run.stdout)
        log(f"  {model}: {out[model]}")
    return out


def _measure_model(model: str) -> None:
    """(child) Embed the texts and queries given on stdin with `model`; print what it cost as JSON."""
    data = json.load(sys.stdin)
    before = _rss_mb()
    embedder = load_embedder(model)
    embedder.encode(["warm up"])
    embedder.encode_query("warm up")
    loaded = _rss_mb()
    started = time.perf_counter()
    for start in range(0, len(data["texts"]), 64):
        embedder.encode(data["texts"][start:start + 64])
    seconds = time.perf_counter() - started
    latencies = []
    for query in data["queries"]:
        t0 = time.perf_counter()
        embedder.encode_query(query)
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    print(json.dumps({"passages_per_s": round(len(data["texts"]) / seconds, 1),
                      "query_ms_p50": round(latencies[len(latencies) // 2], 1),
                      "query_ms_p95": round(latencies[int(len(latencies) * 0.95)], 1),
                      "model_mb": round(loaded - before), "rss_mb": round(_rss_mb())}))


def _rss_mb() -> float:
    """This process's resident memory now (ru_maxrss would count the parent it was forked from)."""
    with open("/proc/self/status", encoding="ascii") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {', '.join(SETS)}")
    ap.add_argument("--cmrc-sample", type=int, default=None, metavar="N",
                    help="a fixed sample of N cmrc2018 questions (default: all 3,219)")
    ap.add_argument("--model", default=None, help="embedding model (default: the product's default)")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--cv", action="store_true", help="cross-validate the tuned constants across corpora")
    ap.add_argument("--cv-related", action="store_true",
                    help="cross-validate the related-papers weights only (by query and by set)")
    ap.add_argument("--cv-models", metavar="M1,M2,…",
                    help="cross-validate the choice among these embedding models (e.g. shares of a combination)")
    ap.add_argument("--costs", action="store_true",
                    help="with --cv-models: also measure each model's embedding speed, query latency and memory")
    ap.add_argument("--measure-model", help=argparse.SUPPRESS)
    ap.add_argument("--variants", default="", metavar="K1,K2,…",
                    help=f"also ask each set's questions rewritten (bench/variants.py): of {', '.join(typed.KINDS)}")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    ap.add_argument("--out", help="also write the JSON figures to this file")
    args = ap.parse_args(argv)
    if args.measure_model:
        _measure_model(args.measure_model)
        return 0
    if not EVAL.is_dir():
        print(f"quality.py needs the judgements in {EVAL}", file=sys.stderr)
        return 1

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    from indexer.embedders import DEFAULT_MODEL

    config = FusionConfig()
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    set_names = args.sets.split(",")
    if args.cv_models:
        models = args.cv_models.split(",")
        result = {"cv": cross_validate_models(models, set_names, args.cmrc_sample, config, log)}
        if args.costs:
            prepared, _embedder = prepare(models[0], ["d2l"] if "d2l" in set_names else set_names[:1],
                                          args.cmrc_sample, log)
            result["costs"] = model_costs(models, prepared, log)
        print(json.dumps(result, ensure_ascii=False) if args.json else render_models(result))
        if args.out:
            Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        return 0
    model = args.model or DEFAULT_MODEL
    config = replace(config, keyword_weight=keyword_weight_for(model))  # the weight search() takes for it
    prepared, embedder = prepare(model, set_names, args.cmrc_sample, log)
    modes = tuple(args.modes.split(","))
    variant_kinds = [kind for kind in args.variants.split(",") if kind]
    if "pinyin" in variant_kinds and "keywords" not in variant_kinds:
        variant_kinds.insert(variant_kinds.index("pinyin"), "keywords")  # what pinyin is compared with
    runs = []
    for index, judgement_set, judgements, places in prepared:
        t0 = time.perf_counter()
        runs.append(run_set(index, judgement_set, judgements, modes, config, places, variant_kinds))
        log(f"ran {judgement_set.name}: {len(judgements)} judgements in {time.perf_counter() - t0:.0f} s")
    save_cache(embedder)
    rows = [row for run in runs for row in summarise(run)]
    means = corpus_means(runs)
    variant_rows = [row for run in runs for row in summarise_variants(run)]
    result = {"model": model, "cmrc_sample": args.cmrc_sample, "rows": rows, "means": means, "variants": variant_rows,
              "seconds": round(time.perf_counter() - started, 1)}
    if args.cv or args.cv_related:
        search_sets = [p for p in prepared if any(j.kind != "related" for j in p[2])]
        result["cv"] = cross_validate(search_sets, config, log) if args.cv and search_sets else {}
        result["cv_related"] = cross_validate_related(prepared, log)
        save_cache(embedder)
    if not args.json:
        print(render(rows, means) + render_variants(variant_rows)
              + (render_cv(result["cv"]) + render_cv_related(result["cv_related"]) if args.cv or args.cv_related else ""))
    else:
        print(json.dumps(result, ensure_ascii=False))
    if args.out:
        Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    for index in {id(p[0]): p[0] for p in prepared}.values():
        index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
