"""The review loop in a real browser: the Events filter → Review a sample → a queue of five →
label each with the keyboard (P / F, then N) blind → the labels on the Feedback trends page →
the judge's agreement with them on the Evaluators page."""

from __future__ import annotations

import re

import pytest

from ingest.db import connect
from ingest.load import derived
from tests.e2e.conftest import assert_no_errors, goto_app, screenshot, wait_for_app
from tests.e2e.seed import seed
from tests.e2e.server import start_server

pytestmark = pytest.mark.browser

JUDGE = "accuracy"
WEEK = "2026-11-09"  # a Monday; the filter keeps the queue inside this week
FILTER = f"model=gpt-4.1-mini&start={WEEK}&end=2026-11-15"
ITEM = re.compile(r"^evt-\d{5}$")


def _judge_every_event(db) -> None:
    """An LLM judge's pass/fail on every event of the filter: fail on even ids."""
    with connect(db) as con:
        con.execute(
            """
            INSERT INTO feedback (feedback_id, event_id, name, kind, value, label, source,
                                  author, evaluator_version, judge_model, ts)
            SELECT 'judge-' || event_id, event_id, ?, 'score',
                   CASE WHEN CAST(right(event_id, 1) AS INTEGER) % 2 = 0 THEN 0.0 ELSE 1.0 END,
                   CASE WHEN CAST(right(event_id, 1) AS INTEGER) % 2 = 0 THEN 'fail'
                        ELSE 'pass' END,
                   'llm_judge', 'judge-model', '1', 'judge-model', ts + INTERVAL 1 HOUR
            FROM events WHERE kind = 'llm' AND rerun_of IS NULL AND event_id LIKE 'evt-0%'
            """,
            [JUDGE],
        )
        derived.refresh(con)


def _judge_says(db, event_id: str) -> str:
    with connect(db, read_only=True) as con:
        return con.execute(
            "SELECT label FROM feedback WHERE event_id = ? AND name = ? AND source = 'llm_judge'",
            [event_id, JUDGE],
        ).fetchall()[0][0]


def _current_item(page) -> str:
    for text in page.locator('[data-testid="stCode"]').all_inner_texts():
        if ITEM.match(text.strip()):
            return text.strip()
    raise AssertionError(f"no queue item shown on {page.url}")


def _feedback_rows_this_week(page, url: str) -> int:
    goto_app(page, f"{url}/trends?trends_week={WEEK}")
    assert_no_errors(page)
    caption = page.get_by_text(re.compile(r"feedback rows on this week's events"))
    return int(re.search(r"([\d,]+) feedback rows", caption.inner_text()).group(1).replace(",", ""))


def test_queue_from_a_filter_labelled_by_keyboard_shows_on_trends_and_evaluators(
    tmp_path, browser_page
):
    page = browser_page
    db = seed(tmp_path / "warehouse.duckdb", n=200)
    _judge_every_event(db)
    with start_server(db) as server:
        before = _feedback_rows_this_week(page, server.url)

        goto_app(page, f"{server.url}/events?{FILTER}")
        page.get_by_text("Review a sample of these events").click()
        page.wait_for_url(re.compile(r"/queue\?.*source=filter"))
        wait_for_app(page)
        name = page.get_by_role("textbox", name="Your name")
        name.fill("ana")
        name.press("Enter")
        wait_for_app(page)
        page.get_by_role("textbox", name="Queue name").fill("gpt-4.1-mini this week")
        page.get_by_role("textbox", name="Rubric (the feedback name labels get)").fill(JUDGE)
        n = page.get_by_role("spinbutton", name="Sample N")
        n.fill("5")
        n.press("Tab")
        page.get_by_role("button", name="Create queue").click()
        page.get_by_text(re.compile(r"Queue \d+ created: 5 items")).wait_for(timeout=30_000)
        wait_for_app(page)
        assert_no_errors(page)
        assert page.get_by_text("llm_judge").count() == 0  # blind

        answers: dict[str, str] = {}
        for i in range(5):
            item = _current_item(page)
            assert item not in answers, "an item came back to the same reviewer"
            judge = _judge_says(db, item)
            # Agree with the judge on four items, disagree on the third.
            answer = judge if i != 2 else ("pass" if judge == "fail" else "fail")
            page.locator("h1").first.click()  # focus off the name box: shortcuts are global
            page.keyboard.press("p" if answer == "pass" else "f")
            page.get_by_text(f"Your answer: {answer}").wait_for(timeout=30_000)
            wait_for_app(page)
            # Revealed after answering: the judge's verdict on this item.
            assert page.get_by_text("Verdicts hidden until you answered").count() == 1
            if i == 0:
                screenshot(page, "review-queue-revealed")
            answers[item] = answer
            page.keyboard.press("n")
            page.get_by_text("Your answer:").wait_for(state="detached", timeout=30_000)
            wait_for_app(page)
        page.get_by_text("Nothing left for you in this queue").wait_for(timeout=30_000)
        assert_no_errors(page)

        with connect(db, read_only=True) as con:
            saved = dict(con.execute(
                "SELECT event_id, label FROM feedback WHERE source = 'reviewer' AND name = ?"
                " AND author = 'ana' AND queue_id IS NOT NULL", [JUDGE]
            ).fetchall())
            models = {r[0] for r in con.execute(
                "SELECT DISTINCT model FROM events WHERE event_id IN (SELECT unnest(?))",
                [list(saved)]).fetchall()}
        assert saved == answers
        assert models == {"gpt-4.1-mini"}

        # The labels are feedback: the trends page counts five more rows this week.
        assert _feedback_rows_this_week(page, server.url) == before + 5
        screenshot(page, "review-queue-trends")

        # The judge against the humans: four agreements out of five.
        goto_app(page, f"{server.url}/evaluators")
        assert_no_errors(page)
        screenshot(page, "review-queue-evaluators")
        assert page.get_by_text(re.compile(r"5 with a human label on the same rubric")).count()
        assert page.get_by_text(re.compile(r"on 5 events\. Agreement 80\.0%")).count() == 1
