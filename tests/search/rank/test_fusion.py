"""Hybrid fusion: normalised scores weighed by keyword evidence, exact matches first, prose before code —
on synthetic rankings, then on the bundled index."""

from __future__ import annotations

import re

import pytest
from conftest import BUNDLED_NOTES, line_of

from corpus.text import fold
from search import Settings, search
from search.query.plan import looks_like_code
from search.rank.fusion import (
    FusionConfig,
    Scored,
    above_floor,
    exact_keys,
    fuse_hybrid,
    fuse_scores,
    holds_query,
    normalised,
    prose_first,
    weigh,
)
from search.rank.ranking import span as ranking_span


def test_keyword_scores_are_read_against_the_best_one():
    assert normalised(Scored("keyword", (("a", 8.0), ("b", 2.0)))) == {"a": 1.0, "b": 0.25}


def test_cosines_are_placed_between_the_pools_lowest_and_best():
    assert normalised(Scored("vector", (("a", 0.6), ("b", 0.4), ("c", 0.2)))) == pytest.approx(
        {"a": 1.0, "b": 0.5, "c": 0.0})
    assert normalised(Scored("vector", (("only", 0.3),))) == {"only": 1.0}
    assert normalised(Scored("vector", ())) == {}


@pytest.mark.parametrize("coverage, keyword", [(1.0, 0.7), (0.5, 0.7), (0.25, 0.35), (0.0, 0.0)])
def test_keyword_weight_grows_with_the_share_of_the_query_one_passage_holds(coverage, keyword):
    weights = weigh(coverage, 1, FusionConfig(keyword_weight=0.7, full_coverage=0.5))
    assert weights.keyword == pytest.approx(keyword)
    assert weights.vector == pytest.approx(1 - keyword)
    assert f"{coverage:.0%}" in weights.reason


def test_two_vector_rankings_share_what_the_keyword_ranking_leaves():
    weights = weigh(1.0, 2, FusionConfig(keyword_weight=0.6))
    assert (weights.keyword, weights.vector) == pytest.approx((0.6, 0.2))
    assert weigh(0.3, 0).keyword == 1.0  # no vector ranking at all


def test_fused_score_is_the_weighed_sum_and_ties_keep_first_appearance():
    weights = weigh(1.0, 1, FusionConfig(keyword_weight=0.5, full_coverage=1.0))
    keyword = Scored("keyword", (("a", 4.0), ("b", 2.0)))
    vector = Scored("vector", (("b", 0.8), ("a", 0.4), ("c", 0.4)))
    fused = dict(fuse_scores([keyword, vector], weights))
    assert fused == pytest.approx({"a": 0.5, "b": 0.75, "c": 0.0})
    assert [key for key, _score in fuse_scores([Scored("keyword", (("x", 1.0), ("y", 1.0)))], weights)] == ["x", "y"]


def test_a_query_the_keywords_cannot_answer_follows_the_vectors():
    # An English question over Chinese notes: its best keyword hit holds one stray word of ten.
    weights = weigh(0.1, 1, FusionConfig(keyword_weight=0.7, full_coverage=0.5))
    keyword = Scored("keyword", (("stray", 9.0), ("other", 1.0)))
    vector = Scored("vector", (("answer", 0.7), ("near", 0.5), ("stray", 0.1)))
    order = [item.key for item in fuse_hybrid([keyword, vector], weights, set())]
    assert order[0] == "answer"


@pytest.mark.parametrize("words, text, title, expected", [
    (["Transformer", "长序列"], "为了解决长序列建模，transformer 架构也在演进", "", True),
    (["self-supervised"], "Self supervised methods", "", True),
    (["图神经网络", "分子"], "图神经网络在药物设计中的应用", "", False),
    (["attention", "is", "all", "you", "need"], "无关的注释", "Attention is All You Need", True),
    ([], "anything", "", False),
])
def test_holds_query_ignores_case_spaces_and_punctuation(words, text, title, expected):
    assert holds_query([fold(word) for word in words if fold(word)], text, title) is expected


