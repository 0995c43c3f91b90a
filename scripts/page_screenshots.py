"""Take the README's screenshots of the page (docs/page-*.png) as the page is now.

    .venv/bin/python scripts/page_screenshots.py            # into docs/
    .venv/bin/python scripts/page_screenshots.py --out /tmp/shots

The bundled notes are indexed (the default model) into a temporary folder and
served by the real `notesearch serve`; Debian's headless Chromium (driven by
Selenium through Debian's chromedriver, as the browser tests do: nothing is
downloaded) opens the page at 1280×800 and takes each view:

- page-note.png: `自监督 视觉` typed, the MAE paragraph opened at line 37;
- page-passage.png: its related passages, with the paper it names (BERT);
- page-graph.png: ResNet's paper and the graph of its related papers.

Each is saved with a palette of at most COLOURS colours, undithered (flat colours and text compress well).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import corpus
from indexer import build

COLOURS = 64


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder to write the images into (docs/)")
    args = parser.parse_args()
    from PIL import Image  # Pillow comes with reportlab, of the test extra
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not chromium or not os.path.exists(driver_path):
        sys.exit("needs Debian's chromium and chromedriver: apt-get install chromium chromium-driver")
    os.environ["SE_OFFLINE"] = "true"
    with tempfile.TemporaryDirectory() as folder:
        index = Path(folder) / "index"
        build([str(corpus.BUNDLED_NOTES)], str(index))
        server = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "serve", "--index", str(index)], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800", "--lang=en-US"):
            options.add_argument(argument)
        driver = None
        try:
            url = served_url(index / "serve.json", server)
            driver = webdriver.Chrome(service=Service(driver_path), options=options)
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})

            def until(css: str) -> list:
                return WebDriverWait(driver, 60, poll_frequency=0.1).until(
                    lambda d: d.find_elements(By.CSS_SELECTOR, css))

            def shoot(name: str) -> None:
                time.sleep(0.5)  # the page has settled (scrolling, the footer's stats)
                path = Path(args.out) / name
                driver.save_screenshot(str(path))
                Image.open(path).convert("RGB").quantize(COLOURS, dither=Image.Dither.NONE).save(path, optimize=True)
                print(f"{path} ({path.stat().st_size // 1024} KB)")

            driver.get(url)
            until("#index-summary:not(:empty)")
            type_query(driver, By, until, "自监督 视觉")
            until("#hits .hit")[0].click()
            until("#note .passage")
            shoot("page-note.png")
            driver.find_element(By.ID, "show-related").click()
            until("#named-papers [data-paper]")
            shoot("page-passage.png")
            type_query(driver, By, until, '"Deep Residual Learning for Image Recognition"')
            until("#hits .hit")[0].click()
            driver.find_element(By.ID, "show-related").click()
            until('#graph .paper.centre[data-paper="Deep Residual Learning for Image Recognition"]')
            shoot("page-graph.png")
        finally:
            if driver is not None:
                driver.quit()
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    return 0


def served_url(state: Path, server: subprocess.Popen) -> str:
    """The page's one-time URL, once the server has written it into serve.json."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            url = json.loads(state.read_text(encoding="utf-8")).get("url")
        except (OSError, ValueError):
            url = None
        if url:
            return url
        time.sleep(0.2)
    sys.exit(f"notesearch serve wrote no url into {state}")


def type_query(driver, by, until, text: str) -> None:
    """Type `text` into the search box and wait for the hits of its last keystroke."""
    box = driver.find_element(by.ID, "q")
    box.clear()
    box.send_keys(text)
    until("#hits .hit")
    time.sleep(1.0)  # the debounced search of the last keystroke has landed


if __name__ == "__main__":
    sys.exit(main())
