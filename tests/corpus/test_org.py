"""Org files: the outline, keywords, tags and properties read as Markdown gives them, with the file's lines."""

from __future__ import annotations

import pytest

from corpus.documents import read_document
from corpus.org import markdown_lines, read_org

ORG = """#+TITLE: 视觉 Transformer 笔记
#+DATE: <2024-03-05 Tue>
#+FILETAGS: :vision:

前言：这份笔记记录 ViT 及其后续工作。

* TODO ViT 论文 :vit:
  :PROPERTIES:
  :AUTHOR: Alexey Dosovitskiy, Lucas Beyer
  :YEAR: 2021
  :END:
ViT 把图像切成 16x16 的 patch，每个 patch 当作一个词。
** 结构
- 补丁嵌入 patch embedding，见 [[https://arxiv.org/abs/2010.11929][原论文]]
- 位置编码用 =learnable= 的向量
#+BEGIN_SRC python
# a comment in code, not a heading
x = patchify(img)
#+END_SRC
| 模型 | 参数 |
|------+------|
| ViT-B | 86M |
# an Org comment
SCHEDULED: <2024-03-06 Wed>
* 其他
没有属性的标题不是论文。
"""


def read(text: str = ORG):
    return read_org("notes/vit.org", text.encode("utf-8"))


def test_keywords_give_the_title_date_and_tags():
    note, passages = read()
    assert (note.title, note.date, note.tags) == ("视觉 Transformer 笔记", "2024-03-05", ("vision",))
    assert all("vision" in p.tags for p in passages)


def test_passages_keep_the_files_lines_and_their_headings_as_sections():
    _note, passages = read()
    found = {(p.line_start, p.line_end, p.kind, p.section) for p in passages}
    assert (5, 5, "paragraph", "") in found
    assert (12, 12, "paragraph", "ViT 论文") in found  # the TODO keyword and the tags are not the heading's text
    assert (14, 14, "item", "ViT 论文 > 结构") in found
    assert (17, 18, "code", "ViT 论文 > 结构") in found  # the `#` line of a source block is code, not a heading
    assert (22, 22, "row", "ViT 论文 > 结构") in found  # a `|---+---|` rule is the table's separator
    assert (26, 26, "paragraph", "其他") in found
    assert not any(p.region for p in passages)
    texts = " ".join(p.text for p in passages)
    assert "an Org comment" not in texts and "SCHEDULED" not in texts and ":AUTHOR:" not in texts


def test_a_heading_with_author_and_year_properties_is_a_paper_record():
    _note, passages = read()
    papers = [p for p in passages if p.paper]
    assert len(papers) == 1
    record = papers[0]
    assert (record.line_start, record.kind, record.paper.title, record.paper.year) == (7, "paper", "ViT 论文", 2021)
    assert record.paper.authors == ("Alexey Dosovitskiy", "Lucas Beyer")
    assert record.paper.note.startswith("ViT 把图像切成")


def test_a_passage_carries_the_tags_of_the_headings_above_it():
    _note, passages = read()
    under = next(p for p in passages if p.line_start == 14)
    assert set(under.tags) == {"vision", "vit"}
    assert "vit" not in next(p for p in passages if p.line_start == 26).tags


def test_links_and_verbatim_text_read_as_in_markdown():
    _note, passages = read()
    item = next(p for p in passages if p.line_start == 14)
    assert item.text == "补丁嵌入 patch embedding，见 原论文"
    assert item.links == ("https://arxiv.org/abs/2010.11929",)
    assert next(p for p in passages if p.line_start == 15).text == "位置编码用 learnable 的向量"


def test_every_line_has_one_markdown_line():
    lines = ORG.split("\n")
    assert len(markdown_lines(lines)) == len(lines)


def test_an_org_file_without_title_is_titled_by_its_first_heading_and_is_read_by_its_suffix():
    document = read_document("notes/plain.org", b"* First heading\nSome text under it.\n")
    assert document.note.title == "First heading"
    assert [p.text for p in document.passages] == ["Some text under it."]


@pytest.mark.parametrize("text", ["#+BEGIN_SRC\nnever closed\n* not a heading inside", "* " * 5000, ":END:\n" * 100])
def test_odd_org_text_is_read_without_failing(text):
    read(text)