def test_exact_match_deep_in_one_list_moves_ahead_of_fused_winners():
    keyword = Scored("keyword", tuple((f"k{n}", 40.0 - n) for n in range(40)) + (("exact", 0.5),))
    vector = Scored("vector", tuple((f"k{n}", 0.9 - n / 100) for n in range(40)))
    exact = exact_keys(["长序列"], {"exact": ("处理长序列的方法", ""), "k0": ("别的内容", "")})
    assert exact == {"exact"}
    order = fuse_hybrid([keyword, vector], weigh(1.0, 1), exact)
    assert order[0].key == "exact" and order[0].exact
    assert [item.key for item in order[1:3]] == ["k0", "k1"]
    unguarded = fuse_hybrid([keyword, vector], weigh(1.0, 1), exact, FusionConfig(exact_first=False))
    assert unguarded[0].key == "k0"


def test_prose_comes_before_code_each_keeping_its_order():
    order = [("c1", 0.9), ("p1", 0.8), ("c2", 0.7), ("p2", 0.1)]
    assert prose_first(order, {"c1", "c2"}) == [("p1", 0.8), ("p2", 0.1), ("c1", 0.9), ("c2", 0.7)]


@pytest.mark.parametrize("query, code", [
    ("torch.nn.Linear 的参数", True), ("d2l.load_data_ptb()", True), ("batch_size 取多大", True),
    ("getItem", True), ("x += 1", True), ("import numpy", True),
    ("自监督 视觉", False), ("dropout 为什么有效", False), ("GPT-4 的参数量", False), ("C++ 还是 Python", False),
    ("what is self-attention?", False),
])
def test_a_query_looks_like_code_by_its_form(query, code):
    assert looks_like_code(query) is code


def test_hybrid_keeps_the_passage_holding_the_whole_query_first(bundled_index):
    result = search(bundled_index, "Transformer 长序列", mode="hybrid", k=5)
    assert result.hits[0].exact
    assert "Transformer" in result.hits[0].passage.text and "长序列" in result.hits[0].passage.text


def test_cross_lingual_hybrid_follows_the_vectors(bundled_index):
    query = "generative models that reverse a diffusion process"
    hybrid = search(bundled_index, query, mode="hybrid", k=3)
    semantic = search(bundled_index, query, mode="semantic", k=3)
    span = lambda hit: (hit.passage.path, hit.passage.line_start, hit.passage.line_end)
    # A stray English word or two in Chinese notes: the vectors lead, and the answer is one of their best two.
    keyword, vector = map(float, re.search(r"keyword weight ([\d.]+), vector weight ([\d.]+)", hybrid.route).groups())
    assert keyword < vector
    assert span(hybrid.hits[0]) in {span(hit) for hit in semantic.hits[:2]}


def test_short_english_query_the_notes_spell_out_follows_the_keywords(bundled_index):
    # The notes write `Auto-Encoding Variational Bayes` and `变分自编码器（VAE）`: every word is held there.
    result = search(bundled_index, "variational autoencoder", mode="hybrid", k=5)
    papers = BUNDLED_NOTES / "famous-deep-learning-papers.md"
    assert "holds 100%" in result.route
    assert result.hits[0].passage.line_start == line_of(papers, "*Auto-Encoding Variational Bayes*")
    assert result.hits[0].keyword_rank == 1


def test_hybrid_explains_each_hit_by_its_place_in_each_ranking_and_the_words_it_holds(bundled_index):
    from search.rank.engine import rankings

    result = search(bundled_index, "扩散模型 采样效率", mode="hybrid", k=5)
    ranked = rankings(bundled_index, bundled_index.plan("扩散模型 采样效率"), "hybrid", k=5)
    assert "keyword weight" in result.route and len(result.hits) == 5
    for hit in result.hits:
        span = ranking_span(hit.passage)
        for kind, rank, score in (("keyword", hit.keyword_rank, hit.keyword_score),
                                  ("vector", hit.vector_rank, hit.vector_score)):
            entry = ranked.of(kind).get(span)
            assert (rank, score) == ((entry.rank, entry.score) if entry else (None, None)), (kind, span)
        assert all(word in hit.passage.text for word in hit.matched)
        assert {part for part in hit.snippet.split("**")[1::2]} <= set(hit.matched)
    assert any(hit.matched for hit in result.hits)


