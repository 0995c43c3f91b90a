"""Bounded work for any note under the size cap: hostile notes just under 2 MB each index in under 60 s and 1 GB.

    .venv/bin/python bench/bounded.py [--cases line,headings,table] [--model use-m3] [--half] [--out FILE]

Each case is one note, written into a folder of its own and indexed by
`cli.py index` in a fresh process (`--no-server`, the model given), timed on
the wall and in CPU seconds (the child's own, os.wait4: a busy machine
stretches the wall time, not the CPU time) with its peak RSS, the 1-minute
load average at its start and end printed beside. `--half` indexes each case
at half its size too, so that the growth shows (linear: twice the CPU time):

- line: one line of 2 MB (Chinese sentences and English words, no line break):
  before the caps, 19,449 texts to embed;
- headings: 200,000 headings, nothing under them;
- table: a table of 100,000 rows.

Targets (issue 29): each under 60 s and under 1 GB on 2 cores with `use-m3`; "met" reads the CPU time (on
a quiet machine, a run that keeps a core busy takes about as long on the wall; a busy one stretches the wall).
The account `index` gives of what it cut (texts not embedded) is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import load_average
from corpus.reading import MAX_NOTE_BYTES

SECONDS, MEGABYTES = 60.0, 1024.0
SENTENCE = "自监督学习通过预测被遮盖的部分来学习表征，masked autoencoders scale to large vision models。"


def one_line(share: float = 1.0) -> str:
    """One line of Chinese and English sentences, just under the size cap."""
    size = len(SENTENCE.encode("utf-8"))
    return SENTENCE * int(share * ((MAX_NOTE_BYTES - 64) // size)) + "\n"


def headings(share: float = 1.0) -> str:
    """200,000 headings with nothing under them."""
    return "".join(f"# h{n}\n" for n in range(int(share * 200_000)))


def table(share: float = 1.0) -> str:
    """A table of 100,000 rows under a header."""
    return "| 年份 | 标题 |\n|---|---|\n" + "".join(f"| {1900 + n % 120} | t{n} |\n"
                                                 for n in range(int(share * 100_000)))


CASES = {"line": one_line, "headings": headings, "table": table}


def measure(name: str, model: str, share: float = 1.0) -> dict:
    """Index the note of one case in a fresh process: wall seconds, peak RSS, what `index` said, the load."""
    with tempfile.TemporaryDirectory() as work:
        notes = Path(work, "notes")
        notes.mkdir()
        text = CASES[name](share)
        (notes / f"{name}.md").write_text(text, encoding="utf-8")
        size = len(text.encode("utf-8"))
        assert size <= MAX_NOTE_BYTES, (name, size)
        load = [load_average()]
        with open(Path(work, "out"), "w+") as out, open(Path(work, "err"), "w+") as err:
            started = time.perf_counter()
            process = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "index", str(notes), "--index",
                                        str(Path(work, "index")), "--model", model, "--no-server", "--quiet"],
                                       cwd=ROOT, stdout=out, stderr=err, env=dict(os.environ, HF_HUB_OFFLINE="1"))
            _pid, status, usage = os.wait4(process.pid, 0)  # the child's own peak RSS
            wall = time.perf_counter() - started
            load.append(load_average())
            out.seek(0)
            err.seek(0)
            said = err.read().strip().splitlines() + out.read().strip().splitlines()
    return {"case": name, "bytes": size, "seconds": round(wall, 1),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1), "peak_mb": round(usage.ru_maxrss / 1024),
            "exit": os.waitstatus_to_exitcode(status), "said": said[-3:], "load": [round(value, 1) for value in load]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES), help="line,headings,table")
    parser.add_argument("--model", default="use-m3")
    parser.add_argument("--half", action="store_true", help="each case at half its size too (the growth)")
    parser.add_argument("--out", help="write the figures as JSON here too")
    args = parser.parse_args()
    results = []
    print(f"cores: {os.cpu_count()}; model: {args.model}; targets: under {SECONDS:.0f} s and {MEGABYTES:.0f} MB\n")
    print("| case | note | index time | CPU time | peak RSS | met | load average | what index said |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.cases.split(","):
        for share in ((0.5, 1.0) if args.half else (1.0,)):
            found = measure(name, args.model, share)
            results.append(found)
            met = found["exit"] == 0 and found["cpu_seconds"] < SECONDS and found["peak_mb"] < MEGABYTES
            said = " / ".join(line[:160] for line in found["said"])
            print(f"| {name} | {found['bytes'] / 1e6:.2f} MB | {found['seconds']:.1f} s | {found['cpu_seconds']:.1f} s | "
                  f"{found['peak_mb']:.0f} MB | {'yes' if met else 'no'} | {found['load'][0]} → {found['load'][1]} | "
                  f"{said} |", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
