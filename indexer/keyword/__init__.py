"""The keyword index: every use of Whoosh in notesearch, and nothing else, is in this package.

- documents.py: the schema, a passage's analysed fields and stored record, the field lengths;
- writing.py: a generation's keyword index written (a new one, or the previous one linked and updated);
- reading.py: KeywordIndex, a committed keyword index opened for reading: passages by document number,
  the passages of a file, postings, positions, idf and lengths, year and date ranges;
- segment/: Whoosh's segment files written and read a block at a time (its internals, pinned in pyproject.toml);
- whoosh_imports.py: Whoosh imported without urllib and asyncio, which it never uses.

No module outside this package imports Whoosh (tests/test_imports.py checks): the search stage reads
the index through KeywordIndex, and indexer/generations.py catches KeywordIndexError. This module
imports nothing, so `indexer` can install whoosh_imports before anything loads Whoosh.
"""
