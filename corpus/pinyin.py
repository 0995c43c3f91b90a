"""Chinese read in pinyin, without tones: the one seam to pypinyin.

    reading("自监督")              # "zijiandu"
    toneless("zìjiāndū")           # "zijiandu"
    spelled_in_syllables("kaiming")  # True

pypinyin's own dictionaries give each character's first reading and each
phrase's. The query's spelling (search/query/spelling.py) reads the index's
Chinese words so; the name keys (corpus/names.py) read Chinese names so.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_LETTERS = re.compile(r"[a-z]+")
_TONE_DIGITS = re.compile(r"(?<=[a-zü])[1-5]")
# The longest toneless syllable (`zhuang`).
LONGEST_SYLLABLE = 6
# Every toneless syllable pypinyin reads a character as (tests/corpus/test_pinyin.py checks them against its
# tables): whether letters spell pinyin is asked of a query's Latin words, and loading the tables takes 0.25 s
# of a cold search.
_SYLLABLES = """
a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong bu ca cai
can cang cao ce cei cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai
chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de den deng di dian
diao die din ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang fei fen feng fiao fo
fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo ha hai han
hang hao he hei hen heng hm hong hou hu hua huai huan huang hui hun huo ji jia jian jiang jiao jie
jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke ken keng kong kou ku kua kuai kuan kuang
kui kun kuo la lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou lu
luan lue lun luo m ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu n na
nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan nue nun nuo o
ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie
qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo sa
sai san sang sao se sen seng sha shai shan shang shao she shen sheng shi shou shu shua shuai shuan
shuang shui shun shuo si song sou su suan sui sun suo ta tai tan tang tao te teng ti tian tiao tie
ting tong tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo wong wu xi xia xian xiang xiao xie
xin xing xiong xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai
zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhen zheng zhi zhong zhou zhu zhua zhuai
zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo
"""
SYLLABLES = frozenset(_SYLLABLES.split())


def toneless(text: str) -> str:
    """Pinyin as compared: lower case, no tone marks or tone digits, `ü` and `v` as `u`, no spaces or `'`."""
    text = _TONE_DIGITS.sub("", text.lower())
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return plain.replace("v", "u").replace("'", "").replace(" ", "")


@functools.lru_cache(maxsize=1)
def tables() -> tuple[dict[int, str], dict[str, list[list[str]]]]:
    """pypinyin's readings: each character's (first one, toneless) and each phrase's."""
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    return {code: toneless(readings.split(",")[0]) for code, readings in pinyin_dict.items()}, phrases_dict


def reading(word: str) -> str:
    """The toneless pinyin of a Chinese word, syllables run together (`自监督` → `zijiandu`); "" when a character
    has no reading."""
    chars, phrases = tables()
    phrase = phrases.get(word)
    if phrase is not None:
        return "".join(toneless(syllables[0]) for syllables in phrase)
    read = [chars.get(ord(ch), "") for ch in word]
    return "".join(read) if all(read) else ""


def syllable_readings(word: str) -> list[str]:
    """Each character's toneless reading (`何恺明` → he, kai, ming); "" for a character that has none."""
    chars, _phrases = tables()
    return [chars.get(ord(ch), "") for ch in word]


def could_be_pinyin(text: str) -> bool:
    """Whether `text` is Latin letters (tone marks or digits allowed) that pinyin could spell."""
    plain = toneless(text)
    return bool(plain) and _LETTERS.fullmatch(plain) is not None


def syllables() -> frozenset[str]:
    """Every toneless syllable pypinyin reads a character as (SYLLABLES)."""
    return SYLLABLES


@functools.lru_cache(maxsize=4096)
def spelled_in_syllables(word: str) -> bool:
    """Whether lower-case letters `word` are pinyin syllables in a row (`kaiming`, `feifei`; not `hinton`)."""
    known = syllables()
    ends = {0}
    for end in range(1, len(word) + 1):
        if any(word[start:end] in known for start in ends if end - start <= LONGEST_SYLLABLE):
            ends.add(end)
    return len(word) in ends and bool(word)
