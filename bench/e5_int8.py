"""A candidate engine for e5-small's passages, measured by bench/engines.py: onnxruntime's 8-bit products.

Not the product's engine for passages: indexer/e5_numpy.py embeds them in
float32. A server's queries do run in 8 bits (indexer/e5_int8.py, which holds
the graph and the smoothing this engine shares). In the
quality suite (bench/quality.py, the default model, against the figures of
main) this engine moved nDCG@10 by up to -0.007 (dl500 semantic -0.0073,
hybrid -0.0055; d2l-zh semantic -0.0057), past the 0.005 that issue 30
allows; indexing tests/test_hostile_notes.py's folder with it took 1.3 GB
peak RSS, against 640 MB in float32. It embedded 2-3.7x the float32 rate.

A layer's four matrix products are nine tenths of e5-small's work (42 MFLOP a
token), and float32 BLAS was already near what 2 cores allow. onnxruntime's
MatMulInteger multiplies 8-bit activations by 8-bit weights with the CPU's
integer dot products (VNNI, AVX2 or SSE: its kernels are chosen at run time,
so a CPU without AVX2 runs it too, slower).

The graph is built at first use from the package's weights, no download:
each matrix of indexer/e5_weights.py requantized to 7-bit integers per output
column (±63: AVX2's 16-bit pair sums of bytes cannot saturate, so every CPU
computes the same integers), attention and layer norms in float32, GELU in
its erf form. Each row of a product's input (one token) is quantized on its
own scale, so that a text's vector depends on the text alone, never on the
texts beside it in a batch: an index updated a passage at a time equals one
built at once. (One scale per batch, onnxruntime's DynamicQuantizeMatMul, was
1.3× as fast but moved a vector by up to 0.015 with its neighbours.)
Tokenizer, windows, batching and mean pooling are indexer/e5_numpy.py's.

Vectors stay within a cosine of about 0.998 of the float32 engine's
(bench/engines.py measures it on the corpora).

SmoothQuant's per-channel scales (`smoothing_scales`, α 0.5, each channel's
largest |input| measured over the bundled notes' texts) halve that error
(mean 1 - cosine on d2l-zh texts 9.2e-4 -> 5.0e-4) at about the same rate,
but the suite still moved past 0.005 (d2l-zh hybrid -0.0081, seed_more
hybrid +0.0062): README.md has the table.
"""

from __future__ import annotations

import numpy as np

from indexer.e5_int8 import (  # noqa: F401 (bench/engines.py and bench/int8_quality.py take them from here)
    FEED_FORWARD,
    LEVELS,
    PRODUCTS,
    calibration_texts,
    graph_arrays,
    inference_session,
    input_maxima,
    mean_hidden,
    smoothing_scales,
)
from indexer.e5_numpy import E5Numpy


class E5Int8:
    """Passages → unit vectors through the int8 graph; `threads` batches run at once, each on one core."""

    def __init__(self, model: E5Numpy, graph: dict[str, np.ndarray]):
        self._session = inference_session(graph)  # one thread each: batches share the cores as in E5Numpy
        self._model = model

    def encode(self, texts: list[str]) -> np.ndarray:
        """The passages' (len(texts), 384) unit vectors."""
        return self._model.encode(texts, forward=self._forward)

    def _forward(self, contents: list[list[int]]) -> np.ndarray:
        """The mean hidden state (over <s>, the tokens and </s>) of each window, padded to the longest."""
        return mean_hidden(self._model, contents, lambda x, mask: self._session.run(None, {"x": x, "mask": mask})[0])


def int8_engine(e5, int8: tuple[str, ...] = PRODUCTS, smooth: dict[str, np.ndarray] | None = None,
                levels: int = LEVELS, unsigned: bool = False) -> E5Int8:
    """The int8 engine over the weights of `e5` (an indexer.embedders.E5Small), its graph built now, with the
    products `int8` in 8 bits (FEED_FORWARD: the two of the feed-forward layer, two thirds of the work)."""
    return E5Int8(e5._model, graph_arrays(e5._arrays(), int8, smooth, levels=levels, unsigned=unsigned))
