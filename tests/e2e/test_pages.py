"""Every page of the real app, in a real browser, loads without exceptions or error alerts."""

from __future__ import annotations

import pytest

from dashboard import nav
from tests.e2e.browser import assert_no_errors, error_texts, goto_app, screenshot
from tests.e2e.seed import HOSTILE_ID, SCRIPT
from tests.e2e.server import start_server

pytestmark = pytest.mark.browser

PAGES = (nav.OVERVIEW, nav.TRENDS, nav.DRIFT, nav.WEEKLY, nav.EVALUATORS, nav.QUEUE, nav.EXPLORER,
         nav.PLAYGROUND, nav.DATASETS)


@pytest.mark.parametrize("url_path", PAGES)
def test_page_loads_without_errors(app_server, browser_page, url_path):
    page = browser_page
    # The default page (Overview) lives at the root; /overview would be "Page not found".
    goto_app(page, f"{app_server.url}/{'' if url_path == nav.OVERVIEW else url_path}")
    screenshot(page, f"page-{url_path}")
    assert_no_errors(page)
    # The sidebar's shared filters ran too (they query the warehouse on every page).
    assert page.get_by_text("Filters", exact=True).count() == 1


def test_overview_shows_the_warehouse_numbers(app_server, browser_page):
    page = browser_page
    goto_app(page, app_server.url)
    events_metric = page.locator('[data-testid="stMetric"]').filter(has_text="Events")
    # 600 + the hostile event; its playground rerun is not traffic.
    assert events_metric.inner_text().split()[-1] == "601"
    # Charts are drawn after the run ends (Vega embeds asynchronously): wait for the third.
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    charts.nth(2).wait_for(timeout=30_000)
    assert charts.count() == 3
    assert_no_errors(page)


def test_event_detail_shows_logged_html_as_text(app_server, browser_page):
    page = browser_page
    goto_app(page, f"{app_server.url}/{nav.EXPLORER}?event={HOSTILE_ID}")
    screenshot(page, "event-detail-hostile")
    assert_no_errors(page)
    # The script tag is visible as characters, and nothing from the logged HTML ran or rendered.
    assert page.get_by_text(SCRIPT, exact=False).count() >= 1
    assert page.evaluate("window.__xss === undefined")
    assert page.locator("main img[src='x']").count() == 0


def test_every_page_on_demo_data(demo_warehouse, browser_page):
    """The same check on realistic data, with the analysis tables the drift page draws from."""
    page = browser_page
    found = {}
    with start_server(demo_warehouse) as server:
        for url_path in PAGES:
            goto_app(page, f"{server.url}/{'' if url_path == nav.OVERVIEW else url_path}")
            screenshot(page, f"demo-{url_path}")
            found[url_path] = error_texts(page) + page.page_errors
    assert not any(found.values()), {k: v for k, v in found.items() if v}


def test_error_helper_sees_an_error_state(tmp_path, browser_page):
    """Positive control for assert_no_errors: a warehouse upgraded by a newer reviewdeck while
    the app runs shows an error with its next step, and the helper reports it."""
    from ingest.db import connect
    from tests.e2e.seed import seed

    db = seed(tmp_path / "w.duckdb", n=30)
    with start_server(db) as server:
        with connect(db) as con:
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
        goto_app(browser_page, server.url)
        errors = error_texts(browser_page)
    assert any("newer than this reviewdeck" in e for e in errors), errors
    with pytest.raises(AssertionError):
        assert_no_errors(browser_page)


def test_hostile_filter_in_a_link_renders_as_text(app_server, browser_page):
    from urllib.parse import quote

    page = browser_page
    hostile = "[click](javascript:window.__xss=3) ![x](https://example.invalid/x.png)"
    goto_app(page, f"{app_server.url}/{nav.EXPLORER}?status={quote(hostile)}")
    assert page.get_by_text("Ignored a filter in the link").count() == 1
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("img[src*='example.invalid']").count() == 0
    assert page.evaluate("window.__xss === undefined")
    assert_no_errors(page)


def test_no_page_makes_a_request_off_this_machine(app_server, browser_page):
    """No network at run time: every request a page makes (scripts, fonts, icons, favicon) goes
    to the app's own server. A :material/…: page icon used to send the browser to Google's font
    CDN for the favicon."""
    page = browser_page
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    for url_path in PAGES:
        goto_app(page, f"{app_server.url}/{'' if url_path == nav.OVERVIEW else url_path}")
        page.wait_for_timeout(300)  # the favicon and late icons are fetched after the run
    assert len(requests) > 20  # the listener saw the page's own requests
    elsewhere = [
        url for url in requests
        if not url.startswith((app_server.url, "data:", "blob:", "about:"))
    ]  # fmt: skip
    assert not elsewhere, elsewhere
