"""Fixtures for end-to-end tests: the real `reviewdeck serve` and Debian's Chromium via Playwright.

- `start_server(db)` (tests/e2e/server.py) runs the real `reviewdeck serve` on a free localhost
  port and waits for Streamlit's health endpoint; use it to serve a warehouse of your own, or
  the session-wide `app_server` over the seeded `e2e_warehouse` (tests/e2e/seed.py).
- `browser_page` is a fresh Chromium (/usr/bin/chromium, fresh user-data-dir) page.
- tests/e2e/browser.py holds the helpers: `launch_browser(playwright_instance, folder)` for more
  sessions, `goto_app` / `wait_for_app` (wait until the script run has finished),
  `assert_no_errors` (exception boxes, st.error alerts, "Page not found", JavaScript errors) and
  `screenshot(page, name)` (artifacts/screenshots/NAME.png, kept by CI as artifacts).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# Re-exported: tests written against the first version import these from the conftest.
from tests.e2e.browser import (  # noqa: F401
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    assert_no_errors,
    error_texts,
    goto_app,
    launch_browser,
    require_browser,
    screenshot,
    wait_for_app,
)
from tests.e2e.seed import seed
from tests.e2e.server import Server, start_server


@pytest.fixture(scope="session")
def e2e_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed(tmp_path_factory.mktemp("e2e") / "warehouse.duckdb")


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo warehouse built the way users build one: `reviewdeck demo --no-serve`."""
    from dashboard.cli.demo import demo

    folder = tmp_path_factory.mktemp("demo")
    demo(events=1000, data_dir=folder, no_serve=True)
    return folder / "reviewdeck.duckdb"


@pytest.fixture(scope="session")
def app_server(e2e_warehouse: Path) -> Iterator[Server]:
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
    context, page = launch_browser(playwright_instance, tmp_path / "chromium-profile")
    try:
        yield page
    finally:
        context.close()
