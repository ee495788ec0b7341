"""A headless Chromium for the review page: screenshots, the page's tests and its benchmark.

The browser is the system's Chromium (Debian's ``chromium`` package, or ``$SUMMARISE_CHROMIUM``),
driven by the Python ``playwright`` client with ``executable_path``: nothing downloads a
browser. Both are optional extras (``pip install -e ".[browser]"``, ``apt-get install
chromium``); without them ``summarise view`` still writes the page.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from summarise.errors import FatalError

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# A closed network: without these, Chromium keeps trying to reach Google's services.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


class BrowserMissing(FatalError):
    """No Chromium, or no playwright client, to drive the page with."""

    default_code = "browser_missing"
    default_stage = "view"


def find_chromium() -> str | None:
    """The Chromium to use: ``$SUMMARISE_CHROMIUM``, else the first on ``PATH``."""
    chosen = os.environ.get("SUMMARISE_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


@contextlib.contextmanager
def chromium_page(width: int = 1400, height: int = 900) -> Iterator[Page]:
    """A fresh page in a headless Chromium with an empty profile, closed on exit."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BrowserMissing(
            "the playwright client is not installed: pip install -e '.[browser]'"
        ) from exc
    executable = find_chromium()
    if executable is None:
        raise BrowserMissing(
            "no Chromium found: apt-get install chromium, or set SUMMARISE_CHROMIUM"
        )
    with (
        tempfile.TemporaryDirectory(prefix="summarise-chromium-") as profile,
        sync_playwright() as pw,
    ):
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=list(CHROMIUM_FLAGS),
            viewport={"width": width, "height": height},
            accept_downloads=True,
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def wait_ready(page: Page) -> None:
    """Wait until the page's script has rendered the index (``body[data-ready]``)."""
    page.wait_for_selector("body[data-ready='1']", state="attached")


def screenshot(report: Path, out_dir: Path, article_id: str | None = None) -> list[Path]:
    """PNGs of the index and of one article view (``article_id``, or the first record)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    url = report.resolve().as_uri()
    shots = [out_dir / "view-index.png", out_dir / "view-article.png"]
    with chromium_page() as page:
        page.goto(url)
        wait_ready(page)
        page.screenshot(path=str(shots[0]))
        target = article_id or page.evaluate("INDEX.length ? INDEX[0].id : null")
        if target is None:
            return shots[:1]
        page.goto(f"{url}#{quote(target, safe='')}")
        page.wait_for_selector("#article-view:not([hidden]) .text")
        first = page.query_selector("mark.quote")
        if first is not None:
            first.click()
            page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(shots[1]))
    return shots
