"""What an answer is: short passages of a section joined, tables of contents and navigation marked,
directives dropped, nested items given their parent as context."""

from __future__ import annotations

import pytest
from conftest import BUNDLED_NOTES

from corpus.markdown import passages_of
from corpus.packing import MAX_SPAN, MIN_ANSWER, PACK_CHARS, pack, pack_sections
from corpus.reading import parse_note


def note_answers(text: str, path: str = "/notes/n.md"):
    return pack_sections(passages_of(parse_note(path, text)))


def test_short_items_of_one_section_are_one_answer_with_their_parts():
    text = "# 交叉验证\n\n## 理解k折交叉验证\n\n1. 将数据集分成K份。\n2. 每份轮流作为测试集。\n3. 平均K次的结果。\n"
    (answer,) = note_answers(text)
    assert (answer.kind, answer.line_start, answer.line_end) == ("group", 5, 7)
    assert answer.parts == ("将数据集分成K份。", "每份轮流作为测试集。", "平均K次的结果。")
    assert answer.text == "\n".join(answer.parts)
    # Each part is embedded on its own, with the headings as context.
    assert answer.embed_texts() == tuple(f"交叉验证 > 理解k折交叉验证: {part}" for part in answer.parts)


def test_sections_are_never_joined():
    text = "# 笔记\n\n## 甲\n\n甲节只有一句话而已。\n\n## 乙\n\n乙节也只有一句话而已。\n"
    assert [(a.section, a.text) for a in note_answers(text)] == [
        ("笔记 > 甲", "甲节只有一句话而已。"), ("笔记 > 乙", "乙节也只有一句话而已。")]


def test_long_paragraphs_stay_alone_and_a_too_short_one_joins_its_neighbour():
    long_one = "扩散模型" * 120  # over PACK_CHARS
    text = f"# 笔记\n\n让我们计算梯度。\n\n{long_one}\n\n{long_one}\n"
    first, second = note_answers(text)
    assert len("让我们计算梯度。") < MIN_ANSWER and len(long_one) >= PACK_CHARS
    assert first.kind == "group" and first.parts[0] == "让我们计算梯度。" and (first.line_start, first.line_end) == (3, 5)
    assert second.kind == "paragraph" and second.line_start == 7


def test_a_short_last_passage_joins_the_one_before():
    long_one = "注意力机制" * 95
    (answer,) = note_answers(f"# 笔记\n\n{long_one}\n\n见下文。\n")
    assert answer.parts == (long_one, "见下文。") and (answer.line_start, answer.line_end) == (3, 5)


def test_code_papers_and_pieces_are_never_joined():
    text = ("# 笔记\n\n很短的一句。\n\n```python\nx = 1\n```\n\n| 年份 | 作者/标题 | 注释 |\n|---|---|---|\n"
            "| 2017 | Vaswani, *Attention is All You Need* | 注意力 |\n| 2015 | He, *Deep Residual Learning* | 残差 |\n")
    kinds = [a.kind for a in note_answers(text)]
    assert kinds == ["paragraph", "code", "paper", "paper"]
    pieces = passages_of(parse_note("/n.md", "# 笔记\n\n" + "很长的一句话。" * 120 + "\n"))
    assert len(pieces) > 1 and pack(pieces) == pieces


def test_a_joined_answer_spans_at_most_max_span_lines():
    text = "# 笔记\n\n" + "".join(f"- 第{n}条\n" for n in range(40))
    spans = [(a.line_start, a.line_end) for a in note_answers(text)]
    assert all(end - start <= MAX_SPAN for start, end in spans)
    assert spans[0][0] == 3 and spans[-1][1] == 42 and len(spans) >= 40 // (MAX_SPAN + 1)


@pytest.mark.parametrize("text, kind", [
    ("1.1.4 向量和矩阵的范数归纳 2\n\n1.1.5 判断一个矩阵是否为正定矩阵 4\n\n1.2 导数和偏导数 5\n", "toc"),
    ("1.1标量、向量、张量之间的联系\t1  \n1.2张量与矩阵的区别？\t1  \n1.3矩阵和向量相乘结果\t1\n", "toc"),
    ("- [第一章 数学基础](ch01/第一章.md)\n- [第二章 机器学习](ch02(ml)/第二章.md)\n- [简介]()\n", "toc"),
    ("- [动机](#motivation)\n- [方法](#method)\n", "toc"),
    ("- [Attention is all you need](https://arxiv.org/abs/1706.03762)\n- [BERT](https://arxiv.org/abs/1810.04805)\n",
     "group"),  # a reading list of external links is content
    ("1. 将数据集分成K份，每份含有N/K个样本。\n2. 在每种情况中用训练集训练模型。\n", "group"),
    (("[1] K. Simonyan and A. Zisserman. Very Deep Convolutional Networks. ICLR, 2015.\n"
      "[2] 周志华.机器学习[M].清华大学出版社，2016.\n"), "reference"),
    (("[1]   Goodfellow I, Bengio Y, Courville A. Deep learning[M]. MIT press, 2016.  \n\n"
      "[2]   Michael A. Nielsen. \"Neural Networks and Deep Learning\", 2015.\n"), "reference"),
    (("[1] Y. LeCun et al. Gradient-based learning. 1998.\n"
      "[2] A. Krizhevsky et al. ImageNet Classification. 2012.\n"), "reference"),  # one paragraph: lines joined
    ("[1] 中提出的方法在 ImageNet 上取得了最好的结果，\n后来 [3] 又改进了它。\n", "paragraph"),  # prose citing two
])
def test_tables_of_contents_navigation_and_references_are_marked(text, kind):
    assert {a.kind for a in note_answers("# 目录\n\n" + text)} == {kind}


def test_a_table_of_contents_is_not_embedded():
    (toc,) = note_answers("# 目录\n\n1.1 向量 1\n\n1.2 矩阵 2\n")
    assert toc.kind == "toc" and toc.embed_texts() == ()


def test_directive_lines_are_dropped_and_roles_leave_the_text():
    text = "# 梯度下降\n:label:`sec_gd`\n\n我们在 :numref:`sec_sgd` 中描述了随机梯度下降的收敛性，这里换一个角度。\n"
    (answer,) = note_answers(text)
    assert answer.line_start == 4 and ":label:" not in answer.text and "sec_sgd" not in answer.text
    assert "随机梯度下降" in answer.text


def test_a_nested_item_carries_its_parent_item_as_context():
    long_child = "掩码位置在微调时并不存在，预训练和微调的输入分布因此不一致。" * 8
    text = f"# BERT\n\n## 缺点\n\n- [MASK] 预训练和微调不匹配：\n  - {long_child}\n"
    passages = passages_of(parse_note("/n.md", text))
    child = next(p for p in passages if p.text.startswith("掩码位置"))
    assert child.section == "BERT > 缺点" and child.parent == "[MASK] 预训练和微调不匹配"
    assert child.embed_texts()[0].startswith("BERT > 缺点 > [MASK] 预训练和微调不匹配: ")


@pytest.mark.parametrize("name", sorted(path.name for path in BUNDLED_NOTES.glob("*.md")))
def test_bundled_answers_are_whole_and_within_their_span(name):
    path = BUNDLED_NOTES / name
    lines = path.read_text(encoding="utf-8").split("\n")
    for answer in note_answers(path.read_text(encoding="utf-8"), str(path)):
        assert answer.line_end - answer.line_start <= MAX_SPAN
        for part in answer.parts:
            assert any(part[:4] in line for line in lines[answer.line_start - 1:answer.line_end]), part
