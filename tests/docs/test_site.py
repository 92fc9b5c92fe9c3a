"""The built site, served on 127.0.0.1, opens cleanly in headless Chromium, page by page.

The site is built strictly (``mkdocs build --strict``: warnings, broken links and anchors, and
pages left out of the navigation fail it), served by a plain HTTP server on loopback, and every
page is loaded in Debian's Chromium. A page fails on a console error or uncaught exception, a
request that failed or answered 4xx/5xx, or an image that did not load. Screenshots of the
quickstart and the performance page are written to ``.artifacts/screenshots/`` (git-ignored)
for review.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.docs._browser import Browser, chromium_path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"
REVIEWED = {"quickstart": "quickstart/index.html", "performance": "performance/index.html"}

pytestmark = pytest.mark.timeout(900)  # a strict build and ~50 pages on a shared 2-core machine


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}{done.stderr}"
    return out


@contextlib.contextmanager
def _serve(folder: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def site_url(site: Path) -> Iterator[str]:
    with _serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.fail(
            "Debian's chromium is not installed: `make chromium` installs it "
            "(apt-get install -y chromium); `make test` does so itself",
            pytrace=False,
        )
    with Browser(executable) as chromium:
        yield chromium


def _pages(site: Path) -> list[str]:
    return sorted(str(p.relative_to(site)) for p in site.rglob("*.html"))


def test_every_page_opens_without_errors(site: Path, site_url: str, browser: Browser) -> None:
    pages = _pages(site)
    assert "index.html" in pages and "quickstart/index.html" in pages
    problems: dict[str, list[str]] = {}
    for page in pages:
        report = browser.visit(f"{site_url}/{page}")
        if report.problems:
            problems[page] = report.problems
        for name, reviewed in REVIEWED.items():
            if page == reviewed:
                browser.screenshot(SCREENSHOTS / f"{name}.png")
    assert not problems, "pages with problems:\n" + "\n".join(
        f"{page}: {'; '.join(found)}" for page, found in problems.items()
    )
    for name in REVIEWED:
        shot = SCREENSHOTS / f"{name}.png"
        assert shot.stat().st_size > 10_000, f"{shot} looks empty"


def test_a_broken_page_is_caught(tmp_path: Path, browser: Browser) -> None:
    """The checks bite: a console error, a missing image and a missing script are reported."""
    (tmp_path / "index.html").write_text(
        "<!doctype html><html><body><p>broken</p>"
        '<img src="missing.png" alt="missing">'
        '<script src="missing.js"></script>'
        "<script>console.error('boom')</script></body></html>"
    )
    with _serve(tmp_path) as url:
        report = browser.visit(f"{url}/index.html")
    assert any("boom" in e for e in report.console_errors), report
    assert any("missing.png" in i for i in report.broken_images), report
    assert any("404" in r and "missing.js" in r for r in report.failed_requests), report
