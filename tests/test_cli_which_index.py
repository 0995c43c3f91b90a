"""Which index a command uses: --index, else NOTESEARCH_INDEX (set once, used by every command), else the demo
index of the bundled notes, which `index` never writes into unless named and every other command says it used."""

from __future__ import annotations

import json
import shutil

import pytest
from test_cli import main_output

from indexer.generations import read_manifest

DEMO_NOTE = "notesearch: answering from the demo index of the bundled notes"


@pytest.fixture
def user(monkeypatch, tmp_path, notes_dir):
    """A user with a notes folder of their own and an empty cache (no demo index yet); NOTESEARCH_INDEX unset."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NOTESEARCH_INDEX", raising=False)
    return notes_dir({"garden.md": "# Garden\n\nTomatoes need full sun and daily water.\n"})


def test_index_with_no_index_named_asks_for_one_and_writes_nothing(user, tmp_path, capsys):
    for args in (["index", str(user)], ["index"], ["index", "--remove", str(user)]):
        code, out, err = main_output(capsys, *args, "--no-server")
        assert code == 2 and out == ""
        assert err.strip().splitlines() == [("notesearch: no index given: name the index folder with --index DIR, or "
                                             "once for every command with NOTESEARCH_INDEX=DIR (your notes never go "
                                             "into the demo index of the bundled notes)")]
    assert not (tmp_path / "cache").exists()


def test_notesearch_index_names_the_index_of_every_command(user, tmp_path, capsys, monkeypatch, embedder):
    monkeypatch.setattr("indexer.passage_vectors.load_embedder", lambda _name: embedder)
    monkeypatch.setattr("indexer.embedders.load_embedder", lambda _name: embedder)
    monkeypatch.setenv("NOTESEARCH_INDEX", str(tmp_path / "mine"))
    code, out, err = main_output(capsys, "index", str(user), "--no-server", "--quiet")
    assert code == 0 and out.startswith("added 1,") and err == ""
    assert read_manifest(str(tmp_path / "mine")).roots == (str(user),)
    code, out, err = main_output(capsys, "search", "tomatoes", "--mode", "keyword", "--json", "--no-server")
    assert code == 0 and err == "" and [hit["path"] for hit in json.loads(out)["hits"]] == [str(user / "garden.md")]
    code, out, err = main_output(capsys, "get", f"{user}/garden.md:3", "--json")
    assert code == 0 and json.loads(out)["text"].startswith("Tomatoes need full sun")
    code, out, err = main_output(capsys, "stats")
    assert code == 0 and out.splitlines()[0] == f"index      {tmp_path / 'mine'}"
    # --index still wins over the variable.
    code, _out, err = main_output(capsys, "stats", "--index", str(tmp_path / "other"))
    assert code == 1 and f"no index at {tmp_path / 'other'}" in err
    assert not (tmp_path / "cache").exists()


def test_a_command_that_answers_from_the_demo_index_says_so(user, tmp_path, capsys, bundled_index_dir):
    shutil.copytree(bundled_index_dir, tmp_path / "cache" / "notesearch" / "index")
    code, out, err = main_output(capsys, "search", "自监督", "--mode", "keyword", "-k", "1", "--no-server")
    assert code == 0 and "dl-research-trends" in out
    assert err.splitlines() == [f"{DEMO_NOTE}: give --index DIR, or set NOTESEARCH_INDEX, for your own"]
    code, out, err = main_output(capsys, "search", "自监督", "--mode", "keyword", "-k", "1", "--no-server", "--quiet")
    assert code == 0 and err == ""
    code, _out, err = main_output(capsys, "stats", "--index", str(tmp_path / "cache" / "notesearch" / "index"))
    assert code == 0 and DEMO_NOTE not in err  # named, it is the user's choice
