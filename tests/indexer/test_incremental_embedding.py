"""Incremental embedding on a chapter of d2l-zh: only changed passages are embedded again; progress while embedding."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_path

import cli
from indexer import build, vectors
from indexer.generations import read_manifest
from search import open_index

CHAPTER = ("corpora", "d2l-zh", "chapter_appendix-tools-for-deep-learning")
EDITED = "jupyter.md"
OLD_SENTENCE = "双击标记单元格以进入编辑模式。"
NEW_SENTENCE = "双击标记单元格，即可进入它的编辑模式。"


class CountingEmbedder:
    """The real embedder, recording every text it is asked to encode."""

    def __init__(self, embedder):
        self.inner = embedder
        self.name = embedder.name
        self.dim = embedder.dim
        self.texts: list[str] = []

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.encode(texts)


@pytest.fixture
def chapter(tmp_path) -> Path:
    """The Chinese files of one small d2l-zh chapter, copied into a temp folder."""
    source = shared_path(*CHAPTER)
    target = tmp_path / "notes"
    target.mkdir()
    for path in sorted(source.glob("*.md")):
        if not path.name.endswith("_origin.md"):
            shutil.copy(path, target / path.name)
    return target


def context_texts(directory: str, file_name: str | None = None) -> set[str]:
    """The texts the embedder reads for the index's passages: one per part of a joined passage."""
    with open_index(directory) as index:
        return {text for p in index.passages() if file_name is None or p.path.endswith(file_name)
                for text in p.embed_texts()}


def stored_vectors(directory: str) -> dict[str, np.ndarray]:
    store = vectors.load(str(Path(directory) / read_manifest(directory).folder))
    return {key: np.array(store.vectors[i]) for i, key in enumerate(store.keys) if key}


@pytest.mark.slow
@pytest.mark.shared
def test_editing_one_paragraph_re_embeds_only_its_passages_and_no_change_embeds_nothing(chapter, tmp_path, embedder):
    directory = str(tmp_path / "index")
    counting = CountingEmbedder(embedder)
    first = build([str(chapter)], directory, embedder=counting)
    before = context_texts(directory)
    assert first.embedded == len(before) == len(counting.texts) > 20

    note = chapter / EDITED
    text = note.read_text(encoding="utf-8")
    assert text.count(OLD_SENTENCE) == 1
    note.write_text(text.replace(OLD_SENTENCE, NEW_SENTENCE), encoding="utf-8")
    counting.texts.clear()
    second = build([str(chapter)], directory, embedder=counting)

    changed = context_texts(directory) - before
    assert len(changed) == 1 and NEW_SENTENCE in next(iter(changed))
    assert (second.updated, second.unchanged) == (1, 6)
    assert second.embedded == len(counting.texts) == 1
    assert set(counting.texts) == changed
    assert changed <= context_texts(directory, EDITED)

    counting.texts.clear()
    third = build([str(chapter)], directory, embedder=counting)
    assert not third.changed and third.embedded == 0 and counting.texts == []


@pytest.mark.slow
@pytest.mark.shared
def test_incremental_vectors_equal_a_full_rebuild(chapter, tmp_path, embedder):
    incremental = str(tmp_path / "incremental")
    build([str(chapter)], incremental, embedder=embedder)
    note = chapter / EDITED
    # A line added at the top moves every passage below it: new ids, same texts, nothing to embed.
    note.write_text("\n" + note.read_text(encoding="utf-8").replace(OLD_SENTENCE, NEW_SENTENCE), encoding="utf-8")
    report = build([str(chapter)], incremental, embedder=embedder)
    assert report.embedded == 1

    full = str(tmp_path / "full")
    build([str(chapter)], full, embedder=embedder)
    ours, reference = stored_vectors(incremental), stored_vectors(full)
    assert ours.keys() == reference.keys()
    for key, vector in reference.items():
        np.testing.assert_allclose(ours[key], vector, atol=1e-5)


def test_build_reports_embedding_progress_up_to_the_number_embedded(notes_dir, tmp_path, embedder):
    notes = notes_dir({f"note{n}.md": "\n\n".join(f"第{n}篇笔记的第{i}段，讲注意力机制。" for i in range(40))
                       for n in range(3)})
    calls: list[tuple[str, int, int]] = []
    report = build([str(notes)], str(tmp_path / "index"), embedder=embedder,
                   progress=lambda stage, done, total: calls.append((stage, done, total)))
    embed = [(done, total) for stage, done, total in calls if stage == "embed"]
    assert report.embedded == 120
    assert len(embed) >= 2, "progress must be reported while embedding, not only at the end"
    assert {total for _done, total in embed} == {120}
    assert [done for done, _total in embed] == sorted(done for done, _total in embed)
    assert embed[-1] == (120, 120)


def test_progress_is_written_only_to_a_terminal(monkeypatch, capsys):
    cli.Progress(quiet=False)("embed", 5, 10)
    assert capsys.readouterr().err == ""  # captured stderr is not a terminal

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    progress = cli.Progress(quiet=False)
    progress("embed", 5, 10)
    progress("embed", 10, 10)
    err = capsys.readouterr().err
    assert "embedding 5/10 passages" in err and "embedding 10/10 passages" in err and err.endswith("\n")

    cli.Progress(quiet=True)("embed", 5, 10)
    assert capsys.readouterr().err == ""


def test_cli_index_is_quiet_with_quiet_even_on_a_terminal(monkeypatch, capsys, notes_dir, tmp_path):
    notes = notes_dir({"a.md": "# 笔记\n\n残差连接让很深的网络也能训练。\n"})
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli.main(["index", str(notes), "--index", str(tmp_path / "index"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "embedding" not in captured.err
    assert "1 embedded" in captured.out
