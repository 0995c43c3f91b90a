"""A PDF → a Note and its passages: each paragraph of each page, read with pypdf in a bounded child process.

pypdf was chosen over pdfminer.six by measurement (bench/pdf_extractors.py): on
Chromium-printed notes and d2l-zh chapters it found as many of the notes'
paragraphs and, in tables, all the more (it follows the content stream, which
Chromium writes in reading order, where pdfminer's layout analysis reads a
table's columns across its rows), in less time per page.

A PDF is untrusted input that can be made to explode (a page that inflates to
gigabytes, a loop of objects, a malformed file that sends a parser into a
spin), so the text is read in a child process (`python -m corpus.pdf`) with a
ceiling on its memory (MEMORY_BYTES, RLIMIT_AS) and its CPU time (OPEN_SECONDS
to open the file, then PAGE_SECONDS a page, RLIMIT_CPU) and a wall-clock
deadline, and at most MAX_PAGES pages; whatever goes wrong is a ValueError with
a reason, and the file is skipped with it. Starting the child costs about
0.15 s a file.

The child gives each page's lines (the text pypdf extracts, line by line, with
where each line starts and its font size). Here the lines become paragraphs
and headings (corpus/pdf_layout.py): a heading is the section of what follows,
across pages. A passage's region is its page (`p3`), its lines the lines of that page
as `page_lines` gives them (what `get` shows). Characters that CJK fonts name
by their radicals are read as the ideographs (corpus/radicals.py).

The title is the document's metadata title (the name of the file it was
printed from, without its suffix, when it is one), else its first heading,
else the PDF's file name. A PDF with no text at all (a scan) is
skipped: no OCR here. A PDF that is a paper also gives a paper record
(corpus/pdf_paper.py).
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from corpus.markdown import plain_passages
from corpus.model import Note, Passage
from corpus.pdf_layout import (
    FILE_NAME,
    HEADING_SIZE,
    LETTER,
    NO_TITLE,
    Line,
    PdfText,
    body_size,
    first_heading,
    line_pitch,
    paragraphs,
)
from corpus.radicals import ideographs

MAX_PAGES = 2000
MEMORY_BYTES = 1024 * 1024 * 1024
OPEN_SECONDS = 10
PAGE_SECONDS = 2.0


def read_pdf(path: str, data: bytes) -> tuple[Note, list[Passage]]:
    """The PDF's Note (its text that of every page) and its passages, each in its page's region.

    Raises ValueError with a reason for a PDF that cannot be read (malformed,
    encrypted with a password, too large, a bomb) or has no text layer.
    """
    from corpus.pdf_paper import paper_passage

    found = extract(data)
    if not any(LETTER.search(line.text) for page in found.pages for line in page):
        raise ValueError(f"no text layer in {len(found.pages)} pages (a scan?): not indexed, notesearch does no OCR")
    body = body_size(found.pages)
    pitch = line_pitch(found.pages)
    levels = sorted({round(line.size) for page in found.pages for line in page if line.size >= HEADING_SIZE * body},
                    reverse=True)
    title = found.meta.get("title", "").strip()
    if NO_TITLE.match(title):
        title = ""
    elif FILE_NAME.search(title):  # printed from a file (a browser names the PDF after the page's file)
        title = re.sub(r"^microsoft word - ", "", Path(title).stem, flags=re.IGNORECASE)
    title = title or first_heading(found.pages, body) or Path(path).stem
    note = Note(path=path, text="\n\n".join("\n".join(line.text for line in page) for page in found.pages),
                title=title[:300])
    passages: list[Passage] = []
    headings: list[tuple[int, str]] = []  # open headings: level, text
    for number, page in enumerate(found.pages, 1):
        for first, lines in paragraphs(page, pitch):
            size = max(line.size for line in lines)
            text = " ".join(line.text.strip() for line in lines)
            if size >= HEADING_SIZE * body and len(text) <= 200:
                level = levels.index(round(size)) + 1 if round(size) in levels else len(levels)
                while headings and headings[-1][0] >= level:
                    headings.pop()
                headings.append((level, text))
                continue
            if not LETTER.search(text):
                continue  # a page number, a rule of dots
            section = " > ".join(heading for _level, heading in headings)
            passages.extend(replace(passage, region=f"p{number}")
                            for passage in plain_passages(note, first, [line.text for line in lines], section))
    paper = paper_passage(note, found)
    return note, ([paper] if paper else []) + passages


def page_lines(data: bytes, region: str) -> list[str]:
    """The lines of the page `region` names (`p3`), as read_pdf numbers them. Raises ValueError when the PDF
    cannot be read or has no such page."""
    number = int(region[1:]) if re.fullmatch(r"p\d+", region) else 0
    found = extract(data, page=number)
    return [line.text for line in found.pages[0]] if found.pages else []


def extract(data: bytes, page: int | None = None) -> PdfText:
    """The lines of every page (or of page `page` alone), read in a bounded child process; raises ValueError."""
    limits = {"page": page, "open_seconds": OPEN_SECONDS, "page_seconds": PAGE_SECONDS, "max_pages": MAX_PAGES,
              "memory": MEMORY_BYTES}
    command = [sys.executable, "-m", "corpus.pdf", json.dumps(limits)]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")]))}
    deadline = 2 * (OPEN_SECONDS + PAGE_SECONDS * MAX_PAGES)
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=deadline, env=environment, check=False)
    except subprocess.TimeoutExpired as error:
        raise ValueError(f"reading the PDF took over {deadline:.0f} s: stopped") from error
    if done.returncode != 0:
        raise ValueError(_failure(done.returncode, done.stderr))
    result = json.loads(done.stdout)
    if "error" in result:
        raise ValueError(result["error"])
    pages = [[Line(ideographs(text), x, y, size) for text, x, y, size in lines] for lines in result["pages"]]
    return PdfText(pages, result["meta"])


def _limit(memory: int, open_seconds: float, max_pages: int, page_seconds: float) -> None:
    """The child's ceilings on its memory and CPU time, set by itself before it reads a byte of the PDF (not by
    the parent between fork and exec: a parent with threads, such as `serve`, must not run code there). The
    child raises its CPU time by `page_seconds` a page once it knows the pages, up to the hard limit set here."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    hard = int(open_seconds + page_seconds * max_pages) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (int(open_seconds) + 1, hard))


