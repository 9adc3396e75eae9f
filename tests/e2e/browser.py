"""Browser helpers for end-to-end tests: Debian's Chromium through Playwright, and checks.

No browser is downloaded at run time: Playwright drives Debian's /usr/bin/chromium (installed by
.ci/run) where it exists, else the Chromium that `playwright install chromium` put in Playwright's
own cache (on a machine that can download it), with a fresh profile per session.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO

DEBIAN_CHROMIUM = "/usr/bin/chromium"
# None makes Playwright launch its own browser build.
CHROMIUM: str | None = DEBIAN_CHROMIUM if Path(DEBIAN_CHROMIUM).exists() else None
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


def launch_browser(playwright, profile_dir: Path):
    """Debian's Chromium with a fresh profile; returns (context, page). Close the context.

    Call it again with another folder for a second, independent browser session.
    """
    require_browser(playwright)
    context = playwright.chromium.launch_persistent_context(
        user_data_dir=str(profile_dir),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 1000},
    )
    page = context.pages[0] if context.pages else context.new_page()
    page.page_errors = []  # uncaught JS errors, checked by assert_no_errors
    page.on("pageerror", lambda exc: page.page_errors.append(str(exc)))
    return context, page


def require_browser(playwright) -> None:
    """Fail with the way out when neither Debian's Chromium nor Playwright's own is installed."""
    if CHROMIUM is None and not Path(playwright.chromium.executable_path).exists():
        pytest.fail(
            f"no Chromium for the browser tests: install Debian's (`apt-get install chromium`, "
            f"at {DEBIAN_CHROMIUM}) or Playwright's (`python -m playwright install chromium`)"
        )


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
