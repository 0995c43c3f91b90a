"""e5-small's forward pass on onnxruntime: the float32 arithmetic of indexer/e5_numpy.py, in half the time for a query.

A query is one short window (tens of tokens), and for so few rows numpy's
products spend as long packing each weight matrix as multiplying by it:
a d2l-zh question of 50 tokens took 50 ms of a core. onnxruntime packs the
weights once, when the session is made, and runs the same graph in about 25
ms (bench/http_latency.py reports the served figures). The graph is e5_numpy's,
operation for operation in float32 (GELU in the same tanh form), on the very
arrays E5Numpy maps from the model cache: they are handed to the session as
external initializers, not copied into the model's bytes, so making it takes
tens of milliseconds. Its vectors agree with e5_numpy's to within 1e-5 (tests/indexer/test_e5_onnx.py).

`forward_pass` takes any batch of windows, as E5Numpy.encode hands them
(sorted by length, so little padding), and may be called from several
threads at once (onnxruntime's sessions allow it). Each call runs on the one
thread that calls it, without spinning: a query's work is too small to share
(indexer/threads.py), and on a busy machine a spinning thread takes a core
from the server. Without onnxruntime (`forward_pass` gives None) e5_numpy
computes the vectors.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from indexer import onnx_proto as proto
from indexer.e5_numpy import E5Numpy

MASKED = -1e30  # a padded position's score before the softmax (e5_numpy's)
_PARTS = ("qkv", "qkv_b", "ao", "ao_b", "aln_w", "aln_b", "fi", "fi_b", "fo", "fo_b", "oln_w", "oln_b")


def graph(model: E5Numpy) -> tuple[bytes, dict[str, np.ndarray]]:
    """The serialized ONNX model of `model`'s layers (input x [batch, length, H] after the embeddings, mask
    [batch, 1, 1, length]; output the last hidden states) and its weights by name, to be handed in as external
    initializers."""
    H, heads = model.H, model.heads
    head = H // heads
    nodes: list[bytes] = []
    weights: dict[str, np.ndarray] = {}
    declared: list[bytes] = []

    def weight(name: str, array: np.ndarray) -> str:
        weights[name] = np.ascontiguousarray(array, dtype=np.float32)
        declared.append(proto.external(name, weights[name]))
        return name

    def const(name: str, array: np.ndarray) -> str:
        declared.append(proto.tensor(name, array))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attributes) -> str:
        nodes.append(proto.node(op, inputs, [output], domain=domain, **attributes))
        return output

    split = const("split", np.array([H, H, H], dtype=np.int64))
    by_head = const("by_head", np.array([0, 0, heads, head], dtype=np.int64))
    joined = const("joined", np.array([0, 0, H], dtype=np.int64))
    x = "x"
    for n, layer in enumerate(model._layers):
        p = f"l{n}."
        w = {part: weight("w." + p + part, array) for part, array in zip(_PARTS, layer)}
        # The query's columns of qkv come scaled by 1/√head (e5_weights), as e5_numpy reads them.
        qkv = node("Add", [node("MatMul", [x, w["qkv"]], p + "qkv.p"), w["qkv_b"]], p + "qkv")
        nodes.append(proto.node("Split", [qkv, split], [p + "q", p + "k", p + "v"], axis=-1))
        for part, perm in (("q", (0, 2, 1, 3)), ("k", (0, 2, 3, 1)), ("v", (0, 2, 1, 3))):
            node("Transpose", [node("Reshape", [p + part, by_head], p + part + ".heads")], p + part + ".t", perm=perm)
        scores = node("Add", [node("MatMul", [p + "q.t", p + "k.t"], p + "scores"), "mask"], p + "masked")
        context = node("MatMul", [node("Softmax", [scores], p + "weights", axis=-1), p + "v.t"], p + "context.heads")
        context = node("Reshape", [node("Transpose", [context], p + "context.t", perm=(0, 2, 1, 3)), joined],
                       p + "context")
        attended = node("Add", [node("Add", [node("MatMul", [context, w["ao"]], p + "ao.p"), w["ao_b"]], p + "ao"),
                                x], p + "ao.x")
        attended = node("LayerNormalization", [attended, w["aln_w"], w["aln_b"]], p + "attended", axis=-1,
                        epsilon=model.eps)
        middle = node("FastGelu", [node("MatMul", [attended, w["fi"]], p + "fi.p"), w["fi_b"]], p + "gelu",
                      domain="com.microsoft")  # the tanh form, with its bias: e5_numpy's _gelu
        out = node("Add", [node("Add", [node("MatMul", [middle, w["fo"]], p + "fo.p"), w["fo_b"]], p + "fo"),
                           attended], p + "fo.x")
        x = node("LayerNormalization", [out, w["oln_w"], w["oln_b"]], p + "out", axis=-1, epsilon=model.eps)
    serialized = proto.model(nodes, declared,
                             [proto.value_info("x", proto.FLOAT, ["batch", "length", H]),
                              proto.value_info("mask", proto.FLOAT, ["batch", 1, 1, "length"])],
                             [proto.value_info(x, proto.FLOAT, ["batch", "length", H])],
                             {"": 17, "com.microsoft": 1})
    return serialized, weights


def forward_pass(model: E5Numpy) -> Callable[[list[list[int]]], np.ndarray] | None:
    """A forward pass for E5Numpy.encode(…, forward=) on onnxruntime (windows' content token ids → their mean
    hidden states), or None when onnxruntime is not installed."""
    try:
        import onnxruntime
    except ImportError:
        return None
    serialized, weights = graph(model)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # no warnings on stderr
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    names = list(weights)
    options.add_external_initializers(names, [onnxruntime.OrtValue.ortvalue_from_numpy(weights[name])
                                              for name in names])
    session = onnxruntime.InferenceSession(serialized, options, providers=["CPUExecutionProvider"])

    def forward(contents: list[list[int]]) -> np.ndarray:
        return mean_hidden(model, contents, lambda x, mask: session.run(None, {"x": x, "mask": mask})[0])

    forward.weights = weights  # the session reads these arrays: they live as long as the function
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
