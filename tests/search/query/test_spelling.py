"""Query words the index does not hold: one typo away, typed in pinyin, a name written in Chinese (issue 27)."""

from __future__ import annotations

import pytest

from indexer import build
from search import open_index, search
from search.query.plan import typo_weights
from search.query.spelling import Vocabulary, damerau, reading, toneless

LATIN = ["transformer", "attention", "convolutional", "network", "dropout", "learning", "kaiming", "jian", "sun",
         "shaoqing", "ren"]
HAN = ["自", "监督", "视觉", "学习", "对比", "卷积", "神经网络", "剪枝", "键值"]
COMMON = {"学习": 9, "剪枝": 5, "键值": 1}


@pytest.fixture
def vocabulary() -> Vocabulary:
    return Vocabulary(lambda: LATIN, lambda: HAN, lambda term: COMMON.get(term, 0),
                      lambda: ["kaiming", "jian", "sun", "shaoqing", "ren"])


@pytest.mark.parametrize("a, b, distance", [
    ("transformer", "transformer", 0), ("tranformer", "transformer", 1), ("trasnformer", "transformer", 1),
    ("transformerr", "transformer", 1), ("transfarmer", "transformer", 1), ("trnasfromer", "transformer", 2),
    ("abc", "xyz", 3),
])
def test_damerau_counts_a_swap_of_neighbours_as_one_edit(a, b, distance):
    assert damerau(a, b, 3) == distance


@pytest.mark.parametrize("typed, meant", [
    ("tranformer", "transformer"), ("attenton", "attention"), ("dropuot", "dropout"), ("netwrok", "network"),
    ("convolutinal", "convolutional"), ("cnovolutoinal", "convolutional"),  # 12 letters: two edits
])
def test_a_word_one_typo_away_is_respelled(vocabulary, typed, meant):
    assert vocabulary.respellings(typed)[0][0] == meant


@pytest.mark.parametrize("typed", ["transformer", "Transformer", "lern", "atention1", "dropxxt"])
def test_a_held_word_a_short_one_or_one_too_far_is_never_respelled(vocabulary, typed):
    # `dropxxt` is two edits from `dropout`: a word under 9 letters is allowed one.
    assert vocabulary.respellings(typed.lower() if typed.istitle() else typed) == []


@pytest.mark.parametrize("typed, meant", [
    ("shijue", ["视觉"]), ("zijiandu", ["自监督"]), ("zìjiāndū", ["自监督"]), ("zi4jian1du1", ["自监督"]),
    ("ZiJianDu", ["自监督"]), ("shenjingwangluo", ["神经网络"]), ("jianzhi", ["剪枝", "键值"]),
])
def test_pinyin_with_or_without_tones_reads_as_the_index_words(vocabulary, typed, meant):
    assert vocabulary.readings(typed) == meant


def test_pinyin_of_syllables_no_index_word_reads_keeps_the_words_it_does_read(vocabulary):
    assert vocabulary.readings("zumuxibaoshijue") == ["视觉"]  # 祖母细胞 are not index words
    assert vocabulary.readings("zumuxibaoshijue", gaps=False) == []
    assert vocabulary.readings("transformer") == []


def test_a_chinese_name_reads_as_the_authors_write_it(vocabulary):
    assert vocabulary.romanised("何恺明") == "kaiming he"  # `he` is a stop word: the index leaves it out
    assert vocabulary.romanised("孙剑") == "jian sun"
    assert vocabulary.romanised("视觉") == ""
    assert vocabulary.romanised_pinyin("hekaiming") == "kaiming he"
    assert vocabulary.romanised_pinyin("sunjian") == "jian sun"


def test_readings_come_from_pypinyins_dictionary():
    assert reading("自监督") == "zijiandu" and reading("重建") == "chongjian"  # a phrase's reading, not 重's first
    assert toneless("lǜ") == toneless("lv") == "lu"


def _first(index, query, mode="keyword"):
    hits = search(index, query, mode=mode, k=3).hits
    return hits[0].passage if hits else None


@pytest.mark.parametrize("typed, written", [
    ("tranformer", "transformer"), ("Atention mechanism", "attention mechanism"), ("dropuot", "dropout"),
    ("convolutinal networks", "convolutional networks"),
])
def test_a_question_with_a_typo_finds_what_the_word_finds(bundled_index, typed, written):
    assert _first(bundled_index, typed) == _first(bundled_index, written)


@pytest.mark.parametrize("typed, written", [
    ("zijiandu shijue", "自监督 视觉"), ("zi jian du shi jue", "自监督视觉"), ("zìjiāndū", "自监督"),
    ("duibi xuexi", "对比学习"), ("juanji shenjingwangluo", "卷积 神经网络"),
])
def test_a_question_in_pinyin_finds_what_the_characters_find(bundled_index, typed, written):
    assert _first(bundled_index, typed) == _first(bundled_index, written)


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
@pytest.mark.parametrize("query", ["何恺明的论文", "孙剑 任少卿", "hekaiming lunwen"])
def test_a_name_in_chinese_finds_the_paper_its_author_wrote(bundled_index, query, mode):
    first = _first(bundled_index, query, mode)
    assert first.paper is not None and first.paper.title.startswith("Deep Residual Learning"), first.title


