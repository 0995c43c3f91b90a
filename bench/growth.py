"""Growth: index time, memory and warm latency at multiples of d2l-zh, and the ratios to 1×.

Each copy of the corpus after the first has its headings renamed and the
clauses of each prose line shuffled, so that every passage text, and so
every vector, is new. Factors in `--growth-hybrid` are indexed with vectors,
those in `--growth-keyword` keyword-only (their embedding would only add
time that grows linearly with the passages).
"""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from measure import index_parts, load_during, load_range, log, run_child, summary


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
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns(*exclude, ".*"))
        if copy == 0:
            continue
        for path in sorted(folder.rglob("*.md")):
            rng = random.Random(f"{copy}:{path.relative_to(folder)}")
            path.write_text(vary(path.read_text(encoding="utf-8"), copy, rng), encoding="utf-8")


def bench_growth(source: Path, exclude: tuple[str, ...], work: Path, queries: list[str], hybrid: tuple[int, ...],
                 keyword_only: tuple[int, ...], base: dict | None, rows: list[dict],
                 checkpoint: Callable[[], None]) -> None:
    """Index time, size, peak RSS and warm latency at each multiple of the corpus, appended to `rows`.

    1× hybrid is `base` (the main d2l-zh run) when given; `checkpoint` runs after each row.
    """
    for factor in sorted(set(hybrid) | set(keyword_only)):
        embedded = factor in hybrid
        if factor == 1 and embedded and base:
            rows.append({"factor": 1, "embedded": True, "mb": base["mb"], "passages": base["passages"],
                         "timings": base["timings"], "peak_rss_mb": base["peak_rss_mb"],
                         "keyword_mb": base["keyword_mb"], "vectors_mb": base["vectors_mb"], "load": base["load"],
                         "warm": {mode: base["warm"][mode] for mode in ("keyword", "hybrid")}})
            continue
        notes, index = work / f"growth{factor}", str(work / f"growth{factor}.index")
        make_copies(source, notes, factor, exclude)
        log(f"growth {factor}×: index ({'hybrid' if embedded else 'keyword only'})")
        with load_during({}) as record:
            built, _, rss = run_child("build", {"paths": [str(notes)], "index": index, "keyword_only": not embedded})
            modes = ["keyword", "hybrid"] if embedded else ["keyword"]
            warm, _, _ = run_child("warm", {"index": index, "queries": queries, "modes": modes})
        rows.append({"factor": factor, "embedded": embedded, "mb": built["bytes"] / 1e6, "passages": built["passages"],
                     "timings": built["timings"], "peak_rss_mb": rss, **index_parts(index), "load": record["load"],
                     "warm": {mode: summary(ms) for mode, ms in warm["ms"].items() if mode != "encode"}})
        shutil.rmtree(notes)
        shutil.rmtree(index)
        checkpoint()


def growth_ratios(rows: list[dict]) -> dict:
    """The issue's growth figures from the rows measured: each key present only when its rows were.

    index_time_4x: total index time at 4× / 1× (both with vectors, or both without); keyword_time_4x: the
    keyword part's; peak_rss_4x_mb: peak RSS indexing 4× (with vectors when that was measured);
    warm_p95_16x: per search mode measured at both 1× and 16×, warm p95 at 16× / 1×.
    """
    by_factor: dict[int, list[dict]] = {}
    for row in rows:
        by_factor.setdefault(row["factor"], []).append(row)
    out: dict = {}
    one, four, sixteen = by_factor.get(1, []), by_factor.get(4, []), by_factor.get(16, [])
    for small in one:
        for large in four:
            out["keyword_time_4x"] = large["timings"]["keyword"] / small["timings"]["keyword"]
            if small["embedded"] == large["embedded"]:
                out["index_time_4x"] = large["timings"]["total"] / small["timings"]["total"]
    if four:
        out["peak_rss_4x_mb"] = max(four, key=lambda row: row["embedded"])["peak_rss_mb"]
    p95 = {}
    for small in one:
        for large in sixteen:
            for mode in set(small["warm"]) & set(large["warm"]):
                p95[mode] = large["warm"][mode]["p95"] / small["warm"][mode]["p95"]
    if p95:
        out["warm_p95_16x"] = p95
    return out


def growth_table(rows: list[dict], ratios: dict) -> list[str]:
    """The growth rows and their ratios to 1× as Markdown, each row with the load average of its block."""
    out = [("| d2l-zh × | MB | passages | index s | keyword s | embed s | keyword index MB | vectors MB |"
            " peak RSS MB | warm keyword p50/p95 ms | warm hybrid p50/p95 ms | load average |"), "|---" * 12 + "|"]
    for g in rows:
        t, w = g["timings"], g["warm"]
        hybrid = f"{w['hybrid']['p50']:.0f} / {w['hybrid']['p95']:.0f}" if "hybrid" in w else "—"
        embed = f"{t['embed']:.0f}" if g["embedded"] else "— (not embedded)"
        vectors_mb = f"{g['vectors_mb']:.0f}" if g["embedded"] else "—"
        out.append(f"| {g['factor']}× | {g['mb']:.1f} | {g['passages']} | {t['total']:.0f} | {t['keyword']:.0f} | "
                   f"{embed} | {g['keyword_mb']:.0f} | {vectors_mb} | {g['peak_rss_mb']:.0f} | "
                   f"{w['keyword']['p50']:.0f} / {w['keyword']['p95']:.0f} | {hybrid} | {load_range(g.get('load'))} |")
    figures = []
    if "index_time_4x" in ratios:
        figures.append(f"index time 4× / 1× = **{ratios['index_time_4x']:.2f}×** (linear: 4, target ≤ 4.4)")
    if "keyword_time_4x" in ratios:
        figures.append(f"keyword part 4× / 1× = {ratios['keyword_time_4x']:.2f}×")
    if "peak_rss_4x_mb" in ratios:
        figures.append(f"peak RSS at 4× = **{ratios['peak_rss_4x_mb']:.0f} MB** (target ≤ 600)")
    for mode, ratio in sorted(ratios.get("warm_p95_16x", {}).items()):
        figures.append(f"warm {mode} p95 16× / 1× = **{ratio:.2f}×** (target ≤ 2)")
    return out + (["", "; ".join(figures) + "."] if figures else [])
