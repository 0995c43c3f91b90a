"""Notes about one paper → paper records: front matter, labelled lines, opening paragraphs; topic notes stay notes."""

from __future__ import annotations

import pytest

from corpus.documents import read_document
from corpus.model import Passage
from corpus.packing import MAX_SPAN


def _record(path: str, text: str) -> Passage | None:
    passages = read_document(path, text.encode()).passages
    records = [p for p in passages if p.kind == "paper"]
    assert len(records) <= 1
    return records[0] if records else None


LABELLED = """# BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding

**作者** Jacob Devlin、Ming-Wei Chang、Kenton Lee、Kristina Toutanova等

**发表刊物/会议：** NAACL

**发表年份：** 2018

**论文地址：** https://arxiv.org/abs/1810.04805

**代码地址：** https://github.com/google-research/bert

## 内容概要

本文引入了一种新的语言表示模型BERT，它由transformer的双向编码器组成。
"""


def test_labelled_lines_make_a_note_a_paper_record_over_its_title_and_labels():
    record = _record("/n/NLP/BERT.md", LABELLED)
    assert record.paper.title == "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    assert record.paper.authors == ("Jacob Devlin", "Ming-Wei Chang", "Kenton Lee", "Kristina Toutanova")
    assert (record.paper.year, record.paper.venue, record.paper.arxiv) == (2018, "NAACL", "1810.04805")
    assert (record.line_start, record.line_end) == (1, 9)  # the title to the paper's address, not the code's
    assert record.paper.source == "note"


def test_the_lines_of_a_record_are_not_also_passages_of_their_own():
    passages = read_document("/n/BERT.md", LABELLED.encode()).passages
    assert [p.kind for p in passages if p.line_start <= 9] == ["paper"]
    assert any("双向编码器" in p.text for p in passages if p.kind != "paper")


@pytest.mark.parametrize("text, authors, year", [
    ("# T\n\nAuthors: Jane Doe, John Roe\nYear: 2021\n", ("Jane Doe", "John Roe"), 2021),
    ("# T\n\n- **Authors**: Jane Doe and John Roe\n- **Published**: 2020-05-01\n", ("Jane Doe", "John Roe"), 2020),
    ("# T\n\n**作者：** Gongfan Fang Xinyin Ma Xinchao Wang∗\n", ("Gongfan Fang", "Xinyin Ma", "Xinchao Wang"), None),
    ("# T\n\narXiv: 1810.04805\n", (), 2018),
])
def test_labelled_lines_in_english_and_chinese(text, authors, year):
    record = _record("/n/t.md", text)
    assert (record.paper.authors, record.paper.year) == (authors, year)


def test_front_matter_of_a_literature_note_makes_a_paper():
    text = ("---\ntitle: Attention Is All You Need\nauthors: [Ashish Vaswani, Noam Shazeer]\nyear: 2017\n"
            "doi: 10.48550/arXiv.1706.03762\ncitekey: vaswani2017\nkeywords: [transformer, attention]\n---\n\n"
            "Notes on the paper.\n")
    record = _record("/n/vaswani.md", text)
    paper = record.paper
    assert (paper.title, paper.authors, paper.year) == ("Attention Is All You Need", ("Ashish Vaswani", "Noam Shazeer"),
                                                        2017)
    assert (paper.doi, paper.citekey, paper.keywords) == ("10.48550/arxiv.1706.03762", "vaswani2017",
                                                          ("transformer", "attention"))
    assert record.line_start == 1 and "Ashish Vaswani" in record.text


def test_zotero_style_author_string_is_read_last_name_first():
    text = "---\ntitle: X Paper Title Here\nauthor: Devlin, Jacob and Chang, Ming-Wei\n---\nbody\n"
    assert _record("/n/x.md", text).paper.authors == ("Jacob Devlin", "Ming-Wei Chang")


def test_an_opening_paragraph_that_says_who_and_when_makes_a_paper():
    text = ("## OBS从入门到放弃\n\nOptimal Brain Surgeon (OBS)是1993年Babak Hassibi等人提出来的，该方法利用二阶导数。\n\n"
            "已知等式：\n")
    record = _record("/n/BASE/OBS.md", text)
    assert (record.paper.title, record.paper.authors, record.paper.year) == ("OBS", ("Babak Hassibi",), 1993)
    assert (record.line_start, record.line_end) == (1, 3)
    assert _record("/n/BASE/OBS/README.md", text).paper.title == "OBS"  # a folder of its own: its folder's name


@pytest.mark.parametrize("text", [
    "# 裁剪\n\n## 评价指标\n\n## 结构化裁剪\n\n1. 结构化裁剪与非结构化裁剪的区别是什么？\n",
    ("---\ntitle: 著名论文\ndate: 2025-01-03\ntags: [a]\n---\n\n|年份|作者/标题|注释|\n|---|---|---|\n"
     "|2015|Kaiming He，*Deep Residual Learning*|残差|\n"),
    "# Template\n\n**作者**\n\n**发表年份：**\n",
    "# 序列模型\n\n因此，使用时间动力学可以得到更准确的电影推荐 :cite:`Koren.2009`。\n",  # prose, not a label
    "# 工作能力\n\n“胜任力”这个词是Richard Boyatzis等人在1959年提出的。\n",  # a paper named, not the note's
    "# Notes\n\nYear: 2019\n",  # a year alone names no paper
])
def test_topic_notes_lists_of_papers_and_empty_templates_are_no_paper_note(text):
    passages = read_document("/n/topic.md", text.encode()).passages
    assert not [p for p in passages if p.kind == "paper" and p.paper.source == "note"]


def test_a_folder_readme_is_the_paper_named_by_its_folder():
    record = _record("/n/Deep Residual Learning/README.md", "Authors: Kaiming He, Xiangyu Zhang\n\nYear: 2016\n")
    assert record.paper.title == "Deep Residual Learning"


def test_a_record_spans_at_most_max_span_lines_after_its_first():
    text = "# A Paper With Labels Far Apart\n\n**作者** Jane Doe\n" + "\n" * 20 + "**发表年份：** 2020\n"
    record = _record("/n/far.md", text)
    assert record.line_end - record.line_start <= MAX_SPAN
    assert record.paper.year == 2020  # read, though its line is past the record's span
