"""Incremental indexing: what changed is detected by content hash, and only that is redone."""

from __future__ import annotations

import json
import os

import pytest
from conftest import counts, edit_manifests

import indexer.passage_vectors
from corpus.errors import MissingFolder, ModelMismatch
from indexer import build
from indexer.generations import read_manifest
from indexer.keyword.reading import KeywordIndex
from indexer.keyword.writing import MAX_SEGMENTS
from search import open_index, search

NOTES = {
    "a.md": "# 扩散模型\n\n扩散模型通过逐步去噪生成图像。\n",
    "b.md": "# Transformer\n\nThe transformer relies on self-attention.\n",
    "c.md": "# 图神经网络\n\nGraph neural networks pass messages.\n",
    "d.md": "对比学习从未标注数据中学习表示。\n",  # no heading: its title is its file name
}


def test_first_run_adds_every_note(notes_dir, tmp_path, embedder):
    report = build([str(notes_dir(NOTES))], str(tmp_path / "index"), embedder=embedder)
    assert (report.changed, report.generation, counts(report)) == (True, 1, (4, 0, 0, 0, 0))
    assert report.passages == report.embedded == 4


def test_run_without_change_does_no_work_and_says_so(notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    before = {name: os.stat(os.path.join(index, name)).st_mtime_ns for name in os.listdir(index) if name != "lock"}
    report = build([str(notes)], index, embedder=embedder)
    assert (report.changed, report.generation, report.embedded) == (False, 1, 0)
    assert counts(report) == (0, 0, 0, 4, 0) and report.passages == 4
    assert {name: os.stat(os.path.join(index, name)).st_mtime_ns for name in os.listdir(index) if name != "lock"} == before


def test_added_updated_removed_and_renamed_notes_are_told_apart(notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    (notes / "e.md").write_text("# 新笔记\n\n强化学习中智能体根据奖励调整策略。\n", encoding="utf-8")
    (notes / "a.md").write_text(NOTES["a.md"] + "\nDDPM 是代表工作。\n", encoding="utf-8")
    (notes / "c.md").unlink()
    (notes / "b.md").rename(notes / "moved.md")
    report = build([str(notes)], index, embedder=embedder)
    assert counts(report) == (1, 1, 1, 1, 1)
    # a.md's new sentence is too short to answer alone: it joins its paragraph as a second part, so a.md
    # still has one passage; the new part and e.md's paragraph are the two texts embedded.
    assert (report.passages, report.embedded) == (4, 2)
    with open_index(index, embedder=embedder) as opened:
        files = {os.path.basename(p.path) for p in opened.passages()}
        assert files == {"a.md", "d.md", "e.md", "moved.md"}
        assert sorted(os.path.basename(path) for path in opened.manifest.files) == sorted(files)


def test_renamed_note_without_heading_takes_its_new_file_name_as_title(notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    (notes / "d.md").rename(notes / "对比学习.md")
    report = build([str(notes)], index, embedder=embedder)
    assert report.renamed == 1 and report.embedded == 1  # its context (the title) changed
    with open_index(index, embedder=embedder) as opened:
        assert [p.title for p in opened.passages() if p.path.endswith("对比学习.md")] == ["对比学习"]


def test_a_file_that_turns_binary_is_removed_and_reported_once(notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    (notes / "c.md").write_bytes(b"\x00\x01\x02" * 100)
    report = build([str(notes)], index, embedder=embedder)
    assert counts(report) == (0, 0, 1, 3, 0)
    assert [(os.path.basename(s.path), s.reason) for s in report.skipped] == [("c.md", "binary file (NUL bytes)")]
    assert report.skipped_before == 0
    again = build([str(notes)], index, embedder=embedder)
    assert not again.changed and (again.skipped, again.skipped_before) == ((), 1)
    assert read_manifest(index).skipped == {str(notes / "c.md"): "binary file (NUL bytes)"}


def test_a_file_skipped_for_a_new_reason_is_reported_again(notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    (notes / "c.md").write_bytes(b"\x00\x01\x02" * 100)
    assert len(build([str(notes)], index, embedder=embedder).skipped) == 1
    (notes / "e.md").symlink_to(notes / "gone.md")
    report = build([str(notes)], index, embedder=embedder)
    assert [(os.path.basename(s.path), s.reason) for s in report.skipped] == [("e.md", "broken symbolic link")]
    assert report.skipped_before == 1 and report.changed  # the new skip is recorded, so said once
    assert build([str(notes)], index, embedder=embedder).skipped_before == 2


def _tree(directory: str) -> dict[str, int]:
    """Every file under `directory` with its modification time."""
    return {os.path.join(folder, name): os.stat(os.path.join(folder, name)).st_mtime_ns
            for folder, _dirs, names in os.walk(directory) for name in names}


def test_a_missing_folder_raises_and_leaves_the_index_as_it_was(notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    before = _tree(index)
    typo = str(tmp_path / "nots")
    with pytest.raises(MissingFolder) as refused:
        build([str(notes), typo], index, embedder=embedder)
    assert (refused.value.path, refused.value.recorded) == (typo, False)
    assert _tree(index) == before
    fresh = str(tmp_path / "fresh")
    with pytest.raises(MissingFolder):
        build([typo], fresh, embedder=embedder)
    assert not os.path.exists(fresh)


def test_a_folder_the_index_was_built_from_that_is_gone_raises_and_keeps_its_notes(notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    before = _tree(index)
    notes.rename(tmp_path / "moved")
    with pytest.raises(MissingFolder) as refused:
        build(None, index, embedder=embedder)
    assert (refused.value.path, refused.value.recorded) == (str(notes), True)
    assert {path: stamp for path, stamp in _tree(index).items() if not path.endswith("lock")} == {
        path: stamp for path, stamp in before.items() if not path.endswith("lock")}


def test_a_model_other_than_the_one_that_made_the_vectors_is_refused_with_both_fingerprints(
        notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    edit_manifests(index, fingerprint="use-m3:0.0.1")
    with open_index(index, embedder=embedder) as opened:
        assert search(opened, "扩散模型", mode="keyword").hits  # keyword search needs no model
        with pytest.raises(ModelMismatch) as refused:
            search(opened, "扩散模型", mode="semantic")
    assert (refused.value.built_with, refused.value.given, refused.value.model) == (
        "use-m3:0.0.1", embedder.fingerprint(), embedder.name)


def test_vectors_of_an_older_embedder_release_are_recomputed(notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    edit_manifests(index, fingerprint="use-m3:0.0.1")
    vectors_json = os.path.join(index, read_manifest(index).folder, "vectors.json")
    with open(vectors_json, encoding="utf-8") as f:
        meta = json.load(f)
    with open(vectors_json, "w", encoding="utf-8") as f:
        json.dump(dict(meta, fingerprint="use-m3:0.0.1"), f)
    report = build([str(notes)], index, embedder=embedder)
    assert report.changed and report.embedded == 4
    with open_index(index, embedder=embedder) as opened:
        assert opened.manifest.fingerprint == embedder.fingerprint()


def _segments(index: str) -> int:
    with KeywordIndex(os.path.join(index, read_manifest(index).folder)) as keyword:
        return keyword.segments


def _keyword_top(index: str, embedder) -> list[tuple[float, str]]:
    with open_index(index, embedder=embedder) as opened:
        return sorted((-round(h.score, 6), h.passage.id) for h in search(opened, "学习 图像", mode="keyword", k=20).hits)


def test_added_notes_are_new_segments_until_max_segments_then_one_rebuilt_segment(notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    counts = []
    for n in range(MAX_SEGMENTS):
        (notes / f"new{n}.md").write_text(f"# 笔记{n}\n\n第{n}篇笔记学习图像的表示。\n", encoding="utf-8")
        build([str(notes)], index, embedder=embedder)
        counts.append(_segments(index))
    assert counts == [*range(2, MAX_SEGMENTS + 1), 1]
    (notes / "last.md").write_text("# 最后\n\n最后一篇笔记。\n", encoding="utf-8")
    build([str(notes)], index, embedder=embedder)
    assert _segments(index) == 2
    full = str(tmp_path / "full")
    build([str(notes)], full, embedder=embedder)
    assert _segments(full) == 1
    assert _keyword_top(index, embedder) == _keyword_top(full, embedder)  # same BM25 statistics, segments or not


def test_an_update_with_nothing_to_embed_never_loads_the_model(notes_dir, tmp_path, embedder, monkeypatch):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)

    def no_model(name):
        raise AssertionError(f"loaded {name} with nothing to embed")

    monkeypatch.setattr(indexer.passage_vectors, "load_embedder", no_model)
    (notes / "c.md").unlink()
    (notes / "b.md").rename(notes / "moved.md")  # it has a heading: its context text is unchanged
    (notes / "a.md").write_text(NOTES["a.md"] + "\n```python\nprint(1)\n```\n", encoding="utf-8")  # code: no vector
    report = build([str(notes)], index)
    assert counts(report) == (0, 1, 1, 1, 1) and report.embedded == 0
    with open_index(index, embedder=embedder) as opened:
        assert len(opened.vector_index().ids) == report.passages == 4


def test_a_note_read_with_a_problem_is_indexed_and_the_report_says_what(notes_dir, tmp_path, embedder):
    notes = notes_dir({
        "bomb.md": "---\na: &a [x, x]\nb: &b [*a, *a]\ntitle: *b\n---\n# 炸弹\n\n正文照样索引 bomb body.\n",
        "stray.md": "# 散字节\n\n一个多余的字节不该丢掉整篇笔记 stray byte.\n".encode() + b"\xff",
    })
    report = build([str(notes)], str(tmp_path / "index"), embedder=embedder)
    assert report.added == 2 and report.skipped == ()
    assert sorted(report.warnings) == [
        f"{notes / 'bomb.md'}: front matter not read (YAML aliases are not allowed, line 3); the body is indexed",
        f"{notes / 'stray.md'}: 1 byte is not valid UTF-8 (shown as \ufffd)",
    ]
    with open_index(str(tmp_path / "index"), embedder=embedder) as index:
        for query, name in (("bomb body", "bomb.md"), ("stray byte", "stray.md")):
            assert os.path.basename(search(index, query, mode="keyword").hits[0].passage.path) == name


def test_a_note_whose_name_is_not_utf8_is_indexed_and_the_others_still_update(notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    with open(os.path.join(os.fsencode(notes), b"bad\xff.md"), "wb") as f:
        f.write("# 坏名字\n\n文件名不是 UTF-8 的笔记 undecodable name.\n".encode())
    first = build([str(notes)], index, embedder=embedder)
    assert (first.added, first.skipped) == (5, ())
    (notes / "a.md").write_text(NOTES["a.md"] + "\n更新之后 updated later.\n", encoding="utf-8")
    second = build([str(notes)], index, embedder=embedder)
    assert counts(second) == (0, 1, 0, 4, 0)
    with open_index(index, embedder=embedder) as opened:
        hit = search(opened, "undecodable name", mode="keyword").hits[0]
        assert hit.passage.path == f"{notes}/bad\\xff.md"
        assert search(opened, "updated later", mode="keyword").hits[0].passage.path == str(notes / "a.md")


def _modes(index: str) -> dict[str, int]:
    """The permission bits of the index folder and of everything in it, by path relative to it."""
    found = {}
    for folder, _dirs, files in os.walk(index):
        for path in [folder, *(os.path.join(folder, name) for name in files)]:
            found[os.path.relpath(path, index)] = os.lstat(path).st_mode & 0o777
    return found


def test_the_index_is_private_to_its_owner_and_stays_so_across_updates(notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    old_umask = os.umask(0o002)  # a permissive umask must not leak into the index
    try:
        build([str(notes)], index, embedder=embedder)
        modes = _modes(index)
        assert {"lock", "jieba.cache", "jieba.bychar", "manifest.json"} <= set(modes)
        assert {path: oct(mode) for path, mode in modes.items()
                if mode != (0o700 if os.path.isdir(os.path.join(index, path)) else 0o600)} == {}
        # Loosened by someone (or made by an older notesearch): the next update tightens everything again.
        for path in modes:
            os.chmod(os.path.join(index, path), 0o755)
        (notes / "a.md").write_text(NOTES["a.md"] + "\n新的一行。\n", encoding="utf-8")
        assert build([str(notes)], index, embedder=embedder).generation == 2
        modes = _modes(index)
        assert any(path.startswith("gen-000002") for path in modes)
        assert {path: oct(mode) for path, mode in modes.items()
                if mode != (0o700 if os.path.isdir(os.path.join(index, path)) else 0o600)} == {}
        assert os.umask(0o002) == 0o002  # restored after the build
    finally:
        os.umask(old_umask)


def test_notes_of_headings_only_or_front_matter_only_are_found(notes_dir, tmp_path, embedder):
    notes = notes_dir({
        "outline.md": "# 读书计划\n\n## 对比学习 contrastive\n\n## 扩散模型 diffusion\n",
        "card.md": "---\ntitle: 强化学习 reading card\ntags: [policy-gradient, 机器人]\n---\n",
    })
    build([str(notes)], str(tmp_path / "index"), embedder=embedder)
    with open_index(str(tmp_path / "index"), embedder=embedder) as index:
        for query, name, line in (("contrastive", "outline.md", 3), ("扩散模型", "outline.md", 5),
                                  ("读书计划", "outline.md", 3), ("reading card", "card.md", 1),
                                  ("tags:机器人", "card.md", 1), ("policy-gradient", "card.md", 1)):
            hit = search(index, query, mode="keyword").hits[0]
            assert (os.path.basename(hit.passage.path), hit.passage.line_start) == (name, line), query
