"""What counts as Chinese, and text folded for comparison: one account for every stage.

HAN is what jieba segments and what every later step counts as a Chinese
character. Two wider classes name what reads as Chinese text around it: CJK
punctuation, kana and full-width forms, between which a line break joins
without a space (corpus/markdown.py), and the same plus the ideographs beyond
the Basic Multilingual Plane, which tell a GB18030 reading from a wrong
guess (corpus/reading.py).
"""

from __future__ import annotations

import functools
import re
import unicodedata

from corpus.radicals import ideographs
from corpus.script import simplified

# CJK Unified Ideographs, Extension A and the compatibility ideographs.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Extensions B to H: rare characters, outside the Basic Multilingual Plane.
HAN_SUPPLEMENTARY = "\U00020000-\U0003134f"
CJK_PUNCTUATION = "\u3000-\u303f"
KANA = "\u3040-\u30ff"
FULL_WIDTH = "\uff00-\uffef"

HAN_CHAR = re.compile(f"[{HAN}]")
HAN_RUN = re.compile(f"[{HAN}]+")
LATIN_LETTER = re.compile(r"[A-Za-z]")
CJK_TEXT_CHAR = re.compile(f"[{CJK_PUNCTUATION}{KANA}{HAN}{FULL_WIDTH}]")
CHINESE_TEXT_CHAR = re.compile(f"[{CJK_PUNCTUATION}{HAN}{FULL_WIDTH}{HAN_SUPPLEMENTARY}]")

# Where a sentence ends: after 。！？!?；; (after . or : only before a space: `3.5`, `http:` go on), and at a line break.
SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|(?<=[.:])(?=\s)|\n")

# A fenced code block opens (and closes) with a line of three or more backticks or tildes.
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")

_SPACE_OR_PUNCT = re.compile(r"[\s\W_]+")
_NOT_WORD = re.compile(r"[\W_]+")
_RADICAL = re.compile("[\u2e80-\u2fdf\ufb00-\ufb06]")
# Letters and digits NFKC writes otherwise: full-width (`ＧＰＴ`), circled, superscript, compatibility ideographs.
_COMPATIBLE = re.compile("[\u00aa-\u00be\u2070-\u24ff\u3200-\u33ff\uf900-\ufaff\uff00-\uffef]")
# The multiplication sign reads as the letter x: notes write a size `3×3` as often as `3x3`, and a query types
# the letter. For str.translate, here (fold) and in the analyzer's normalisation.
MULTIPLICATION_SIGN = "×"
TIMES_AS_X = {ord(MULTIPLICATION_SIGN): "x"}


@functools.lru_cache(maxsize=65536)
def comparable(text: str) -> str:
    """`text` as two copies of one passage compare: NFKC, case folded, letters and digits only.

    The same paragraph read from a note and from a PDF of it differs in its
    spaces and line breaks, its punctuation's width, ligatures (`ﬁ`) and the
    radicals a PDF's fonts name for ideographs, never in its letters. (Kept for
    the texts seen last: a search compares the same passages again and again.)
    """
    if _RADICAL.search(text):
        text = ideographs(text)
    text = _NOT_WORD.sub("", text)  # first: most of what NFKC would change is punctuation, dropped here
    if _COMPATIBLE.search(text):
        text = _NOT_WORD.sub("", unicodedata.normalize("NFKC", text))
    return text.casefold()


def mixes_scripts(text: str) -> bool:
    """True when `text` holds both Chinese characters and Latin letters (`Transformer 出现之前怎么做注意力`)."""
    return bool(HAN_CHAR.search(text)) and bool(LATIN_LETTER.search(text))


def chinese_share(text: str) -> float:
    """How Chinese `text` is, 0..1: Chinese characters against Latin letters (two letters count as one).

    Text with neither (digits, symbols) counts as 0.5, neither language.
    """
    han = len(HAN_CHAR.findall(text))
    latin = len(LATIN_LETTER.findall(text))
    return han / (han + latin / 2) if han or latin else 0.5


def fold(text: str) -> str:
    """`text` lower-cased without spaces or punctuation, `×` read as `x` (`3×3` is `3x3`), Traditional characters
    as Simplified (corpus/script.py): how titles and query words are compared."""
    return simplified(_SPACE_OR_PUNCT.sub("", text.translate(TIMES_AS_X)).lower())


def sentence_runs(text: str, shortest: int) -> list[str]:
    """`text` cut into runs of whole sentences, a sentence shorter than `shortest` characters joined to the
    next one (and a last one shorter than half of it to the one before); [] when that leaves a single run.

        sentence_runs("短句。这一句要长得多，足够成为一段。末尾的这一句也够长了吧。", 8)
        == ["短句。这一句要长得多，足够成为一段。", "末尾的这一句也够长了吧。"]
    """
    ends = sorted({match.end() for match in SENTENCE_END.finditer(text)} | {len(text)})
    runs: list[tuple[int, int]] = []
    begin = 0
    for end in ends:
        if not text[begin:end].strip():
            continue
        if runs and (len(text[runs[-1][0]:runs[-1][1]].strip()) < shortest
                     or len(text[begin:end].strip()) < shortest // 2):
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((begin, end))
        begin = end
    return [text[a:b].strip() for a, b in runs] if len(runs) > 1 else []
