"""The Weekly review page through Streamlit's AppTest on a planted warehouse: the week's report,
notes written from the page, freezing, and a past report reopened as frozen with its diff."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ingest.db import connect
from models.report import notes, snapshot
from tests.models.report_fixtures import QUIET_WEEK, REGRESSION_WEEK, insert, plant

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture
def planted(db_path):
    with connect(db_path) as con:
        plant(con, per_group=120)
    return db_path


def _app(db: Path, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    monkeypatch.setenv("REVIEWDECK_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=90)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page("app_pages/weekly.py")
    return at.run()


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [s.value for s in at.success]
    parts += [i.value for i in at.info] + [c.value for c in at.caption]
    return "\n".join(parts)


def test_regression_week_is_shown_with_its_examples(planted, monkeypatch):
    at = _app(planted, monkeypatch, week=REGRESSION_WEEK)
    assert not at.exception and not at.error
    assert at.selectbox(key="weekly_week").value == REGRESSION_WEEK
    text = _texts(at)
    first = next(m.value for m in at.markdown if m.value.startswith("- "))
    assert first.startswith("- Regression in tag intent:billing")
    assert "Regression: tag intent:billing" in text
    # worst examples shown as plain text, the planted <script> output included as text
    assert any("<script>" in t.value for t in at.text)


def test_quiet_week_says_so(planted, monkeypatch):
    at = _app(planted, monkeypatch, week=QUIET_WEEK)
    assert not at.exception and not at.error
    assert any(s.value.startswith("A quiet week") for s in at.success)
    assert "No segment changed significantly this week." in _texts(at)


def test_note_written_on_the_page_is_stored_and_carried_over(planted, monkeypatch):
    at = _app(planted, monkeypatch, week=REGRESSION_WEEK)
    at.selectbox(key="weekly_note_target").set_value("segment tag=intent:billing")
    at.text_area(key="weekly_note_text").input("Roll billing back to gpt-4o")
    at.checkbox(key="weekly_note_action").check()
    at.text_input(key="weekly_note_owner").input("ana")
    at.button[[b.label for b in at.button].index("Add note")].click().run()
    assert not at.exception and not at.error
    with connect(planted, read_only=True) as con:
        (item,) = notes.notes_for_week(con, "2026-W45")
    assert (item.text, item.target_kind, item.target_id) == (
        "Roll billing back to gpt-4o",
        "segment",
        "tag=intent:billing",
    )
    assert item.is_action and item.carried_over and item.owner == "ana"
    # close it from the page, in the next week's view
    at = _app(planted, monkeypatch, week="2026-W45")
    assert at.selectbox(key="weekly_close_pick").value == item.note_id
    at.button(key="weekly_close").click().run()
    assert not at.exception
    with connect(planted, read_only=True) as con:
        assert notes.notes_for_week(con, "2026-W46") == []


def test_freeze_then_reopen_frozen_with_diff(planted, monkeypatch):
    at = _app(planted, monkeypatch, week=REGRESSION_WEEK)
    at.button(key="weekly_freeze").click().run()
    assert not at.exception and not at.error
    assert any("Frozen as report #1" in s.value for s in at.success)
    with connect(planted) as con:
        frozen = snapshot.reopen(con, 1)
        start = dt.datetime.combine(dt.date(2026, 10, 26), dt.time(), dt.UTC)
        ids = [
            r[0]
            for r in con.execute(
                "SELECT event_id FROM events WHERE ts >= ? AND ts < ? AND NOT EXISTS "
                "(SELECT 1 FROM feedback f WHERE f.event_id = events.event_id) LIMIT 40",
                [start, start + dt.timedelta(days=7)],
            ).fetchall()
        ]
        insert(
            con,
            [],
            [
                {
                    "feedback_id": f"late{i}",
                    "event_id": i,
                    "name": "thumbs",
                    "kind": "vote",
                    "value": 0.0,
                    "source": "user",
                    "ts": start,
                }
                for i in ids
            ],
        )
    at = _app(planted, monkeypatch, week=REGRESSION_WEEK, report="1")
    assert not at.exception and not at.error
    assert at.selectbox(key="weekly_report_pick").value == 1
    assert any("Frozen report #1" in c.value for c in at.caption)
    # live tab first, then the past-reports tab: the last headline table is the frozen one
    live, past = [d.value for d in at.dataframe if "metric" in d.value.columns][-2:]
    row = past[past["metric"] == "Thumbs-up rate (of voted events)"]
    live_row = live[live["metric"] == "Thumbs-up rate (of voted events)"]
    frozen_thumbs = next(m for m in frozen.report.headline if m.key == "thumbs_up")
    assert list(row["n"]) == [frozen_thumbs.n]  # the frozen n, not today's
    assert list(live_row["n"]) == [frozen_thumbs.n + 40]
    at.toggle(key="weekly_diff").set_value(True).run()
    assert not at.exception and not at.error
    assert any("40 feedback rows" in m.value for m in at.markdown)
    diff = next(d.value for d in at.dataframe if "change" in d.value.columns)
    assert "headline/thumbs_up" in list(diff["key"])


def test_empty_warehouse_says_what_to_do(db_path, monkeypatch):
    at = _app(db_path, monkeypatch)
    assert not at.exception
    assert any("no LLM events" in i.value for i in at.info)


def _rerun_rows(con, originals: list[str], ts: dt.datetime) -> tuple[list[dict], list[dict]]:
    reruns = [
        {
            "event_id": f"rr-{i}",
            "ts": ts,
            "model": "gpt-5",
            "tags": [],
            "status": "ok",
            "environment": "playground",
            "rerun_of": orig,
            "input_text": "q",
            "output_text": "a",
            "prompt_version": None,
            "latency_ms": 1.0,
            "cost_usd": 0.0,
        }
        for i, orig in enumerate(originals)
    ]
    verdict = {
        "feedback_id": "v0",
        "event_id": "rr-0",
        "name": "verdict",
        "kind": "label",
        "label": "better",
        "source": "reviewer",
        "ts": ts,
    }
    return reruns, [verdict]


def test_reruns_of_a_past_week_show_in_that_week_not_the_week_they_ran(planted, monkeypatch):
    with connect(planted) as con:
        originals = [
            r[0]
            for r in con.execute(
                "SELECT event_id FROM events WHERE event_id LIKE '2026-W44-%' ORDER BY 1 LIMIT 3"
            ).fetchall()
        ]
        # run "today", weeks after the events they reran (the newest week is 2026-W46)
        insert(con, *_rerun_rows(con, originals, dt.datetime.now(dt.UTC)))
    at = _app(planted, monkeypatch, week=REGRESSION_WEEK)
    assert not at.exception and not at.error
    (table,) = [d.value for d in at.dataframe if "reruns" in d.value.columns]
    assert list(table["reruns"]) == [3] and list(table["better"]) == [1]
    assert list(table["no verdict"]) == [2]
    assert "No reruns" not in _texts(at)
    at = _app(planted, monkeypatch, week="2026-W46")
    assert not at.exception and not at.error
    assert not [d for d in at.dataframe if "reruns" in d.value.columns]
    assert "None of this week's events has been rerun." in _texts(at)
    # a week holding only reruns is not offered as a week to review
    assert at.selectbox(key="weekly_week").options[0] == "2026-W46"


def test_opens_on_the_last_complete_week_and_labels_a_partial_one(planted, monkeypatch):
    with connect(planted) as con:
        monday = dt.datetime(2026, 11, 16, tzinfo=dt.UTC)  # 2026-W47, long over
        insert(
            con,
            [
                {
                    "event_id": f"w47-{i}",
                    "ts": monday + dt.timedelta(hours=i),  # Monday and Tuesday only
                    "model": "gpt-4o",
                    "prompt_version": "v1",
                    "input_text": "q",
                    "output_text": "a",
                    "tags": ["intent:account"],
                    "status": "ok",
                    "latency_ms": 100.0,
                    "cost_usd": 0.001,
                    "environment": "production",
                }
                for i in range(40)
            ],
            [],
        )
    at = _app(planted, monkeypatch)
    assert not at.exception and not at.error
    pick = at.selectbox(key="weekly_week")
    assert pick.value == "2026-W46"  # not the partial 2026-W47
    assert pick.options[0] == "2026-W47 (partial: Mon–Tue)"
    assert not at.warning
    at = _app(planted, monkeypatch, week="2026-W47")
    assert not at.exception and not at.error
    assert any("2026-W47 (partial: Mon–Tue)" in w.value for w in at.warning)
    headline = next(d.value for d in at.dataframe if "metric" in d.value.columns)
    assert "2026-W47 (partial: Mon–Tue)" in headline.columns
    assert any(c.value.startswith("2026-W47 (partial: Mon–Tue): 2026-11-16") for c in at.caption)


def test_evaluators_and_review_section(tmp_path, monkeypatch):
    from tests.models.judge_trust.fixtures import plant as plant_judge

    db = tmp_path / "judge.duckdb"
    with connect(db) as con:
        plant_judge(con)
    at = _app(db, monkeypatch, week="2026-W46")
    assert not at.exception and not at.error
    assert "Evaluators and review" in [s.value for s in at.subheader]
    text = _texts(at)
    assert "Queue 1 “weekly sample” (rubric helpful): 240 of 240 items labelled" in text
    assert "helpful v2 (latest version)" in text
    assert "Judge-corrected fail rate (prediction-powered inference" in text
    assert "**hallucination**" in text and "refusal" not in text  # W46 holds no refusal
    links = [p.label for p in at.get("page_link")]
    assert any(label.startswith("disagreement: event ev") for label in links)
