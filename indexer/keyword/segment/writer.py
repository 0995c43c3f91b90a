"""A new Whoosh segment written from postings notesearch has analysed.

Whoosh's own writer re-reads every field from text, pools a tuple per posting,
sorts the pool, looks up a document length per posting and encodes posting
blocks one posting at a time. SegmentPostings takes each document's terms and
positions as the analyzer made them, keeps them in flat arrays (twelve bytes
a token), and at the end writes Whoosh 3's files itself: for each field,
terms in byte order, their posting blocks (up to the codec's 128 postings),
block and term statistics computed with numpy, and the term table. Stored
fields and field lengths still go through Whoosh's per-document writer, and
the segment is committed by Whoosh (`writer.commit`).

The files are in Whoosh's own format. With `whoosh_bytes=True` they are
byte for byte what Whoosh's own writer writes, which tests/indexer/keyword/test_segment_writer.py
checks by writing the same documents through Whoosh's public `add_document`;
by default two choices the format leaves to the writer are made for speed,
and the test reads both indexes back through Whoosh's public API and finds
them equal: a block is compressed only from COMPRESS_FROM bytes (zlib costs
more than it saves on the small blocks of rare terms; the reader decompresses
only blocks marked so), and postings with the same one position share one
value in a block's pickle.

Whoosh is pinned in pyproject.toml to the versions this was tested with.
"""

from __future__ import annotations

import pickle
import zlib
from array import array
from itertools import pairwise, repeat

import numpy as np
from whoosh import formats
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length

COMPRESS_FROM = 256
# Postings written from Python lists at a time (the rest stay in numpy arrays).
_WINDOW = 1 << 16
# Every length a byte stands for, ascending: length_to_byte is the place of a length in it.
_QUANTISED = np.array([byte_to_length(b) for b in range(256)], dtype=np.int64)


class _Ids(dict):
    """Term → its number in a field, numbered on first sight."""

    def __missing__(self, term):
        number = self[term] = len(self)
        return number


class _Field:
    """One field's tokens so far: (term number, document, position) in three flat arrays."""

    def __init__(self, fieldobj):
        self.fieldobj = fieldobj
        self.ids = _Ids()
        self.terms, self.docs, self.positions = array("I"), array("I"), array("I")
        self.lengths = array("I")  # per document of the segment (0: none), for the block statistics


