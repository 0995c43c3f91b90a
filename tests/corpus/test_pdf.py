"""PDFs: paragraphs of pages with their lines, headings as sections, radicals read as ideographs, a paper's
record, and every PDF that cannot be read skipped with its reason within its time and memory limits."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest
from conftest import mae_pdf
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, StreamObject
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

import corpus
import corpus.pdf
from corpus.documents import read_document, region_lines
from corpus.markdown import passages_of
from corpus.pdf import page_lines, read_pdf
from corpus.pdf_layout import Line, paragraphs
from corpus.reading import read_note
from corpus.text import comparable

FIXTURE = Path(__file__).parent / "fixtures" / "ssl-section.pdf"  # Chromium's print of the MAE paragraph's section
pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))


def cid_pdf(pages: int = 1, title: str = "") -> bytes:
    """A PDF in reportlab's CID font (not embedded): on each page a heading and four paragraphs of three lines."""
    out = io.BytesIO()
    page = canvas.Canvas(out)
    if title:
        page.setTitle(title)
    for n in range(1, pages + 1):
        page.setFont("STSong-Light", 18)
        page.drawString(72, 760, f"第{n}章 自监督学习")
        page.setFont("STSong-Light", 11)
        y = 730
        for paragraph in range(1, 5):
            for line in range(1, 4):
                page.drawString(72, y, f"第{n}页第{paragraph}段第{line}行：掩码自编码器 MAE 重建被遮挡的图像块。")
                y -= 15
            y -= 12
        page.showPage()
    page.save()
    return out.getvalue()


def test_a_chromium_printed_paragraph_is_the_notes_paragraph():
    note, passages = read_pdf(str(FIXTURE), FIXTURE.read_bytes())
    markdown = read_note(corpus.reading.NoteFile(str(corpus.BUNDLED_NOTES / "dl-research-trends-2022-2024.md"), ""))
    mae = next(p for p in passages_of(markdown) if p.line_start == 37)
    found = [p for p in passages if comparable(p.text) in comparable(mae.text)]
    assert "".join(comparable(p.text) for p in found) == comparable(mae.text)
    assert {p.section for p in found} == {"表示学习与自监督学习"} and {p.region for p in found} == {"p1"}
    assert note.title == "ssl"  # the page's file name, which Chromium gives as the PDF's title


def test_radicals_a_cjk_font_names_are_read_as_ideographs():
    note, _passages = read_pdf(str(FIXTURE), FIXTURE.read_bytes())
    assert "自监督" in note.text
    assert not any("\u2e80" <= ch <= "\u2fdf" for ch in note.text)


def test_a_passages_lines_are_lines_of_its_page():
    _note, passages = read_pdf(str(FIXTURE), FIXTURE.read_bytes())
    lines = page_lines(FIXTURE.read_bytes(), "p1")
    assert lines[0] == "表示学习与自监督学习"
    for passage in passages:
        held = comparable("".join(lines[passage.line_start - 1:passage.line_end]))
        assert comparable(passage.text) in held


def test_paragraphs_are_told_by_the_gaps_between_lines_and_headings_by_their_size():
    note, passages = read_pdf("book.pdf", cid_pdf(2))
    assert [(p.region, p.line_start, p.line_end) for p in passages] == [
        (f"p{page}", first, first + 2) for page in (1, 2) for first in (2, 5, 8, 11)]
    assert [p.section for p in passages] == ["第1章 自监督学习"] * 4 + ["第2章 自监督学习"] * 4
    assert passages[0].text.startswith("第1页第1段第1行：掩码自编码器 MAE 重建被遮挡的图像块。第1页第1段第2行")
    assert note.title == "第1章 自监督学习"  # no title in its metadata: its first heading


def test_a_table_rows_cells_stay_one_paragraph_and_a_new_column_does_not():
    size = 12.0
    row = [Line("1943", 34, 606, size), Line("McCulloch和Pitts，A Logical", 67, 624, size),
           Line("Calculus of the Ideas", 67, 606, size), Line("神经网络是计算机器吗？", 288, 633, size),
           Line("它们与命题逻辑一样强大。", 288, 615, size)]
    next_row = [Line("1958", 34, 522, size), Line("Rosenblatt，The Perceptron", 67, 549, size)]
    column = [Line("另一栏的第一行在页面顶端。", 320, 760, size)]
    found = paragraphs(row + next_row + column, pitch=1.5)
    assert [(first, len(lines)) for first, lines in found] == [(1, 5), (6, 2), (8, 1)]


