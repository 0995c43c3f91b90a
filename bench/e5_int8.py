"""A candidate engine for e5-small's passages, measured by bench/engines.py: onnxruntime's 8-bit products.

Not the product's engine: indexer/e5_numpy.py embeds in float32. In the
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

from pathlib import Path

import numpy as np

from indexer import onnx_proto as proto
from indexer.e5_numpy import E5Numpy
from indexer.e5_onnx import mean_hidden

LEVELS = 63  # 7-bit weights (see the module docstring)
PRODUCTS = ("qkv", "ao", "fi", "fo")  # a layer's four matrix products
FEED_FORWARD = ("fi", "fo")


def graph_arrays(e5: dict[str, np.ndarray], int8: tuple[str, ...] = PRODUCTS,
                 smooth: dict[str, np.ndarray] | None = None, probe: bool = False,
                 levels: int = LEVELS, unsigned: bool = False) -> dict[str, np.ndarray]:
    """{"graph": the serialized ONNX model, as bytes} for the e5 arrays of indexer/e5_weights.py; the products
    named in `int8` (of PRODUCTS) in 8 bits, the others in float32.

    `smooth` ("l3.fi" → a scale per input channel, from smoothing_scales): each 8-bit product reads x / s against
    diag(s) W, the same product in exact arithmetic; attention's output product takes its 1/s in the value
    columns of qkv (exact: attention mixes a channel with itself only). `probe`: the graph also gives, for every
    product, the largest |input| of each channel over the batch (outputs "<product>.probe")."""
    smooth = smooth or {}
    H, layers, heads = (int(n) for n in e5["config"][:3])
    eps = float(e5["eps"][0])
    head = H // heads
    nodes: list[bytes] = []
    weights: list[bytes] = []
    probes: list[bytes] = []

    def const(name: str, array: np.ndarray) -> str:
        weights.append(proto.tensor(name, array))
        return name

    def product(x: str, name: str, out: str) -> str:
        """x @ W + b, W requantized to LEVELS per output column, each row of x quantized on its own scale (or
        in float32 when the product is not among `int8`)."""
        matrix = np.asarray(e5[name], dtype=np.float32)
        bias_values = np.asarray(e5[name + "_b"], dtype=np.float32)
        if probe:
            nodes.append(proto.node("Abs", [x], [name + ".probe.abs"]))
            nodes.append(proto.node("ReduceMax", [name + ".probe.abs"], [name + ".probe"], axes=(0, 1), keepdims=0))
            probes.append(proto.value_info(name + ".probe", proto.FLOAT, [matrix.shape[0]]))
        kind = name.rpartition(".")[2]
        if kind == "qkv" and name.replace("qkv", "ao") in smooth and "ao" in int8:
            inverse = 1 / smooth[name.replace("qkv", "ao")]
            matrix, bias_values = matrix.copy(), bias_values.copy()
            matrix[:, 2 * H:] *= inverse
            bias_values[2 * H:] *= inverse
        if kind not in int8:
            nodes.append(proto.node("MatMul", [x, const(name, matrix)], [out + ".float"]))
            nodes.append(proto.node("Add", [out + ".float", const(name + ".b", bias_values)], [out]))
            return out
        if name in smooth:
            matrix = matrix * smooth[name][:, None]
            if kind != "ao":  # the value columns of qkv gave attention's output its 1/s
                nodes.append(proto.node("Mul", [x, const(name + ".inverse", (1 / smooth[name]).astype(np.float32))],
                                        [out + ".smooth"]))
                x = out + ".smooth"
        scale = np.abs(matrix).max(axis=0) / levels
        scale[scale == 0] = 1.0
        integers = np.clip(np.round(matrix / scale), -levels, levels)
        if unsigned:  # u8 × u8 around 128 each: kernels without 16-bit pair sums, so full 8 bits on every CPU
            quantized = const(name + ".q", (integers + 128).astype(np.uint8))
            weight_zero = "zero"
        else:
            quantized = const(name + ".q", integers.astype(np.int8))
            weight_zero = ""
        scale, bias = const(name + ".scale", scale.astype(np.float32)), const(name + ".b", bias_values)
        # Each row on its own scale, symmetric, as unsigned bytes around 128 (the fast u8 × s8 kernels).
        nodes.append(proto.node("Abs", [x], [out + ".abs"]))
        nodes.append(proto.node("ReduceMax", [out + ".abs"], [out + ".max"], axes=(-1,), keepdims=1))
        nodes.append(proto.node("Mul", [out + ".max", "to_bytes"], [out + ".step0"]))
        nodes.append(proto.node("Max", [out + ".step0", "tiny"], [out + ".step"]))
        nodes.append(proto.node("Div", [x, out + ".step"], [out + ".scaled"]))
        nodes.append(proto.node("Round", [out + ".scaled"], [out + ".rounded"]))
        nodes.append(proto.node("Add", [out + ".rounded", "middle"], [out + ".shifted"]))
        nodes.append(proto.node("Cast", [out + ".shifted"], [out + ".bytes"], to=proto.UINT8))
        nodes.append(proto.node("MatMulInteger", [out + ".bytes", quantized, "zero", weight_zero], [out + ".sums"]))
        nodes.append(proto.node("Cast", [out + ".sums"], [out + ".float"], to=proto.FLOAT))
        nodes.append(proto.node("Mul", [out + ".float", out + ".step"], [out + ".rows"]))
        nodes.append(proto.node("Mul", [out + ".rows", scale], [out + ".columns"]))
        nodes.append(proto.node("Add", [out + ".columns", bias], [out]))
        return out

    def norm(a: str, b: str, name: str, out: str) -> str:
        nodes.append(proto.node("Add", [a, b], [out + ".sum"]))
        nodes.append(proto.node("LayerNormalization", [out + ".sum", const(name + "_w", np.asarray(e5[name + "_w"])),
                                                       const(name + "_b", np.asarray(e5[name + "_b"]))],
                                [out], axis=-1, epsilon=eps))
        return out

    const("to_bytes", np.array(1 / 127, dtype=np.float32))
    const("tiny", np.array(1e-12, dtype=np.float32))
    const("middle", np.array(128.0, dtype=np.float32))
    const("zero", np.array(128, dtype=np.uint8))
    split = const("split", np.array([H, H, H], dtype=np.int64))
    by_head = const("by_head", np.array([0, 0, heads, head], dtype=np.int64))
    joined = const("joined", np.array([0, 0, H], dtype=np.int64))
    x = "x"
    for n in range(layers):
        p = f"l{n}."
        qkv = product(x, p + "qkv", p + "qkv.out")  # the query's columns come scaled by 1/√head
        nodes.append(proto.node("Split", [qkv, split], [p + "q", p + "k", p + "v"], axis=-1))
        for part, perm in (("q", (0, 2, 1, 3)), ("k", (0, 2, 3, 1)), ("v", (0, 2, 1, 3))):
            nodes.append(proto.node("Reshape", [p + part, by_head], [p + part + ".heads"]))
            nodes.append(proto.node("Transpose", [p + part + ".heads"], [p + part + ".t"], perm=perm))
        nodes.append(proto.node("MatMul", [p + "q.t", p + "k.t"], [p + "scores"]))
        nodes.append(proto.node("Add", [p + "scores", "mask"], [p + "masked"]))
        nodes.append(proto.node("Softmax", [p + "masked"], [p + "weights"], axis=-1))
        nodes.append(proto.node("MatMul", [p + "weights", p + "v.t"], [p + "context.heads"]))
        nodes.append(proto.node("Transpose", [p + "context.heads"], [p + "context.t"], perm=(0, 2, 1, 3)))
        nodes.append(proto.node("Reshape", [p + "context.t", joined], [p + "context"]))
        attended = norm(product(p + "context", p + "ao", p + "ao.out"), x, p + "aln", p + "attended")
        middle = product(attended, p + "fi", p + "fi.out")
        nodes.append(proto.node("Gelu", [middle], [p + "gelu"], domain="com.microsoft"))
        x = norm(product(p + "gelu", p + "fo", p + "fo.out"), attended, p + "oln", p + "out")
    model = proto.model(nodes, weights,
                        [proto.value_info("x", proto.FLOAT, ["batch", "length", H]),
                         proto.value_info("mask", proto.FLOAT, ["batch", 1, 1, "length"])],
                        [proto.value_info(x, proto.FLOAT, ["batch", "length", H]), *probes],
                        {"": 17, "com.microsoft": 1})
    return {"graph": np.frombuffer(model, dtype=np.uint8)}


class E5Int8:
    """Passages → unit vectors through the int8 graph; `threads` batches run at once, each on one core."""

    def __init__(self, model: E5Numpy, graph: np.ndarray):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # batches share the cores a thread each, as in E5Numpy
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # no warnings on stderr
        # The extended optimizations fuse Add + LayerNormalization into SkipLayerNormalization, which took
        # 0.59 s of 200 d2l-zh passages where the two took 0.24 s.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting threads
        self._session = onnxruntime.InferenceSession(np.ascontiguousarray(graph).tobytes(), options,
                                                     providers=["CPUExecutionProvider"])
        self._model = model

    def encode(self, texts: list[str]) -> np.ndarray:
        """The passages' (len(texts), 384) unit vectors."""
        return self._model.encode(texts, forward=self._forward)

    def _forward(self, contents: list[list[int]]) -> np.ndarray:
        """The mean hidden state (over <s>, the tokens and </s>) of each window, padded to the longest."""
        return mean_hidden(self._model, contents, lambda x, mask: self._session.run(None, {"x": x, "mask": mask})[0])


