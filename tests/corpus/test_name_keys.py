"""Name keys: a person written in characters, in full, with initials or surname first holds one key."""

from hypothesis import given
from hypothesis import strategies as st

from corpus.names import author_keys, full_name_keys, han_name_keys, initials_key, shown, text_keys
from corpus.pinyin import syllable_readings

# Characters that read as one syllable each (surnames and given names among them); any would do.
_CHARACTERS = "何恺明孙剑任少卿李飞张祥雨王刘陈杨黄赵周吴徐朱马胡林郭罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"


def test_the_forms_of_one_name_share_its_key():
    assert han_name_keys("何恺明") == {"he_k", "hekai_m"}  # a surname of one character or of two
    for author in ("Kaiming He", "K. He", "K.-M. He", "He, Kaiming", "He, K.", "He Kaiming", "何恺明"):
        assert "he_k" in author_keys(author), author
    assert author_keys("Geoffrey E. Hinton") == {"hinton_g"}
    assert author_keys("Hinton") == set()


def test_prose_names_people_with_initials_or_in_pinyin_only():
    found = text_keys("K. He et al. 与 Jian Sun；G. E. Hinton 和 Fei-Fei Li 写了 Deep Residual Learning。")
    assert {"he_k", "sun_j", "hinton_g", "li_f"} <= found
    assert not {"residual_d", "deep_r", "learning_r"} & found  # two capitalised words that are not pinyin


def test_a_typed_initial_is_a_dot_or_a_capital():
    assert initials_key("K.", "He") == initials_key("He", "K.") == initials_key("k.", "he") == initials_key("K", "He")
    assert initials_key("a", "transformer") == initials_key("top", "k") == ""
    assert full_name_keys("Kaiming", "He") == ["he_k", "kaiming_h"]
    assert full_name_keys("deep", "learning") == []
    assert shown("he_k") == "He, K."


@given(st.text(alphabet=_CHARACTERS, min_size=2, max_size=3))
def test_a_name_in_characters_keys_as_every_way_it_is_romanised(name):
    read = syllable_readings(name)
    surname, given_name = read[0].capitalize(), "".join(read[1:]).capitalize()
    keys = han_name_keys(name)
    for written in (f"{given_name} {surname}", f"{given_name[0]}. {surname}", f"{surname}, {given_name}"):
        assert author_keys(written) & keys, (name, written)
    assert text_keys(f"见 {given_name[0]}. {surname} 的论文") & keys
    assert initials_key(f"{given_name[0]}.", surname) in keys
