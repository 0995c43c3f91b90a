"""A generation's keyword index written: a new index, or the previous generation's linked and updated.

Whoosh writes the stored fields and commits; the postings of new passages
are written by the segment writer (segment/writer.py) from the terms
documents.py analysed. A generation's keyword index is a hard-link copy of the
previous one's (Whoosh never rewrites a segment file) with the passages of
changed files deleted and a segment of new passages added, until deleted
passages or segments are too many (`rebuild_due`).
"""

from __future__ import annotations

import os
import shutil
from array import array
from typing import TYPE_CHECKING

import numpy as np
from whoosh import index
from whoosh.filedb.structfile import StructFile

from corpus.model import Passage
from indexer.analysis import Analyzer
from indexer.files import fsync_tree
from indexer.keyword.documents import TEXT_FIELDS, Documents, length_bytes, load_lengths, save_lengths, schema
from indexer.keyword.reading import KEYWORD, KeywordIndex
from indexer.keyword.segment.writer import SegmentPostings

if TYPE_CHECKING:
    from indexer.passage_vectors import Progress

# The class every file of a keyword index is written through: crash tests (tests/indexer/test_crash_safety.py,
# scripts/kill_loop.py) fail or kill its writes.
KeywordFile = StructFile

# The keyword index is rebuilt into one segment once deleted passages exceed this share of it,
MERGE_DELETED = 0.05
# or once it has this many segments (each search reads every segment).
MAX_SEGMENTS = 8


def rebuild_due(folder: str, deleting: list[str]) -> bool:
    """True when the keyword index of the committed generation in `folder` should be rebuilt rather than updated.

    Deleted passages still count in BM25 statistics until the index is
    rebuilt: it is, once they would be more than MERGE_DELETED of it after
    deleting the passages of the files `deleting`, or once it has MAX_SEGMENTS.
    """
    with KeywordIndex(folder) as keyword:
        stale = keyword.size - keyword.live + sum(len(keyword.numbers_of(path)) for path in deleting)
        return keyword.segments >= MAX_SEGMENTS or stale > MERGE_DELETED * max(1, keyword.size)


def stored_passages(folder: str | None, paths: list[str]) -> list[Passage]:
    """The passages the keyword index of the generation in `folder` holds for `paths`, in its order."""
    if not folder or not paths:
        return []
    with KeywordIndex(folder) as keyword:
        return keyword.passages(set(paths))


def write(folder: str, previous: str | None, passages: list[Passage], deleted: list[str], analyzer: Analyzer,
          progress: Progress | None = None) -> tuple[int, int]:
    """Write a generation's keyword index into `folder`/keyword and its lengths beside it.

    With `previous` (a committed generation's folder) the index is a hard-link
    copy of that one's, less the passages of the files `deleted`, plus a new
    segment of `passages`; without, a new index of `passages`. Returns Whoosh's
    generation number of it and its number of (live) passages.
    """
    keyword_dir = os.path.join(folder, KEYWORD)
    if previous is not None:
        _link_copy(os.path.join(previous, KEYWORD), keyword_dir)
        ix = index.open_dir(keyword_dir)
        lengths = {name: [array] for name, array in load_lengths(previous).items()}
    else:
        os.makedirs(keyword_dir, exist_ok=True)
        ix = index.create_in(keyword_dir, schema())
        lengths = {name: [] for name in TEXT_FIELDS}
    documents = Documents(analyzer)
    added: dict[str, array] = {name: array("I") for name in TEXT_FIELDS}
    writer = ix.writer(procs=1)
    try:
        postings = SegmentPostings(writer)
        for path in deleted:
            writer.delete_by_term("file", path)
        for n, passage in enumerate(passages, 1):
            analysed, values = documents.document(passage)
            postings.add(analysed, values)
            for name in TEXT_FIELDS:
                added[name].append(analysed[name][2])
            if progress and n % 200 == 0:
                progress("keyword", n, len(passages))
        postings.write()
        documents_in_all, live = postings.documents()
        writer.commit(merge=False)
    except BaseException:
        writer.cancel()
        ix.close()
        raise
    try:
        # Document numbers run through the segments in order, and a new segment comes last.
        joined = {name: np.concatenate([*lengths[name], length_bytes(added[name])]) for name in TEXT_FIELDS}
        if any(len(array) != documents_in_all for array in joined.values()):
            raise RuntimeError(f"field lengths of {len(joined['body'])} documents for {documents_in_all} in {keyword_dir}")
        save_lengths(folder, joined)
        fsync_tree(keyword_dir)
        return ix.latest_generation(), live
    finally:
        ix.close()


def _link_copy(source: str, target: str) -> None:
    """Copy a Whoosh folder by hard links (its segment files are never rewritten)."""
    os.makedirs(target)
    for name in os.listdir(source):
        if name.endswith(".lock") or "WRITELOCK" in name:
            continue
        src, dst = os.path.join(source, name), os.path.join(target, name)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
