"""Complete and partial weeks (models.trends.weeks): the pages open on the last complete week,
and a report on a partial week says so wherever it shows a number."""

from __future__ import annotations

import datetime as dt

from dashboard.report_render import render_html, render_markdown
from ingest.db import connect
from models.report.build import build_report
from models.report.model import from_dict, to_dict
from models.trends import weeks
from tests.models.report_fixtures import insert, plant

MON = dt.date(2026, 11, 30)  # 2026-W49


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), dt.UTC)


def test_a_week_still_running_is_partial_with_the_days_it_covers():
    tuesday = MON + dt.timedelta(days=1)
    cov = weeks.coverage(MON, horizon=at(tuesday, 10), now=at(tuesday, 11))
    assert cov.partial and cov.days == 2 and cov.note == "partial: Mon–Tue"
    assert weeks.with_note("2026-W49", cov) == "2026-W49 (partial: Mon–Tue)"
    # Sunday afternoon: all seven days have data, but the week is not over
    sunday = MON + dt.timedelta(days=6)
    assert weeks.coverage(MON, at(sunday, 15), now=at(sunday, 16)).note == (
        "partial: Sunday not over"
    )


def test_a_week_is_complete_once_over_or_once_the_log_goes_past_it():
    sunday = MON + dt.timedelta(days=6)
    assert not weeks.coverage(MON, at(sunday, 23), now=at(sunday + dt.timedelta(days=1))).partial
    assert not weeks.coverage(MON, at(MON + dt.timedelta(days=8)), now=at(MON)).partial
    # a log that stopped on a Wednesday long ago: that last week is partial for good
    wednesday = MON + dt.timedelta(days=2)
    assert weeks.coverage(MON, at(wednesday), now=at(MON + dt.timedelta(days=60))).days == 3


def test_last_complete_skips_only_the_partial_newest_week():
    older = [MON, MON - dt.timedelta(days=7), MON - dt.timedelta(days=14)]
    tuesday = MON + dt.timedelta(days=1)
    assert weeks.last_complete(older, at(tuesday), now=at(tuesday)) == older[1]
    assert weeks.last_complete(older[1:], at(tuesday), now=at(tuesday)) == older[1]
    assert weeks.last_complete([MON], at(tuesday), now=at(tuesday)) == MON  # nothing complete
    assert weeks.last_complete([], None) is None


def test_horizon_ignores_reruns(con):
    plant(con, per_group=10)
    before = weeks.data_horizon(con)
    insert(
        con,
        [
            {
                "event_id": "rr-1",
                "ts": dt.datetime.now(dt.UTC),
                "rerun_of": "2026-W44-intent:billing-0",
                "environment": "playground",
                "model": "gpt-5",
                "tags": [],
                "status": "ok",
            }
        ],
        [],
    )
    assert weeks.data_horizon(con) == before < dt.datetime(2026, 11, 16, tzinfo=dt.UTC)


def test_report_on_a_partial_week_says_so_next_to_its_numbers(db_path):
    with connect(db_path) as con:
        plant(con, per_group=40)  # 2026-W38 .. 2026-W46
        monday = dt.datetime(2026, 11, 16, tzinfo=dt.UTC)  # 2026-W47: Monday to Wednesday
        insert(
            con,
            [
                {
                    "event_id": f"w47-{i}",
                    "ts": monday + dt.timedelta(hours=i),
                    "model": "gpt-4o",
                    "tags": ["intent:account"],
                    "status": "ok",
                    "environment": "production",
                }
                for i in range(60)
            ],
            [],
        )
        partial = build_report(con, "2026-W47", base_url="http://localhost:8501")
        complete = build_report(con, "2026-W46", base_url="http://localhost:8501")
    assert partial.partial == "partial: Mon–Wed" and complete.partial == ""
    assert partial.week_title == "2026-W47 (partial: Mon–Wed)"
    assert from_dict(to_dict(partial)).week_title == partial.week_title  # frozen as such
    text = render_markdown(partial)
    assert "| metric | 2026-W47 (partial: Mon–Wed) |" in text
    assert "2026-W47 (partial: Mon–Wed): the log does not cover the whole week" in text
    page = render_html(partial, charts=False)
    assert "<th>2026-W47 (partial: Mon–Wed)</th>" in page and 'class="partial"' in page
    assert "partial" not in render_markdown(complete)
