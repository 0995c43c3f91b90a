"""Whoosh's pickles are read by an unpickler that builds Whoosh's own classes and nothing else
(indexer/keyword/pickles.py): a crafted table of contents or posting block runs nothing."""

from __future__ import annotations

import os
import pickle

import pytest
from whoosh.util.varints import varint

from corpus.markdown import passages_of
from corpus.reading import parse_note
from indexer.analysis import Analyzer
from indexer.keyword import pickles
from indexer.keyword.reading import KEYWORD, KeywordIndex
from indexer.keyword.writing import write

NOTE = "# 扩散模型\n\n扩散模型通过逐步去噪生成图像。\n\nThe transformer relies on self-attention (2017).\n"


class Payload:
    """A pickle that runs a shell command when it is loaded."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.fixture
def keyword_folder(tmp_path) -> str:
    folder = str(tmp_path / "gen")
    os.makedirs(folder)
    write(folder, None, passages_of(parse_note(str(tmp_path / "a.md"), NOTE)), [], Analyzer(()))
    return folder


def _toc(folder: str) -> str:
    directory = os.path.join(folder, KEYWORD)
    return os.path.join(directory, next(name for name in os.listdir(directory) if name.endswith(".toc")))


def _with_schema(toc: bytes, schema: bytes) -> bytes:
    """A table of contents as Whoosh writes it (sizes, magic, version, release, schema, generation, segments)
    with another pickled schema."""
    at = 3 + 4 + 4 + 3  # three one-byte varints, two ints, three one-byte varints
    length, size = 0, 0
    shift = 0
    while True:  # the schema's length, a varint
        byte = toc[at + size]
        length |= (byte & 0x7F) << shift
        size += 1
        shift += 7
        if not byte & 0x80:
            break
    return toc[:at] + varint(len(schema)) + schema + toc[at + size + length:]


def test_a_crafted_table_of_contents_runs_nothing(keyword_folder, tmp_path):
    marker = tmp_path / "PWNED"
    toc = _toc(keyword_folder)
    with open(toc, "rb") as f:
        original = f.read()
    with open(toc, "wb") as f:
        f.write(_with_schema(original, pickle.dumps(Payload(str(marker)), 2)))
    with pytest.raises(pickle.UnpicklingError, match="not one of Whoosh's own classes"):
        KeywordIndex(keyword_folder)
    assert not marker.exists()


def test_the_table_of_contents_as_written_still_opens(keyword_folder):
    toc = _toc(keyword_folder)
    with open(toc, "rb") as f:
        original = f.read()
    schema_start = _with_schema(original, b"")  # the same file with an empty schema: parsing finds the bounds
    assert len(schema_start) < len(original)
    with KeywordIndex(keyword_folder) as keyword:
        assert keyword.live == len(passages_of(parse_note("a.md", NOTE)))


def test_a_crafted_posting_block_runs_nothing(tmp_path):
    marker = tmp_path / "PWNED"
    with pytest.raises(pickle.UnpicklingError):
        pickles.loads(pickle.dumps(([1, 2], [1.0, 1.0], Payload(str(marker))), 2))
    assert not marker.exists()


@pytest.mark.parametrize("name", [("posix", "system"), ("builtins", "eval"), ("whoosh.compat", "urlretrieve"),
                                  ("whoosh.fields", "os"), ("subprocess", "Popen"), ("whoosh.util.testing", "TempDir")])
def test_only_whooshs_own_classes_are_built(name):
    module, attribute = name
    crafted = b"\x80\x02c" + module.encode() + b"\n" + attribute.encode() + b"\nq\x00."
    with pytest.raises(pickle.UnpicklingError):
        pickles.loads(crafted)


def test_no_module_of_whoosh_keeps_the_standard_unpickler_after_a_search(keyword_folder):
    with KeywordIndex(keyword_folder) as keyword:
        keyword.postings("body", keyword.term_bytes("body", "transformer"))
        numbers = keyword.postings("body", keyword.term_bytes("body", "transformer"))[0]
        keyword.positions("body", keyword.term_bytes("body", "transformer"), numbers)
        keyword.years(2000, 2020)
        keyword.passages()
    assert pickles.unsafe_names() == []


def test_older_table_of_contents_formats_are_not_read():
    import whoosh.legacy

    assert whoosh.legacy.toc_loaders == {}
