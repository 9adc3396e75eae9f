"""The review loop by clicking, in a real browser against the real server and a local model server:
a number on the Overview → the explorer filtered to its events → one event → Reopen in
playground → Run (the openai SDK over HTTP to a stub on 127.0.0.1) → verdict saved → the rerun
and its verdict visible on the Feedback trends page of the original's week."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from ingest.db import connect
from tests.e2e.conftest import assert_no_errors, goto_app, screenshot, wait_for_app
from tests.e2e.seed import seed
from tests.e2e.server import start_server
from tests.openai_fixtures import openai_env, openai_server  # noqa: F401

pytestmark = pytest.mark.browser


def test_number_to_rerun_to_verdict_on_trends(tmp_path, browser_page, openai_env):  # noqa: F811
    page = browser_page
    db = seed(tmp_path / "warehouse.duckdb", n=200)
    with connect(db, read_only=True) as con:
        n_errors, first_error, first_ts = con.execute(
            "SELECT count(*) OVER (), event_id, ts FROM events "
            "WHERE kind = 'llm' AND rerun_of IS NULL AND status = 'error' "
            "ORDER BY ts DESC, event_id LIMIT 1"
        ).fetchone()
    with start_server(db) as server:
        goto_app(page, server.url)
        page.get_by_text(f"Open the {n_errors:,} errors in the explorer").click()
        page.wait_for_url(re.compile(r"/events\?.*status=error"))
        wait_for_app(page)
        box = page.locator('[data-testid="stDataFrame"]').bounding_box()
        page.mouse.click(box["x"] + 15, box["y"] + 35 + 17)  # first row's selection cell
        page.wait_for_url(re.compile(rf"event={first_error}"))
        wait_for_app(page)
        page.get_by_role("button", name="Reopen in playground").click()
        page.wait_for_url(re.compile(rf"/playground\?event={first_error}"))
        wait_for_app(page)
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_text("Verdict on this rerun").wait_for(timeout=60_000)
        wait_for_app(page)
        screenshot(page, "main-flow-playground-run")
        assert_no_errors(page)
        page.get_by_text("better", exact=True).first.click()
        page.get_by_role("button", name="Save verdict").click()
        wait_for_app(page)

        with connect(db, read_only=True) as con:
            saved = con.execute(
                "SELECT r.event_id, f.label FROM events r JOIN feedback f "
                "ON f.event_id = r.event_id AND f.name = 'verdict' AND f.source = 'reviewer' "
                "WHERE r.rerun_of = ? AND r.environment = 'playground'",
                [first_error],
            ).fetchall()
        assert [label for _, label in saved] == ["better"]
        assert openai_env.count("chat") >= 1  # the run really went through the SDK over HTTP

        monday = (first_ts.date() - dt.timedelta(days=first_ts.weekday())).isoformat()
        goto_app(page, f"{server.url}/trends?trends_week={monday}")
        screenshot(page, "main-flow-trends-verdict")
        assert_no_errors(page)
        summary = page.get_by_text(re.compile(r"reruns — verdicts: better \d+"))
        assert summary.count() == 1
        assert re.search(r"better ([1-9]\d*)", summary.inner_text())
