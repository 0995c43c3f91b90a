"""Markdown notes printed to PDF by Chromium, as a user's export of a note looks: for tests and benchmarks.

    pdf = print_note("corpus/notes/famous-deep-learning-papers.md", "/tmp/out/famous.pdf")

The note is rendered to HTML by Python-Markdown (tables and fenced code; its
front matter left out, as an editor's export leaves it) in Noto CJK, and
printed by headless Chromium (`chromium --headless --print-to-pdf`), text and
fonts embedded as any browser prints them. `chromium()` is None when no
Chromium is installed (tests skip with that reason; `.ci/run` installs it).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

CSS = ("body{font-family:'Noto Serif CJK SC','Noto Sans CJK SC',serif;font-size:12pt;max-width:46em;"
       "margin:2em auto;line-height:1.5} table{border-collapse:collapse} td,th{border:1px solid #999;padding:2px 4px}"
       " pre{white-space:pre-wrap}")
_FRONT_MATTER = re.compile(r"\A---\n.*?\n(?:---|\.\.\.)\n", re.DOTALL)


def chromium() -> str | None:
    """The Chromium to print with, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def note_html(markdown_text: str, title: str) -> str:
    """A note's Markdown as the HTML page Chromium prints."""
    import markdown

    body = markdown.markdown(_FRONT_MATTER.sub("", markdown_text.replace("\r\n", "\n")),
                             extensions=["tables", "fenced_code"])
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>{body}</body></html>")


def print_html(page: str, out: str | Path) -> Path:
    """Print an HTML page to the PDF `out` with headless Chromium; raises RuntimeError when it cannot."""
    browser = chromium()
    if browser is None:
        raise RuntimeError("no chromium installed (apt-get install chromium)")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "page.html"
        source.write_text(page, encoding="utf-8")
        done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                               f"--user-data-dir={work}/profile", f"--print-to-pdf={out}", source.as_uri()],
                              capture_output=True, timeout=120, check=False)
    if not out.exists():
        raise RuntimeError(f"chromium printed nothing (exit {done.returncode}): {done.stderr.decode()[-300:]}")
    return out


def print_note(note: str | Path, out: str | Path) -> Path:
    """Print the Markdown note `note` to the PDF `out`, as it would be exported."""
    note = Path(note)
    return print_html(note_html(note.read_text(encoding="utf-8"), note.name), out)


if __name__ == "__main__":
    import sys

    for given in sys.argv[2:]:
        target = Path(sys.argv[1]) / (Path(given).stem + ".pdf")
        print(print_note(given, target), os.path.getsize(target))
