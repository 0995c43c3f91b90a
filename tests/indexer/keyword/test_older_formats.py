"""An index of an older format, whose Whoosh schema cannot be read (format 2 pickled a notesearch class into it):
its keyword index is never opened. A build reads every note again and keeps the vectors; a search is refused
until then."""

from __future__ import annotations

import os
import pickle
import shutil
import sys
import types

import pytest
from conftest import counts, edit_manifests
from whoosh import fields
from whoosh import index as whoosh_index
from whoosh.analysis import Tokenizer

from corpus.errors import OutdatedIndex
from indexer import build
from indexer.generations import INDEX_FORMAT, read_manifest
from search import open_index, search

NOTES = {
    "a.md": "# 扩散模型\n\n扩散模型通过逐步去噪生成图像。\n",
    "b.md": "# Transformer\n\nThe transformer relies on self-attention.\n",
}


def _as_built_by_an_older_version(index: str) -> None:
    """Make the committed generation look as format 2 left it: a Whoosh schema that pickled an analyzer class
    of notesearch's (here one whose module is gone, so the schema cannot be read), and format "2"."""
    module = types.ModuleType("notesearch_gone_module")

    class WordTokenizer(Tokenizer):
        def __call__(self, value, **kwargs):
            yield from ()

    WordTokenizer.__module__, WordTokenizer.__qualname__ = module.__name__, "WordTokenizer"
    module.WordTokenizer = WordTokenizer
    sys.modules[module.__name__] = module
    try:
        keyword_dir = os.path.join(index, read_manifest(index).folder, "keyword")
        shutil.rmtree(keyword_dir)
        os.makedirs(keyword_dir)
        whoosh_index.create_in(keyword_dir, fields.Schema(body=fields.TEXT(analyzer=WordTokenizer()))).close()
    finally:
        del sys.modules[module.__name__]
    with pytest.raises(pickle.UnpicklingError):  # a class of notesearch's: not one Whoosh's pickles may build
        whoosh_index.open_dir(keyword_dir)
    edit_manifests(index, format="2")


def test_index_of_an_older_format_rereads_every_note_but_keeps_the_vectors(notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    _as_built_by_an_older_version(index)
    report = build([str(notes)], index, embedder=embedder)
    assert report.changed and counts(report) == (2, 0, 0, 0, 0)
    assert report.embedded == 0 and report.passages == 2
    assert report.warnings == ("the index was made by another version of notesearch: re-reading every note",)
    assert build([str(notes)], index, embedder=embedder).changed is False


def test_searching_an_index_of_an_older_format_is_refused_until_it_is_built_again(notes_dir, tmp_path, embedder):
    notes, index = notes_dir(NOTES), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    _as_built_by_an_older_version(index)
    with pytest.raises(OutdatedIndex) as refused:
        open_index(index, embedder=embedder)
    assert (refused.value.directory, refused.value.found, refused.value.wanted) == (index, "2", INDEX_FORMAT)
    build([str(notes)], index, embedder=embedder)
    with open_index(index, embedder=embedder) as opened:
        assert opened.warnings == [] and search(opened, "扩散模型", mode="keyword").hits
