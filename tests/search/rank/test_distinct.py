"""One hit for one text: the same paragraph in a note and in the PDF printed from it is one hit, the other place
in its `also`."""

from __future__ import annotations

from corpus.model import Passage
from search.rank.engine import _distinct

NOTE = ("对比学习和生成式自监督两大范式在这段时间都有所发展。视觉领域在2021年前后通过对比学习（SimCLR、MoCo、BYOL等）"
        "已经接近有监督学习精度。")
# The same paragraph as a PDF's text layer gives it: line breaks, a half-width comma, a radical for 自.
PRINTED = ("对比学习和生成式\u2f83监督两大范式在这段时间都有所发展。视觉领域在2021年前后通过对比学习\n"
           "(SimCLR, MoCo, BYOL等)已经接近有监督学习精度。")


def passage(path: str, text: str, region: str = "", line: int = 1) -> Passage:
    return Passage(path=path, line_start=line, line_end=line, section="", title="", text=text, region=region)


def distinct(*passages: Passage):
    keys = {(p.path, p.region, p.line_start, p.line_end): p for p in passages}
    order, also = _distinct([(key, 1.0 - n / 10) for n, key in enumerate(keys)], keys)
    return [key for key, _score in order], also


def test_a_paragraph_and_its_printed_copy_are_one_hit_the_copy_in_also():
    note, printed = passage("n.md", NOTE, line=37), passage("n.pdf", PRINTED, "p2", 9)
    order, also = distinct(note, printed)
    assert order == [("n.md", "", 37, 37)]
    assert also == {("n.md", "", 37, 37): (("n.pdf", "p2", 9, 9),)}


def test_a_page_break_half_of_a_paragraph_is_the_same_text_and_a_sentence_of_it_is_not():
    half = passage("n.pdf", PRINTED[:len(PRINTED) * 2 // 3], "p2", 20)
    sentence = passage("n.pdf", "视觉领域在2021年前后通过对比学习已经接近有监督学习精度。", "p3", 1)
    order, _also = distinct(passage("n.md", NOTE), half, sentence)
    assert order == [("n.md", "", 1, 1), ("n.pdf", "p3", 1, 1)]


def test_different_texts_stay_apart_and_short_ones_only_join_when_equal():
    order, also = distinct(passage("a.md", "Dropout 随机丢弃神经元。"), passage("b.md", "Dropout 随机丢弃神经元"),
                           passage("c.md", "Dropout"), passage("d.md", "BatchNorm 归一化每一层的输入。"))
    assert order == [("a.md", "", 1, 1), ("c.md", "", 1, 1), ("d.md", "", 1, 1)]
    assert also == {("a.md", "", 1, 1): (("b.md", "", 1, 1),)}
