"""The benchmark script runs end to end on the bundled notes (`--quick`), so it cannot rot."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from conftest import ROOT, shared_path


@pytest.mark.slow
def test_quick_bench_measures_every_figure_against_its_floor(tmp_path):
    shared_path("eval", "seed_queries.jsonl")
    out = tmp_path / "results.json"
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    bundled = json.loads(out.read_text(encoding="utf-8"))["corpora"]["bundled"]
    assert bundled["files"] == 2 and bundled["passages"] > 0
    assert bundled["incremental"]["updated"] == 1
    ratios = [bundled["keyword_vs_jieba"], bundled["embed_vs_model"], bundled["rss_vs_model"],
              bundled["incremental"]["vs_bare"], *(bundled["cold"][f"{m}_vs_bare"] for m in ("keyword", "hybrid"))]
    assert all(ratio > 0 and math.isfinite(ratio) for ratio in ratios)
    assert {"keyword", "semantic", "hybrid", "encode"} <= set(bundled["warm"])
    assert all(bundled["warm"][mode]["n"] == 10 for mode in ("keyword", "semantic", "hybrid"))
    assert all(bundled["served"]["modes"][mode]["n"] == 1 for mode in ("keyword", "semantic", "hybrid"))
    assert "keyword part / jieba alone" in run.stdout and "served `search --mode hybrid`" in run.stdout
