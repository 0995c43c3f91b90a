"""Search across languages: the notes' glossary (keyword terms and the query vector) and the words of link targets."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BUNDLED_NOTES, line_of

from indexer.dictionary import learn_glossary
from indexer.embedders import query_form
from search import Settings, search
from search.query.glossary import Glossary
from search.query.plan import plan_query
from search.rank.ranking import query_vector

TRENDS = BUNDLED_NOTES / "dl-research-trends-2022-2024.md"
PAPERS = BUNDLED_NOTES / "famous-deep-learning-papers.md"
GLOSSARY = Glossary([("SSL", "自监督学习"), ("VAE", "变分自编码器"), ("Diffusion Models", "扩散模型"),
                     ("CV", "计算机视觉"), ("LSTM", "长短期记忆")])


def lines(hits, path) -> list[int]:
    return [h.passage.line_start for h in hits if h.passage.path.endswith(path.name)]


def test_words_whose_initials_spell_an_acronym_stand_for_its_term():
    found = GLOSSARY.expansions(["self-supervised", "learning", "for", "vision"])
    assert found == {0: [("SSL", 2), ("自监督学习", 2)], 1: [("SSL", 2), ("自监督学习", 2)]}


def test_an_english_name_and_an_acronym_typed_as_is_stand_for_their_term():
    assert GLOSSARY.expansions(["diffusion", "models"])[0] == [("扩散模型", 2)]
    assert GLOSSARY.expansions(["lstm"]) == {0: [("长短期记忆", 1)]}
    assert GLOSSARY.expansions(["长短期记忆"]) == {0: [("LSTM", 1)]}


def test_a_compound_word_spells_the_initials_of_its_two_words():
    # `autoencoder` is auto + encoder: `variational autoencoder` spells VAE.
    expected = [("VAE", 2), ("变分自编码器", 2)]
    assert GLOSSARY.expansions(["variational", "autoencoder"]) == {0: expected, 1: expected}
    assert GLOSSARY.expansions(["Variational", "Autoencoders"]) == {0: expected, 1: expected}
    # A prefix with too short a rest is no compound (`automl`), and `auto` alone is one word.
    assert Glossary([("VAM", "x")]).expansions(["variational", "automl"]) == {}


def test_a_compound_spells_an_acronym_the_notes_define():
    # d2l-zh writes `多层感知机（MLP）`; `multilayer` is multi + layer.
    glossary = Glossary(learn_glossary("我们将介绍多层感知机（MLP），它由多个全连接层组成。"))
    assert glossary.expansions(["multilayer", "perceptron"])[1] == [("MLP", 2), ("多层感知机", 2)]


def test_initials_do_not_run_across_a_stop_word_but_an_english_name_does():
    glossary = Glossary([("SGD", "随机梯度下降"), ("Mixture of Experts", "混合专家")])
    assert glossary.expansions(["stochastic", "gradient", "descent"])[0] == [("SGD", 3), ("随机梯度下降", 3)]
    assert glossary.expansions(["stochastic", "and", "gradient", "descent"]) == {}
    assert glossary.expansions(["sparse", "mixture", "of", "experts"]) == {n: [("混合专家", 3)] for n in (1, 2, 3)}


def test_two_letter_acronyms_are_not_matched_by_initials():
    # `computer vision` would spell CV, but so would any two words starting with c and v.
    assert GLOSSARY.expansions(["computer", "vision"]) == {}
    assert GLOSSARY.expansions(["supervised", "learning"]) == {}


def test_the_punctuation_that_closes_a_question_is_not_part_of_its_last_word():
    plain = GLOSSARY.expansions(["what", "is", "self-supervised", "learning"])
    assert ("SSL", 2) in plain[3]
    for last in ("learning?", "learning.", "learning？", "learning。", "learning?!"):
        assert GLOSSARY.expansions(["what", "is", "self-supervised", last]) == plain
    assert GLOSSARY.expansions(["self-supervised", "learning?"]) == {n: [("SSL", 2), ("自监督学习", 2)] for n in (0, 1)}
    assert GLOSSARY.expansions(["lstm?"]) == {0: [("长短期记忆", 1)]}
    assert GLOSSARY.expansions(["长短期记忆？"]) == {0: [("LSTM", 1)]}
    assert GLOSSARY.expansions(["?"]) == {} and GLOSSARY.expansions([]) == {}


def test_a_question_typed_with_its_question_mark_finds_what_it_finds_without(bundled_index):
    asked = search(bundled_index, "what is self-supervised learning?", mode="keyword", k=5).hits
    plain = search(bundled_index, "what is self-supervised learning", mode="keyword", k=5).hits
    assert [h.passage.id for h in asked] == [h.passage.id for h in plain]
    assert line_of(TRENDS, "特别是**自监督学习（SSL）**") in lines(asked, TRENDS)[:3]


def test_english_query_finds_the_chinese_paragraph_defining_the_term(bundled_index):
    hits = search(bundled_index, "self-supervised learning", mode="keyword", k=5).hits
    assert line_of(TRENDS, "特别是**自监督学习（SSL）**") in lines(hits, TRENDS)[:3]


def test_a_word_only_in_a_link_target_finds_its_paragraph(bundled_index):
    # `expect` occurs only in the lightly.ai links (…/self-supervised-learning-trends-and-what-to-expect-in-2023).
    hits = search(bundled_index, "expect", mode="keyword", k=5).hits
    assert line_of(TRENDS, "两大范式在这段时间都有所发展") in lines(hits, TRENDS)
    assert all("expect" not in h.passage.text for h in hits)


def test_english_name_of_an_acronym_finds_where_the_notes_use_it(bundled_index):
    # The Sohl-Dickstein row says only `Kingma的VAE`; the notes define VAE as 变分自编码器 elsewhere.
    hits = search(bundled_index, "variational autoencoder", mode="keyword", k=5).hits
    assert lines(hits, PAPERS)[:2] == [line_of(PAPERS, "*Auto-Encoding Variational Bayes*"),
                                       line_of(PAPERS, "*Deep Unsupervised Learning using Nonequilibrium")]
    assert "VAE" in hits[1].matched and "**VAE**" in hits[1].snippet  # the snippet shows why it matched


def test_the_query_vector_reads_the_notes_translation_of_its_words(bundled_index, embedder):
    plan = plan_query("self-supervised learning for vision", bundled_index.analyzer, GLOSSARY)
    assert plan.translated_text == "self-supervised learning for vision (SSL, 自监督学习)"
    # The translation is read as the query as typed (one script: English), though it holds Chinese.
    typed, translated = embedder.encode_query(plan.embed_text), query_form(embedder, plan.translated_text, plan.embed_text)
    vector = query_vector(embedder, plan)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    # Halfway between the query as typed and as translated: nearer each than they are to each other.
    assert vector @ typed == pytest.approx(vector @ translated, abs=1e-5)
    assert vector @ typed > typed @ translated


def test_a_query_the_glossary_does_not_translate_is_embedded_as_typed(bundled_index, embedder):
    # No term to add (`SSL` and `自监督学习` are both typed already), or none at all: one vector, as typed.
    for text in ("自监督学习 SSL", "dropout 为什么有效"):
        plan = plan_query(text, bundled_index.analyzer, GLOSSARY)
        assert plan.translated_text == ""
        assert np.array_equal(query_vector(embedder, plan), embedder.encode_query(plan.embed_text))


def test_both_forms_of_a_translated_query_are_read_in_one_pass_of_the_model(bundled_index, embedder, monkeypatch):
    from indexer.e5_numpy import E5Numpy

    read = []
    real_encode = E5Numpy.encode
    monkeypatch.setattr(E5Numpy, "encode", lambda self, texts, *args, **kwargs:
                        read.append(list(texts)) or real_encode(self, texts, *args, **kwargs))
    plan = plan_query("self-supervised learning for vision", bundled_index.analyzer, GLOSSARY)
    query_vector(embedder, plan)
    assert read == [[plan.embed_text, plan.translated_text]]


LONG_QUESTION = ("how does self-supervised learning on unlabeled images compare with supervised pretraining when the "
                 "labelled data set is small and the model is a large vision transformer trained for many epochs")


def test_the_translation_share_counts_a_chinese_character_as_part_of_a_word(bundled_index):
    # `self-supervised learning for vision (SSL, 自监督学习)`: 5 words typed; 1 word and 5 characters added, that
    # an embedder reads as about 2 words.
    plan = plan_query("self-supervised learning for vision", bundled_index.analyzer, GLOSSARY)
    assert plan.translation_share == pytest.approx(3 / 8)
    # A short Chinese query with an acronym added is changed by it: its 5 characters are not 5 words.
    assert plan_query("长短期记忆", bundled_index.analyzer, GLOSSARY).translation_share == pytest.approx(1 / 3)
    assert plan_query("dropout 为什么有效", bundled_index.analyzer, GLOSSARY).translation_share == 0.0


def test_a_long_question_that_one_term_translates_is_read_once(bundled_index, embedder, monkeypatch):
    from indexer.e5_numpy import E5Numpy

    read = []
    real_encode = E5Numpy.encode
    monkeypatch.setattr(E5Numpy, "encode", lambda self, texts, *args, **kwargs:
                        read.append(list(texts)) or real_encode(self, texts, *args, **kwargs))
    plan = plan_query(LONG_QUESTION, bundled_index.analyzer, GLOSSARY)
    assert plan.translated_text.endswith("(SSL, 自监督学习)")
    assert 0 < plan.translation_share < Settings().translation_share
    vector = query_vector(embedder, plan)
    assert read == [[plan.embed_text]]
    assert np.array_equal(vector, embedder.encode_query(plan.embed_text))
    # A search reads it as its settings say: with a share of 0, every translation is read.
    indexed = bundled_index.plan(LONG_QUESTION)
    assert indexed.translated_text and indexed.translation_share < Settings().translation_share
    for share, forms in ((Settings().translation_share, [indexed.embed_text]),
                         (0.0, [indexed.embed_text, indexed.translated_text])):
        read.clear()
        search(bundled_index, LONG_QUESTION, mode="semantic", settings=Settings(translation_share=share))
        assert read == [forms]
