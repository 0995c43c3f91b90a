"""A note's markdown → passages: line spans, front matter, sections, items, stripping, pieces."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from conftest import BUNDLED_NOTES, line_of

from corpus.markdown import MAX_HEADING, MAX_PIECE, passages_of, split_long, strip_inline
from corpus.model import Passage
from corpus.reading import NoteFile, read_note

TRENDS = BUNDLED_NOTES / "dl-research-trends-2022-2024.md"
PAPERS = BUNDLED_NOTES / "famous-deep-learning-papers.md"


def passages_in(path: Path) -> list[Passage]:
    """The passages of a note file read the way the indexer reads it."""
    return passages_of(read_note(NoteFile(str(path), str(path.parent))))


def note_passages(notes_dir, text: str | bytes, name: str = "note.md") -> tuple[Path, list[Passage]]:
    path = notes_dir({name: text}) / name
    return path, passages_in(path)


def at_line(passages: list[Passage], line: int) -> list[Passage]:
    return [p for p in passages if p.line_start <= line <= p.line_end]


# ------------------------------------------------------------ golden checks on the bundled notes

@pytest.mark.parametrize("path", [TRENDS, PAPERS], ids=lambda p: p.name)
def test_every_bundled_passage_starts_and_ends_on_its_lines(path):
    lines = path.read_text(encoding="utf-8").split("\n")
    passages = passages_in(path)
    assert passages
    for p in passages:
        assert 1 <= p.line_start <= p.line_end <= len(lines)
        first = strip_inline(lines[p.line_start - 1]).replace("|", " ")
        last = strip_inline(lines[p.line_end - 1]).replace("|", " ")
        head, tail = p.text[:6], p.text[-6:]
        assert head in first or head in " ".join(first.split()), (p.id, head, first[:80])
        assert tail in last or tail in " ".join(last.split()), (p.id, tail, last[-80:])


def test_mae_paragraph_is_on_its_line_under_its_heading():
    line = line_of(TRENDS, "两大范式在这段时间都有所发展")
    pieces = at_line(passages_in(TRENDS), line)
    assert pieces and all((p.line_start, p.line_end) == (line, line) for p in pieces)
    assert pieces[0].text.startswith("对比学习和生成式自监督两大范式在这段时间都有所发展。")
    assert any("Masked Autoencoders (MAE)" in p.text for p in pieces)
    assert {p.section for p in pieces} == {"表示学习与自监督学习"}
    assert {p.title for p in pieces} == {"dl-research-trends-2022-2024"}


def test_bundled_two_line_paragraph_spans_both_lines():
    first, second = line_of(PAPERS, "papers.baulab.info/"), line_of(PAPERS, "东北大学David Bau教授")
    assert second == first + 1
    [passage] = at_line(passages_in(PAPERS), first)
    assert (passage.line_start, passage.line_end) == (first, second)
    assert passage.section == "深度学习论文成千上万，从哪里开始呢？"


def test_bundled_front_matter_is_metadata_not_passages():
    note = read_note(NoteFile(str(PAPERS), str(BUNDLED_NOTES)))
    assert note.title == "著名深度学习论文"
    assert note.date == "2025-01-03"
    assert note.tags == ("cool posts", "category1", "category2")
    closing = line_of(PAPERS, "category2") + 1
    passages = passages_in(PAPERS)
    assert all(p.line_start > closing for p in passages)
    assert not any("permalink" in p.text or "cool posts" in p.text for p in passages)
    assert all(p.title == "著名深度学习论文" and p.tags == note.tags for p in passages)


def test_bundled_list_items_are_separate_passages():
    lines = [line_of(TRENDS, f"- **{name}**") for name in ("自然语言处理（NLP）", "计算机视觉（CV）", "强化学习（RL）")]
    passages = passages_in(TRENDS)
    for line in lines:
        pieces = at_line(passages, line)
        assert pieces and all(p.kind == "item" and p.line_start == p.line_end == line for p in pieces)
    assert at_line(passages, lines[0])[0].text.startswith("自然语言处理（NLP）: 近年NLP")


def test_bundled_escaped_bold_and_links_are_stripped():
    line = line_of(TRENDS, "\\*\\*Flamingo")
    text = " ".join(p.text for p in at_line(passages_in(TRENDS), line))
    assert "DeepMind 的 Flamingo 模型" in text
    assert "提示学习（Prompting）技术的热潮" in text
    for mark in ("*", "\\", "](", "https://"):
        assert mark not in text


@pytest.mark.parametrize("line, text", [
    ("&emsp;&emsp;网络结构：RefineNet", "网络结构：RefineNet"),
    ("a &lt;b&gt; c &amp; d", "a <b> c & d"),
    ("&#x41;&#66; AT&T &unknown; &#7;x&#10;y", "AB AT&T &unknown; x y"),  # a line stays one line
])
def test_entity_references_read_as_their_characters(line, text):
    assert strip_inline(line) == text


def test_a_line_of_entity_spaces_is_no_passage_and_code_keeps_its_entities(notes_dir):
    _path, passages = note_passages(notes_dir, "# 笔记\n\n第一段。\n&emsp;&emsp;\n\n```\nif a &lt; b:\n```\n")
    assert [p.text for p in passages] == ["第一段。", "if a &lt; b:"]


# ------------------------------------------------------------ front matter and titles

def test_front_matter_becomes_title_date_and_tags(notes_dir):
    path, passages = note_passages(notes_dir, (
        "---\ntitle: My note\ndate: 2024-05-01\ntags: [alpha, beta]\n---\n"
        "# Heading\n\nbody text\n"))
    assert [p.text for p in passages] == ["body text"]
    [p] = passages
    assert (p.title, p.tags, p.section) == ("My note", ("alpha", "beta"), "Heading")
    assert p.line_start == line_of(path, "body text")
    note = read_note(NoteFile(str(path), str(path.parent)))
    assert (note.date, note.body_line) == ("2024-05-01", line_of(path, "# Heading"))


def test_comma_separated_tags_and_title_from_first_heading(notes_dir):
    path = notes_dir({"n.md": "---\ntags: x, y\n---\n\n# 第一章\n\n正文\n"}) / "n.md"
    note = read_note(NoteFile(str(path), str(path.parent)))
    assert (note.title, note.tags) == ("第一章", ("x", "y"))


def test_a_comment_in_a_code_block_is_no_title(notes_dir):
    path = notes_dir({"n.md": "### 部署\n\n```cmake\n# add_subdirectory(examples)\n```\n\n~~~~\n# not this\n~~~~\n"
                            "\n# 真正的标题\n\n正文\n"}) / "n.md"
    assert read_note(NoteFile(str(path), str(path.parent))).title == "真正的标题"
    path.write_text("### 部署\n\n```sh\n# make install\n```\n", encoding="utf-8")
    assert read_note(NoteFile(str(path), str(path.parent))).title == "n"


def test_title_falls_back_to_the_file_name(notes_dir):
    _path, [p] = note_passages(notes_dir, "just text\n", name="plain-note.md")
    assert p.title == "plain-note"


def test_front_matter_alone_gives_one_passage_of_its_title_and_tags(notes_dir):
    _path, passages = note_passages(notes_dir, "---\ntitle: 自监督学习 reading list\ntags: [ssl, 视觉]\n---\n")
    assert [(p.kind, p.text, p.title, p.tags, p.line_start, p.line_end) for p in passages] == [
        ("title", "自监督学习 reading list", "自监督学习 reading list", ("ssl", "视觉"), 1, 4)]


OUTLINE = "# 读书计划\n\n## 自监督学习\n\n### 对比学习\n### 掩码建模\n\n## Diffusion models\n\n## 强化学习\n"


def test_a_note_of_headings_only_gives_a_passage_per_heading_with_nothing_under_it(notes_dir):
    path, passages = note_passages(notes_dir, OUTLINE)
    assert [(p.kind, p.text, p.section, p.line_start) for p in passages] == [
        ("heading", "对比学习", "读书计划 > 自监督学习", line_of(path, "对比学习")),
        ("heading", "掩码建模", "读书计划 > 自监督学习", line_of(path, "掩码建模")),
        ("heading", "Diffusion models", "读书计划", line_of(path, "Diffusion")),
        ("heading", "强化学习", "读书计划", line_of(path, "强化学习")),
    ]
    _path, [only] = note_passages(notes_dir, "# Only a heading\n")
    assert (only.kind, only.text, only.section, only.title) == ("heading", "Only a heading", "", "Only a heading")


def test_in_a_note_with_text_an_empty_heading_is_no_passage(notes_dir):
    path, passages = note_passages(notes_dir, OUTLINE + "\nsome text under it\n")
    assert [(p.kind, p.text, p.section, p.line_start) for p in passages] == [
        ("paragraph", "some text under it", "读书计划 > 强化学习", line_of(path, "some text"))]


def test_a_heading_over_the_limit_is_a_paragraph_and_cut_in_the_section(notes_dir):
    heading = "很长的标题" * 100
    path, passages = note_passages(notes_dir, f"## {heading}\n\ntext under it\n")
    assert [(p.kind, p.line_start) for p in passages][-1] == ("paragraph", line_of(path, "text under"))
    assert "".join(p.text for p in passages[:-1]) == heading
    assert passages[-1].section == heading[:MAX_HEADING] + "…"


def test_unparsable_front_matter_is_not_a_passage(notes_dir):
    _path, passages = note_passages(notes_dir, "---\ntitle: [broken\n---\nbody\n")
    assert [(p.text, p.section) for p in passages] == [("body", "")]


# ------------------------------------------------------------ headings and sections

def test_heading_path_follows_atx_levels(notes_dir):
    path, passages = note_passages(notes_dir, (
        "# Alpha\n\na text\n\n## Beta\n\nb text\n\n#### Deep\n\nd text\n\n### Gamma ###\n\ng text\n\n"
        "# Omega\n\no text\n"))
    sections = {p.text: p.section for p in passages}
    assert sections == {"a text": "Alpha", "b text": "Alpha > Beta", "d text": "Alpha > Beta > Deep",
                        "g text": "Alpha > Beta > Gamma", "o text": "Omega"}
    assert all(p.line_start == line_of(path, p.text) for p in passages)


def test_setext_headings_set_the_section(notes_dir):
    _path, passages = note_passages(notes_dir, (
        "Big Title\n=========\n\nunder big\n\nSmall **title**\n---\n\nunder small\n\n"
        "Two line\nheading\n---\n\nunder two\n"))
    assert {p.text: p.section for p in passages} == {
        "under big": "Big Title", "under small": "Big Title > Small title", "under two": "Big Title > Two line heading"}


@pytest.mark.parametrize("heading, section", [
    ("## Title ##", "Title"), ("# C#", "C#"), ("# Title #  ", "Title"), ("#  spaced  ", "spaced"),
    ("### ###", ""), ("# a # b", "a # b"), ("#\tTab", "Tab"), ("#" * 40, ""),
])
def test_closing_hashes_of_a_heading_go_only_after_a_space(notes_dir, heading, section):
    _path, [p] = note_passages(notes_dir, f"{heading}\n\ntext\n")
    assert p.section == section


def test_a_rule_of_hashes_ends_a_paragraph(notes_dir):
    _path, passages = note_passages(notes_dir, "line one\n" + "#" * 40 + "\nline two\n")
    assert [(p.text, p.line_start) for p in passages] == [("line one", 1), ("line two", 3)]


def test_hash_without_space_is_text_not_heading(notes_dir):
    _path, [p] = note_passages(notes_dir, "#hashtag and text\n")
    assert (p.text, p.section) == ("#hashtag and text", "")


def test_thematic_breaks_are_not_passages(notes_dir):
    path, passages = note_passages(notes_dir, "one\n\n---\n\ntwo\n\n***\n\n- - -\n\n___\n\nthree\n")
    assert [(p.text, p.line_start) for p in passages] == [
        (word, line_of(path, word)) for word in ("one", "two", "three")]
    assert all(p.section == "" for p in passages)


# ------------------------------------------------------------ paragraphs, items, code

def test_multi_line_paragraph_spans_its_lines_and_joins_them(notes_dir):
    path, passages = note_passages(notes_dir, (
        "intro\n\nfirst English line\nsecond English line\n中文第一行\n中文第二行\n\nlast\n"))
    para = next(p for p in passages if p.text.startswith("first"))
    assert (para.line_start, para.line_end) == (line_of(path, "first English"), line_of(path, "中文第二行"))
    assert para.text == "first English line second English line 中文第一行中文第二行"


def test_list_items_are_separate_passages_with_their_lines(notes_dir):
    path, passages = note_passages(notes_dir, (
        "- item one\n  - nested item\n- item two\n  continued here\n\n1. first\n2) second\n\n+ plus\n* star\n"))
    got = [(p.kind, p.text, p.line_start, p.line_end) for p in passages]
    assert got == [
        ("item", "item one", line_of(path, "item one"), line_of(path, "item one")),
        ("item", "nested item", line_of(path, "nested"), line_of(path, "nested")),
        ("item", "item two continued here", line_of(path, "item two"), line_of(path, "continued")),
        ("item", "first", line_of(path, "first"), line_of(path, "first")),
        ("item", "second", line_of(path, "second"), line_of(path, "second")),
        ("item", "plus", line_of(path, "plus"), line_of(path, "plus")),
        ("item", "star", line_of(path, "star"), line_of(path, "star")),
    ]


def test_code_fence_is_one_passage_kept_verbatim(notes_dir):
    path, passages = note_passages(notes_dir, (
        "# Code\n\n```python\n# not a heading\nx = **kwargs\n```\n\nafter\n\n~~~\nunclosed fence\n"))
    code = passages[0]
    assert code.kind == "code"
    assert code.text == "# not a heading\nx = **kwargs"
    assert (code.line_start, code.line_end) == (line_of(path, "# not a heading"), line_of(path, "kwargs"))
    after = passages[1]
    assert (after.text, after.section) == ("after", "Code")
    assert (passages[2].kind, passages[2].text) == ("code", "unclosed fence")
    assert passages[2].line_start == line_of(path, "unclosed")


def test_empty_code_fence_gives_no_passage(notes_dir):
    assert note_passages(notes_dir, "```\n\n```\n")[1] == []


@pytest.mark.parametrize("text", ["", "\n\n\n", "   \n\t\n", "***\n", "#\n", "## ##\n"])
def test_note_without_text_has_no_passages(notes_dir, text):
    assert note_passages(notes_dir, text)[1] == []


def test_crlf_note_has_the_same_passages_as_lf(notes_dir):
    text = "---\ntitle: T\n---\n# H\n\nline one\nline two\n\n- item\n\n|a|b|\n|---|---|\n|c|d|\n"
    lf_path, lf = note_passages(notes_dir, text, name="lf.md")
    _crlf_path, crlf = note_passages(notes_dir, text.replace("\n", "\r\n").encode("utf-8"), name="crlf.md")
    strip_path = [(p.line_start, p.line_end, p.section, p.title, p.text, p.kind) for p in lf]
    assert [(p.line_start, p.line_end, p.section, p.title, p.text, p.kind) for p in crlf] == strip_path
    assert not any("\r" in p.text for p in crlf)
    assert lf[0].line_start == line_of(lf_path, "line one")


# ------------------------------------------------------------ markdown syntax

@pytest.mark.parametrize("line, text", [
    ("**bold** and *italic*", "bold and italic"),
    ("__strong__ and _em_", "strong and em"),
    ("\\*\\*Flamingo\\*\\* 模型", "Flamingo 模型"),
    ("see [the docs](https://example.com/a_(b)) now", "see the docs now"),
    ("![a cat](cat.png)", "a cat"),
    ("`code` and ``more``", "code and more"),
    ("<b>html</b> tag", "html tag"),
    ("snake_case stays", "snake_case stays"),
    ("1 \\+ 1 \\# hash", "1 + 1 # hash"),
    ("  padded  ", "padded"),
])
def test_strip_inline(line, text):
    assert strip_inline(line) == text


def test_markdown_syntax_is_stripped_from_passage_text(notes_dir):
    _path, passages = note_passages(notes_dir, (
        "Some **bold**, *italic* and [a link](http://x.y) with \\*escapes\\*.\n\n"
        "> quoted **line**\n> continues\n\n"
        "| Name | Value |\n|---|---|\n| **a** | [b](http://b) |\n"))
    assert [(p.kind, p.text) for p in passages] == [
        ("paragraph", "Some bold, italic and a link with escapes."),
        ("paragraph", "quoted line continues"),
        ("row", "a b"),
    ]


def test_each_table_row_is_one_passage_on_its_line(notes_dir):
    path, passages = note_passages(notes_dir, "| k | v |\n|:--|--:|\n| one | 1 |\n| two | 2 |\n\nafter\n")
    rows = [p for p in passages if p.kind == "row"]
    assert [(p.text, p.line_start, p.line_end) for p in rows] == [
        ("one 1", line_of(path, "one"), line_of(path, "one")), ("two 2", line_of(path, "two"), line_of(path, "two"))]


# ------------------------------------------------------------ long paragraphs

def _covers(text: str, spans: list[tuple[int, int]]) -> bool:
    return spans[0][0] == 0 and spans[-1][1] == len(text) and all(a[1] == b[0] for a, b in pairwise(spans))


@pytest.mark.parametrize("text", [
    "短句。" * 400,
    "This is a sentence. " * 120,
    "字" * 600 + "，" + "字" * 100,
    "字" * 1700,
    "word " * 400,
    "逗号分隔的长句子，" * 150,
])
def test_split_long_pieces_cover_the_text_and_stay_under_max(text):
    spans = split_long(text)
    assert len(spans) > 1
    assert _covers(text, spans)
    assert max(end - begin for begin, end in spans) <= MAX_PIECE


def test_split_long_keeps_short_text_whole():
    assert split_long("短文本。短文本。") == [(0, 8)]


def test_split_long_cuts_after_sentence_ends():
    text = "这是第一个句子，讲的是自监督学习。" * 40
    for begin, end in split_long(text)[:-1]:
        assert text[end - 1] == "。"


def test_split_long_does_not_cut_english_words():
    words = [f"word{n:03d}" for n in range(300)]
    text = " ".join(words)
    pieces = [text[b:e].split() for b, e in split_long(text)]
    assert [w for piece in pieces for w in piece] == words


def test_long_one_line_paragraph_pieces_keep_its_line(notes_dir):
    body = "".join(f"第{n}句讲的是一个相当长的内容，用来测试切分是否正确。" for n in range(40))
    path, passages = note_passages(notes_dir, f"# T\n\n{body}\n\nend\n")
    line = line_of(path, "第0句")
    pieces = [p for p in passages if p.line_start == line]
    assert len(pieces) > 1
    assert [p.piece for p in pieces] == list(range(len(pieces)))
    assert all(p.line_end == line and len(p.text) <= MAX_PIECE and p.section == "T" for p in pieces)
    assert "".join(p.text for p in pieces) == body


def test_long_multi_line_paragraph_pieces_span_their_own_lines(notes_dir):
    lines = [" ".join(f"Sentence {n}.{k} has a number of plain words in it." for k in range(4)) for n in range(8)]
    path, passages = note_passages(notes_dir, "\n".join(lines) + "\n")
    assert len(passages) > 1
    assert all(len(p.text) <= MAX_PIECE for p in passages)
    for p in passages:
        first_number = p.text.split()[1].split(".")[0]
        last_number = p.text.rsplit("Sentence ", 1)[1].split(".")[0]
        assert p.line_start == line_of(path, f"Sentence {first_number}.0 ")
        assert p.line_end == line_of(path, f"Sentence {last_number}.0 ")
    assert passages[0].line_start == 1 and passages[-1].line_end == len(lines)
    assert " ".join(p.text for p in passages) == " ".join(lines)


# ------------------------------------------------------------ link targets

def test_link_targets_leave_the_text_and_stay_with_their_passage(notes_dir):
    text = ("第一句话讲[自监督](https://example.org/self-supervised-learning#:~:text=Self%2Csupervised)方法。\n"
            "\n"
            "| year | title |\n|---|---|\n| 2020 | [MAE](https://arxiv.org/abs/2111.06377 \"paper\") |\n")
    _path, passages = note_passages(notes_dir, text)
    paragraph, row = passages
    assert paragraph.text == "第一句话讲自监督方法。"
    assert paragraph.links == ("https://example.org/self-supervised-learning#:~:text=Self,supervised",)
    assert row.links == ("https://arxiv.org/abs/2111.06377",)


def test_a_link_belongs_to_the_piece_holding_its_label(notes_dir):
    sentence = "这是一句用来凑长度的话，" * 20 + "。"
    text = f"{sentence}[前](https://a.example/first){sentence}{sentence}[后](https://b.example/last)。\n"
    _path, passages = note_passages(notes_dir, text)
    assert len(passages) > 2
    holders = {link: [p.piece for p in passages if link in p.links]
               for link in ("https://a.example/first", "https://b.example/last")}
    assert holders["https://a.example/first"] == [next(p.piece for p in passages if "前" in p.text)]
    assert holders["https://b.example/last"] == [next(p.piece for p in passages if "后" in p.text)]


def test_bundled_paragraph_keeps_its_link_targets():
    passages = at_line(passages_in(TRENDS), line_of(TRENDS, "两大范式在这段时间都有所发展"))
    links = [link for p in passages for link in p.links]
    assert any("self-supervised-learning-trends" in link for link in links)
    assert all("https://" not in p.text for p in passages)
