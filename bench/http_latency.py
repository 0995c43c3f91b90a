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
(served p50 minus in-process p50), and the load average at the start and end;
and the CPU a search takes, which other programs on the machine do not inflate
as they do wall times: each in-process call's CPU time, all its threads (p50, p95), and the
server's CPU time over all the served calls of a mode, per call (Linux only).
The in-process index prepares its embedder for many queries as a server does
(indexer/embedders.py prepare_queries), so both run the same arithmetic.

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
from indexer.embedders import prepare_queries
from search import open_index, search
from search.eval.evaluation import read_judgements
from search.serve.client import connect

DEFAULT_QUERIES = ROOT.parent / "shared" / "eval" / "d2l_crosslingual_queries.jsonl"
MODES = ("keyword", "hybrid")


def questions(path: Path) -> list[str]:
    """The search questions of a judgement file (related judgements left out)."""
    return [j.query for j in read_judgements(str(path)) if j.kind != "related"]


def timed(call, asked: list[str], rounds: int) -> tuple[list[float], list[float]]:
    """Milliseconds of each call after one warm-up pass: wall time, and this process's CPU time (its threads
    included: a hybrid search reads its query's vector on another one)."""
    for query in asked:
        call(query)
    took, cpu = [], []
    for _ in range(rounds):
        for query in asked:
            began, began_cpu = time.perf_counter(), time.process_time()
            call(query)
            took.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
    return took, cpu


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (its threads included), or None off Linux."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def in_process(index_dir: str, asked: list[str], rounds: int) -> dict[str, tuple[list[float], list[float]]]:
    with open_index(index_dir) as index:
        prepare_queries(index.embedder())
        return {mode: timed(lambda q, m=mode: search(index, q, mode=m, k=10), asked, rounds) for mode in MODES}


def served(index_dir: str, asked: list[str], rounds: int) -> tuple[dict[str, list[float]], dict[str, float | None]]:
    """Wall milliseconds of each served call by mode, and the server's CPU milliseconds per call by mode."""
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
            out, cpu = {}, {}
            for mode in MODES:
                def ask(query: str, mode: str = mode) -> None:
                    answer = client.search(query, mode, 10, False, False, str(ROOT))
                    if not isinstance(answer, tuple):
                        raise SystemExit(f"the server did not answer {query[:60]!r}: {answer.error()}")
                before = process_cpu_seconds(server.pid)
                out[mode], _client_cpu = timed(ask, asked, rounds)
                after = process_cpu_seconds(server.pid)
                calls = len(out[mode]) + len(asked)  # and timed's warm-up pass, of warm searches too
                cpu[mode] = None if before is None or after is None else (after - before) * 1000 / calls
            return out, cpu
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
        remote_wall, remote_cpu = served(args.index, asked, args.rounds)
        load.append(round(load_average(), 1))
    finally:
        for spinner in spinners:
            spinner.kill()
    figures = {"queries": len(asked), "rounds": args.rounds, "busy": args.busy, "load": load}
    for mode in MODES:
        (wall, cpu), remote = local[mode], remote_wall[mode]
        figures[mode] = {
            "in_process_p50_ms": round(percentile(wall, 50), 1),
            "in_process_p95_ms": round(percentile(wall, 95), 1),
            "served_p50_ms": round(percentile(remote, 50), 1),
            "served_p95_ms": round(percentile(remote, 95), 1),
            "http_p50_ms": round(percentile(remote, 50) - percentile(wall, 50), 1),
            "in_process_cpu_p50_ms": round(percentile(cpu, 50), 1),
            "in_process_cpu_p95_ms": round(percentile(cpu, 95), 1),
            "served_cpu_mean_ms": None if remote_cpu[mode] is None else round(remote_cpu[mode], 1)}
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{len(asked)} questions × {args.rounds} rounds, {args.busy} busy processes, load {load[0]} → {load[1]}")
        print("| mode | in process p50 | p95 | served p50 | p95 | HTTP p50 | CPU in process p50 | p95 | served CPU mean |")
        print("|---|---|---|---|---|---|---|---|---|")
        for mode in MODES:
            f = figures[mode]
            print(f"| {mode} | {f['in_process_p50_ms']} ms | {f['in_process_p95_ms']} ms | {f['served_p50_ms']} ms | "
                  f"{f['served_p95_ms']} ms | {f['http_p50_ms']:+} ms | {f['in_process_cpu_p50_ms']} ms | "
                  f"{f['in_process_cpu_p95_ms']} ms | {f['served_cpu_mean_ms']} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
