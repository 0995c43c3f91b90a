"""Print every Chinese Markdown file of a corpus to PDF with Chromium (bench/printing.py), keeping its path.

    .venv/bin/python bench/print_corpus.py ../shared/corpora/d2l-zh bench/results/pdf/d2l-zh

`*_origin.md` (the English originals) are left out, as the cross-lingual
evaluation leaves them out. A PDF already printed is kept. Prints the time.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from printing import print_note


def print_corpus(source: Path, target: Path, workers: int = 2) -> list[Path]:
    """The PDFs of the corpus's Chinese Markdown files under `target`, same relative paths, `.pdf` for `.md`."""
    notes = sorted(p for p in source.rglob("*.md") if not p.name.endswith("_origin.md"))
    todo = [(note, target / note.relative_to(source).with_suffix(".pdf")) for note in notes]

    def one(pair: tuple[Path, Path]) -> Path:
        note, pdf = pair
        return pdf if pdf.exists() else print_note(note, pdf)

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, todo))


if __name__ == "__main__":
    started = time.perf_counter()
    printed = print_corpus(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{len(printed)} PDFs in {time.perf_counter() - started:.0f} s "
          f"({sum(p.stat().st_size for p in printed) / 2**20:.0f} MB)")
