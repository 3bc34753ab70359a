"""The built site in a real browser: every page loads, figures show, nothing errors, search works.

Drives the system's headless Chromium over the DevTools protocol (tools/browser.py). Screenshots
of every chapter page are saved under _build/screenshots/ for a reader to look at.
"""

from __future__ import annotations

import functools
import http.server
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from conftest import ROOT, appendix_files, chapter_files, toc_files

from tools.browser import Chromium, find_chromium

pytestmark = pytest.mark.slow
CHAPTERS = chapter_files()
SCREENSHOTS = ROOT / "_build" / "screenshots"


@pytest.fixture(scope="module")
def site_url(built_site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(built_site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        pytest.fail(
            "no Chromium found: install the Debian package 'chromium' "
            "(.ci/run does this when it is missing)"
        )
    chromium = Chromium(executable)
    yield chromium
    chromium.close()


PAGE_REPORT = """(() => {
  const main = document.querySelector('main') || document.body;
  const text = main.innerText;
  const images = [...main.querySelectorAll('img')];
  return {
    title: document.title,
    h1: (main.querySelector('h1') || {}).innerText || '',
    figures: images.filter(i => i.complete && i.naturalWidth > 0).length,
    broken: images.filter(i => i.complete && i.naturalWidth === 0).map(i => i.src),
    traceback: /Traceback \\(most recent call last\\)/.test(text),
    stderr: main.querySelectorAll('.output.stderr, .output.traceback, .output.error').length,
    unrendered: (text.match(/\\{(glue|doc|ref|term|cite)[^}]*\\}`?/) || [null])[0],
  };
})()"""


@pytest.mark.parametrize("path", CHAPTERS + appendix_files(), ids=lambda p: p.stem)
def test_page_loads_shows_its_figures_and_no_errors(browser, site_url, path):
    relative = path.relative_to(ROOT).with_suffix(".html").as_posix()
    browser.goto(f"{site_url}/{relative}")
    browser.wait_for(
        "document.querySelectorAll('main img').length === 0 || "
        "[...document.querySelectorAll('main img')].every(i => i.complete)"
    )
    report = browser.evaluate(PAGE_REPORT)
    browser.screenshot(SCREENSHOTS / f"{path.stem}.png")
    assert report["h1"], f"{relative}: no heading"
    assert not report["traceback"] and not report["stderr"], f"{relative}: error output"
    assert not report["broken"], f"{relative}: broken images {report['broken']}"
    assert report["unrendered"] is None, f"{relative}: unrendered {report['unrendered']}"
    if "plt.show()" in path.read_text():
        assert report["figures"] >= 1, f"{relative}: the chapter plots but shows no figure"


def test_search_finds_shrinkage(browser, site_url):
    browser.goto(f"{site_url}/search.html?q=shrinkage")
    count = browser.wait_for("document.querySelectorAll('#search-results li').length", 30)
    browser.screenshot(SCREENSHOTS / "search-shrinkage.png")
    assert count and count >= 2, "search for 'shrinkage' returned no pages"
    hits = browser.evaluate(
        "[...document.querySelectorAll('#search-results li a')].map(a => a.getAttribute('href'))"
    )
    assert any("partial_pooling" in h for h in hits), hits


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])


def test_internal_links_resolve(built_site):
    """Every relative link of every page points to an existing file and, if any, anchor."""
    parsed: dict[Path, _Links] = {}
    for page in built_site.rglob("*.html"):
        links = _Links()
        links.feed(page.read_text())
        parsed[page] = links
    problems = []
    for page, links in parsed.items():
        for href in links.hrefs:
            url = urlparse(href)
            if url.scheme or href.startswith(("//", "mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(url.path)).resolve() if url.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{page.relative_to(built_site)} -> {href}")
            elif url.fragment and target.suffix == ".html" and target in parsed:
                if url.fragment not in parsed[target].ids:
                    problems.append(f"{page.relative_to(built_site)} -> {href} (no anchor)")
    assert not problems, "\n".join(problems[:20])
    assert len(parsed) >= len(toc_files())