def test_a_paper_gives_a_paper_record_from_its_first_page():
    _note, passages = read_pdf("mae.pdf", mae_pdf())
    record = next(p for p in passages if p.paper)
    assert record.paper.title == "Masked Autoencoders Are Scalable Vision Learners"
    assert record.paper.authors[:2] == ("Kaiming He", "Xinlei Chen") and len(record.paper.authors) == 6
    assert record.paper.year == 2021
    assert record.paper.note.startswith("This paper shows that masked autoencoders (MAE)")
    assert (record.region, record.line_start, record.line_end, record.kind) == ("p1", 1, 2, "paper")
    assert "https://arxiv.org/abs/2111.06377" in record.links


def test_a_pdf_that_is_no_paper_gives_no_paper_record():
    _note, passages = read_pdf("book.pdf", cid_pdf(1))
    assert not any(p.paper for p in passages)


def test_a_pdf_is_read_by_its_suffix_and_its_page_given_back():
    data = cid_pdf(2)
    document = read_document("notes/book.pdf", data)
    assert {p.region for p in document.passages} == {"p1", "p2"}
    assert region_lines("notes/book.pdf", data, "p2")[0] == "第2章 自监督学习"
    with pytest.raises(ValueError, match="no page 3"):
        region_lines("notes/book.pdf", data, "p3")


def encrypted(user: str, owner: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(cid_pdf(1)))
    writer.encrypt(user_password=user, owner_password=owner, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_locked_for_reading_is_skipped_and_one_locked_for_editing_only_is_read():
    with pytest.raises(ValueError, match="encrypted: it needs a password"):
        read_pdf("locked.pdf", encrypted("secret", "owner"))
    _note, passages = read_pdf("owner-only.pdf", encrypted("", "owner"))
    assert len(passages) == 4


def blank_page_pdf(content: bytes | None = None) -> bytes:
    """One page; with `content`, that content stream (Flate-compressed) and a Helvetica font."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    if content is not None:
        font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                                 NameObject("/BaseFont"): NameObject("/Helvetica")})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F1"): writer._add_object(font)})})
        stream = StreamObject()
        stream._data = zlib.compress(content, 9)
        stream[NameObject("/Filter")] = NameObject("/FlateDecode")
        page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("data, reason", [
    (b"%PDF-1.4\n" + b"\x00garbage" * 100, "not a PDF pypdf can read"),
    (cid_pdf(1)[:300], "not a PDF pypdf can read|no text layer"),
    (blank_page_pdf(), "no text layer in 1 pages"),
    (b"", "not a PDF pypdf can read"),
])
def test_a_damaged_or_scanned_pdf_is_skipped_with_its_reason(data, reason):
    with pytest.raises(ValueError, match=reason):
        read_pdf("bad.pdf", data)


def test_a_pdf_of_too_many_pages_is_skipped_with_its_count(monkeypatch):
    monkeypatch.setattr(corpus.pdf, "MAX_PAGES", 3)
    with pytest.raises(ValueError, match="5 pages, over 3"):
        read_pdf("long.pdf", cid_pdf(5))


def children_cpu() -> float:
    """CPU seconds the children of this process (the PDF readers) have used: what the limits bound, whatever
    else the machine is doing."""
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def test_a_pdf_bomb_that_inflates_ends_at_once_with_its_reason():
    bomb = blank_page_pdf(b"BT /F1 12 Tf 72 700 Td (hello) Tj ET\n" + b" " * 400_000_000)
    assert len(bomb) < 1_000_000
    before = children_cpu()
    with pytest.raises(ValueError, match="page 1 could not be read|needed over"):
        read_pdf("bomb.pdf", bomb)
    assert children_cpu() - before < 10


@pytest.mark.slow
def test_a_pdf_bomb_that_spins_ends_within_its_cpu_time_with_a_reason(monkeypatch):
    monkeypatch.setattr(corpus.pdf, "OPEN_SECONDS", 2)
    monkeypatch.setattr(corpus.pdf, "PAGE_SECONDS", 1)
    spin = blank_page_pdf(b"BT /F1 12 Tf 72 700 Td (hello) Tj ET\n" + b"0 0 m 1 1 l S\n" * 300_000)
    before = children_cpu()
    with pytest.raises(ValueError, match="took too long|tokens"):  # the CPU time, or pypdf's own limit
        read_pdf("spin.pdf", spin)
    assert children_cpu() - before < 2 + 1 + 3  # open, one page, and the start of the interpreter


@pytest.mark.slow
def test_a_500_page_pdf_is_read_in_seconds():
    book = cid_pdf(500)
    before = children_cpu()
    _note, passages = read_pdf("book.pdf", book)
    assert len(passages) == 2000 and passages[-1].region == "p500"
    assert children_cpu() - before < 60
