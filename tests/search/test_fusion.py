"""Hybrid fusion: weighted RRF, routing by query shape, the exact-match guard — on synthetic
rankings, then on the bundled index."""

from __future__ import annotations

import pytest
from conftest import BUNDLED_NOTES, line_of

from corpus.text import fold
from search import search
from search.fusion import FusionConfig, Route, exact_keys, fuse_hybrid, fuse_rrf, holds_query
from search.fusion import route as route_shape
from search.plan import shape


def route(query: str, hit_texts: list[str], found: bool = False) -> Route:
    return route_shape(shape(query), hit_texts, found=found)

CHINESE_NOTES = ["自监督学习已成为现代机器学习研究的核心要素之一", "扩散模型在生成模型领域异军突起"]
ENGLISH_NOTES = ["Self-supervised learning has become a core part of machine learning.",
                 "Diffusion models rose quickly among generative models."]


def test_rrf_weight_decides_between_two_first_places():
    fused = fuse_rrf([["a", "b"], ["b", "a"]], [1.0, 0.2], k=10)
    assert [item for item, _score in fused] == ["a", "b"]
    assert fused[0][1] == pytest.approx(1.0 / 11 + 0.2 / 12)


def test_rrf_ties_keep_first_appearance():
    assert [item for item, _ in fuse_rrf([["x", "y"], ["y", "x"]])] == ["x", "y"]


def test_empty_keyword_list_leaves_the_vector_order():
    order = fuse_hybrid([[], ["v1", "v2", "v3"]], [1.0, 0.3], set())
    assert [item.key for item in order] == ["v1", "v2", "v3"]


def test_english_query_against_chinese_notes_leans_on_vectors():
    weights = route("self-supervised learning for vision", CHINESE_NOTES)
    assert weights.vector == 1.0 and weights.keyword < 0.2
    assert "cross-lingual" in weights.reason


def test_short_query_whose_words_the_notes_hold_is_searched_in_their_language():
    # Chinese notes that name papers and methods in English: `variational autoencoder` is written there.
    weights = route("variational autoencoder", CHINESE_NOTES, found=True)
    assert weights.keyword == 1.0 and weights.vector < 1.0
    assert "cross-lingual" not in weights.reason
    assert "cross-lingual" in route("variational autoencoder", CHINESE_NOTES, found=False).reason


def test_long_english_question_leans_on_vectors_even_when_the_notes_hold_its_words():
    question = "which two companies worked together to develop the third game of the series and when was it out"
    assert "cross-lingual" in route(question, CHINESE_NOTES, found=True).reason


def test_chinese_query_against_english_notes_leans_on_vectors():
    assert "cross-lingual" in route("自监督学习", ENGLISH_NOTES).reason


def test_query_in_the_notes_language_leans_on_keywords():
    for query in ("扩散模型 采样", "扩散模型在生成模型领域是哪一年开始异军突起的，又是被谁誉为最火的新秀？"):
        weights = route(query, CHINESE_NOTES)
        assert weights.keyword == 1.0 and weights.vector < 1.0, query


def test_long_question_in_the_notes_language_gives_vectors_less_say_than_a_short_one():
    short = route("扩散模型 采样", CHINESE_NOTES)
    long = route("扩散模型在生成模型领域是哪一年开始异军突起的，又是被谁誉为最火的新秀？", CHINESE_NOTES)
    assert short.keyword == long.keyword == 1.0
    assert 0 < long.vector < short.vector


@pytest.mark.parametrize("query, expected", [
    ("Heuco在西班牙语中是什么意思？", True), ("李惠珍祖籍是哪里?", True), ("谁提出了扩散模型", True),
    ("扩散模型有几种采样方法", True), ("what is attention?", True),
    ("自监督 视觉", False), ("几乎所有模型", False), ("Hinton", False), ("CLIP 零样本", False),
])
def test_is_question(query, expected):
    assert shape(query).question is expected


def test_question_in_the_notes_language_is_keyword_first():
    short = route("扩散模型 采样", CHINESE_NOTES)
    question = route("扩散模型是谁提出的？", CHINESE_NOTES)
    assert question.keyword == 1.0 and question.vector < short.vector


def test_long_english_question_leans_on_vectors():
    question = "which two companies worked together to develop the third game of the series and when was it out"
    assert shape(question).length > FusionConfig().long_query
    weights = route(question, ENGLISH_NOTES)
    assert weights.vector == 1.0 and weights.keyword < 1.0 and "long" in weights.reason


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
    keyword = [f"k{n}" for n in range(40)] + ["exact"]
    vector = [f"k{n}" for n in range(40)]
    exact = exact_keys(["长序列"], {"exact": ("处理长序列的方法", ""), "k0": ("别的内容", "")})
    assert exact == {"exact"}
    order = fuse_hybrid([keyword, vector], [1.0, 1.0], exact)
    assert order[0].key == "exact" and order[0].exact
    assert [item.key for item in order[1:3]] == ["k0", "k1"]


def test_hybrid_keeps_the_passage_holding_the_whole_query_first(bundled_index):
    result = search(bundled_index, "Transformer 长序列", mode="hybrid", k=5)
    assert result.hits[0].exact
    assert "Transformer" in result.hits[0].passage.text and "长序列" in result.hits[0].passage.text


def test_cross_lingual_hybrid_follows_the_vectors(bundled_index):
    query = "generative models that reverse a diffusion process"
    hybrid = search(bundled_index, query, mode="hybrid", k=3)
    semantic = search(bundled_index, query, mode="semantic", k=3)
    assert "cross-lingual" in hybrid.route or "long" in hybrid.route
    span = lambda hit: (hit.passage.path, hit.passage.line_start, hit.passage.line_end)
    assert span(hybrid.hits[0]) == span(semantic.hits[0])


def test_index_knows_whether_the_notes_hold_every_query_word(bundled_index):
    def holds(query: str) -> bool:
        return bundled_index.holds_words(bundled_index.plan(query))

    assert holds("variational autoencoder")
    assert holds("self-supervised")  # its parts `self` and `supervised` are there
    assert holds("反向传播 Hinton")
    assert not holds("protein folding")  # `folding` is not
    assert not holds("the") and not holds("")


def test_short_english_query_the_notes_spell_out_follows_the_keywords(bundled_index):
    # Leaning on vectors, the Sohl-Dickstein row (`受Kingma的VAE…启发`) fell out of the top 10.
    result = search(bundled_index, "variational autoencoder", mode="hybrid", k=5)
    assert "notes' language" in result.route
    papers = BUNDLED_NOTES / "famous-deep-learning-papers.md"
    top = [hit.passage.line_start for hit in result.hits[:3]]
    assert line_of(papers, "*Auto-Encoding Variational Bayes*") == top[0]
    assert line_of(papers, "*Deep Unsupervised Learning using Nonequilibrium") in top


def test_hybrid_explains_each_hit(bundled_index):
    result = search(bundled_index, "扩散模型 采样效率", mode="hybrid", k=5)
    assert result.route
    for hit in result.hits:
        assert hit.keyword_rank is not None or hit.vector_rank is not None
        if hit.keyword_rank is not None:
            assert hit.keyword_score > 0
    assert any(hit.matched for hit in result.hits)
