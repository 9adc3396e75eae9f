"""The Drift page's windows live in the URL: a shared link opens the same comparison, and a
reload keeps it (issue 13), with the new topic of that window named first."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.db import connect
from models.drift.analyze import AnalyzeOptions, run_analysis
from tests.e2e.browser import assert_no_errors, goto_app, screenshot, wait_for_app
from tests.e2e.server import start_server
from tests.models.analyze_data import START, insert_events, make_events

pytestmark = pytest.mark.browser
REF, CUR = "2026-09-07..2026-10-04", "2026-10-05..2026-10-11"


@pytest.fixture(scope="module")
def drift_server(tmp_path_factory: pytest.TempPathFactory):
    """Weeks 1-4 with four topics, week 5 with crypto questions added; analysed (no map)."""
    path: Path = tmp_path_factory.mktemp("drift_url") / "warehouse.duckdb"
    with connect(path) as con:
        insert_events(con, make_events(1200, seed=1, weeks=4))
        insert_events(con, make_events(
            300, seed=2, weeks=1, start=START + dt.timedelta(weeks=4), id_prefix="w5",
            topics={"refund": 1, "password": 1, "shipping": 1, "invoice": 1, "crypto": 1}))
        # week 6 exists so the stored default windows are not the ones the link asks for
        insert_events(con, make_events(
            200, seed=3, weeks=1, start=START + dt.timedelta(weeks=5), id_prefix="w6"))
    run_analysis(path, AnalyzeOptions(k=5, make_map=False))
    with start_server(path) as server:
        yield server


def _windows(page) -> list[str]:
    main = page.locator('[data-testid="stMain"] [data-testid="stDateInput"] input')
    return [el.input_value() for el in main.all()]


def test_drift_windows_survive_a_reload_from_the_url(drift_server, browser_page) -> None:
    page = browser_page
    goto_app(page, f"{drift_server.url}/drift?ref={REF}&cur={CUR}")
    assert_no_errors(page)
    first = _windows(page)
    assert first == ["2026-09-07", "2026-10-04", "2026-10-05", "2026-10-11"], first
    assert page.get_by_text("New topic 1:").count() == 1
    screenshot(page, "drift-url-windows")
    page.reload(wait_until="domcontentloaded")
    wait_for_app(page)
    assert_no_errors(page)
    assert _windows(page) == first
    assert f"ref={REF}" in page.url and f"cur={CUR}" in page.url
    assert page.get_by_text("New topic 1:").count() == 1
