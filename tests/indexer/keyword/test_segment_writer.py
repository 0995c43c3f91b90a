"""indexer/keyword/segment/writer.py, the writing half of the Whoosh seam: its segments are the ones Whoosh's public add_document writes."""

from __future__ import annotations

import os

import pytest
from whoosh import index as whoosh_index
from whoosh.matching.wrappers import FilterMatcher

from corpus import BUNDLED_NOTES
from corpus.markdown import passages_of
from corpus.model import Paper, Passage
from corpus.packing import pack_sections
from corpus.reading import parse_note
from indexer.analysis import Analyzer
from indexer.keyword.documents import Documents, ready_made, schema
from indexer.keyword.segment import writer
from indexer.keyword.segment.writer import SegmentPostings


def _synthetic(n: int) -> Passage:
    """A passage whose words recur over many passages (posting lists of several blocks) at varying counts."""
    words = "卷积神经网络 " * (1 + n % 4) + "transformer " * (n % 3) + f"第{n}段 attention ResNet-{n % 7}"
    paper = Paper(1990 + n % 30, (f"Author {n % 5}",), f"Paper {n % 11} on 卷积", "注释") if n % 2 else None
    return Passage(f"notes/synthetic{n % 9}.md", n + 1, n + 1, f"章节 {n % 13}", "合成笔记", words,
                   tags=(f"t{n % 4}",), paper=paper, links=(f"https://example.org/p{n % 6}#:~:text=word {n}",),
                   date="2024-03-01" if n % 5 == 0 else "")


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> list[tuple[dict, dict]]:
    """Analysed documents: the bundled notes' passages, then 300 synthetic ones."""
    passages = []
    for path in sorted(BUNDLED_NOTES.glob("*.md")):
        passages += pack_sections(passages_of(parse_note(str(path), path.read_text(encoding="utf-8"))))
    passages += [_synthetic(n) for n in range(300)]
    made = Documents(Analyzer(["卷积神经网络"], str(tmp_path_factory.mktemp("jieba"))))
    documents = []
    for passage in passages:
        analysed, values = made.document(passage)
        # A field's length as Whoosh's public writer counts it: its number of terms.
        documents.append(({name: (terms, positions, len(terms)) for name, (terms, positions, _n) in analysed.items()},
                          values))
    return documents


def _write(folder: str, documents: list[tuple[dict, dict]], how: str) -> None:
    """Two segments in `folder` (the second after deleting a file's passages), by Whoosh's public writer or
    SegmentPostings (`how`: "whoosh", "exact" or "fast")."""
    os.makedirs(folder)
    ix = whoosh_index.create_in(folder, schema())
    half = len(documents) // 2
    for part, deleting in ((documents[:half], None), (documents[half:], "notes/synthetic3.md")):
        writer = ix.writer(procs=1, compound=False)
        if deleting:
            writer.delete_by_term("file", deleting)
        postings = SegmentPostings(writer, whoosh_bytes=how == "exact") if how != "whoosh" else None
        for analysed, values in part:
            if postings:
                postings.add(analysed, values)
            else:
                writer.add_document(**{name: value for name, value in values.items() if value is not None},
                                   **{name: ready_made(terms, positions) for name, (terms, positions, _n) in analysed.items()})
        if postings:
            postings.write()
            counted = postings.documents()
        writer.commit(merge=False)
        if postings:
            assert counted == (ix.doc_count_all(), ix.doc_count())
    ix.close()


def _segment_files(folder: str) -> dict[str, bytes]:
    """The files of each segment, by segment number and extension (segment ids are random)."""
    ix = whoosh_index.open_dir(folder)
    names = [segment.segment_id() for segment in ix._segments()]
    ix.close()
    files = {}
    for name in os.listdir(folder):
        segment, _dot, extension = name.partition(".")
        if segment in names:
            with open(os.path.join(folder, name), "rb") as f:
                files[f"{names.index(segment)}.{extension}"] = f.read()
    return files


@pytest.fixture(params=["whole fields", "windows of 7 postings"])
def window(request, monkeypatch):
    """The writer's window of postings: the default (one window a field here), or many small ones."""
    if request.param != "whole fields":
        monkeypatch.setattr(writer, "_WINDOW", 7)


def test_exact_segments_are_byte_for_byte_those_of_whoosh(documents, tmp_path, window):
    _write(str(tmp_path / "whoosh"), documents, "whoosh")
    _write(str(tmp_path / "exact"), documents, "exact")
    expected, written = _segment_files(str(tmp_path / "whoosh")), _segment_files(str(tmp_path / "exact"))
    assert sorted(written) == sorted(expected) and any(name.endswith(".pst") for name in written)
    for name in expected:
        assert written[name] == expected[name], name


def _everything(folder: str) -> dict:
    """All an index holds, read through Whoosh's public API, per segment."""
    ix = whoosh_index.open_dir(folder)
    out = {}
    with ix.searcher() as searcher:
        for number, (sub, _offset) in enumerate(searcher.leaf_searchers()):
            reader = sub.reader()
            terms = {}
            for name, btext in reader.all_terms():
                info = reader.term_info(name, btext)
                matcher = reader.postings(name, btext)
                if isinstance(matcher, FilterMatcher):  # the filter of deleted documents: read them all
                    matcher = matcher.child
                postings = []
                while matcher.is_active():
                    postings.append((matcher.id(), matcher.weight(), matcher.value(), matcher.block_min_length(),
                                     matcher.block_max_length(), matcher.block_max_weight()))
                    matcher.next()
                terms[name, btext] = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
                                      info.max_weight(), info.min_id(), info.max_id(), postings)
            fields = [name for name in ix.schema.names() if ix.schema[name].scorable]
            out[number] = {
                "terms": terms, "stored": list(reader.iter_docs()), "deleted": sorted(reader.all_doc_ids()),
                "lengths": {name: ([reader.doc_field_length(d, name) for d in range(reader.doc_count_all())],
                                   reader.field_length(name)) for name in fields}}
    ix.close()
    return out


@pytest.mark.slow
def test_fast_segments_read_the_same_as_whoosh_through_its_public_api(documents, tmp_path, window):
    _write(str(tmp_path / "whoosh"), documents, "whoosh")
    _write(str(tmp_path / "fast"), documents, "fast")
    expected, written = _everything(str(tmp_path / "whoosh")), _everything(str(tmp_path / "fast"))
    assert len(written) == 2
    longest = max(len(postings) for segment in written.values() for *_stats, postings in segment["terms"].values())
    assert longest > 128  # posting lists of several blocks were written
    assert written == expected


def test_production_segments_read_the_same_as_whoosh_on_the_synthetic_passages(documents, tmp_path, window):
    # The fast tier's check of the writer as build runs it (whoosh_bytes=False); the slow test adds the bundled notes.
    synthetic = documents[-300:]
    _write(str(tmp_path / "whoosh"), synthetic, "whoosh")
    _write(str(tmp_path / "fast"), synthetic, "fast")
    expected, written = _everything(str(tmp_path / "whoosh")), _everything(str(tmp_path / "fast"))
    longest = max(len(postings) for segment in written.values() for *_stats, postings in segment["terms"].values())
    assert len(written) == 2 and longest > 128
    assert written == expected
