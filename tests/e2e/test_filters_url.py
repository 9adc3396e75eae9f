"""Shared filters live in the URL: they survive a reload, follow the menu, and drill down."""

from __future__ import annotations

import re

import pytest

from ingest.db import connect
from tests.e2e.browser import assert_no_errors, goto_app, screenshot, wait_for_app
from tests.e2e.seed import MODELS

pytestmark = pytest.mark.browser


def _count(db, where: str, params: list) -> int:
    with connect(db, read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM events WHERE {where}", params).fetchall()[0][0]


def _events_metric(page) -> str:
    return (
        page.locator('[data-testid="stMetric"]').filter(has_text="Events").inner_text().split()[-1]
    )


def _match_caption(page) -> str:
    return (
        page.locator('[data-testid="stCaptionContainer"]')
        .filter(has_text="events match")
        .inner_text()
    )


def test_filter_survives_reload_menu_and_drill_down(app_server, browser_page):
    page, db, model = browser_page, app_server.db, MODELS[1]
    n_model = _count(db, "kind = 'llm' AND rerun_of IS NULL AND model = ?", [model])
    n_errors = _count(
        db, "kind = 'llm' AND rerun_of IS NULL AND model = ? AND status = 'error'", [model]
    )

    goto_app(page, app_server.url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="Model").click()
    page.get_by_role("option", name=model).click()
    page.keyboard.press("Escape")
    wait_for_app(page)
    assert f"model={model}" in page.url
    assert _events_metric(page) == f"{n_model:,}"

    page.reload()
    wait_for_app(page)
    assert _events_metric(page) == f"{n_model:,}"

    page.locator('[data-testid="stSidebarNav"]').get_by_text("Events").click()
    page.wait_for_url(re.compile(r"/events"))
    wait_for_app(page)
    assert _match_caption(page).startswith(f"{n_model:,} events match")

    page.locator('[data-testid="stSidebarNav"]').get_by_text("Overview").click()
    page.wait_for_url(re.compile(r"/(\?|$)"))
    wait_for_app(page)
    page.get_by_text(f"Open the {n_errors:,} errors in the explorer").click()
    page.wait_for_url(re.compile(r"/events\?.*status=error"))
    wait_for_app(page)
    assert f"model={model}" in page.url
    assert _match_caption(page).startswith(f"{n_errors:,} events match")
    screenshot(page, "explorer-drill-down")
    assert_no_errors(page)


def test_row_click_opens_the_event_then_the_playground(app_server, browser_page):
    page, db = browser_page, app_server.db
    with connect(db, read_only=True) as con:
        expected = con.execute(
            "SELECT event_id FROM events WHERE kind = 'llm' AND rerun_of IS NULL "
            "AND status = 'error' "
            "ORDER BY ts DESC, event_id LIMIT 1"
        ).fetchall()[0][0]
    goto_app(page, f"{app_server.url}/events?status=error")
    box = page.locator('[data-testid="stDataFrame"]').bounding_box()
    # The grid is a canvas: click the first row's selection cell (header is ~35 px high).
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 17)
    page.wait_for_url(re.compile(r"event="))
    wait_for_app(page)
    assert f"event={expected}" in page.url
    assert page.get_by_text("This call failed:").count() == 1
    assert_no_errors(page)  # a failed logged call is not an app error
    page.get_by_role("button", name="Reopen in playground").click()
    page.wait_for_url(re.compile(rf"/playground\?event={expected}"))
    wait_for_app(page)
    screenshot(page, "playground-from-explorer")
    assert_no_errors(page)
