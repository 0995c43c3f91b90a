"""Crash safety: faults at write, rename and fsync, kill -9 at seeded points, concurrent readers,
and incremental indexing equal to a full rebuild (Hypothesis)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import counts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import indexer.generations
import indexer.vectors
from indexer import build
from indexer.generations import IndexBusy, read_manifest
from indexer.keyword.writing import KeywordFile
from search import open_index, search

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ("扩散模型 生成", "transformer attention", "图 神经网络", "学习")
NOTES = {
    "a.md": "# 扩散模型\n\n**扩散模型**通过逐步去噪生成图像。\n\nDDPM 是代表工作。\n",
    "b.md": "# Transformer\n\nThe transformer relies on self-attention.\n",
    "c.md": "# 图神经网络\n\nGraph neural networks pass messages along edges.\n",
}


def _kill_loop():
    spec = importlib.util.spec_from_file_location("kill_loop", ROOT / "scripts" / "kill_loop.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["kill_loop"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def top10(index_dir: str, embedder) -> list[tuple]:
    """Per query and mode: the top 10 as (rounded score, places), ties in order. A hit's places are its span and
    those holding the same text (`also`): which of them is shown depends on the order rows were written in."""
    out = []
    with open_index(index_dir, embedder=embedder) as index:
        for query in QUERIES:
            for mode in ("keyword", "semantic"):
                hits = search(index, query, mode=mode, k=10).hits
                out.append(sorted((-round(h.score, 4), sorted([(h.passage.path, h.passage.region, h.passage.line_start,
                                                                h.passage.line_end), *h.also])) for h in hits))
    return out


def assert_same_answers(got: list[list], expected: list[list]) -> None:
    """top10's answers hold the same hits, each with its score to within 1e-4 (one place of the rounding): an
    index updated in steps embeds its texts in other batches than one built at once, and BLAS blocks a batch's
    products by its shape, which moves a vector by about 1e-7, enough to tip a score rounded to four places."""
    assert len(got) == len(expected)
    for hits, wanted in zip(got, expected, strict=True):
        scores = {tuple(places): -score for score, places in hits}
        wanted_scores = {tuple(places): -score for score, places in wanted}
        assert scores.keys() == wanted_scores.keys(), (hits, wanted)
        assert all(abs(scores[key] - wanted_scores[key]) <= 1.5e-4 for key in scores), (hits, wanted)


def _files(folder: str) -> dict[str, str]:
    found = {}
    for parent, _dirs, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return found


def _failing_at(original, n: int):
    calls = {"n": 0}

    def fail(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise OSError(28, "No space left on device (injected)")
        return original(*args, **kwargs)

    return fail


@pytest.mark.parametrize("owner, name, n", [
    (os, "fsync", 2), (os, "fsync", 9), (os, "replace", 1), (os, "replace", 3), (os, "rename", 1),
    (indexer.generations, "atomic_write", 1), (indexer.generations, "atomic_write", 2),
    (indexer.vectors, "atomic_write", 1), (KeywordFile, "write", 40),
])
def test_a_fault_at_write_rename_or_fsync_leaves_the_previous_generation_answering(
        owner, name, n, notes_dir, tmp_path, embedder, monkeypatch):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    before, committed = top10(index, embedder), _files(os.path.join(index, "gen-000001"))
    (notes / "d.md").write_text("# 新\n\n扩散模型和 GAN 都能生成图像。\n", encoding="utf-8")
    (notes / "b.md").unlink()
    monkeypatch.setattr(owner, name, _failing_at(getattr(owner, name), n))
    with pytest.raises(OSError, match="injected"):
        build([str(notes)], index, embedder=embedder)
    monkeypatch.undo()
    assert read_manifest(index).generation == 1
    assert sorted(name for name in os.listdir(index) if name.startswith("gen-")) == ["gen-000001"]
    assert top10(index, embedder) == before
    assert _files(os.path.join(index, "gen-000001")) == committed
    report = build([str(notes)], index, embedder=embedder, wait=0)
    assert report.generation > 1 and counts(report) == (1, 0, 1, 2, 0)


def test_incremental_whoosh_update_never_writes_into_the_linked_files_of_the_previous_generation(
        notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    committed = _files(os.path.join(index, "gen-000001"))
    (notes / "c.md").write_text(NOTES["c.md"] + "\nMessage passing.\n", encoding="utf-8")
    report = build([str(notes)], index, embedder=embedder)
    assert counts(report) == (0, 1, 0, 2, 0)
    assert _files(os.path.join(index, "gen-000001")) == committed


@pytest.mark.slow
def test_kill_9_at_20_seeded_points_always_recovers(tmp_path, embedder):
    outcomes = _kill_loop().run(20, seed=11, workdir=str(tmp_path), embedder=embedder)
    assert [o.problem for o in outcomes if not o.recovered] == []
    assert sum(o.killed for o in outcomes) >= 15


@pytest.mark.slow
def test_searches_during_a_subprocess_index_answer_from_the_committed_generation(notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    before = top10(index, embedder)
    for n in range(150):
        (notes / f"more-{n}.md").write_text(f"# 笔记 {n}\n\n扩散模型与 transformer 第 {n} 号笔记。\n", encoding="utf-8")
    indexer_process = subprocess.Popen([sys.executable, "cli.py", "index", str(notes), "--index", index, "--quiet"],
                                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not _locked(index) and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(IndexBusy):
            build([str(notes)], index, embedder=embedder, wait=0.2)
        busy = subprocess.run([sys.executable, "cli.py", "index", str(notes), "--index", index, "--wait", "0"],
                              check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert busy.returncode == 1 and "is busy" in busy.stderr
        seen = 0
        while indexer_process.poll() is None and seen < 5:
            assert top10(index, embedder) == before
            seen += 1
        assert seen >= 1
    finally:
        indexer_process.kill()
        indexer_process.wait()
    report = build([str(notes)], index, embedder=embedder, wait=0)
    assert report.changed or report.unchanged == 153


def _locked(index: str) -> bool:
    try:
        with indexer.generations.writer_lock(index, wait=0):
            return False
    except IndexBusy:
        return True


SENTENCES = ("扩散模型通过逐步去噪生成图像。", "The transformer relies on attention.", "**图神经网络**传递消息。",
             "学习表示 representation learning.", "")
operation = st.tuples(st.sampled_from(["add", "edit", "delete", "rename"]), st.integers(0, 4), st.integers(0, 4))


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(operation, min_size=1, max_size=4), min_size=1, max_size=3))
def test_incremental_indexing_equals_a_full_rebuild(embedder, runs):
    with tempfile.TemporaryDirectory() as work:
        notes, index = Path(work) / "notes", os.path.join(work, "index")
        notes.mkdir()
        for name, text in NOTES.items():
            (notes / name).write_text(text, encoding="utf-8")
        build([str(notes)], index, embedder=embedder)
        for ops in runs:
            for op, which, sentence in ops:
                _apply(notes, op, which, SENTENCES[sentence])
            build([str(notes)], index, embedder=embedder)
        full = os.path.join(work, "full")
        build([str(notes)], full, embedder=embedder)
        with open_index(index, embedder=embedder) as a, open_index(full, embedder=embedder) as b:
            assert sorted(a.passages(), key=lambda p: p.id) == sorted(b.passages(), key=lambda p: p.id)
        assert_same_answers(top10(index, embedder), top10(full, embedder))
        shutil.rmtree(full)


def _apply(notes: Path, op: str, which: int, sentence: str) -> None:
    existing = sorted(notes.glob("*.md"))
    if op == "add" or not existing:
        (notes / f"n{len(existing)}-{which}.md").write_text(f"# 笔记 {which}\n\n{sentence}\n", encoding="utf-8")
        return
    path = existing[which % len(existing)]
    if op == "edit":
        path.write_text(path.read_text(encoding="utf-8") + f"\n{sentence}\n", encoding="utf-8")
    elif op == "delete":
        path.unlink()
    else:
        path.rename(notes / f"r{which}-{path.name}")
