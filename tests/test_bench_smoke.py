"""The benchmark script runs end to end on the bundled notes (`--quick`), so it cannot rot; its growth ratios."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from conftest import ROOT, shared_path


@pytest.mark.slow
def test_quick_bench_measures_every_figure_against_its_floor_quiet_busy_and_beside_peers(tmp_path):
    shared_path("eval", "seed_queries.jsonl")
    out = tmp_path / "results.json"
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    bundled = json.loads(out.read_text(encoding="utf-8"))["corpora"]["bundled"]
    assert bundled["files"] == 2 and bundled["passages"] > 0
    assert bundled["incremental"]["updated"] == 1
    assert bundled["model_alone_texts"] == bundled["embedded"] > bundled["passages"]  # the same texts: a part each
    # Each ratio is what it says: its measured figure over its floor, both in the results, and printed.
    cold, rounds = bundled["cold"], bundled["keyword_rounds"]
    ratios = {
        "keyword_vs_jieba": (rounds[0]["keyword_s"], rounds[0]["jieba_s"]),  # one round: the median is its ratio
        "embed_vs_model": (bundled["timings"]["embed"], bundled["model_alone_s"]),
        "rss_vs_model": (bundled["peak_rss_mb"], bundled["model_alone_rss_mb"]),
    }
    cold_ratios = {"keyword_vs_bare": (cold["modes"]["keyword"]["p50"], cold["bare_jieba"]["p50"]),
                   "hybrid_vs_bare": (cold["modes"]["hybrid"]["p50"], cold["bare_jieba_model"]["p50"])}
    for name, (measured, floor) in [*ratios.items(), *cold_ratios.items(),
                                    ("vs_bare", (bundled["incremental"]["cli_s"], cold["bare_jieba_model"]["p50"]))]:
        assert measured > 0 and floor > 0 and math.isfinite(measured / floor), name
    assert all(bundled[name] == pytest.approx(measured / floor) for name, (measured, floor) in ratios.items())
    assert all(cold[name] == pytest.approx(measured / floor) for name, (measured, floor) in cold_ratios.items())
    assert bundled["incremental"]["vs_bare"] == pytest.approx(bundled["incremental"]["cli_s"]
                                                              / cold["bare_jieba_model"]["p50"])
    assert f"**{bundled['keyword_vs_jieba']:.2f}×**" in run.stdout and f"**{bundled['embed_vs_model']:.2f}×**" in run.stdout
    # A floor is the lesser part of its figure: a search process loads what a bare one loads, and more.
    assert cold["modes"]["keyword"]["p50"] > bundled["served"]["bare_python"]["p50"]
    assert bundled["timings"]["embed"] > 0 and bundled["model_alone_texts"] > 0
    assert {"keyword", "semantic", "hybrid", "encode"} <= set(bundled["warm"])
    assert all(bundled["warm"][mode]["n"] == 10 for mode in ("keyword", "semantic", "hybrid"))
    assert all(bundled["served"]["modes"][mode]["n"] == 1 for mode in ("keyword", "semantic", "hybrid"))
    assert "/ jieba alone (load + lcut_for_search)" in run.stdout and "served `search --mode hybrid`" in run.stdout
    assert len(bundled["load"]) == 2 and "load average" in run.stdout.split("| | bundled |")[0]
    assert len(bundled["keyword_rounds"]) == 1 and bundled["keyword_only_s"] > 0
    results = json.loads(out.read_text(encoding="utf-8"))
    busy = results["busy"]
    assert busy["kinds"] == ["numpy", "python"] and set(busy["states"]) == {"quiet", "numpy", "python"}
    assert all(state["hybrid"]["n"] == 10 and state["encode"]["n"] == 10 for state in busy["states"].values())
    assert busy["hybrid_p95_ratio"] == busy["states"]["numpy"]["hybrid_p95_ratios"][0] > 0
    assert all(len(load) == 2 for state in busy["states"].values() for load in state["loads"])
    peers = results["corpora"]["bundled"]["peers"]
    assert set(peers) == {"tantivy", "bm25s", "whoosh"}
    for name, peer in peers.items():
        # tantivy and bm25s are optional: absent, they are skipped with the reason; Whoosh and jieba always come.
        if "skipped" in peer:
            assert name != "whoosh" and "pip install" in peer["skipped"]
            assert f"skipped: {peer['skipped']}" in run.stdout
        else:
            assert peer["index_s"] > 0 and peer["warm"]["n"] == 10 and len(peer["loads"]) == 1
    assert "2 busy: numpy" in run.stdout and "Whoosh + jieba ChineseAnalyzer" in run.stdout


def test_growth_ratios_compare_each_multiple_with_one_copy(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    from growth import growth_ratios

    def row(factor, embedded, total, keyword, rss, p95):
        return {"factor": factor, "embedded": embedded, "timings": {"total": total, "keyword": keyword},
                "peak_rss_mb": rss, "warm": {mode: {"p95": ms} for mode, ms in p95.items()}}

    rows = [row(1, True, 60, 30, 500, {"keyword": 20, "hybrid": 30}), row(4, True, 240, 132, 650, {"keyword": 25,
            "hybrid": 40}), row(16, False, 700, 690, 1000, {"keyword": 50})]
    assert growth_ratios(rows) == {"keyword_time_4x": 4.4, "index_time_4x": 4.0, "peak_rss_4x_mb": 650,
                                   "warm_p95_16x": {"keyword": 2.5}}
    assert growth_ratios(rows[:1]) == {}
    # 4x keyword-only beside 1x with vectors: the totals are not comparable, the keyword parts are.
    assert "index_time_4x" not in growth_ratios([rows[0], row(4, False, 130, 128, 400, {"keyword": 22})])