@pytest.mark.parametrize("query", ["自监督 视觉", "transformer", "dropout 为什么有效", "Hinton"])
def test_a_question_the_index_holds_is_read_as_typed(bundled_index, query):
    plan = bundled_index.plan(query)
    assert not plan.respelled and not plan.read_as


def test_explain_says_what_was_read_as_what(bundled_index):
    result = search(bundled_index, "tranformer zijiandu xyzzyqq", mode="keyword", k=3)
    assert result.read_as == ("zijiandu → 自监督", "tranformer → transformer", "xyzzyqq → no good match")


def test_a_word_with_letters_added_at_one_end_is_another_word_not_a_typo():
    vocabulary = Vocabulary(lambda: ["unsupervised", "supervision"], list, lambda term: 0)
    assert vocabulary.respellings("supervised") == []  # `un` added: two edits, but a word of its own
    assert vocabulary.respellings("supervisoin") == [("supervision", 1)]


def test_a_word_held_in_any_field_is_never_respelled():
    vocabulary = Vocabulary(lambda: ["transformer"], list, lambda term: 0,
                            held=lambda: ["transformer", "transforme"])  # a link's word
    assert vocabulary.respellings("transforme") == []
    assert vocabulary.holds("transforme")


def test_of_characters_that_read_alike_the_one_the_notes_write_beside_the_next_is_chosen():
    common = {"子": 5, "自": 3, "监督": 4}
    pairs = {"自监": 2}
    vocabulary = Vocabulary(list, lambda: ["子", "自", "监督"], lambda term: common.get(term, 0),
                            pair=lambda bigram: pairs.get(bigram, float("-inf")))
    assert vocabulary.readings("zijiandu") == ["自监督"]  # 子 is the more common word alone


def test_an_english_word_that_spells_single_characters_is_not_read_as_pinyin():
    vocabulary = Vocabulary(list, lambda: ["莫", "热", "度", "饿", "自", "监督"], lambda term: 0)
    assert vocabulary.readings("more") == [] and vocabulary.readings("due") == []
    assert vocabulary.readings("zijiandu") == ["自监督"]


def test_of_the_words_one_typo_away_the_rarer_weighs_less():
    common = {"learning": 6.0, "learnig": 1.0}  # commonness: about e**5 times as many passages
    vocabulary = Vocabulary(lambda: list(common), list, lambda term: common.get(term, float("-inf")))
    weights = dict(typo_weights(vocabulary.respellings("learnign"), vocabulary))
    assert weights["learning"] == 1.0 and 0 < weights["learnig"] < 0.01


def test_a_compound_is_respelled_whole():
    vocabulary = Vocabulary(lambda: ["self-supervised", "supervision"], list, lambda term: 0)
    assert vocabulary.respellings("self-dupervised") == [("self-supervised", 1)]


def test_a_typo_in_a_compound_still_spells_the_glossary_term(bundled_index):
    # The bundled notes write `supervised` only inside a link; `self-supervised learning` spells SSL (自监督学习).
    plan = bundled_index.plan("self-dupervised learning for vision")
    assert plan.read_as == ("self-dupervised → supervised",)
    assert "自监督学习" in {term for terms in plan.expansions.values() for term, _shared in terms}
    assert _first(bundled_index, "self-dupervised learning for vision") \
        == _first(bundled_index, "self-supervised learning for vision")


def test_a_name_romanised_reads_as_the_word_that_writes_it():
    vocabulary = Vocabulary(list, lambda: ["何恺明", "恺明", "李飞飞", "视觉"], lambda term: 0)
    assert vocabulary.written_name("Kaiming", "He") == vocabulary.written_name("he", "kaiming") == ["何恺明"]
    assert vocabulary.written_name("Fei-Fei", "Li") == ["李飞飞"]
    assert vocabulary.written_name("Kaiming", "Li") == [] and vocabulary.written_name("Kaiming", "xyz") == []


@pytest.fixture(scope="module")
def names_index(tmp_path_factory, embedder):
    """Notes that write people's names in Chinese characters only."""
    folder = tmp_path_factory.mktemp("names")
    (folder / "people.md").write_text("# 残差网络\n\n何恺明提出了残差网络，让很深的网络也能训练。\n\n"
                                      "# 数据集\n\n李飞飞创建了 ImageNet 数据集。\n\n# 感知\n\n视觉是感知的一种。\n",
                                      encoding="utf-8")
    build([str(folder)], str(folder / "index"), embedder=embedder)
    with open_index(str(folder / "index"), embedder=embedder) as index:
        yield index


@pytest.mark.parametrize("query, name", [("Kaiming He", "何恺明"), ("He Kaiming", "何恺明"),
                                         ("kaiming he resnet", "何恺明"), ("Fei-Fei Li", "李飞飞")])
def test_a_name_romanised_finds_the_notes_that_write_it_in_characters(names_index, query, name):
    first = _first(names_index, query)
    assert first is not None and name in first.text


def test_a_word_of_jiebas_dictionary_is_no_name(names_index):
    assert names_index.vocabulary.written_name("jue", "shi") == ["视觉"]  # it reads so (surname shi, given jue)
    assert not names_index.plan("jue shi").respelled  # but 视觉 is a noun, not a name