def calibration_texts() -> list[str]:
    """What the smoothing scales are measured on: the distinct texts the indexer embeds for the bundled notes
    (corpus/notes, 261 texts), in a fixed shuffled order; never a judged corpus or its questions."""
    import random

    from corpus.documents import read_document
    from corpus.reading import find_note_files, read_bytes

    files, _skipped = find_note_files([Path(__file__).resolve().parent.parent / "corpus" / "notes"], ())
    texts: dict[str, None] = {}
    for file in files:
        for passage in read_document(file.path, read_bytes(file)).passages:
            texts.update(dict.fromkeys(passage.embed_texts()))
    shuffled = [text for text in texts if text]
    random.Random(0).shuffle(shuffled)
    return shuffled


def input_maxima(e5, texts: list[str]) -> dict[str, np.ndarray]:
    """The largest |input| of each channel of each product ("l3.fi" → [in]) over the float32 graph's reading of
    `texts` as passages."""
    arrays = e5._arrays()
    layers = int(arrays["config"][1])
    names = [f"l{n}.{kind}" for n in range(layers) for kind in PRODUCTS]
    session = E5Int8(e5._model, graph_arrays(arrays, (), probe=True)["graph"])._session
    maxima: dict[str, np.ndarray] = {}

    def run(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = session.run([f"l{layers - 1}.out"] + [name + ".probe" for name in names], {"x": x, "mask": mask})
        for name, found in zip(names, out[1:]):
            maxima[name] = np.maximum(maxima.get(name, 0), found)
        return out[0]

    e5._model.encode(texts, forward=lambda contents: mean_hidden(e5._model, contents, run), threads=1)
    return maxima


def smoothing_scales(e5, maxima: dict[str, np.ndarray], alpha: float) -> dict[str, np.ndarray]:
    """SmoothQuant's scale of each input channel j of each product: max|X_j|^α / max|W_j|^(1-α), W_j the
    weights that channel multiplies, so that α moves the range from the activations (quantized a row at a
    time) to the weights (a column at a time)."""
    arrays = e5._arrays()
    scales = {}
    for name, largest in maxima.items():
        weight = np.abs(np.asarray(arrays[name], dtype=np.float32)).max(axis=1)
        scale = np.maximum(largest, 1e-5) ** alpha / np.maximum(weight, 1e-5) ** (1 - alpha)
        scales[name] = (scale / np.exp(np.log(scale).mean())).astype(np.float32)  # geometric mean 1
    return scales


def int8_engine(e5, int8: tuple[str, ...] = PRODUCTS, smooth: dict[str, np.ndarray] | None = None,
                levels: int = LEVELS, unsigned: bool = False) -> E5Int8:
    """The int8 engine over the weights of `e5` (an indexer.embedders.E5Small), its graph built now, with the
    products `int8` in 8 bits (FEED_FORWARD: the two of the feed-forward layer, two thirds of the work)."""
    return E5Int8(e5._model, graph_arrays(e5._arrays(), int8, smooth, levels=levels, unsigned=unsigned)["graph"])
