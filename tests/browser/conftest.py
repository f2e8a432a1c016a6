"""A real Chromium (Debian's) driven by Playwright, and axe-core for accessibility checks."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(
            "Debian's chromium is not installed and could not be installed (make browser-deps)"
        )
    if not AXE.exists():
        pytest.skip("axe-core is not installed (make browser-deps runs npm ci in tests/browser)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; Django's ORM calls in
    # these tests are still ordinary synchronous code, so allow them while the browser is up.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(chromium, live_server) -> Iterator[object]:
    # axe-core is injected as a script; the CSP that would block it is tested on its own.
    context = chromium.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def assert_accessible(page) -> None:
    """Fail on any serious or critical axe-core violation on the current page."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{page.url}: " + "; ".join(bad)


os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


@pytest.fixture
def strict_page(chromium, live_server) -> Iterator[object]:
    """A page with the site's Content Security Policy enforced (no axe injection)."""
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.csp_errors = errors
    yield page
    context.close()


def assert_descriptions_resolve(page) -> None:
    """Every aria-describedby on the page points at an element that is there (a help text or
    an error a screen reader would otherwise never read out with its field)."""
    described = page.evaluate(
        """() => [...document.querySelectorAll('[aria-describedby]')].flatMap(
            el => el.getAttribute('aria-describedby').split(/\\s+/).filter(Boolean))"""
    )
    missing = [t for t in described if page.locator(f"[id='{t}']").count() != 1]
    assert not missing, missing
