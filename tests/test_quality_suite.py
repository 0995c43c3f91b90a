"""The development quality suite (bench/quality.py): its cross-validation, and one real run."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
from conftest import BUNDLED_NOTES, ROOT, shared_path

from indexer import embedders, vectors
from search import FusionConfig


def load_suite():
    spec = importlib.util.spec_from_file_location("quality", ROOT / "bench" / "quality.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["quality"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_leave_one_out_scores_each_corpus_with_a_value_chosen_without_it():
    # Value 2 wins only on corpus "a"; on the mean of all three it wins too, but "a" alone chose it.
    table = {1: {"a": 0.50, "b": 0.80, "c": 0.80}, 2: {"a": 0.95, "b": 0.70, "c": 0.70}}
    result = load_suite().leave_one_out(table)
    assert result["fitted_value"] == 2  # mean 0.783 against 0.700
    assert result["folds"]["a"] == {"chosen": 1, "left_out": 0.50, "fitted": 0.95}
    assert result["folds"]["b"] == {"chosen": 2, "left_out": 0.70, "fitted": 0.70}
    assert result["left_out_mean"] == pytest.approx((0.50 + 0.70 + 0.70) / 3)
    assert result["left_out_mean"] < result["fitted_mean"]


@pytest.mark.slow
@pytest.mark.parametrize("function, values", [
    ("cross_validate_first_share", "FIRST_SHARES"),
    ("cross_validate_mixed_script", "MIXED_SCRIPT_VALUES"),
])
def test_a_search_time_setting_is_chosen_leaving_each_corpus_out_without_changing_a_global(bundled_index, function,
                                                                                          values):
    # The seed questions in two halves, as if asked of two corpora: each value ranks them again.
    suite = load_suite()
    judgements = [j for j in suite.read_judgements(str(shared_path("eval", "seed_queries.jsonl")))
                  if j.kind != "related"]
    places = suite.locate_snippets(str(BUNDLED_NOTES), {t.snippet for j in judgements for t in j.relevant if t.snippet})
    halves = [(bundled_index, suite.JudgementSet(f"half{n}", f"corpus{n}", None), judgements[n::2], places)
              for n in (0, 1)]
    constants = (vectors.FIRST_SHARE, dict(embedders.MIXED_SCRIPT_SHARES))
    result = getattr(suite, function)(halves, FusionConfig(keyword_weight=0.5), lambda _message: None)
    assert (vectors.FIRST_SHARE, dict(embedders.MIXED_SCRIPT_SHARES)) == constants
    assert set(result["folds"]) == {"corpus0", "corpus1"} and result["fitted_value"] in getattr(suite, values)
    assert result["current_value"] in getattr(suite, values)  # the current value is among those tried
    assert 0.8 <= result["fitted_mean"] <= 1.0  # the seed questions are answered under the value fitted


def test_sample_is_fixed_and_spread_over_the_file():
    suite = load_suite()
    items = list(range(100))
    assert suite.sample(items, 10) == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert suite.sample(items, None) == items and suite.sample(items, 500) == items


@pytest.mark.slow
def test_suite_runs_the_seed_judgements_in_every_mode():
    shared_path("eval", "seed_queries.jsonl")
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "quality.py"), "--sets", "seed", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    rows = {(r["mode"], r["kind"]): r for r in result["rows"]}
    assert {("keyword", "all"), ("semantic", "all"), ("hybrid", "all"), ("related", "all")} <= set(rows)
    assert rows["hybrid", "all"]["queries"] == 20 and rows["related", "all"]["queries"] == 5
    # The floor for the visible set: a change that breaks search shows here.
    assert rows["hybrid", "all"]["ndcg"] >= 0.90 and rows["related", "all"]["ndcg"] >= 0.85


@pytest.mark.slow
def test_suite_asks_each_variant_beside_its_original():
    shared_path("eval", "seed_queries.jsonl")
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "quality.py"), "--sets", "seed", "--modes", "keyword",
                          "--variants", "traditional,pinyin,typo", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    variants = {v["variant"]: v for v in json.loads(run.stdout)["variants"]}
    assert {"traditional", "pinyin", "typo"} <= set(variants)
    for row in variants.values():
        assert row["queries"] > 0 and row["ratio"] == pytest.approx(row["ndcg"] / row["ndcg_original"])
    # Folding makes the Traditional questions read as the Simplified ones.
    assert variants["traditional"]["ratio"] >= 0.99
