"""The documentation site works opened from disk with no network, as on a lab PC: in a
real headless Chromium (Debian's chromium and chromium-driver, which `make test`
installs) from ``file://``, the navigation reaches pages (never a directory listing), the
overview diagram renders as SVG, search finds results on every page, and nothing is
fetched from anywhere but the site's own folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT = 20  # seconds, for a page's scripts (mermaid is 3.5 MB of JavaScript)
#: Schemes a page may load from without the network.
LOCAL_SCHEMES = {"file", "data", "blob", "about"}
TEXT_NODE = 3

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built strictly from the docs as they are now (as `make docs` does)."""
    folder = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    mkdocs = [sys.executable, "-m", "mkdocs", "build", "--strict"]
    result = subprocess.run(
        [*mkdocs, "-f", str(REPO / "docs" / "mkdocs.yml"), "-d", str(folder)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return folder


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium with a new empty profile, its network log recorded."""
    for program in (CHROMIUM, CHROMEDRIVER):
        assert program.exists(), f"{program} is missing: `make setup` installs chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def open_page(browser: WebDriver, page: Path) -> None:
    browser.get(page.as_uri())
    WebDriverWait(browser, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, "article h1"))


def search(browser: WebDriver, query: str) -> list[str]:
    """Type ``query`` in the search box; return the titles of the results."""
    box = browser.find_element(By.CSS_SELECTOR, "input.md-search__input")
    box.click()
    box.send_keys(query)
    items = "ol.md-search-result__list li.md-search-result__item"
    WebDriverWait(browser, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, items))
    return [item.text.split("\n")[0] for item in browser.find_elements(By.CSS_SELECTOR, items)]


def rendered(browser: WebDriver) -> None:
    """Wait until Material has replaced every mermaid block by its rendered diagram."""
    WebDriverWait(browser, WAIT).until(
        lambda b: (
            not b.find_elements(By.CSS_SELECTOR, "pre.mermaid")
            and b.find_elements(By.CSS_SELECTOR, "div.mermaid")
        )
    )


def svg_texts(browser: WebDriver) -> list[str]:
    """The text of every SVG that a mermaid diagram was rendered into. Material puts each
    in a closed shadow root of a ``div.mermaid``, which the DevTools protocol pierces."""
    tree = browser.execute_cdp_cmd("DOM.getDocument", {"depth": -1, "pierce": True})
    found: list[str] = []

    def text_of(node: dict[str, Any]) -> str:
        own = node.get("nodeValue", "") if node.get("nodeType") == TEXT_NODE else ""
        return own + "".join(text_of(child) for child in children_of(node))

    def walk(node: dict[str, Any], in_diagram: bool) -> None:
        if in_diagram and node.get("nodeName") == "svg":
            found.append(text_of(node))
            return
        attributes = node.get("attributes", [])
        classes = dict(zip(attributes[::2], attributes[1::2], strict=True)).get("class", "")
        in_diagram = in_diagram or (node.get("nodeName") == "DIV" and "mermaid" in classes.split())
        for child in children_of(node):
            walk(child, in_diagram)

    walk(tree["root"], False)
    return found


def children_of(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [*node.get("shadowRoots", []), *node.get("children", [])]


def test_the_overview_diagram_renders_as_svg(site, browser):
    open_page(browser, site / "index.html")
    rendered(browser)
    (diagram,) = svg_texts(browser)
    assert "your process: 64-bit Python" in diagram
    assert "server process: 32-bit Python" in diagram


def test_the_navigation_leads_to_pages_not_folders(site, browser):
    open_page(browser, site / "index.html")
    links = browser.find_elements(By.CSS_SELECTOR, "nav.md-nav--primary a.md-nav__link[href]")
    targets = {urlparse(link.get_attribute("href") or "") for link in links}
    assert len(targets) >= 20
    for target in targets:
        path = Path(url2pathname(target.path))
        assert target.scheme == "file", target
        assert path.suffix == ".html", target
        assert path.is_file(), target
    threads = browser.find_element(By.CSS_SELECTOR, "a.md-nav__link[href$='guide/threads.html']")
    browser.execute_script("arguments[0].click()", threads)
    WebDriverWait(browser, WAIT).until(lambda b: b.current_url.endswith("guide/threads.html"))
    assert browser.find_element(By.CSS_SELECTOR, "article h1").text == "Threads"


def test_search_finds_results_on_every_page_and_no_script_fails(site, browser):
    # Search stopped on the home page when its mermaid failed to load: try every page.
    pages = sorted(page for page in site.rglob("*.html") if page.name != "404.html")
    assert len(pages) >= 20
    browser.get_log("browser")
    for page in pages:
        open_page(browser, page)
        titles = search(browser, "callback")
        assert "Callbacks" in titles, f"{page.relative_to(site)}: {titles}"
        errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], f"{page.relative_to(site)}: {errors}"


def test_the_site_loads_nothing_from_the_network(site, browser):
    open_page(browser, site / "index.html")
    search(browser, "timeout")
    open_page(browser, site / "architecture.html")
    rendered(browser)
    requested = requests_made(browser)
    assert any(url.endswith("mermaid.min.js") for url in requested)
    assert any("search_index.js" in url for url in requested)
    remote = sorted({url for url in requested if urlparse(url).scheme not in LOCAL_SCHEMES})
    assert remote == []


def requests_made(browser: WebDriver) -> list[str]:
    """The URL of every request made by a page since the log was last read; the browser's
    own pages (``chrome://``, its new-tab page) are not the site's."""
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] != "Network.requestWillBeSent":
            continue
        params = message["params"]
        if urlparse(params.get("documentURL", "")).scheme != "chrome":
            urls.append(params["request"]["url"])
    return urls


def test_the_api_page_is_complete_and_links_to_python(site):
    page = (site / "api.html").read_text(encoding="utf-8")
    for name in ("c_callback", "remote32", "dotnet.NetError", "dotnet.NetObject"):
        assert f'id="bitbridge.{name}"' in page, name
    entry = page.split('id="bitbridge.remote32"', 1)[1].split('id="bitbridge.BridgeOptions"')[0]
    assert entry.count('class="doc-signature') == 1  # one signature, not the overloads
    callback = page.split('id="bitbridge.c_callback"', 1)[1].split('id="bitbridge.server_info"')[0]
    assert "AbstractContextManager" in callback
    assert "https://docs.python.org/3/library/ctypes.html#ctypes.CFUNCTYPE" in callback
