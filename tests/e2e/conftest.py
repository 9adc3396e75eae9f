"""Fixtures for end-to-end tests: the real `reviewdeck serve` and Debian's Chromium via Playwright.

- `start_server(db)` (tests/e2e/server.py) runs the real `reviewdeck serve` on a free localhost
  port and waits for Streamlit's health endpoint; use it to serve a warehouse of your own, or
  the session-wide `app_server` over the seeded `e2e_warehouse` (tests/e2e/seed.py).
- `browser_page` is a fresh Chromium (/usr/bin/chromium, fresh user-data-dir) page; no browser is
  downloaded at run time. `goto_app(page, url)` waits until the script run has finished.
- `assert_no_errors(page)` fails on Streamlit exception boxes and st.error alerts.
- `screenshot(page, name)` saves artifacts/screenshots/NAME.png (kept by CI as artifacts).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e.seed import seed
from tests.e2e.server import Server, start_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
# Elements Streamlit draws for an uncaught exception and for st.error.
ERROR_SELECTORS = ('[data-testid="stException"]', '[data-testid="stAlertContentError"]')


@pytest.fixture(scope="session")
def e2e_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed(tmp_path_factory.mktemp("e2e") / "warehouse.duckdb")


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo warehouse built the way users build one: `reviewdeck demo --no-serve`."""
    from dashboard.serve_cli import demo

    folder = tmp_path_factory.mktemp("demo")
    demo(events=1000, data_dir=folder, no_serve=True)
    return folder / "reviewdeck.duckdb"


@pytest.fixture(scope="session")
def app_server(e2e_warehouse: Path) -> Iterator[Server]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (see .ci/run)")
    with start_server(e2e_warehouse) as server:
        yield server


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def browser_page(playwright_instance, tmp_path: Path):
    """A page in a fresh Chromium profile; closed after the test."""
    context = playwright_instance.chromium.launch_persistent_context(
        user_data_dir=str(tmp_path / "chromium-profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 1000},
    )
    page = context.pages[0] if context.pages else context.new_page()
    page.page_errors = []  # uncaught JS errors, checked by assert_no_errors
    page.on("pageerror", lambda exc: page.page_errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()


def wait_for_app(page, timeout_ms: float = 60_000) -> None:
    """Wait until Streamlit is connected and its script run has finished."""
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]'
        '[data-test-connection-state="CONNECTED"]',
        timeout=timeout_ms,
    )
    # Elements of the finished run are painted on the next frames.
    page.wait_for_timeout(300)


def goto_app(page, url: str, timeout_ms: float = 60_000) -> None:
    page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    wait_for_app(page, timeout_ms)


def error_texts(page) -> list[str]:
    # A link to a page that does not exist opens this dialog and falls back to the main page.
    found = ["Page not found"] if page.get_by_text("Page not found").count() else []
    for selector in ERROR_SELECTORS:
        found += [el.inner_text() for el in page.query_selector_all(selector)]
    return found


def assert_no_errors(page) -> None:
    errors = error_texts(page)
    assert not errors, f"error elements on {page.url}: {errors}"
    assert not page.page_errors, f"JavaScript errors on {page.url}: {page.page_errors}"


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
