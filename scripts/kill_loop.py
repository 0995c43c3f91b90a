"""Kill the indexer with SIGKILL at seeded points and check that the index always recovers.

    .venv/bin/python scripts/kill_loop.py              # 200 kill points
    .venv/bin/python scripts/kill_loop.py -n 20 --seed 7

Each kill point: the notes change (seeded add, edit, delete or rename; tiny
notes), an indexer is forked and killed with SIGKILL, either at the Nth step of
one kind (fsync, rename, hard link, unlink, file creation, Whoosh write, mkdir,
embedding batch) or after a seeded delay. Then:

- the index opens, from exactly the generation its manifest names, and holds
  the files of the generation before the run or of the one after it;
- its top 10 for fixed queries equal those of the generation before the run
  or those after it (no committed data is lost, nothing half-built is seen);
- the next `index` takes the lock at once (wait=0) and commits, leaving at
  most two generation folders and no temp files.

The indexer is forked from this process after the embedder is loaded, so a kill
point costs a fraction of a second instead of a model load.
"""

from __future__ import annotations

import argparse
import builtins
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer import build
from indexer.embedders import Embedder, UseM3
from indexer.generations import read_manifest
from search import open_index, search

QUERIES = ("扩散模型 生成", "attention transformer", "自监督 学习", "graph neural network", "强化学习 reward")
# One bold term: its note comes and goes, so some runs change the learned dictionary (a full
# keyword rebuild) while jieba loads only two dictionaries in this whole process.
SENTENCES = (
    "**扩散模型**通过逐步去噪生成图像，DDPM 是代表工作。",
    "The transformer relies on self-attention instead of recurrence.",
    "自监督学习从未标注的数据中学习表示，例如对比学习。",
    "Graph neural networks pass messages along the edges of a graph.",
    "强化学习中智能体根据 reward 调整策略。",
    "BERT 使用掩码语言模型进行预训练。",
    "Vision transformers split an image into patches.",
    "知识蒸馏把大模型的知识迁移到小模型。",
    "Diffusion models and GANs both generate images.",
    "卷积神经网络在图像分类上表现很好。",
)
STEP_KINDS = ("fsync", "replace", "rename", "link", "unlink", "open", "write", "mkdir", "embed", "delay")


@dataclass(frozen=True)
class KillPoint:
    """One seeded kill: at the `occurrence`th step of `kind`, or after `delay` seconds."""

    kind: str
    occurrence: int = 0
    delay: float = 0.0


@dataclass(frozen=True)
class Outcome:
    """What one kill point did and whether the index recovered."""

    point: KillPoint
    killed: bool
    generation_after_kill: int
    recovered: bool
    problem: str = ""


@contextmanager
def counting_steps(on_step: Callable[[str], None], embedder: Embedder) -> Iterator[None]:
    """Call `on_step(kind)` before every file-system step and embedding batch of an indexer run."""
    from indexer.keyword.writing import KeywordFile

    patched: list[tuple[object, str, object]] = []

    def wrap(owner: object, name: str, kind: str, when: Callable[..., bool] = lambda *a, **k: True) -> None:
        original = getattr(owner, name)

        def step(*args, **kwargs):
            if when(*args, **kwargs):
                on_step(kind)
            return original(*args, **kwargs)

        patched.append((owner, name, original))
        setattr(owner, name, step)

    def writing(file, mode="r", *args, **kwargs) -> bool:
        return any(flag in mode for flag in "wax+")

    wrap(os, "fsync", "fsync")
    wrap(os, "replace", "replace")
    wrap(os, "rename", "rename")
    wrap(os, "link", "link")
    wrap(os, "unlink", "unlink")
    wrap(os, "rmdir", "unlink")
    wrap(os, "mkdir", "mkdir")
    wrap(builtins, "open", "open", writing)
    wrap(KeywordFile, "write", "write")
    wrap(embedder, "encode", "embed")
    try:
        yield
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


def answers(directory: str, embedder: Embedder) -> tuple[int, dict, tuple]:
    """(generation, files with hashes, top-10 passage ids per query) of the committed index."""
    with open_index(directory, embedder=embedder) as index:
        if index.warnings:
            raise AssertionError(f"the index fell back: {index.warnings}")
        tops = tuple(tuple(hit.passage.id for hit in search(index, q, mode="hybrid", k=10).hits) for q in QUERIES)
        files = {path: entry.sha256 for path, entry in index.manifest.files.items()}
        return index.manifest.generation, files, tops


def mutate(notes: Path, rng: random.Random) -> None:
    """One to three seeded changes to the tiny notes: add, edit, delete or rename."""
    existing = sorted(notes.glob("*.md"))
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(("add", "edit", "delete", "rename")) if existing else "add"
        if op == "add" or (op == "delete" and len(existing) < 3) or len(existing) < 2:
            path = notes / f"note-{rng.randrange(10**6)}.md"
            path.write_text(f"# 笔记 {path.stem}\n\n{rng.choice(SENTENCES)}\n", encoding="utf-8")
            existing.append(path)
        elif op == "edit":
            path = rng.choice(existing)
            with path.open("a", encoding="utf-8") as f:
                f.write(f"\n{rng.choice(SENTENCES)} ({rng.randrange(1000)})\n")
        elif op == "delete":
            path = rng.choice(existing)
            path.unlink()
            existing.remove(path)
        else:
            path = rng.choice(existing)
            target = notes / f"moved-{rng.randrange(10**6)}.md"
            path.rename(target)
            existing[existing.index(path)] = target


