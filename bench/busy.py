"""Warm hybrid search on a quiet machine and on a busy one, in interleaved rounds.

A user searches with a browser and an IDE open. Both are multi-threaded and,
when they work (a page's scripts and rendering, a build, the IDE's indexer),
keep more threads runnable than a laptop has cores: the load average of 8–18
the issue measured on a busy 2-core machine. The `numpy` kind does the same:
each of the two busy processes multiplies matrices on OpenBLAS's default
thread count (one thread per core), so twice as many threads are runnable as
there are cores, and a query's thread waits for a core. It is the target's
kind. The `python` kind runs a single-threaded pure-Python loop per process:
one runnable thread each, a milder load, shown beside it for comparison.

Each round measures quiet and every kind, in an order rotated from round to
round (so that a drift of the machine's own load falls on all), with the load
average at the start and end of each block. A figure is the median over
rounds of that round's busy p95 / quiet p95.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

from measure import load_during, load_range, median, per_query_ms, run_child, summary

# Each stops by itself once its parent is gone (an interrupted bench leaves no process burning a core).
BURNERS = {
    "numpy": ("import os, numpy as np\nparent = os.getppid()\na = np.random.default_rng(0).random((800, 800))\n"
              "while os.getppid() == parent:\n    a @ a\n"),
    "python": "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    sum(i * i for i in range(10_000))\n",
}
# Variables that would cap the busy processes' BLAS threads below OpenBLAS's default.
_THREAD_LIMITS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def busy_processes(kind: str | None, count: int) -> Iterator[None]:
    """`count` CPU-bound processes of `kind` running for the block (none when kind is None)."""
    if kind is None:
        yield
        return
    env = {name: value for name, value in os.environ.items() if name not in _THREAD_LIMITS}
    burners = [subprocess.Popen([sys.executable, "-c", BURNERS[kind]], env=env) for _ in range(count)]
    try:
        time.sleep(1.5)  # numpy imported and every thread started before the first query
        if any(burner.poll() is not None for burner in burners):
            raise RuntimeError(f"a busy process ({kind}) exited early")
        yield
    finally:
        for burner in burners:
            burner.terminate()
        for burner in burners:
            burner.wait(30)


def child_busy(args: dict) -> dict:
    """Milliseconds of warm hybrid search() and of encoding the query alone, per round, quiet and per busy kind."""
    from search import open_index, search

    queries, states = args["queries"], ["quiet", *args["kinds"]]
    rounds = []
    with open_index(args["index"]) as index:
        search(index, queries[0], mode="hybrid", k=10)  # loads the model
        embedder = index.embedder()
        for n in range(args["rounds"]):
            measured: dict[str, dict] = {}
            for state in states[n % len(states):] + states[:n % len(states)]:
                with (busy_processes(None if state == "quiet" else state, args["processes"]),
                      load_during(measured.setdefault(state, {})) as block):
                    block["hybrid"] = per_query_ms(lambda q: search(index, q, mode="hybrid", k=10), queries)
                    block["encode"] = per_query_ms(embedder.encode_query, queries)
            rounds.append(measured)
    return {"rounds": rounds}


def bench_busy(index: str, queries: list[str], rounds: int, kinds: list[str], processes: int = 2) -> dict:
    """Latency quiet and per busy kind (pooled over rounds), each kind's per-round p95 ratios to quiet and their median.

    `hybrid_p95_ratio` is the first kind's: the figure the target is about.
    """
    measured, _, _ = run_child("busy", {"index": index, "queries": queries, "rounds": rounds, "kinds": kinds,
                                        "processes": processes})
    result: dict = {"kinds": kinds, "processes": processes, "rounds": rounds, "queries": len(queries), "states": {}}
    for state in ("quiet", *kinds):
        blocks = [r[state] for r in measured["rounds"]]
        result["states"][state] = {part: summary([ms for block in blocks for ms in block[part]])
                                   for part in ("hybrid", "encode")}
        result["states"][state]["loads"] = [block["load"] for block in blocks]
        if state == "quiet":
            continue
        for part in ("hybrid", "encode"):
            ratios = [summary(r[state][part])["p95"] / summary(r["quiet"][part])["p95"] for r in measured["rounds"]]
            result["states"][state][f"{part}_p95_ratios"] = ratios
            result["states"][state][f"{part}_p95_ratio"] = median(ratios)
    result["hybrid_p95_ratio"] = result["states"][kinds[0]]["hybrid_p95_ratio"]
    return result


def busy_loads(busy: dict) -> list[list[float]]:
    """The load average at the start and end of every measured block."""
    return [load for state in busy["states"].values() for load in state["loads"]]


def busy_table(busy: dict, corpus: str) -> list[str]:
    """Quiet beside each busy kind as a Markdown table, with the load average of each state's blocks."""
    states = busy["states"]
    kinds, quiet = busy["kinds"], states["quiet"]
    row = lambda label, fn: f"| {label} | {fn(quiet, None)} | " + " | ".join(fn(states[k], k) for k in kinds) + " |"
    ratios = lambda s, part: f"**{s[f'{part}_p95_ratio']:.2f}×** ({', '.join(f'{r:.2f}' for r in s[f'{part}_p95_ratios'])})"
    return [(f"Warm hybrid search on {corpus}, quiet and with {busy['processes']} busy processes, "
             f"{busy['rounds']} interleaved rounds of {busy['queries']} queries; ratios of p95 to quiet: median "
             "of the rounds' (each round's in brackets). Quiet: no busy process of the bench's own; whatever else "
             "runs shows in the load average (a 1-minute average: a quiet block after a busy one inherits some)."), "",
            "| | quiet | " + " | ".join(f"{busy['processes']} busy: {kind}" for kind in kinds) + " |",
            "|---" * (len(kinds) + 2) + "|",
            row("warm hybrid p50 / p95", lambda s, _k: f"{s['hybrid']['p50']:.1f} / {s['hybrid']['p95']:.1f} ms"),
            row("warm hybrid p95 / quiet p95", lambda s, k: ratios(s, "hybrid") if k else "1"),
            row("query encoding alone p50 / p95", lambda s, _k: f"{s['encode']['p50']:.1f} / {s['encode']['p95']:.1f} ms"),
            row("query encoding p95 / quiet p95", lambda s, k: ratios(s, "encode") if k else "1"),
            row("load average during the blocks", lambda s, _k: load_range(*s["loads"]))]
