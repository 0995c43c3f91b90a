"""Which PDF text extractor: pypdf against pdfminer.six, on Chromium-printed notes, by quality and speed.

    .venv/bin/pip install pdfminer.six   # only for this comparison: notesearch reads PDFs with pypdf
    .venv/bin/python bench/pdf_extractors.py [--d2l N]

The PDFs: the bundled notes and the first N (default 12) d2l-zh chapters with
judged queries, printed by Chromium (bench/printing.py; d2l-zh's PDFs are made
by bench/print_corpus.py into bench/results/pdf/d2l-zh, or here when missing).
Quality: the share of each note's passages (corpus/markdown.py; code left
out) whose text, folded (corpus.text.comparable: NFKC, case, letters and
digits only; radicals read as ideographs, corpus/radicals.py), is found in the
folded text the extractor gives for the whole PDF. A table whose cells come out
in the wrong order, a paragraph interleaved with another or text lost all count
as a miss. Speed: milliseconds per page, each extractor in this process, the
PDF read from memory.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from printing import print_note

from corpus import BUNDLED_NOTES
from corpus.markdown import passages_of
from corpus.reading import NoteFile, read_note
from corpus.text import comparable

D2L = ROOT.parent / "shared" / "corpora" / "d2l-zh"
JUDGED = ROOT.parent / "shared" / "eval" / "d2l_crosslingual_queries.jsonl"
PRINTED = ROOT / "bench" / "results" / "pdf"


def with_pypdf(data: bytes) -> list[str]:
    import pypdf

    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def with_pdfminer(data: bytes) -> list[str]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    return ["".join(box.get_text() for box in page if isinstance(box, LTTextContainer))
            for page in extract_pages(io.BytesIO(data))]


EXTRACTORS = {"pypdf": with_pypdf, "pdfminer.six": with_pdfminer}


def documents(d2l: int) -> list[tuple[str, Path, Path]]:
    """(name, Markdown note, its PDF) for the bundled notes and `d2l` judged d2l-zh chapters, printed if need be."""
    out = []
    for note in sorted(BUNDLED_NOTES.glob("*.md")):
        out.append((note.stem, note, PRINTED / "notes" / f"{note.stem}.pdf"))
    if D2L.exists() and JUDGED.exists():
        judged = []
        for line in JUDGED.read_text(encoding="utf-8").splitlines():
            for target in json.loads(line)["relevant"]:
                if target.get("file") and target["file"] not in judged:
                    judged.append(target["file"])
        for relative in judged[:d2l]:
            out.append((relative, D2L / relative, PRINTED / "d2l-zh" / Path(relative).with_suffix(".pdf")))
    for _name, note, pdf in out:
        if not pdf.exists():
            print_note(note, pdf)
    return out


def found_share(note: Path, pages: list[str]) -> tuple[int, int]:
    """How many of the note's passages (code left out) the pages hold, folded, and how many there are."""
    whole = comparable("".join(pages))
    passages = [p for p in passages_of(read_note(NoteFile(str(note), ""))) if p.kind != "code" and comparable(p.text)]
    return sum(comparable(p.text) in whole for p in passages), len(passages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--d2l", type=int, default=12, help="how many judged d2l-zh chapters (default 12)")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # both warn about every odd font
    rows = {name: {"found": 0, "passages": 0, "pages": 0, "seconds": 0.0, "per_page": []} for name in EXTRACTORS}
    print("| document | pages | " + " | ".join(f"{name} found" for name in EXTRACTORS) + " | "
          + " | ".join(f"{name} ms/page" for name in EXTRACTORS) + " |")
    print("|---|---|" + "---|" * (2 * len(EXTRACTORS)))
    for name, note, pdf in documents(args.d2l):
        data = pdf.read_bytes()
        cells, times = [], []
        for extractor, extract in EXTRACTORS.items():
            started = time.perf_counter()
            pages = extract(data)
            seconds = time.perf_counter() - started
            found, total = found_share(note, pages)
            row = rows[extractor]
            row["found"] += found
            row["passages"] += total
            row["pages"] += len(pages)
            row["seconds"] += seconds
            row["per_page"].append(1000 * seconds / max(1, len(pages)))
            cells.append(f"{found}/{total}")
            times.append(f"{1000 * seconds / max(1, len(pages)):.0f}")
        print(f"| {name} | {len(pages)} | " + " | ".join(cells) + " | " + " | ".join(times) + " |")
    print()
    for extractor, row in rows.items():
        print(f"{extractor}: {row['found']}/{row['passages']} passages found "
              f"({row['found'] / max(1, row['passages']):.1%}), {row['pages']} pages in {row['seconds']:.1f} s "
              f"({1000 * row['seconds'] / max(1, row['pages']):.0f} ms/page; median of documents "
              f"{statistics.median(row['per_page']):.0f} ms/page)")


if __name__ == "__main__":
    main()
