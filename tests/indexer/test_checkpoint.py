"""A run stopped before its commit keeps the vectors it embedded: the next run goes on from them, and the index
it commits equals one built in a single run."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import ROOT, counts

from indexer import build, checkpoint
from indexer.generations import read_manifest
from indexer.passage_vectors import EMBED_BATCH
from search import open_index

PARAGRAPHS = 150  # two batches and a part


def many_notes(root) -> None:
    """Notes with PARAGRAPHS distinct paragraphs in all, each a passage (a section of its own: short passages of
    one section would be joined into one)."""
    root.mkdir(parents=True, exist_ok=True)
    for n in range(PARAGRAPHS // 30):
        body = "\n\n".join(f"## 第{m}段\n\n第{n}章第{m}段：模型 {n * 100 + m} 的实验记录与 ablation {m}。" for m in range(30))
        (root / f"note{n}.md").write_text(f"# 笔记 {n}\n\n{body}\n", encoding="utf-8")


class StopAfter:
    """A progress callback that stops the run (as Ctrl-C does) once `batches` batches are embedded."""

    def __init__(self, batches: int):
        self.batches = batches

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage == "embed" and done >= self.batches * EMBED_BATCH:
            raise KeyboardInterrupt


def vectors_by_text(directory: str, embedder) -> dict[str, np.ndarray]:
    with open_index(directory, embedder=embedder) as index:
        store = index.vector_index()
        rows = {pid: row for row, pid in enumerate(store.ids)}
        return {p.context_text(): np.asarray(store.vectors[rows[p.id]]) for p in index.passages()}


def test_a_stopped_first_run_keeps_its_vectors_and_the_next_run_goes_on(tmp_path, embedder):
    notes, index = tmp_path / "notes", str(tmp_path / "index")
    many_notes(notes)
    with pytest.raises(KeyboardInterrupt):
        build([str(notes)], index, embedder=embedder, progress=StopAfter(1))
    # Nothing committed, no half-written generation left; the embedded vectors kept, for the owner alone.
    assert not os.path.exists(os.path.join(index, "manifest.json"))
    assert not [name for name in os.listdir(index) if name.startswith(("gen-", ".trash-"))]
    folder = os.path.join(index, checkpoint.FOLDER)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    parts = os.listdir(folder)
    assert parts and all(stat.S_IMODE(os.stat(os.path.join(folder, p)).st_mode) == 0o600 for p in parts)

    report = build([str(notes)], index, embedder=embedder)
    assert counts(report) == (PARAGRAPHS // 30, 0, 0, 0, 0)
    assert report.resumed == EMBED_BATCH
    assert report.embedded == report.passages - EMBED_BATCH
    assert not os.path.exists(folder)  # the commit holds them now

    whole = str(tmp_path / "whole")
    build([str(notes)], whole, embedder=embedder)
    resumed, single = vectors_by_text(index, embedder), vectors_by_text(whole, embedder)
    assert resumed.keys() == single.keys()
    assert all(np.allclose(resumed[text], single[text], atol=1e-6) for text in single)


def test_a_damaged_part_is_ignored(tmp_path, embedder):
    notes, index = tmp_path / "notes", str(tmp_path / "index")
    many_notes(notes)
    with pytest.raises(KeyboardInterrupt):
        build([str(notes)], index, embedder=embedder, progress=StopAfter(1))
    folder = os.path.join(index, checkpoint.FOLDER)
    (part,) = os.listdir(folder)
    with open(os.path.join(folder, part), "r+b") as f:
        f.truncate(100)  # as a crash in the middle of writing it would leave it (were it not renamed in)
    report = build([str(notes)], index, embedder=embedder)
    assert report.resumed == 0 and report.embedded == report.passages


def test_vectors_of_another_model_or_text_are_not_taken(tmp_path):
    saved = checkpoint.Checkpoint(str(tmp_path))
    saved.add(["use-m3:a", "use-m3:b"], np.ones((2, 4), dtype=np.float32))
    saved.flush()
    found = checkpoint.Checkpoint(str(tmp_path)).load(["use-m3:b", "st:other:a"], 4)
    assert list(found) == ["use-m3:b"] and found["use-m3:b"].tolist() == [1.0] * 4


@pytest.mark.slow
def test_a_run_killed_mid_embedding_keeps_what_it_had_written(tmp_path, embedder):
    # kill -9: nothing runs on the way out, so only the parts written every FLUSH_VECTORS survive.
    notes, index = tmp_path / "notes", str(tmp_path / "index")
    many_notes(notes)
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from indexer import build, checkpoint
        checkpoint.FLUSH_VECTORS = {EMBED_BATCH}

        def progress(stage, done, total):
            if stage == "embed" and done >= 2 * {EMBED_BATCH}:
                os.kill(os.getpid(), signal.SIGKILL)

        build([{str(notes)!r}], {index!r}, progress=progress)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == -9, done.stderr
    report = build([str(notes)], index, embedder=embedder)
    assert report.resumed == 2 * EMBED_BATCH
    assert report.embedded == report.passages - 2 * EMBED_BATCH
    assert read_manifest(index).passages == PARAGRAPHS


@pytest.mark.parametrize("spoil, problem", [
    (lambda vectors: vectors[:, :3], "vectors of width 3, not "),
    pytest.param(lambda vectors: np.where(np.arange(len(vectors))[:, None] == 1, np.nan, vectors).astype(np.float32),
                 "vectors that are not finite numbers", marks=pytest.mark.slow),
    pytest.param(lambda vectors: np.where(np.arange(len(vectors))[:, None] == 2, 0.0, vectors).astype(np.float32),
                 "zero vectors", marks=pytest.mark.slow),
    pytest.param(lambda vectors: vectors[:5], "its keys and vectors do not match", marks=pytest.mark.slow),
])
def test_a_part_that_is_not_the_models_vectors_is_removed_and_named_not_committed(tmp_path, embedder, spoil,
                                                                                    problem):
    notes, index = tmp_path / "notes", str(tmp_path / "index")
    many_notes(notes)
    with pytest.raises(KeyboardInterrupt):
        build([str(notes)], index, embedder=embedder, progress=StopAfter(1))
    folder = os.path.join(index, checkpoint.FOLDER)
    (part,) = os.listdir(folder)
    with np.load(os.path.join(folder, part)) as stored:
        keys, vectors = stored["keys"], stored["vectors"]
    np.savez(os.path.join(folder, part), keys=keys, vectors=spoil(vectors))
    report = build([str(notes)], index, embedder=embedder)
    assert report.resumed == 0 and report.embedded == report.passages
    (line,) = [w for w in report.warnings if "checkpoint part" in w]
    assert line == (f"the checkpoint part {folder}/{part} is damaged ({problem}{embedder.dim})" if problem.endswith(
        "not ") else f"the checkpoint part {folder}/{part} is damaged ({problem})") + \
        ": removed, its passages are embedded again"
    with open_index(index, embedder=embedder) as opened:
        stored = np.asarray(opened.vector_index().vectors)
        assert np.isfinite(stored).all() and (np.linalg.norm(stored, axis=1) > 0.5).all()
