"""The page in a real browser: headless Chromium from Debian's packages, driven by Selenium through Debian's
chromedriver, against the real `notesearch serve` on a temp index of the bundled notes and a hostile note.

Nothing is downloaded: the driver's path is given, so Selenium Manager never runs (SE_OFFLINE too). The tests
skip, with the reason, where chromium or chromedriver is missing (`apt-get install chromium chromium-driver`).
Each view is saved as a screenshot in the test's tmp_path.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import corpus
from indexer import build

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver")
                                                 else None)
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (the test extra)")
if not CHROMIUM or not CHROMEDRIVER:
    pytest.skip("needs Debian's chromium and chromedriver: apt-get install chromium chromium-driver",
                allow_module_level=True)

from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

# A note that tries every way in: each would set window.pwned (or alert) if it ran.
HOSTILE = """# 恶意笔记 hostile note

这是一篇恶意笔记 quarantine test: nothing below may run.

<script>window.pwned = "script"; alert("script")</script>

[click me](javascript:window.pwned='link') and <a href="javascript:window.pwned='a'">an anchor</a>

<img src="x" onerror="window.pwned = 'img'; alert('img')">

<iframe src="javascript:parent.pwned='iframe'"></iframe>

<svg onload="window.pwned = 'svg'"></svg>