def test_floor_drops_hybrid_hits_far_below_the_best(bundled_index):
    everything = search(bundled_index, "扩散模型 采样效率", k=50, every=True)
    floored = search(bundled_index, "扩散模型 采样效率", k=50, settings=Settings(fusion=FusionConfig(floor=0.5)))
    assert 0 < len(floored.hits) < len(everything.hits)
    assert [hit.passage.id for hit in floored.hits] == [hit.passage.id for hit in everything.hits[:len(floored.hits)]]
    best = max(hit.score for hit in everything.hits)
    assert all(hit.exact or hit.score >= 0.5 * best for hit in floored.hits)
    # One ranking alone is never floored: a keyword or vector hit is supported by its own ranking.
    for mode in ("keyword", "semantic"):
        floored_alone = search(bundled_index, "扩散模型 采样效率", mode=mode, k=50, settings=Settings(fusion=FusionConfig(floor=0.5)))
        every_alone = search(bundled_index, "扩散模型 采样效率", mode=mode, k=50, every=True)
        assert [hit.passage.id for hit in floored_alone.hits] == [hit.passage.id for hit in every_alone.hits]


def test_a_hit_no_ranking_supports_is_left_out_unless_it_holds_the_whole_query():
    order = [("both", 1.0), ("words", 0.6), ("near", 0.5), ("unrelated", 0.4), ("exact", 0.05), ("faint", 0.1)]
    supported = {"both", "words", "near", "faint"}  # "unrelated" sits at cosine ≤ 0 and holds no query word
    assert above_floor(order, 0.2, supported, {"exact"}) == [("both", 1.0), ("words", 0.6), ("near", 0.5),
                                                              ("exact", 0.05)]
    assert above_floor(order, 0.0, supported) == order  # `search --all`


def test_supported_spans_hold_a_query_word_or_sit_above_cosine_zero():
    from corpus.model import Passage
    from search.rank.engine import supported
    from search.rank.ranking import Ranked, Ranking

    def ranking(kind, scores):
        return Ranking(kind, tuple(Ranked(key, Passage(key, 1, 1, "", "", key), n, score)
                                   for n, (key, score) in enumerate(scores.items(), 1)))

    keyword = ranking("keyword", {"words": 3.0, "words at cosine 0": 1.0})
    vector = ranking("vector", {"near": 0.4, "faint": 0.01, "words at cosine 0": 0.0, "unrelated": -0.008})
    assert supported((keyword, vector)) == {"words", "words at cosine 0", "near", "faint"}
    assert supported((vector,)) == {"near", "faint"}


def test_rrf_method_fuses_ranks_with_the_same_weights():
    weights = weigh(1.0, 1, FusionConfig(keyword_weight=0.5, full_coverage=1.0))
    keyword = Scored("keyword", (("a", 100.0), ("b", 1.0)))
    vector = Scored("vector", (("b", 0.9), ("a", 0.1)))
    fused = dict(fuse_scores([keyword, vector], weights, FusionConfig(method="rrf", rrf_k=10)))
    assert fused == pytest.approx({"a": 0.5 / 11 + 0.5 / 12, "b": 0.5 / 12 + 0.5 / 11})


REFERENCES_NOTE = ("# 卷积网络\n\n## 小卷积核\n\n堆叠两层小卷积核得到与一层大卷积核相同的感受野，参数却更少，"
                   "这是 VGG 的设计思想 [1]。\n\n## 参考文献\n\n"
                   "[1] K. Simonyan and A. Zisserman. Very Deep Convolutional Networks for Large-Scale Image "
                   "Recognition. ICLR, 2015.\n\n[2] M. Lin, Q. Chen and S. Yan. Network in network. 2013.\n")


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_a_list_of_references_comes_after_the_prose_unless_it_holds_the_whole_query(notes_dir, embedder, tmp_path,
                                                                                   mode):
    from indexer import build
    from search import open_index

    root = notes_dir({"vgg.md": REFERENCES_NOTE})
    build([str(root)], str(tmp_path / "index"), embedder=embedder)
    with open_index(str(tmp_path / "index"), embedder=embedder) as index:
        kinds = [h.passage.kind for h in search(index, "VGG very deep convolutional networks", mode=mode).hits]
        assert kinds == ["paragraph", "reference"]
        exact = search(index, "Network in network", mode=mode).hits
        assert exact[0].passage.kind == "reference"
