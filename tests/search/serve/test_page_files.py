"""The page's files (search/serve/page/): small, self-contained, and fit for a CSP without inline script or
style and without other origins."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

PAGE = Path(__file__).resolve().parents[3] / "search" / "serve" / "page"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def page_files() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(PAGE.iterdir()) if path.is_file()}


def test_the_page_weighs_well_under_300_kb_and_needs_no_build():
    files = page_files()
    assert {"index.html", "app.js", "app.css"} <= set(files)
    assert sum(len(text.encode("utf-8")) for text in files.values()) < 100_000
    assert not [name for name in files if name.endswith((".ts", ".jsx", ".map", ".min.js"))]


def test_the_page_loads_nothing_from_another_origin():
    for name, text in page_files().items():
        text = text.replace(SVG_NAMESPACE, "")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), name
        assert "@import" not in text and "@font-face" not in text and "url(" not in text, name


class Tags(HTMLParser):
    def __init__(self, text: str):
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.data_in: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))
        self.data_in.append(tag)

    def handle_data(self, data):
        if self.data_in and self.data_in[-1] in ("script", "style") and data.strip():
            raise AssertionError(f"inline {self.data_in[-1]}: {data[:60]!r}")


def test_the_page_has_no_inline_script_or_style():
    tags = Tags(page_files()["index.html"]).found
    scripts = [attrs for tag, attrs in tags if tag == "script"]
    assert scripts == [{"type": "module", "src": "/static/app.js"}]
    assert not [tag for tag, _ in tags if tag == "style"]
    assert not [(tag, name) for tag, attrs in tags for name in attrs if name == "style" or name.startswith("on")]
    script = scripts_text()
    assert "innerHTML" not in script.replace("note.innerHTML = found.html", "").replace(
        '$("note").innerHTML = found.html', "")
    assert not re.search(r"\.style\.|setAttribute\(\"style\"|eval\(|new Function|insertAdjacentHTML|outerHTML", script)


def scripts_text() -> str:
    return "\n".join(text for name, text in page_files().items() if name.endswith(".js"))


def test_the_page_keeps_its_test_contract():
    script = scripts_text()
    for attribute in ('"data-path"', '"data-line"', '"data-paper"'):
        assert attribute in script
    assert 'id="note"' in page_files()["index.html"]
