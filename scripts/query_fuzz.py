"""Fuzz the query path with hostile queries: no exception, no answer slower than 5 s.

    .venv/bin/python scripts/query_fuzz.py                  # 10,000 queries in process, 300 through the CLI
    .venv/bin/python scripts/query_fuzz.py -n 500 --cli 50 --seed 3 --index DIR

Queries are seeded mixes of random Unicode (controls, surrogates, combining
marks, bidirectional and zero-width characters, astral planes, unassigned
code points), fragments of the query syntax (quotes, parentheses, OR/AND/NOT,
exclusions, every field, year ranges), huge numbers (`year:9999999999`, a
5,000-digit year), 100 KB queries and terminal control sequences.

In process, each query runs through `search.rank.engine.search` in turn in
keyword, semantic and hybrid mode; any exception, any answer that breaks the
contract (more than k hits, ranks out of order) and any answer slower than
LIMIT seconds counts as a failure. Through the CLI, the queries go as one
`--queries` file (written as bytes: lone surrogates become bytes that are not
UTF-8; a plain first query loads the model) to `cli.py search --json`, then
again for human output: both must exit
0 with no traceback, answer every line in order within LIMIT seconds each, and
the human output must hold no raw control character. Without --index the
bundled notes are indexed into a temporary folder first.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LIMIT = 5.0  # seconds an answer may take
HANG = 30.0  # seconds after which a query is interrupted and counted as hung

WORDS = ["transformer", "attention", "GAN", "自监督", "视觉", "扩散模型", "对比学习", "Hinton", "goodfellow", "BERT",
         "ResNet-50", "GPT-4", "C++", "ViT-B/16", "self-supervised", "机器翻译", "the", "的", "2014", "x"]
FIELDS = ["title", "author", "authors", "year", "section", "tags", "tag", "path", "TITLE", "Year", "foo"]
SYNTAX = ['"', "(", ")", "OR", "AND", "NOT", "-", "--", "*", "?", "~2", "^3", ":", "::", "\\", "..", "–", "'", "`",
          "|", ">", "<", ">=", "<=", "()", '""', "((", "))", "-(", "NOT(", '"("', "OR OR", "AND AND"]
YEAR_VALUES = ["2015", "2012..2017", "..1950", "2012..", "9999999999", "0", "-1", "<0", ">9999", "3000-1000",
               "abc", "abc..", "20a5", "1e309", "nan", "²⁰¹⁵", "٢٠١٥", "２０１５", "𐩀", "", "..", ">=", "1..2..3"]
CONTROLS = ["\x1b[2J", "\x1b]0;title\x07", "\x1b[31m", "\x00", "\r", "\n", "\t", "\x7f", "\x9b", "\x08", "\x0c",
            "\u202e", "\u2066", "\u200b", "\ufeff", "\u2028", "\u2029", "\x85"]
# Code point ranges random text is drawn from.
RANGES = [(0x20, 0x7E), (0x00, 0x1F), (0x7F, 0x9F), (0x4E00, 0x9FFF), (0xFF01, 0xFF5E), (0x0300, 0x036F),
          (0x2000, 0x206F), (0x1F300, 0x1FAFF), (0xD800, 0xDFFF), (0xE000, 0xF8FF), (0x0378, 0x0379),
          (0x3000, 0x303F), (0x20000, 0x2A6DF), (0x0590, 0x06FF), (0xFFF0, 0xFFFF), (0x10FFF0, 0x10FFFF)]


def random_text(rng: random.Random, length: int) -> str:
    ranges = rng.sample(RANGES, rng.randint(1, 4))
    return "".join(chr(rng.randint(*rng.choice(ranges))) for _ in range(length))


def syntax_query(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 12)):
        roll = rng.random()
        if roll < 0.35:
            parts.append(rng.choice(WORDS))
        elif roll < 0.65:
            parts.append(rng.choice(SYNTAX))
        elif roll < 0.85:
            name = rng.choice(FIELDS)
            value = rng.choice(YEAR_VALUES) if name.lower() == "year" else rng.choice([*WORDS, "", '"', '"a b"'])
            parts.append(f"{name}:{value}")
        else:
            parts.append(random_text(rng, rng.randint(1, 5)))
    glue = rng.choice([" ", "", "  ", "\u3000"])
    return glue.join(parts)


def huge_number_query(rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([10, 20, 50, 400, 5000])))
    return rng.choice([f"year:{digits}", f"year:{digits}..{digits}", f"year:>{digits}", f"year:..{digits}",
                       f"author:{digits}", f"{digits} transformer", f"year:-{digits}", f"title:{digits}e{digits}",
                       "year:9999999999", "year:4294967296", "year:18446744073709551616", "year:1e309"])


def long_query(rng: random.Random) -> str:
    size = 100_000
    return rng.choice([
        lambda: " ".join(rng.choice(WORDS) for _ in range(size // 6))[:size],
        lambda: "a" * size,
        lambda: "(" * size,
        lambda: '"' * size,
        lambda: "扩散" * (size // 2),
        lambda: "year:1 " * (size // 7),
        lambda: random_text(rng, size),
        lambda: "-" * size,
        lambda: "OR " * (size // 3),
    ])()


def control_query(rng: random.Random) -> str:
    return "".join(rng.choice([rng.choice(CONTROLS), rng.choice(WORDS), " "]) for _ in range(rng.randint(1, 10)))


KINDS: list[tuple[float, Callable[[random.Random], str]]] = [
    (0.35, lambda rng: random_text(rng, rng.randint(0, 200))),
    (0.35, syntax_query),
    (0.10, huge_number_query),
    (0.05, long_query),
    (0.15, control_query),
]


def hostile_queries(n: int, seed: int) -> list[str]:
    """`n` seeded hostile queries (the same for the same seed)."""
    rng = random.Random(seed)
    weights = [weight for weight, _make in KINDS]
    return [rng.choices(KINDS, weights)[0][1](rng) for _ in range(n)]


@dataclass
class FuzzReport:
    """What a fuzz run found: how many queries ran, and each failure as (query, what went wrong)."""

    queries: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    slowest: float = 0.0

    def line(self, what: str) -> str:
        return (f"{what}: {self.queries} queries, {len(self.failures)} failures, "
                f"slowest {self.slowest:.2f} s")


class Hung(Exception):
    pass


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise Hung in this (main) thread if the block takes longer than `seconds`."""

    def interrupt(_signum, _frame):
        raise Hung(f"no answer after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def fuzz_library(index, queries: list[str], k: int = 10) -> FuzzReport:
    """Each query through search() in keyword, semantic and hybrid mode in turn."""
    from search import MODES, search

    report = FuzzReport()
    search(index, WARM_UP, mode="hybrid")  # loads the model, which no hostile query should be charged for
    for n, query in enumerate(queries):
        mode = MODES[n % len(MODES)]
        started = time.perf_counter()
        try:
            with deadline(HANG):
                result = search(index, query, mode=mode, k=k)
            problem = _contract(result.hits, k)
        except Exception as error:  # noqa: BLE001 (every exception is a finding)
            problem = "".join(traceback.format_exception_only(error)).strip()
        took = time.perf_counter() - started
        report.queries += 1
        report.slowest = max(report.slowest, took)
        if problem is None and took > LIMIT:
            problem = f"took {took:.1f} s"
        if problem:
            report.failures.append((f"{mode}: {query[:200]!r}", problem))
    return report


def _contract(hits, k: int) -> str | None:
    if len(hits) > k:
        return f"{len(hits)} hits for k={k}"
    if [hit.rank for hit in hits] != list(range(1, len(hits) + 1)):
        return "ranks out of order"
    return None


# The first line of a CLI batch: its answer also pays for loading the model, so its time is not checked.
WARM_UP = "transformer"


def query_file(queries: list[str], path: str) -> int:
    """Write WARM_UP, then the queries one a line as bytes (lone surrogates as the bytes they stand for);
    returns the line count.

    Line breaks inside a query become spaces (the CLI reads one query a line).
    """
    lines = [WARM_UP.encode()]
    for query in queries:
        text = "".join(" " if ch in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029" else ch for ch in query)
        lines.append(text.encode("utf-8", "surrogateescape") if _escapes_only(text)
                     else text.encode("utf-8", "surrogatepass"))
    with open(path, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    return len(lines)


def _escapes_only(text: str) -> bool:
    """Whether every lone surrogate of `text` stands for a byte (U+DC80..U+DCFF)."""
    return all(not 0xD800 <= ord(ch) <= 0xDFFF or 0xDC80 <= ord(ch) <= 0xDCFF for ch in text)


def fuzz_cli(index_dir: str, queries: list[str], mode: str = "hybrid") -> FuzzReport:
    """The queries as one --queries file through `cli.py search`, with --json and with human output."""
    report = FuzzReport()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "queries.txt")
        count = query_file(queries, path)
        report.queries = count - 1
        base = [sys.executable, str(ROOT / "cli.py"), "search", "--queries", path, "--index", index_dir,
                "--mode", mode, "--no-server"]
        env = dict(os.environ, HF_HUB_OFFLINE="1", NO_COLOR="1")
        for output in ("json", "text"):
            try:
                done = subprocess.run([*base, *(["--json"] if output == "json" else [])], cwd=ROOT, env=env,
                                      capture_output=True, timeout=HANG + LIMIT * count, check=False)
            except subprocess.TimeoutExpired:
                report.failures.append((f"cli {output}", "the batch did not finish"))
                continue
            stdout, stderr = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
            if done.returncode != 0 or "Traceback" in stderr:
                report.failures.append((f"cli {output}", f"exit {done.returncode}: {stderr[-2000:]}"))
                continue
            if output == "json":
                problem, slowest = _json_answers(stdout, count)
                report.slowest = max(report.slowest, slowest)
            else:
                problem = _human_output(stdout + stderr, count)
            if problem:
                report.failures.append((f"cli {output}", problem))
    return report


def _json_answers(stdout: str, count: int) -> tuple[str | None, float]:
    """What is wrong with the --json answers (None if nothing), and the longest an answer took, in seconds."""
    answers = [json.loads(line) for line in stdout.split("\n")[:-1]]  # JSON keeps U+2028 raw: split on \n only
    slowest = max((answer["took_ms"] / 1000 for answer in answers[1:]), default=0.0)
    if len(answers) != count:
        return f"{len(answers)} answers for {count} queries", slowest
    for n, answer in enumerate(answers, 1):
        if list(answer) != ["query", "mode", "took_ms", "hits"]:
            return f"answer {n} has keys {list(answer)}", slowest
        if n > 1 and answer["took_ms"] > LIMIT * 1000:
            return f"answer {n} took {answer['took_ms']:.0f} ms", slowest
    return None, slowest


def _human_output(output: str, count: int) -> str | None:
    raw = sorted({f"U+{ord(ch):04X}" for ch in output
                  if ch != "\n" and (ord(ch) < 0x20 and ch != "\t" or 0x7F <= ord(ch) < 0xA0 or ch == "\u202e")})
    if raw:
        return f"raw control characters in the output: {', '.join(raw)}"
    headers = sum(1 for line in output.split("\n") if line.startswith("== "))
    return None if headers == count or count == 1 else f"{headers} answers for {count} queries"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=10_000, help="queries through the library (default 10,000)")
    ap.add_argument("--cli", type=int, default=300, help="queries through the CLI (default 300)")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--index", help="an index to search (default: the bundled notes, indexed now)")
    args = ap.parse_args(argv)

    from indexer import build
    from search import open_index

    with tempfile.TemporaryDirectory() as folder:
        index_dir = args.index or os.path.join(folder, "index")
        if not args.index:
            from corpus import BUNDLED_NOTES

            build([str(BUNDLED_NOTES)], index_dir)
        started = time.perf_counter()
        with open_index(index_dir) as index:
            library = fuzz_library(index, hostile_queries(args.n, args.seed))
        print(library.line("library") + f" ({time.perf_counter() - started:.0f} s)", flush=True)
        started = time.perf_counter()
        cli = fuzz_cli(index_dir, hostile_queries(args.cli, args.seed + 1))
        print(cli.line("cli --queries, json and human output") + f" ({time.perf_counter() - started:.0f} s)")
    for where, problem in (library.failures + cli.failures)[:20]:
        print(f"  {where}\n    {problem}")
    return 1 if library.failures or cli.failures else 0


if __name__ == "__main__":
    sys.exit(main())
