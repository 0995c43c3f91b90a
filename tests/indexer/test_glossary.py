"""The glossary learned from the notes: a term with the English name or acronym a note gives it."""

from __future__ import annotations

from conftest import BUNDLED_NOTES

from indexer.dictionary import learn_glossary, learn_words, merge_glossaries
from indexer.keyword.documents import link_words
from search.query.glossary import Glossary


def test_chinese_term_with_its_acronym_or_english_name():
    text = "这篇论文提出了长短期记忆（LSTM）架构。另一大热点是扩散模型（Diffusion Models），以及 Scaling Laws（缩放定律）。"
    assert learn_glossary(text) == [("LSTM", "长短期记忆"), ("Diffusion Models", "扩散模型"), ("Scaling Laws", "缩放定律")]


def test_citations_and_sentences_in_parentheses_are_not_names():
    text = "特征优化方法（Olah 2017）。这个方法很好（this is a long sentence that explains the method in detail）。"
    assert learn_glossary(text) == []


def test_panel_labels_and_stop_words_in_parentheses_name_nothing():
    # `如下图（a）和（b）所示` labels a figure's panels: neither a glossary entry (the query word `a` would stand for
    # 细节分别如下图) nor a learned word. Two letters do name a term (`计算机视觉（CV）`).
    text = "FFMv1和FFMv2的结构细节分别如下图（a）和（b）所示，见上文（the）。计算机视觉（CV）"
    assert learn_glossary(text) == [("CV", "计算机视觉")]
    assert learn_words(text) == ["计算机视觉"]


def test_a_glossary_ignores_entries_that_name_nothing():
    # An index built before names were checked may hold such a pair.
    glossary = Glossary([("a", "细节分别如下图"), ("LSTM", "长短期记忆")])
    assert glossary.expansions(["a", "lstm"]) == {1: [("长短期记忆", 1)]}


def test_bundled_notes_define_the_terms_a_reader_sees():
    pairs = set(merge_glossaries(learn_glossary(path.read_text(encoding="utf-8"))
                                 for path in sorted(BUNDLED_NOTES.glob("*.md"))))
    for pair in [("SSL", "自监督学习"), ("VAE", "变分自编码器"), ("GAN", "生成对抗网络"), ("Scaling Laws", "缩放定律")]:
        assert pair in pairs


def test_link_words_keep_the_path_and_text_fragment_words():
    url = "https://www.lightly.ai/blog/self-supervised-learning-trends#:~:text=Vision_Learners,in 2023"
    assert link_words(url).split() == ["lightly", "ai", "blog", "self-supervised-learning-trends", "Vision",
                                       "Learners", "in", "2023"]
