"""PDFs at their limits: a book of 100 to 500 pages indexes in time linear with its pages, and malformed,
locked and exploding PDFs are each skipped in seconds with their reason.

    .venv/bin/python bench/pdf_limits.py [--model use-m3] [--pages 100,250,500]

Each book is made with reportlab in its CID font (STSong-Light, as Chinese
office PDFs often are): every page a heading and four paragraphs of Chinese
with English terms. For each size: the time to read the PDF (corpus/pdf.py: the
child process and the paragraphs) and to index it whole (`indexer.build` into a
fresh index: reading, keyword index and vectors), and the time per page, in
wall clock and in CPU seconds (which other work on the machine does not change). Then
each bad PDF is indexed beside a note (the first run also indexes the note) and
the run's account of it printed.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus.documents import read_document
from indexer import build
from indexer.embedders import load_embedder


def book(pages: int) -> bytes:
    """A PDF of `pages` pages in reportlab's Chinese CID font."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    page = canvas.Canvas(out)
    for n in range(1, pages + 1):
        page.setFont("STSong-Light", 18)
        page.drawString(72, 760, f"第{n}节 训练深度网络的第{n}个技巧")
        page.setFont("STSong-Light", 11)
        y = 730
        for paragraph in range(1, 5):
            for line in range(1, 5):
                page.drawString(72, y, f"第{n}节第{paragraph}段第{line}行：批量归一化 BatchNorm 与残差连接让 "
                                       f"{n * paragraph}层网络也能训练。")
                y -= 15
            y -= 12
        page.showPage()
    page.save()
    return out.getvalue()


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the PDF readers), user and system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bad_pdfs() -> dict[str, bytes]:
    """A malformed PDF, a truncated one, one locked by a password, a scan, and two bombs."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    def written(writer: PdfWriter) -> bytes:
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    def bomb(content: bytes) -> bytes:
        writer = PdfWriter()
        page = writer.add_blank_page(612, 792)
        font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                                 NameObject("/BaseFont"): NameObject("/Helvetica")})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F1"): writer._add_object(font)})})
        stream = StreamObject()
        stream._data = zlib.compress(content, 9)
        stream[NameObject("/Filter")] = NameObject("/FlateDecode")
        page[NameObject("/Contents")] = writer._add_object(stream)
        return written(writer)

    locked = PdfWriter(clone_from=io.BytesIO(book(1)))
    locked.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    scan = PdfWriter()
    scan.add_blank_page(612, 792)
    text = b"BT /F1 12 Tf 72 700 Td (hello) Tj ET\n"
    return {"malformed.pdf": b"%PDF-1.7\n" + bytes(range(256)) * 400, "truncated.pdf": book(3)[:2000],
            "locked.pdf": written(locked), "scan.pdf": written(scan),
            "inflating-bomb.pdf": bomb(text + b" " * 1_000_000_000),
            "spinning-bomb.pdf": bomb(text + b"0 0 m 1 1 l S\n" * 400_000)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="use-m3", help="the embedder of the whole-index runs (default use-m3)")
    parser.add_argument("--pages", default="100,250,500", help="the books' sizes (empty: none, only the bad PDFs)")
    args = parser.parse_args()
    embedder = load_embedder(args.model)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; CPU seconds are this process's and "
          "its children's (what a busy machine does not change)")
    print("| pages | PDF MB | read (CPU) | read per page (CPU) | index (CPU) | index per page (CPU) | passages |")
    print("|---|---|---|---|---|---|---|")
    for pages in [int(n) for n in args.pages.split(",") if n]:
        data = book(pages)
        started, cpu = time.perf_counter(), cpu_seconds()
        document = read_document("book.pdf", data)
        read, read_cpu = time.perf_counter() - started, cpu_seconds() - cpu
        with tempfile.TemporaryDirectory() as work:
            (Path(work) / "notes").mkdir()
            (Path(work) / "notes" / "book.pdf").write_bytes(data)
            started, cpu = time.perf_counter(), cpu_seconds()
            report = build([f"{work}/notes"], f"{work}/index", model=args.model, embedder=embedder)
            indexed, index_cpu = time.perf_counter() - started, cpu_seconds() - cpu
        print(f"| {pages} | {len(data) / 2**20:.1f} | {read:.1f} s ({read_cpu:.1f} s) | {1000 * read / pages:.0f} ms "
              f"({1000 * read_cpu / pages:.0f} ms) | {indexed:.1f} s ({index_cpu:.1f} s) | {1000 * indexed / pages:.0f} "
              f"ms ({1000 * index_cpu / pages:.0f} ms) | {report.passages} ({len(document.passages)} read) |",
              flush=True)
    print("\n| file | size | index run (CPU) | reason |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        notes = Path(work) / "notes"
        notes.mkdir()
        (notes / "note.md").write_text("# 笔记\n\n残差连接让深层网络可以训练。\n", encoding="utf-8")
        for name, data in bad_pdfs().items():
            (notes / name).write_bytes(data)
            started, cpu = time.perf_counter(), cpu_seconds()
            report = build([str(notes)], f"{work}/index", model=args.model, embedder=embedder)
            took, took_cpu = time.perf_counter() - started, cpu_seconds() - cpu
            reason = next((s.reason for s in report.skipped if s.path.endswith(name)), "(indexed)")
            print(f"| {name} | {len(data) / 1024:.0f} KB | {took:.1f} s ({took_cpu:.1f} s) | {reason} |", flush=True)


if __name__ == "__main__":
    main()