![picture](javascript:window.pwned='image')
"""


served_urls: dict[str, tuple[Path, str]] = {}


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder):
    """`notesearch serve` on an index of the bundled notes and a folder with a hostile note: (base URL with its
    login token, the server process)."""
    root = tmp_path_factory.mktemp("page")
    hostile = root / "hostile"
    hostile.mkdir()
    (hostile / "hostile.md").write_text(HOSTILE, encoding="utf-8")
    index = root / "index"
    build([str(corpus.BUNDLED_NOTES), str(hostile)], str(index), embedder=embedder)
    with open(root / "serve.log", "w+", encoding="utf-8") as log:
        server = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "serve", "--index", str(index)],
                                  cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        state = index / "serve.json"
        deadline = time.monotonic() + 90
        url = None
        while time.monotonic() < deadline and server.poll() is None and not url:
            time.sleep(0.2)
            try:
                url = json.loads(state.read_text(encoding="utf-8")).get("url")
            except (OSError, ValueError):
                pass
        if not url:
            server.kill()
            log.seek(0)
            pytest.fail(f"notesearch serve gave no url in {state}: {log.read()[-2000:]}")
        served_urls[str(root)] = (hostile, json.loads(state.read_text(encoding="utf-8"))["token"])
        yield url
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def browser():
    offline = os.environ.get("SE_OFFLINE")
    os.environ["SE_OFFLINE"] = "true"  # were Selenium Manager to run despite the driver's path, it fetches nothing
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,800", "--lang=en-US"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    yield driver
    driver.quit()
    if offline is None:
        os.environ.pop("SE_OFFLINE", None)
    else:
        os.environ["SE_OFFLINE"] = offline


def until(driver, condition, timeout=30, message=""):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)
    except TimeoutException:
        raise AssertionError(message or "the page did not get there in time") from None


def search(driver, text):
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(text)
    until(driver, lambda d: d.execute_script(
        "const h = document.querySelector('#hits .hit'); return h && document.getElementById('q').value === arguments[0]"
        " && !document.getElementById('message').textContent.startsWith('Type')", text),
        message=f"no hits for {text!r}")
    time.sleep(0.4)  # the debounced search of the last keystroke has landed
    return driver.find_elements(By.CSS_SELECTOR, "#hits .hit")


def csp_violations(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]


def test_typing_a_query_shows_the_golden_hit_and_opens_its_note_at_the_line(served, browser, tmp_path):
    browser.get(served)
    hits = search(browser, "自监督 视觉")
    first = hits[0]
    assert (first.get_attribute("data-path"), first.get_attribute("data-line")) == \
        (str(corpus.BUNDLED_NOTES / "dl-research-trends-2022-2024.md"), "37")  # as the index stores it
    browser.save_screenshot(str(tmp_path / "search.png"))
    first.click()
    marked = until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#note .passage"),
                   message="the note opened without its passage marked")
    assert marked[0].get_attribute("data-line") == "37"
    assert "Masked Autoencoders" in marked[0].text
    shown = browser.execute_script(
        "const n = document.getElementById('note').getBoundingClientRect(), p = arguments[0].getBoundingClientRect();"
        "return p.top >= n.top && p.top < n.bottom", marked[0])
    assert shown, "the passage is not scrolled into view"
    browser.save_screenshot(str(tmp_path / "note.png"))
    browser.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    browser.find_element(By.ID, "copy").click()
    until(browser, lambda d: d.find_element(By.ID, "copy").text == "copied", message="path:line was not copied")
    copied = browser.execute_async_script("navigator.clipboard.readText().then(arguments[0], () => arguments[0](null))")
    assert copied == f"{corpus.BUNDLED_NOTES / 'dl-research-trends-2022-2024.md'}:37"
    assert not csp_violations(browser)


def test_keyboard_slash_focuses_the_box_and_arrows_and_enter_open_a_hit(served, browser, tmp_path):
    browser.get(served)
    search(browser, "生成对抗")
    browser.find_element(By.ID, "index-info").click()  # the box loses the focus
    assert browser.switch_to.active_element.get_attribute("id") != "q"
    ActionChains(browser).send_keys("/").perform()
    assert browser.switch_to.active_element.get_attribute("id") == "q"
    ActionChains(browser).send_keys(Keys.ARROW_DOWN, Keys.ARROW_DOWN).perform()
    second = browser.find_elements(By.CSS_SELECTOR, "#hits .hit")[1]
    assert "selected" in second.get_attribute("class")
    assert browser.switch_to.active_element.get_attribute("data-rank") == "2"
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    line = second.get_attribute("data-line")
    until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'#note .passage[data-line="{line}"]'),
          message="Enter did not open the selected hit")
    browser.save_screenshot(str(tmp_path / "keyboard.png"))


def test_the_graph_of_a_paper_names_its_links_and_recentres_on_a_click(served, browser, tmp_path):
    browser.get(served)
    hits = search(browser, '"Deep Residual Learning for Image Recognition"')
    hits[0].click()
    browser.find_element(By.ID, "show-related").click()
    centre = "Deep Residual Learning for Image Recognition"
    until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'#graph [data-paper="{centre}"].centre'),
          message="no graph centred on ResNet")
    papers = [e.get_attribute("data-paper") for e in browser.find_elements(By.CSS_SELECTOR, "#graph .paper")]
    assert len(papers) >= 4 and papers[-1] == centre
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#graph .edge-label")]
    assert len(labels) == len(papers) - 1 and all(labels)
    assert any(label.startswith("shared method/task") for label in labels)
    years = [int(e.get_attribute("data-year")) for e in browser.find_elements(By.CSS_SELECTOR, "#timeline li")
             if e.get_attribute("data-year")]
    assert years == sorted(years) and len(years) == len(papers)
    browser.save_screenshot(str(tmp_path / "graph.png"))
    other = papers[0]
    browser.find_element(By.CSS_SELECTOR, "#graph .paper:not(.centre)").click()
    until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#graph .paper.centre")
          and d.find_element(By.CSS_SELECTOR, "#graph .paper.centre").get_attribute("data-paper") == other,
          message=f"the graph did not re-centre on {other}")
    assert centre in [e.get_attribute("data-paper") for e in browser.find_elements(By.CSS_SELECTOR, "#graph .paper")]
    browser.save_screenshot(str(tmp_path / "graph-recentred.png"))
    assert not csp_violations(browser)


def test_a_prose_passage_shows_the_papers_it_names_and_a_click_opens_ones_graph(served, browser, tmp_path):
    browser.get(served)
    search(browser, "自监督 视觉")[0].click()  # the MAE paragraph, which names BERT
    until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#note .passage"), message="the note did not open")
    browser.find_element(By.ID, "show-related").click()
    bert = "BERT: Pre - training of Deep Bidirectional Transformers for Language Understanding"
    named = until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#named-papers [data-paper]"),
                  message="no named paper beside the related passages")
    assert [e.get_attribute("data-paper") for e in named] == [bert]
    assert named[0].text.startswith("BERT") and "(2019)" in named[0].text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#related-passages .hit")) >= 3
    browser.save_screenshot(str(tmp_path / "passage-related.png"))
    named[0].click()
    until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'#graph [data-paper="{bert}"].centre'),
          message="a click on the named paper did not open its graph")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#graph .paper")) >= 4
    assert browser.find_element(By.ID, "passage-view").get_attribute("hidden") is not None
    browser.save_screenshot(str(tmp_path / "named-graph.png"))
    assert not csp_violations(browser)


def test_a_hostile_note_runs_nothing(served, browser, tmp_path):
    browser.get(served)
    hits = search(browser, "恶意笔记 quarantine")
    hostile = [h for h in hits if h.get_attribute("data-path").endswith("hostile.md")]
    assert hostile, "the hostile note was not found"
    hostile[0].click()
    until(browser, lambda d: "quarantine" in d.find_element(By.ID, "note").text)
    time.sleep(1)  # time for anything that would run (an image's error, a frame's load)
    note = browser.find_element(By.ID, "note")
    assert "<script>" in note.text and "onerror" in note.text  # shown as text
    assert not note.find_elements(By.CSS_SELECTOR, "script, iframe, img, svg, object, embed, [onerror], [onload]")
    assert not [a for a in note.find_elements(By.TAG_NAME, "a") if "javascript" in (a.get_attribute("href") or "")]
    for link in note.find_elements(By.TAG_NAME, "a"):
        link.click()
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    assert browser.execute_script("return window.pwned === undefined")
    assert not csp_violations(browser)
    browser.save_screenshot(str(tmp_path / "hostile.png"))


def test_a_narrow_window_shows_the_note_below_the_hits(served, browser, tmp_path):
    browser.get(served)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 420, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    try:
        search(browser, "自监督 视觉")[0].click()
        until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#note .passage"))
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 420, "the page scrolls sideways in a narrow window"
        browser.save_screenshot(str(tmp_path / "narrow.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})


def test_no_results_and_a_stopped_server_are_said_in_words(served, browser, tmp_path):
    browser.get(served)
    Select(browser.find_element(By.ID, "mode")).select_by_value("keyword")
    box = browser.find_element(By.ID, "q")
    box.send_keys("qxzvjk wqpfhg")
    until(browser, lambda d: d.find_element(By.ID, "message").text.startswith("No results for"),
          message="an empty answer is not said")
    assert not browser.find_elements(By.CSS_SELECTOR, "#hits .hit")
    browser.save_screenshot(str(tmp_path / "no-results.png"))
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions",
                            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    try:
        box.send_keys(" transformer")
        until(browser, lambda d: "stopped" in d.find_element(By.ID, "server-state").text,
              message="a server that does not answer is not said")
        browser.save_screenshot(str(tmp_path / "stopped.png"))
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions",
                                {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    box.send_keys(" 视觉")
    until(browser, lambda d: not d.find_element(By.ID, "server-state").is_displayed()
          and d.find_elements(By.CSS_SELECTOR, "#hits .hit"), message="the page did not come back with the server")


def test_an_index_run_shows_on_the_page_without_a_reload(served, browser, tmp_path):
    browser.get(served)
    search(browser, "自监督 视觉")
    (hostile, token), = served_urls.values()
    (hostile / "live.md").write_text("# 新笔记 live note\n\n刚刚写下的笔记：zebrafish 斑马鱼 实验。\n", encoding="utf-8")
    base = served.split("/?")[0]
    request = urllib.request.Request(f"{base}/api/index", data=b"{}", method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as answer:
        last = json.loads(answer.read().decode("utf-8").strip().splitlines()[-1])
    assert last.get("report", {}).get("added") == 1, last
    until(browser, lambda d: "added 1" in d.find_element(By.ID, "index-updates").text,
          message="the index run does not show on the page")
    hits = search(browser, "zebrafish 斑马鱼")
    assert hits[0].get_attribute("data-path").endswith("live.md")
    browser.save_screenshot(str(tmp_path / "updated.png"))
