"""e5-small's queries on onnxruntime (indexer/e5_onnx.py) against its numpy forward pass, and who prepares them."""

from __future__ import annotations

import builtins
import sys

import numpy as np
import pytest

from indexer.embedders import E5Small, load_embedder, prepare_queries

onnxruntime = pytest.importorskip("onnxruntime")

QUERIES = ["残差连接为什么能训练很深的网络", "self-supervised vision", "Transformer 出现之前怎么做注意力", "",
           "dropout " * 300]  # the last is longer than e5's 512-token window: read in two


@pytest.fixture(scope="module")
def prepared() -> E5Small:
    e5 = E5Small(threads=1)
    e5.prepare_queries()
    return e5


@pytest.mark.parametrize("text", QUERIES)
def test_a_prepared_query_has_the_numpy_forward_passs_vector(prepared, text):
    numpy_vector = prepared._model.encode([text], query=True)[0]
    vector = prepared.encode_query(text)
    assert vector.dtype == np.float32 and vector.shape == (384,)
    assert np.abs(vector - numpy_vector).max() < 1e-5


def test_a_prepared_query_runs_on_onnxruntime(prepared, monkeypatch):
    runs = []
    real_run = onnxruntime.InferenceSession.run
    monkeypatch.setattr(onnxruntime.InferenceSession, "run", lambda self, *a, **k: runs.append(1) or real_run(self, *a, **k))
    prepared.encode_query("注意力机制")
    assert runs, "the query did not run through the onnxruntime session"


def test_passages_stay_with_numpy_after_prepare(prepared, monkeypatch):
    monkeypatch.setattr(onnxruntime.InferenceSession, "run", lambda *a, **k: pytest.fail("a passage ran on onnxruntime"))
    assert prepared.encode(["一段笔记"]).shape == (1, 384)


def test_without_onnxruntime_prepare_leaves_queries_to_numpy(monkeypatch):
    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name.split(".")[0] == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "onnxruntime", raising=False)
    monkeypatch.setattr(builtins, "__import__", failing_import)
    e5 = E5Small(threads=1)
    prepare_queries(e5)
    assert np.abs(e5.encode_query("注意力") - e5._model.encode(["注意力"], query=True)[0]).max() == 0


def test_the_default_model_prepares_its_e5_part():
    combined = load_embedder("use-m3@0.2+e5-small@0.8")
    e5 = combined.parts[1][0]
    assert e5._query_forward is None
    prepare_queries(combined)
    assert e5._query_forward is not None


def test_a_batch_of_passages_of_unequal_lengths_has_the_numpy_vectors(prepared):
    from indexer.e5_onnx import forward_pass

    texts = ["短", "残差连接让很深的网络也能训练。" * 5, "attention " * 80, "", "dropout " * 300]
    model = prepared._model
    assert np.abs(model.encode(texts, forward=forward_pass(model)) - model.encode(texts)).max() < 1e-5
