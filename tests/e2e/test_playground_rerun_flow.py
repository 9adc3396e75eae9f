"""The playground in a real browser against the real server and a local model server (the openai
SDK over HTTP to the stub on 127.0.0.1):

- after each new run, "Original vs reruns" shows that run (a failed one with the endpoint's own
  message at once), and a verdict goes on the run on screen;
- "Reopen in playground" from a filtered Events list carries the filter, and the playground's
  batch section reruns that filter, also after a reload of the address.
"""

from __future__ import annotations

import re

import pytest

from ingest.db import connect
from ingest.load import derived
from tests.e2e.conftest import assert_no_errors, goto_app, screenshot, wait_for_app
from tests.e2e.server import start_server
from tests.models.rerun_data import insert_event, insert_many
from tests.openai_fixtures import openai_env, openai_server  # noqa: F401

pytestmark = pytest.mark.browser


def _warehouse(db_path):
    with connect(db_path) as con:
        insert_event(con, "e1", "Why was my card declined?", "Old answer.", thumbs=0)
        insert_many(con, 5, thumbs=0, prefix="down")
        insert_many(con, 4, thumbs=1, prefix="up")
        derived.refresh(con)
    return db_path


def _newest(db, event_id: str) -> tuple[str, str | None, str | None]:
    with connect(db, read_only=True) as con:
        return con.execute(
            "SELECT event_id, output_text, error_message FROM events WHERE rerun_of = ?"
            " ORDER BY ts DESC LIMIT 1",
            [event_id],
        ).fetchone()


def _count(db, event_id: str) -> int:
    with connect(db, read_only=True) as con:
        return con.execute("SELECT count(*) FROM events WHERE rerun_of = ?", [event_id]).fetchone()[
            0
        ]


def _run(page, db, model: str) -> None:
    """Type the model, click Run, and wait until the run is saved and the page redrawn."""
    box = page.get_by_role("textbox", name="Model", exact=True)
    box.fill(model)
    box.press("Enter")
    page.wait_for_timeout(500)  # the script run the new value starts
    wait_for_app(page)
    before = _count(db, "e1")
    page.get_by_role("button", name="Run", exact=True).click()
    for _ in range(200):
        if _count(db, "e1") > before:
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError(f"the run with {model} was not saved")
    page.wait_for_timeout(300)
    wait_for_app(page)


def _shown(page) -> str:
    """The text of every code block on the page (logged and generated text is shown there)."""
    return "\n".join(page.locator('[data-testid="stCode"]').all_inner_texts())


def test_the_comparison_shows_the_run_just_made(db_path, browser_page, openai_env):  # noqa: F811
    page = browser_page
    db = _warehouse(db_path)
    with start_server(db) as server:
        goto_app(page, f"{server.url}/playground?event=e1")
        _run(page, db, "missing-model")
        _, _, message = _newest(db, "e1")
        # the endpoint's own words at once, not only "1 of 1 runs failed"
        page.get_by_text("1 of 1 runs failed").wait_for()
        assert f"model_not_found: {message}" in _shown(page)
        screenshot(page, "playground-failed-run")
        for model in ("stub-a", "stub-b", "stub-b", "stub-a"):
            _run(page, db, model)
            rid, out, _ = _newest(db, "e1")
            shown = _shown(page)
            assert out.startswith(f"[{model}] ") and out in shown, model
            picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Rerun")
            assert f"· {model} · ok" in picker.locator("input").input_value()
        page.get_by_text("Original vs reruns").scroll_into_view_if_needed()
        screenshot(page, "playground-comparison-after-runs")
        assert_no_errors(page)
        page.get_by_text("worse", exact=True).first.click()
        page.get_by_role("button", name="Save verdict").click()
        wait_for_app(page)
        with connect(db, read_only=True) as con:
            saved = con.execute("SELECT event_id, label FROM feedback WHERE name = 'verdict'")
            assert saved.fetchall() == [(rid, "worse")]  # on the run that was on screen


def test_reopen_in_playground_keeps_the_filter(db_path, browser_page, openai_env):  # noqa: F811
    page = browser_page
    db = _warehouse(db_path)
    with start_server(db) as server:
        goto_app(page, f"{server.url}/events?feedback=thumbs_up&text=card+2")
        page.get_by_text("1 events match").wait_for()
        box = page.locator('[data-testid="stDataFrame"]').bounding_box()
        page.mouse.click(box["x"] + 15, box["y"] + 35 + 17)  # the row's selection cell
        page.wait_for_url(re.compile(r"event=up0002"))
        wait_for_app(page)
        page.get_by_role("button", name="Reopen in playground").click()
        page.wait_for_url(re.compile(r"/playground\?event=up0002&.*feedback=thumbs_up"))
        assert "text=card" in page.url
        wait_for_app(page)
        for attempt in ("link", "reload"):
            page.get_by_text("Batch rerun", exact=True).click()
            wait_for_app(page)
            assert "--where 'feedback=thumbs_up&text=card+2'" in _shown(page), attempt
            metric = page.locator('[data-testid="stMetric"]').filter(has_text="Events to rerun")
            assert metric.inner_text().split()[-1] == "1", attempt
            screenshot(page, f"playground-batch-carried-filter-{attempt}")
            assert_no_errors(page)
            goto_app(page, page.url)  # a reload of the address (or a pasted link)
