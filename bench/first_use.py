"""The two moments a new user meets first: the first search (which builds everything), and a cold search.

- cold `cli.py search --mode hybrid` ↔ cold `--mode keyword`, over an index of
  the bundled notes, fresh processes in turn (the models already converted
  into the cache, as after the first search); the issue's query, which both
  models read, and one that mixes scripts, which e5-small alone reads;
- the first search of a new user: `cli.py search "自监督 视觉"` with an empty
  cache folder (XDG_CACHE_HOME): it converts both models into the model
  cache and builds the index of the bundled notes, then answers. Its CPU
  seconds (user + system, from os.wait4) are printed beside the wall time: on
  a machine busy with other programs they say what a quiet one would take
  (the wall time there is about the CPU time over the cores it keeps busy).

Each block is printed with the load average at its start and end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import ROOT, interleaved_wall_times, load_during, summary

CLI = str(ROOT / "cli.py")
QUERY = "自监督 视觉"  # the README's
MIXED = "Transformer 出现之前怎么做注意力"


def bench_first_use(work: Path, runs: int, first_runs: int, warmup: bool = True) -> dict:
    """Cold hybrid beside cold keyword over the bundled notes; the first search of a new user, `first_runs` times."""
    from corpus import BUNDLED_NOTES

    index = str(work / "first-use.index")  # not the bundled corpus's own index (bench/run.py names it bundled.index)
    subprocess.run([sys.executable, CLI, "index", str(BUNDLED_NOTES), "--index", index, "--quiet", "--no-server"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    search = [sys.executable, CLI, "search", "--index", index, "--json", "--no-server"]
    commands = {"keyword": [*search, "--mode", "keyword", QUERY], "hybrid": [*search, "--mode", "hybrid", QUERY],
                "hybrid_mixed": [*search, "--mode", "hybrid", MIXED]}
    with load_during({}) as cold:
        times = {name: summary(seconds) for name, seconds in interleaved_wall_times(commands, runs, warmup).items()}
    firsts, cpu = [], []
    with load_during({}) as first:
        for _ in range(first_runs):
            with tempfile.TemporaryDirectory(prefix="notesearch-new-user-") as cache:
                env = dict(os.environ, XDG_CACHE_HOME=cache)
                started = time.perf_counter()
                process = subprocess.Popen([sys.executable, CLI, "search", QUERY, "--json", "--no-server"], cwd=ROOT,
                                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                _pid, status, usage = os.wait4(process.pid, 0)
                firsts.append(time.perf_counter() - started)
                cpu.append(usage.ru_utime + usage.ru_stime)
                if os.waitstatus_to_exitcode(status):
                    raise RuntimeError("the first search of a new user failed")
    return {"cold": times, "cold_load": cold["load"],
            "hybrid_vs_keyword": times["hybrid"]["p50"] / times["keyword"]["p50"],
            "mixed_vs_keyword": times["hybrid_mixed"]["p50"] / times["keyword"]["p50"],
            "first_search": summary(firsts), "first_search_runs": firsts, "first_search_cpu_s": cpu,
            "first_load": first["load"]}


def first_use_table(first: dict) -> list[str]:
    """The block as Markdown rows."""
    cold = first["cold"]
    load = lambda pair: f"{pair[0]:.1f} → {pair[1]:.1f}"
    return ["| bundled notes | p50 / p95 | ratio | load average |", "|---|---|---|---|",
            (f"| cold `search --mode keyword` | {cold['keyword']['p50']:.2f} s / {cold['keyword']['p95']:.2f} s | 1 "
            f"| {load(first['cold_load'])} |"),
            (f"| cold `search --mode hybrid` (`{QUERY}`: both models) | {cold['hybrid']['p50']:.2f} s / "
            f"{cold['hybrid']['p95']:.2f} s | **{first['hybrid_vs_keyword']:.2f}×** keyword | |"),
            (f"| cold `search --mode hybrid` (`{MIXED}`: e5-small alone) | {cold['hybrid_mixed']['p50']:.2f} s / "
            f"{cold['hybrid_mixed']['p95']:.2f} s | {first['mixed_vs_keyword']:.2f}× keyword | |"),
            (f"| first search of a new user (converts the models, builds the index) | "
            f"{first['first_search']['p50']:.1f} s / {first['first_search']['p95']:.1f} s "
            f"({', '.join(f'{s:.1f}' for s in first['first_search_runs'])}; CPU "
            f"{', '.join(f'{s:.1f}' for s in first.get('first_search_cpu_s', []))} s) | | {load(first['first_load'])} |")]