def kill_point(rng: random.Random, steps: Counter, last_seconds: float) -> KillPoint:
    """A seeded kill point: a kind of step, then which occurrence of it (from the last run's counts)."""
    kinds = [kind for kind in STEP_KINDS if kind == "delay" or steps[kind]]
    kind = rng.choice(kinds)
    if kind == "delay":
        return KillPoint("delay", delay=rng.uniform(0.0, max(last_seconds, 0.05)))
    return KillPoint(kind, occurrence=rng.randint(1, steps[kind]))


def run_killed(notes: Path, directory: str, embedder: Embedder, point: KillPoint) -> bool:
    """Fork an indexer and kill it at `point`; True when it died by SIGKILL, False when it finished first."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            seen: Counter = Counter()

            def on_step(kind: str) -> None:
                seen[kind] += 1
                if kind == point.kind and seen[kind] == point.occurrence:
                    os.kill(os.getpid(), signal.SIGKILL)

            with counting_steps(on_step, embedder):
                build([str(notes)], directory, embedder=embedder, wait=0)
        except BaseException:  # noqa: BLE001 - the child must never return into the caller's stack
            code = 3
        finally:
            os._exit(code)
    if point.kind == "delay":
        time.sleep(point.delay)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0:
        raise RuntimeError(f"the indexer failed (exit {os.WEXITSTATUS(status)}) at {point}")
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def run(count: int, seed: int, workdir: str, embedder: Embedder,
        report: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Run `count` seeded kill points in `workdir`; returns one Outcome per point."""
    rng = random.Random(seed)
    notes = Path(workdir) / "notes"
    directory = os.path.join(workdir, "index")
    notes.mkdir(parents=True, exist_ok=True)
    mutate(notes, rng)
    embedder.encode(["warm up"])  # load the model before forking
    steps: Counter = Counter()

    def on_step(kind: str) -> None:
        steps[kind] += 1

    started = time.perf_counter()
    with counting_steps(on_step, embedder):
        build([str(notes)], directory, embedder=embedder, wait=0)
    last_seconds = time.perf_counter() - started
    outcomes = []
    for _ in range(count):
        before = answers(directory, embedder)
        mutate(notes, rng)
        point = kill_point(rng, steps, last_seconds)
        outcome, last_seconds = _check(point, notes, directory, embedder, before, steps)
        outcomes.append(outcome)
        if report:
            report(outcome)
    return outcomes


def _check(point: KillPoint, notes: Path, directory: str, embedder: Embedder, before: tuple,
           steps: Counter) -> tuple[Outcome, float]:
    """Kill an indexer at `point`, check the index, run the next indexer (counting its steps into `steps`).

    Returns the outcome and how long the next run took.
    """
    killed = run_killed(notes, directory, embedder, point)
    try:
        after_kill = answers(directory, embedder)
    except Exception as error:  # noqa: BLE001 - any failure to open is a failed recovery
        return Outcome(point, killed, -1, False, f"the index does not open after the kill: {error!r}"), 1.0
    steps.clear()
    started = time.perf_counter()
    try:
        with counting_steps(lambda kind: steps.update([kind]), embedder):
            build([str(notes)], directory, embedder=embedder, wait=0)
        seconds = time.perf_counter() - started
        after = answers(directory, embedder)
    except Exception as error:  # noqa: BLE001 - the next run must work whatever the kill left
        return Outcome(point, killed, after_kill[0], False, f"the next run failed: {error!r}"), 1.0
    problems = []
    if after_kill[0] not in (before[0], after[0]) or read_manifest(directory).generation != after[0]:
        problems.append(f"generation {after_kill[0]} after the kill is neither {before[0]} nor {after[0]}")
    if after_kill[1:] != before[1:] and after_kill[1:] != after[1:]:
        problems.append("files or top 10 after the kill match neither the old nor the new generation")
    leftovers = [name for name in os.listdir(directory) if name.startswith((".tmp-", ".trash-"))]
    generations = [name for name in os.listdir(directory) if name.startswith("gen-")]
    if leftovers or len(generations) > 2:
        problems.append(f"left behind: {sorted(leftovers + generations)}")
    return Outcome(point, killed, after_kill[0], not problems, "; ".join(problems)), seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=200, help="kill points (default 200)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temp folder)")
    args = ap.parse_args(argv)
    workdir = args.keep or tempfile.mkdtemp(prefix="kill-loop-")
    started = time.perf_counter()

    def report(outcome: Outcome) -> None:
        mark = "ok " if outcome.recovered else "FAIL"
        what = f"{outcome.point.kind} #{outcome.point.occurrence}" if outcome.point.kind != "delay" \
            else f"after {outcome.point.delay:.3f} s"
        state = "killed" if outcome.killed else "finished"
        print(f"{mark} {what:<16} {state:<8} generation {outcome.generation_after_kill} {outcome.problem}",
              file=sys.stderr, flush=True)

    try:
        outcomes = run(args.n, args.seed, workdir, UseM3(), report)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    recovered = sum(o.recovered for o in outcomes)
    killed = sum(o.killed for o in outcomes)
    print(f"{recovered}/{len(outcomes)} recoveries ({killed} runs killed, {len(outcomes) - killed} finished first; "
          f"seed {args.seed}, {time.perf_counter() - started:.0f} s)")
    return 0 if recovered == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
