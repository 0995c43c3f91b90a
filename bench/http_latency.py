"""Warm search latency over HTTP against the same search in process: what the page and a served CLI wait for.

    .venv/bin/python bench/http_latency.py --index DIR [--queries FILE] [--busy 2] [--rounds 2] [--json]

Opens the index in this process and searches each question of `--queries` (a
judgement file of ../shared/eval/, default d2l-zh's) in keyword and hybrid mode,
once to warm up and then `--rounds` times, timing each call; then starts
`cli.py serve` on the same index and asks the same searches through one kept
connection with the page's token (search.serve.client, the standard-library
client the command line uses), timed from the request to the parsed answer.
`--busy N` keeps N processes spinning on the CPU for the whole run (a busy
laptop: issue 30 asks for two). Prints p50 and p95 (ms) of each, the HTTP cost
(served p50 minus in-process p50), and the load average at the start and end.

Targets (issue 28, d2l-zh, warm, 2 cores): served keyword p95 ≤ 100 ms, hybrid
p95 ≤ 250 ms, HTTP ≤ 10 ms p50 over in process; (issue 30) served hybrid p95 ≤
100 ms with two busy processes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import load_average, percentile
from search import open_index, search
from search.eval.evaluation import read_judgements
from search.serve.client import connect

DEFAULT_QUERIES = ROOT.parent / "shared" / "eval" / "d2l_crosslingual_queries.jsonl"
MODES = ("keyword", "hybrid")


def questions(path: Path) -> list[str]:
    """The search questions of a judgement file (related judgements left out)."""
    return [j.query for j in read_judgements(str(path)) if j.kind != "related"]


def timed(call, asked: list[str], rounds: int) -> list[float]:
    """Milliseconds of each call after one warm-up pass."""
    for query in asked:
        call(query)
    took = []
    for _ in range(rounds):
        for query in asked:
            began = time.perf_counter()
            call(query)
            took.append((time.perf_counter() - began) * 1000)
    return took


def in_process(index_dir: str, asked: list[str], rounds: int) -> dict[str, list[float]]:
    with open_index(index_dir) as index:
        return {mode: timed(lambda q, m=mode: search(index, q, mode=m, k=10), asked, rounds) for mode in MODES}


def served(index_dir: str, asked: list[str], rounds: int) -> dict[str, list[float]]:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    server = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "serve", "--index", index_dir], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        if not server.stdout.readline().startswith("serving"):
            raise SystemExit("serve did not start")
        client = connect(index_dir)
        if client is None:
            raise SystemExit("no served index answered")
        try:
            out = {}
            for mode in MODES:
                def ask(query: str, mode: str = mode) -> None:
                    answer = client.search(query, mode, 10, False, False, str(ROOT))
                    if not isinstance(answer, tuple):
                        raise SystemExit(f"the server did not answer {query[:60]!r}: {answer.error()}")
                out[mode] = timed(ask, asked, rounds)
            return out
        finally:
            client.close()
    finally:
        server.terminate()
        server.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True, help="an index (e.g. of d2l-zh)")
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    parser.add_argument("--busy", type=int, default=0, help="processes spinning on the CPU meanwhile")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    asked = questions(args.queries)
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        load = [round(load_average(), 1)]
        local = in_process(args.index, asked, args.rounds)
        remote = served(args.index, asked, args.rounds)
        load.append(round(load_average(), 1))
    finally:
        for spinner in spinners:
            spinner.kill()
    figures = {"queries": len(asked), "rounds": args.rounds, "busy": args.busy, "load": load}
    for mode in MODES:
        figures[mode] = {
            "in_process_p50_ms": round(percentile(local[mode], 50), 1),
            "in_process_p95_ms": round(percentile(local[mode], 95), 1),
            "served_p50_ms": round(percentile(remote[mode], 50), 1),
            "served_p95_ms": round(percentile(remote[mode], 95), 1),
            "http_p50_ms": round(percentile(remote[mode], 50) - percentile(local[mode], 50), 1)}
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{len(asked)} questions × {args.rounds} rounds, {args.busy} busy processes, load {load[0]} → {load[1]}")
        print("| mode | in process p50 | p95 | served p50 | p95 | HTTP p50 |")
        print("|---|---|---|---|---|---|")
        for mode in MODES:
            f = figures[mode]
            print(f"| {mode} | {f['in_process_p50_ms']} ms | {f['in_process_p95_ms']} ms | {f['served_p50_ms']} ms | "
                  f"{f['served_p95_ms']} ms | {f['http_p50_ms']:+} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