class SegmentPostings:
    """The postings of one Whoosh SegmentWriter's new segment, added a document at a time."""

    def __init__(self, writer, *, whoosh_bytes: bool = False):
        self.writer = writer
        self.schema = writer.schema
        self.whoosh_bytes = whoosh_bytes
        self.compress_from = 0 if whoosh_bytes else COMPRESS_FROM
        self._fields: dict[str, _Field] = {}
        for name, fieldobj in self.schema.items():
            if fieldobj.indexed:
                if type(fieldobj.format) not in (formats.Positions, formats.Frequency, formats.Existence) \
                        or fieldobj.format.field_boost != 1.0 or fieldobj.vector or fieldobj.separate_spelling():
                    raise TypeError(f"field {name!r}: SegmentPostings writes positions, frequencies or existence only")
                self._fields[name] = _Field(fieldobj)

    def add(self, analysed: dict[str, tuple[list[str], list[int], int]], values: dict[str, object]) -> None:
        """One document: text fields as analysed (terms, their positions from 0, the field's length for BM25F),
        other fields as values for Whoosh.

        Each field of `values` is indexed as its Whoosh field indexes it and
        stored if the field stores; a None value is left out.
        """
        writer = self.writer
        docnum = writer.docnum - writer.docbase
        perdoc = writer.perdocwriter
        perdoc.start_doc(writer.docnum)
        for name in sorted({*analysed, *values}):  # Whoosh's order: the stored fields pickle in it
            fieldobj = self.schema[name]
            length = 0
            if name in analysed:
                terms, positions, length = analysed[name]
                stored = None
            else:
                stored = values[name]
                if stored is None:
                    continue
                terms = [btext for btext, *_rest in fieldobj.index(stored)] if fieldobj.indexed else []
                positions = repeat(0, len(terms))
            if fieldobj.indexed:
                field = self._fields[name]
                field.terms.extend(map(field.ids.__getitem__, terms))
                field.docs.extend(repeat(docnum, len(terms)))
                field.positions.extend(positions)
                if length:
                    field.lengths.extend(repeat(0, docnum + 1 - len(field.lengths)))
                    field.lengths[docnum] = length
            perdoc.add_field(name, fieldobj, stored if fieldobj.stored else None, length if fieldobj.scorable else 0)
            if fieldobj.column_type and stored is not None:
                perdoc.add_column_value(name, fieldobj.column_type, fieldobj.to_column_value(stored))
        perdoc.finish_doc()
        writer.docnum += 1
        writer._added = True

    def documents(self) -> tuple[int, int]:
        """How many documents the index holds once the writer commits (deleted ones included), and how many live.

        What the committed index's doc_count_all() and doc_count() say, without opening a reader of it.
        """
        writer = self.writer
        total = sum(segment.doc_count_all() for segment in writer.segments) + writer.docnum - writer.docbase
        return total, total - writer.deleted_count()

    def write(self) -> None:
        """Write every field's terms and posting blocks into the segment (call once, before writer.commit)."""
        fieldwriter = self.writer.fieldwriter
        for name in sorted(self._fields):
            field = self._fields.pop(name)  # its arrays go once written
            if len(field.terms):
                fieldwriter.start_field(name, field.fieldobj)
                self._write_field(fieldwriter, field)
                fieldwriter.finish_field()

    def _write_field(self, fieldwriter, field: _Field) -> None:
        btexts = [term if isinstance(term, bytes) else term.encode("utf-8") for term in field.ids]
        by_text = sorted(range(len(btexts)), key=btexts.__getitem__)
        rank = np.empty(len(btexts), dtype=np.int64)
        rank[by_text] = np.arange(len(btexts))
        # Tokens by (term's rank, document); stable, so a document's tokens keep their order.
        key = rank[np.frombuffer(field.terms, dtype=np.uint32)]
        key <<= 32
        key |= np.frombuffer(field.docs, dtype=np.uint32)
        order = np.argsort(key, kind="stable")
        key = key[order]
        positions = np.frombuffer(field.positions, dtype=np.uint32)[order]
        del order
        first = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))  # each posting's first token
        key = key[first]
        freqs = np.diff(np.append(first, len(positions)))
        docs = key & 0xFFFFFFFF
        key >>= 32  # the term's rank
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))  # each term's first posting
        terms = [btexts[by_text[t]] for t in key[starts].tolist()]
        del btexts, by_text, key
        lengths = np.zeros(int(docs.max()) + 1, dtype=np.int64)
        if field.fieldobj.scorable and len(field.lengths):
            known = np.frombuffer(field.lengths, dtype=np.uint32)[:len(lengths)]
            lengths[:len(known)] = _QUANTISED[np.minimum(np.searchsorted(_QUANTISED, known), 255)]
        ends = np.append(starts[1:], len(docs))
        # A window of whole terms at a time: Python lists of a posting's numbers cost 36 bytes each.
        cuts = [0, *np.unique(np.searchsorted(ends, np.arange(_WINDOW, len(docs), _WINDOW))).tolist(), len(starts)]
        for a, z in pairwise(cuts):
            if a < z:
                begin, end = int(starts[a]), int(ends[z - 1])
                tokens = positions[first[begin]:first[end] if end < len(first) else len(positions)]
                values = _values(field.fieldobj.format, tokens, first[begin:end] - first[begin], freqs[begin:end],
                                 shared=not self.whoosh_bytes)
                self._write_terms(fieldwriter, terms[a:z], starts[a:z] - begin, docs[begin:end], freqs[begin:end],
                                  values, lengths[docs[begin:end]], field.fieldobj.scorable)

    def _write_terms(self, fieldwriter, btexts: list[bytes], starts: np.ndarray, docs: np.ndarray, freqs: np.ndarray,
                     values: list, lengths: np.ndarray, scorable: bool) -> None:
        """Each term's posting blocks into the postings file, its statistics into the term table."""
        codec = self.writer.codec
        limit = codec._blocklimit
        ends = np.append(starts[1:], len(docs))
        # A term's postings in blocks of `limit`: where each block starts, and each term's first block.
        counts = (ends - starts + limit - 1) // limit
        first_block = np.cumsum(counts) - counts
        block_starts = np.repeat(starts, counts) + limit * (np.arange(counts.sum()) - np.repeat(first_block, counts))
        deltas = docs.copy()  # ids within a block are stored as deltas from the one before
        deltas[1:] -= docs[:-1]
        deltas[block_starts] = docs[block_starts]
        min_freq, max_freq = np.minimum.reduceat(freqs, block_starts), np.maximum.reduceat(freqs, block_starts)
        if scorable:  # a block's and a term's shortest and longest document, as length bytes
            shortest, longest = np.minimum.reduceat(lengths, block_starts), np.maximum.reduceat(lengths, block_starts)
            low_bytes, high_bytes = _length_bytes(shortest), _length_bytes(longest)
            term_low = _length_bytes(np.minimum.reduceat(shortest, first_block)).tolist()
            term_high = _length_bytes(np.maximum.reduceat(longest, first_block)).tolist()
        else:
            low_bytes = high_bytes = np.zeros(len(block_starts), dtype=np.int64)
            term_low = term_high = [0] * len(starts)
        term_top = np.maximum.reduceat(max_freq, first_block).astype(float).tolist()
        totals = np.add.reduceat(freqs, starts).astype(float).tolist()
        uniform = (min_freq == max_freq).tolist()
        block_weight = max_freq.astype(float).tolist()
        low_bytes, high_bytes = low_bytes.tolist(), high_bytes.tolist()
        deltas, freqs, docs = deltas.tolist(), freqs.tolist(), docs.tolist()
        fixed = fieldwriter._fieldobj.format.fixed_value_size()
        postfile, table = fieldwriter._postfile, fieldwriter._tindex
        prefix = pack_ushort(fieldwriter._fieldid)
        pack_info = W3TermInfo._struct.pack
        level, compress_from = codec._compression, self.compress_from
        offset = postfile.tell()
        block = 0
        for term, begin, end, low, high, top, total in zip(btexts, starts.tolist(), ends.tolist(), term_low, term_high,
                                                           term_top, totals):
            parts = [WHOOSH3_HEADER_MAGIC]
            for a in range(begin, end, limit):
                z = min(a + limit, end)
                weight = block_weight[block]
                if uniform[block]:
                    weights = None if weight == 1.0 else weight
                else:
                    weights = tuple(map(float, freqs[a:z]))
                value = None if fixed == 0 else b"".join(values[a:z]) if fixed else tuple(values[a:z])
                data = pickle.dumps((tuple(deltas[a:z]), weights, value), 2)
                compressed = level if len(data) >= compress_from else 0
                if compressed:
                    data = zlib.compress(data, compressed)
                info = pickle.dumps((z - a, docs[z - 1], weight, compressed, low_bytes[block], high_bytes[block]), 2)
                size = len(info) + len(data)
                parts += [pack_int(-size if z == end else size), info, data]
                block += 1
            written = b"".join(parts)
            postfile.write(written)
            table.add(prefix + term, pack_info(0, total, end - begin, low, high, top, docs[begin], docs[end - 1])
                      + pack_long(offset) + pack_int(len(written)))
            offset += len(written)


def _length_bytes(lengths: np.ndarray) -> np.ndarray:
    """Quantised lengths (values of _QUANTISED, or 0) as the bytes that stand for them."""
    return np.searchsorted(_QUANTISED, lengths)


def _values(fmt, positions: np.ndarray, first: np.ndarray, freqs: np.ndarray, shared: bool) -> list[bytes]:
    """Each posting's value bytes as the field's format encodes them (Positions: the positions as deltas).

    `shared`: postings of one position share the value object of that position.
    """
    if type(fmt) is formats.Existence:
        return []
    if type(fmt) is formats.Frequency:
        return [pack_uint(n) for n in freqs.tolist()]
    deltas = positions.astype(np.int64)
    deltas[1:] -= positions[:-1]
    deltas[first] = positions[first]
    deltas = deltas.tolist()
    single: dict[int, bytes] = {}  # most postings hold one position
    out = []
    for start, n in zip(first.tolist(), freqs.tolist()):
        if n == 1:
            code = deltas[start]
            found = single.get(code) if shared else None
            if found is None:
                found = single[code] = pack_uint(1) + pickle.dumps([code], 2)
            out.append(found)
        else:
            out.append(pack_uint(n) + pickle.dumps(deltas[start:start + n], 2))
    return out
