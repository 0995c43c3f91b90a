"""Generations: the manifest names one committed generation; the previous one is kept;
leftovers of crashed runs are removed; damaged generations are survived; one writer at a time."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from conftest import counts

from indexer import build
from indexer.generations import IndexBusy, read_manifest, writer_lock
from indexer.manifest import Manifest
from search import open_index, search

NOTES = {
    "a.md": "# 扩散模型\n\n扩散模型通过逐步去噪生成图像。\n",
    "b.md": "# Transformer\n\nThe transformer relies on self-attention.\n",
}


def _generations(index: str) -> list[str]:
    return sorted(name for name in os.listdir(index) if name.startswith("gen-"))


def _two_generations(notes_dir, tmp_path, embedder) -> tuple[str, str]:
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    (notes / "c.md").write_text("# 图神经网络\n\nGraph neural networks pass messages.\n", encoding="utf-8")
    build([str(notes)], index, embedder=embedder)
    return str(notes), index


def test_manifest_round_trips_through_json():
    manifest = Manifest(3, "use-m3", "use-m3:1", {}, ("扩散模型",), "ab", 2, 7, skipped={"x.md": "binary"})
    assert Manifest.from_json(manifest.to_json()) == manifest


def test_commit_keeps_the_previous_generation_only(notes_dir, tmp_path, embedder):
    notes, index = _two_generations(notes_dir, tmp_path, embedder)
    assert _generations(index) == ["gen-000001", "gen-000002"]
    with open(os.path.join(notes, "a.md"), "a", encoding="utf-8") as f:
        f.write("\nDDPM\n")
    build([notes], index, embedder=embedder)
    assert _generations(index) == ["gen-000002", "gen-000003"]
    assert read_manifest(index).generation == 3


def test_leftover_folders_of_a_crashed_run_are_removed_and_the_previous_generation_kept(notes_dir, tmp_path, embedder):
    notes, index = _two_generations(notes_dir, tmp_path, embedder)
    os.makedirs(os.path.join(index, "gen-000007", "keyword"))  # a crashed run, never committed
    os.makedirs(os.path.join(index, ".trash-gen-000000-1"))
    with open(os.path.join(notes, "a.md"), "a", encoding="utf-8") as f:
        f.write("\nDDPM\n")
    report = build([notes], index, embedder=embedder)
    assert report.generation == 3
    assert sorted(os.listdir(index)) == ["gen-000002", "gen-000003", "jieba.bychar", "jieba.cache", "lock",
                                        "manifest.json"]


def test_damaged_newest_generation_falls_back_for_readers_and_writers(notes_dir, tmp_path, embedder):
    notes, index = _two_generations(notes_dir, tmp_path, embedder)
    keyword = os.path.join(index, "gen-000002", "keyword")
    for name in os.listdir(keyword):
        if name.endswith(".toc"):
            with open(os.path.join(keyword, name), "r+b") as f:
                f.truncate(10)
    with open_index(index, embedder=embedder) as opened:
        assert opened.manifest.generation == 1
        result = search(opened, "扩散模型", mode="keyword")
        assert result.hits and any("generation 1" in w for w in result.warnings)
    report = build([notes], index, embedder=embedder)
    assert report.generation == 3 and counts(report) == (1, 0, 0, 2, 0)
    assert len(report.warnings) == 1 and re.fullmatch(
        r"index generation 2 is damaged \(keyword/_MAIN_\d+\.toc does not match its checksum\): "
        r"building a new generation on generation 1", report.warnings[0])
    with open_index(index, embedder=embedder) as opened:
        assert (opened.manifest.generation, opened.warnings) == (3, [])


def test_every_generation_damaged_rebuilds_from_scratch_with_a_message(notes_dir, tmp_path, embedder):
    notes, index = _two_generations(notes_dir, tmp_path, embedder)
    for generation in ("gen-000001", "gen-000002"):
        with open(os.path.join(index, generation, "vectors.npy"), "r+b") as f:
            f.seek(200)
            f.write(b"\xff" * 16)
    report = build([notes], index, embedder=embedder)
    assert counts(report) == (3, 0, 0, 0, 0)
    assert report.warnings == tuple(f"index generation {n} is damaged (vectors.npy does not match its checksum): "
                                    "rebuilding the index" for n in (2, 1))


def test_second_writer_waits_then_says_busy(tmp_path):
    with writer_lock(str(tmp_path)):
        started = time.monotonic()
        with pytest.raises(IndexBusy, match="busy"), writer_lock(str(tmp_path), wait=0.5):
            pass
        assert 0.5 <= time.monotonic() - started < 5
    with writer_lock(str(tmp_path), wait=0):
        pass


def test_lock_of_a_killed_writer_does_not_block(tmp_path):
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            with writer_lock(str(tmp_path)):
                os.write(ready_write, b"1")
                time.sleep(60)
        finally:
            os._exit(0)
    os.read(ready_read, 1)
    with pytest.raises(IndexBusy), writer_lock(str(tmp_path), wait=0):
        pass
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    with writer_lock(str(tmp_path), wait=0):
        pass


def test_run_after_a_commit_killed_before_its_cleanup_leaves_two_generations(notes_dir, tmp_path, embedder,
                                                                               monkeypatch):
    from indexer import generations

    notes, index = notes_dir({"a.md": "# 扩散模型\n\n扩散模型通过逐步去噪生成图像。\n"}), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    (notes / "b.md").write_text("# 图\n\n图神经网络传递消息。\n", encoding="utf-8")
    build([str(notes)], index, embedder=embedder)
    (notes / "c.md").write_text("# 强化学习\n\n智能体根据奖励调整策略。\n", encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setattr(generations, "remove_generations", lambda directory, keep: None)  # killed right after commit
        build([str(notes)], index, embedder=embedder)
    assert sorted(n for n in os.listdir(index) if n.startswith("gen-")) == ["gen-000001", "gen-000002", "gen-000003"]
    report = build([str(notes)], index, embedder=embedder)
    assert report.changed is False
    assert sorted(n for n in os.listdir(index) if n.startswith("gen-")) == ["gen-000002", "gen-000003"]
