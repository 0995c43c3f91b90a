"""The one place that touches Whoosh's internals: its version 3 segment files, written and read.

`writer.py` writes a new segment from postings notesearch has analysed
(SegmentPostings); `reader.py` reads whole posting lists, positions and
deleted documents a block at a time (`postings`, `positions`, `deleted`).
Each has, beside its fast path, the public Whoosh path it must agree with,
and tests/indexer/keyword/test_segment_writer.py and test_segment_reader.py check the
two against each other on real indexes. Nothing else in notesearch uses a
private name of Whoosh; pyproject.toml pins `whoosh-reloaded` to the versions
this was tested with. The package imports neither half: a search loads only
the reader, an index run the writer too.
"""
