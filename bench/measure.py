"""How the bench measures: child processes, wall times, percentiles and the load average around each block."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = str(ROOT / "bench" / "run.py")


def run_child(name: str, args: dict) -> tuple[dict, float, float]:
    """(result, wall seconds, peak RSS MB) of one child measurement (`bench/run.py --child NAME`)."""
    with tempfile.NamedTemporaryFile("w+", suffix=".log") as log_file:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, RUN, "--child", name, json.dumps(args)],
                                   stdout=subprocess.PIPE, stderr=log_file, cwd=ROOT)
        output = process.stdout.read()
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            log_file.seek(0)
            raise RuntimeError(f"child {name} failed ({process.returncode}):\n{log_file.read()[-3000:]}")
    return json.loads(output), wall, usage.ru_maxrss / 1024


def wall_times(command: list[str], runs: int, warmup: bool = True) -> list[float]:
    """Wall seconds of `runs` fresh processes (after one untimed run that fills caches, with `warmup`)."""
    return interleaved_wall_times({"": command}, runs, warmup)[""]


def interleaved_wall_times(commands: dict[str, list[str]], runs: int, warmup: bool = True) -> dict[str, list[float]]:
    """Wall seconds of `runs` fresh processes of each command, taken in turn (one of each, then again).

    A change in the machine's load then falls on every command alike, so their ratios hold on a
    shared machine. With `warmup`, one untimed turn first fills the caches.
    """
    times: dict[str, list[float]] = {name: [] for name in commands}
    for n in range(runs + warmup):
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if n or not warmup:
                times[name].append(time.perf_counter() - started)
    return times


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def median(values: list[float]) -> float:
    """The middle value (the lower of the two middle ones for an even count, so it is a measured value)."""
    return sorted(values)[(len(values) - 1) // 2]


def per_query_ms(run, queries: list[str]) -> list[float]:
    """Milliseconds of `run(query)` for each query, in order."""
    times = []
    for query in queries:
        started = time.perf_counter()
        run(query)
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(values: list[float]) -> dict:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "n": len(values)}


def folder_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _dirs, files in os.walk(path) for f in files)


def index_parts(index: str) -> dict:
    """Megabytes of the newest generation's keyword index and of its vectors."""
    generation = os.path.join(index, max(d for d in os.listdir(index) if d.startswith("gen")))
    keyword = folder_bytes(os.path.join(generation, "keyword"))
    return {"keyword_mb": keyword / 1e6, "vectors_mb": (folder_bytes(generation) - keyword) / 1e6}


def load_average() -> float:
    """The 1-minute load average (runnable processes, averaged: a figure for a quiet or busy machine)."""
    return os.getloadavg()[0]


@contextlib.contextmanager
def load_during(record: dict) -> Iterator[dict]:
    """Record the 1-minute load average at the start and end of the block in record["load"]."""
    start = load_average()
    try:
        yield record
    finally:
        record["load"] = [start, load_average()]


def load_range(*loads: list[float]) -> str:
    """"1.2 → 3.4" for one block's load average at its start and end; "1.2–3.4", lowest to highest, for several."""
    loads = [load for load in loads if load]
    if not loads:
        return "not measured"
    if len(loads) == 1:
        return f"{loads[0][0]:.1f} → {loads[0][1]:.1f}"
    values = [value for load in loads for value in load]
    return f"{min(values):.1f}–{max(values):.1f}"


def load_text(*loads: list[float]) -> str:
    """"load average 1.2 → 3.4": the line printed above a table."""
    return f"load average {load_range(*loads)}"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {load_average():.1f}] {message}", file=sys.stderr, flush=True)
