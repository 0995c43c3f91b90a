"""The mixed Chinese/English analyzer: a table of inputs → tokens, offsets, stemming,
the character-gram fallback, the learned dictionary and jieba's cache and silence."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.analysis import Analyzer, Token, char_grams, gram_terms, normalize, stem
from indexer.dictionary import learn_words

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory) -> Analyzer:
    return Analyzer(cache_dir=str(tmp_path_factory.mktemp("jieba")))


def texts(tokens: list[Token]) -> list[str]:
    return [t.text for t in tokens]


# Every token in order: a compound's parts follow it (`resnet-50`, then `resnet`, `50`).
TABLE = [
    # ASCII runs kept whole and split where users expect
    ("ResNet-50", ["resnet-50", "resnet", "50"]),
    ("GPT-4", ["gpt-4", "gpt", "4"]),
    ("GPT-4o", ["gpt-4o", "gpt", "4o"]),
    ("top-1", ["top-1", "top", "1"]),
    ("C++", ["c++", "c"]),
    ("C#", ["c#", "c"]),
    ("ViT-B/16", ["vit-b/16", "vit", "b", "16"]),
    ("LLaMA-2-7B", ["llama-2-7b", "llama", "2", "7b"]),
    ("U-Net", ["u-net", "u", "net"]),
    ("x86_64", ["x86_64", "x86", "64"]),
    ("node.js", ["node.js", "node", "js"]),
    ("self-supervised", ["self-supervised", "self", "supervised"]),
    ("BERT-base 模型", ["bert-base", "bert", "base", "模型"]),
    ("word2vec", ["word2vec"]),
    # numbers
    ("2015", ["2015"]),
    ("3.14", ["3.14"]),
    ("TensorFlow 2.0", ["tensorflow", "2.0"]),
    ("Hinton 1986", ["hinton", "1986"]),
    # one letter is a word too
    ("R", ["r"]),
    ("R语言", ["r", "语言"]),
    ("K-means聚类", ["k-means", "k", "mean", "聚类"]),
    # full width and other compatibility forms (NFKC) and case folding
    ("ＧＰＴ", ["gpt"]),
    ("ＧＰＴ-4", ["gpt-4", "gpt", "4"]),
    ("Ｃ＋＋", ["c++", "c"]),
    ("Ｈｅｌｌｏ，世界", ["hello", "世界"]),
    ("２０１５年", ["2015", "年"]),
    ("ﬁne-tuning", ["fine-tuning", "fine", "tuning"]),
    ("Ⅳ", ["iv"]),
    ("①", ["1"]),
    ("Café", ["café"]),
    ("Ω", ["ω"]),
    # stemming: plurals only, distinct words stay distinct
    ("transformers", ["transformer"]),
    ("transformer", ["transformer"]),
    ("transform", ["transform"]),
    ("Networks", ["network"]),
    ("policies", ["policy"]),
    ("classes", ["class"]),
    ("analysis", ["analysis"]),
    ("bus", ["bus"]),
    # stop words, English and Chinese
    ("the networks of the brain", ["network", "brain"]),
    ("of the and", []),
    ("我们的模型", ["模型"]),
    ("", []),
    ("   \n\t", []),
    ("！？。，", []),
    # Chinese: jieba words, and the dictionary words inside a long word at its position
    ("图", ["图"]),
    ("马克", ["马克"]),
    ("马克思主义", ["马克思主义", "马克", "主义", "马克思"]),
    ("机器翻译", ["机器翻译", "机器", "翻译"]),
    ("反向传播", ["反向", "传播"]),
    ("卷积神经网络", ["卷积", "神经网络", "神经", "网络", "神经网"]),
    ("自监督 视觉", ["自", "监督", "视觉"]),
    ("Transformer 长序列", ["transformer", "长", "序列"]),
    ("深度学习（Deep Learning）", ["深度", "学习", "deep", "learning"]),
    # Traditional characters read as Simplified, before jieba cuts them (corpus/script.py)
    ("機器學習", ["机器", "学习"]),
    ("卷積神經網絡", ["卷积", "神经网络", "神经", "网络", "神经网"]),
    # Invisible characters inside a word read as nothing; full-width letters and digits as half-width
    ("掩\u200b码", ["掩码"]),
    ("self\u00adsupervised", ["selfsupervised"]),
    ("ＢＥＲＴ ３", ["bert", "3"]),
]


@pytest.mark.parametrize("text, expected", TABLE, ids=[repr(t) for t, _ in TABLE])
def test_tokens(analyzer, text, expected):
    assert texts(analyzer.tokens(text)) == expected


def test_positions_count_words_and_parts_share_them(analyzer):
    tokens = analyzer.tokens("用 ResNet-50 图像分类")
    by_text = {t.text: t for t in tokens}
    assert by_text["resnet"].pos == by_text["resnet-50"].pos
    assert by_text["50"].pos == by_text["resnet"].pos + 1
    assert by_text["图像"].pos == by_text["50"].pos + 1  # so both "resnet-50 图像" and "resnet 50 图像" are phrases


def test_chinese_phrase_terms_are_consecutive(analyzer):
    tokens = [t for t in analyzer.tokens("我们使用生成对抗网络生成图像") if not t.part]
    assert [t.pos for t in tokens] == list(range(1, len(tokens) + 1))


def test_offsets_point_into_the_original_text(analyzer):
    text = "ＧＰＴ-4 与 ﬁne-tuning：马克思主义"
    for token in analyzer.tokens(text):
        assert normalize(text[token.start:token.end])[0] == token.text or token.part


@pytest.mark.parametrize("text", ["自監督學習與對比學習", "注意力掩\u200b码和卷積", "\ufeffＧＰＴ\u200d模型",
                                  "\xad0¯"])  # one character dropped, one that becomes two
def test_folded_tokens_point_at_the_notes_own_characters(analyzer, text):
    for token in analyzer.tokens(text):
        shown = text[token.start:token.end]
        assert shown[0] not in "\u200b\u200d\ufeff" and shown[-1] not in "\u200b\u200d\ufeff"
        assert normalize(shown)[0] == token.text or token.part


def test_a_note_in_either_script_gives_the_same_terms(analyzer):
    assert analyzer.index_terms("自監督學習的視覺表示") == analyzer.index_terms("自监督学习的视觉表示")
    assert gram_terms("自監督學習") == gram_terms("自监督学习")


def test_query_terms_take_one_term_per_position(analyzer):
    assert analyzer.query_terms("ResNet-50 马克思主义") == ["resnet", "50", "马克思主义"]


def test_stem_never_merges_distinct_words():
    assert stem("transformer") != stem("transform")
    assert stem("networks") == stem("network")
    assert stem("gas") == "gas"


def test_char_grams_are_each_character_with_the_next_and_the_last_of_a_run_alone():
    grams = char_grams("图神经 网络 猫")
    assert [(g.text, g.pos) for g in grams] == [("图神", 1), ("神经", 2), ("经", 3), ("网络", 5), ("络", 6), ("猫", 8)]
    assert all(g.start < g.end for g in grams)


def test_char_grams_offsets_follow_full_width_text():
    text = "ＡＢ图像ﬁ卷积网络"
    assert [(g.text, text[g.start:g.end]) for g in char_grams(text)] == [
        ("图像", "图像"), ("像", "像"), ("卷积", "卷积"), ("积网", "积网"), ("网络", "网络"), ("络", "络")]


@pytest.mark.parametrize("text", ["图神经 网络 猫", "自监督学习 与 ResNet-50 的 self-supervised learning", "", "ＧＰＴ-4 图"])
def test_gram_terms_are_the_char_grams_from_position_zero(text):
    assert gram_terms(text) == ([g.text for g in char_grams(text)], [g.pos - 1 for g in char_grams(text)])


@pytest.mark.parametrize("text", ["自监督学习 与 ResNet-50 的 self-supervised learning", "机器翻译（Machine Translation）",
                                  "", "C++ 与 ViT-B/16", "ＧＰＴ-4 ﬁnetuning İstanbul"])
def test_index_terms_are_the_tokens_from_position_zero(analyzer, text):
    tokens = analyzer.tokens(text)
    assert analyzer.index_terms(text) == ([t.text for t in tokens], [t.pos - 1 for t in tokens])


@pytest.mark.parametrize("text", ["ＧＰＴ-4，模型。", "ﬁne İstanbul é\u0301", "plain ascii", "全角（括号）"])
def test_normalize_folds_each_character_and_maps_offsets_back(text):
    norm, origin = normalize(text)
    each = [unicodedata.normalize("NFKC", ch).lower() for ch in text]
    assert norm == "".join(each)
    assert origin == (None if all(len(out) == 1 for out in each) else
                      [i for i, out in enumerate(each) for _ in out])


@pytest.mark.parametrize("text", ["3×3 卷积", "1×1卷积", "A×B"])
def test_the_multiplication_sign_reads_as_x_in_place(analyzer, text):
    typed = text.replace("×", "x")
    assert [(t.text, t.start, t.end) for t in analyzer.tokens(text)] == [
        (t.text, t.start, t.end) for t in analyzer.tokens(typed)]
    assert normalize(text) == (typed.lower(), None)


def test_learned_domain_word_stays_whole(tmp_path):
    words = learn_words("**掩码自编码器（Masked Autoencoders）** 是一种自监督方法。")
    assert "掩码自编码器" in words
    plain = Analyzer(cache_dir=str(tmp_path / "plain"))
    learned = Analyzer(words, cache_dir=str(tmp_path / "learned"))
    assert "掩码自编码器" not in texts(plain.tokens("掩码自编码器"))
    main = [t.text for t in learned.tokens("我们复现了掩码自编码器的实验") if not t.part]
    assert "掩码自编码器" in main
    assert "编码器" in texts(learned.tokens("掩码自编码器"))  # still found by its inner word


def test_term_before_parenthesised_english_name_is_learned():
    text = "这篇论文提出了长短期记忆（LSTM）架构，而Le Cun设计了卷积神经网络 (CNN)。"
    words = learn_words(text)
    assert "长短期记忆" in words and "卷积神经网络" in words
    assert not any(w.startswith(("提出", "了", "设计")) for w in words)


def test_years_in_parentheses_teach_nothing():
    assert learn_words("Jordan（1986）设计的网络") == []


def test_jieba_writes_its_cache_only_into_the_cache_dir_and_prints_nothing(tmp_path):
    cache_dir = tmp_path / "cache"
    tmp_dir = tmp_path / "tmp"
    tmp_dir.mkdir()
    code = ("from indexer.analysis import Analyzer\n"
            f"Analyzer(['掩码自编码器'], {str(cache_dir)!r}).tokens('掩码自编码器')\n"
            "Analyzer().tokens('没有缓存目录')\n")
    env = dict(os.environ, TMPDIR=str(tmp_dir))
    done = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
    assert os.listdir(tmp_dir) == []
    assert sorted(os.listdir(cache_dir)) == ["jieba.bychar", "jieba.cache"]


def test_a_cache_dir_that_cannot_be_written_goes_without_a_cache_and_prints_nothing(tmp_path):
    code = ("import errno, indexer.analysis as a, indexer.segmenter as s\n"
            "def fail(*args): raise OSError(errno.EROFS, 'Read-only file system')\n"
            "s.atomic_write = fail\n"
            f"print(a.Analyzer(['掩码自编码器'], {str(tmp_path)!r}).tokens('掩码自编码器')[0].text)\n")
    done = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, "掩码自编码器\n", "")
    assert os.listdir(tmp_path) == []


# Any text: letters, Han, full width, punctuation, combining marks, emoji, control characters.
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80) | st.text(
    alphabet="ＧＰＴ-4 C++ ResNet-50 图马克思主义 ﬁ①Ⅳ İ é\u0301 。，（）/._'#+", max_size=40)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_analyzer_on_any_text_gives_tokens_inside_the_text(text):
    analyzer = Analyzer()
    for token in analyzer.tokens(text):
        assert 0 <= token.start < token.end <= len(text)
        original = normalize(text[token.start:token.end])[0]
        assert token.text == original or token.text in original or stem(original) == token.text
    tokens = analyzer.tokens(text)
    assert analyzer.index_terms(text) == ([t.text for t in tokens], [t.pos - 1 for t in tokens])
    grams = char_grams(text)
    for token in grams:
        assert 0 <= token.start < token.end <= len(text)
    assert gram_terms(text) == ([g.text for g in grams], [g.pos - 1 for g in grams])


def test_a_words_part_of_speech_is_its_line_in_jiebas_dictionary():
    """Found in the dictionary file's bytes word by word (a cold query asks for a few), as a table of every line
    would give it."""
    import random

    import jieba

    from indexer.segmenter import Segmenter

    table = {}
    with jieba.Tokenizer().get_dict_file() as f:
        for line in f:
            word, _count, tag = line.decode("utf-8").split()
            table[word] = tag
    asked = random.Random(7).sample(sorted(table), 300) + ["注意力", "何恺明", "不是一个词语的词语", "Transformer", "",
                                                           "AT&T", "AT&T 3", "n"]
    assert {word: Segmenter.part_of_speech(word) for word in asked} == {
        word: "" if " " in word else table.get(word, "") for word in asked}