def _failure(code: int, stderr: bytes) -> str:
    """Why the child failed, in a few words."""
    last = (stderr.decode("utf-8", "replace").strip().splitlines() or [""])[-1]
    if code in (-9, -24) or "CPU time" in last:  # SIGKILL / SIGXCPU: the CPU time ran out
        return "reading the PDF took too long (over its CPU time): a damaged file or a PDF bomb"
    if "MemoryError" in last:
        return f"reading the PDF needed over {MEMORY_BYTES // 2**20} MB: a damaged file or a PDF bomb"
    return f"the PDF could not be read ({' '.join(last.split())[:200] or f'exit code {code}'})"


# ---------------------------------------------------------------- the child process

def _child(page: int | None, open_seconds: float, page_seconds: float, max_pages: int, memory: int) -> dict:
    """Read the PDF on stdin: {"pages": [[[text, x, y, size], …], …], "meta": {…}}, or {"error": reason}.

    The limits are the parent's (so a test can make them tight)."""
    _limit(memory, open_seconds, max_pages, page_seconds)
    import logging

    import pypdf
    from pypdf.errors import DependencyError, PyPdfError

    logging.disable(logging.CRITICAL)  # pypdf warns on stderr about every odd font
    try:
        reader = pypdf.PdfReader(_stdin(), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return {"error": "encrypted: it needs a password to be read"}
        count = len(reader.pages)
    except DependencyError as error:
        return {"error": f"encrypted in a way this install cannot read ({error})"}
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        return {"error": f"not a PDF pypdf can read ({' '.join(str(error).split())[:200] or type(error).__name__})"}
    if count > max_pages:
        return {"error": f"{count} pages, over {max_pages}: not indexed"}
    wanted = [page] if page else range(1, count + 1)
    if page and not 1 <= page <= count:
        return {"error": f"the PDF has no page {page} ({count} pages)"}
    used = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    budget = int(used + open_seconds + page_seconds * len(wanted)) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (budget, resource.getrlimit(resource.RLIMIT_CPU)[1]))
    pages = []
    for number in wanted:
        try:
            pages.append(_page_lines(reader.pages[number - 1]))
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, ZeroDivisionError,
                RecursionError) as error:
            return {"error": f"page {number} could not be read ({' '.join(str(error).split())[:200]})"}
    return {"pages": pages, "meta": _meta(reader)}


def _stdin():
    import io

    return io.BytesIO(sys.stdin.buffer.read())


def _page_lines(page) -> list[list]:
    """A page's lines as pypdf extracts its text, each with where its first visible text stands and its
    largest font size."""
    lines: list[list] = [["", None, None, 0.0]]

    def visit(text, cm, tm, font, size):
        pieces = text.split("\n")
        for n, piece in enumerate(pieces):
            if n:
                lines.append(["", None, None, 0.0])
            line = lines[-1]
            line[0] += piece
            if piece.strip():
                scale = abs(tm[3] * cm[3]) or 1.0
                if line[1] is None:
                    line[1] = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                    line[2] = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                line[3] = max(line[3], float(size) * scale)

    page.extract_text(visitor_text=visit)
    return [[text, round(x, 1), round(y, 1), round(size, 1)] for text, x, y, size in lines if x is not None]


def _meta(reader) -> dict[str, str]:
    from pypdf.errors import PyPdfError

    try:
        info = reader.metadata or {}
        return {key.lstrip("/").lower(): str(value)[:1000] for key, value in info.items()
                if isinstance(value, str)}
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError):  # a damaged info dictionary: no loss
        return {}


if __name__ == "__main__":
    json.dump(_child(**json.loads(sys.argv[1])), sys.stdout, ensure_ascii=False)
