"""The report's rerun section on a real batch rerun (the real openai SDK over HTTP to the stub
server): reruns counted per model with reviewer verdicts, the batch with the judge's outcome, both
in the week of the events they reran (not the week they ran in)."""

from __future__ import annotations

import datetime as dt

from dashboard.report_render import render_html, render_markdown
from ingest.db import connect
from models.filters import parse_where
from models.report import snapshot
from models.report.build import build_report
from models.report.model import week_label
from models.rerun import runner as rr
from models.rerun.endpoints import Endpoint
from models.rerun.store import record_verdict
from tests.models.rerun_data import T0, insert_many
from tests.openai_fixtures import STUB_API_KEY, openai_server  # noqa: F401


def rerun_loving_judge(body: dict) -> str:
    text = body["messages"][-1]["content"]
    first = text.split("<answer 1>")[1].split("</answer 1>")[0]
    pick = "1" if "[gpt-4o]" in first else "2"
    return f'{{"preferred": "{pick}", "rationale": "answer {pick} answers the question"}}'


def test_batch_rerun_and_verdicts_show_in_the_week_report(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 8)
    con.close()
    openai_server.set_reply("judge-model", rerun_loving_judge)
    opts = rr.BatchOptions(model="gpt-4o", judge_model="judge-model")
    plan = rr.plan_batch(str(db_path), parse_where("feedback=thumbs_down"), "stub", opts)
    rr.run_batch(
        str(db_path),
        plan,
        opts,
        endpoint=Endpoint("stub", openai_server.base_url, kind="compatible", api_key=STUB_API_KEY),
    )
    week = week_label(T0.date())  # the originals' week, in the past
    this_week = week_label(dt.datetime.now(dt.UTC).date())
    assert week != this_week
    with connect(db_path) as c:
        reruns = [
            r[0]
            for r in c.execute(
                "SELECT event_id FROM events WHERE rerun_of IS NOT NULL ORDER BY event_id"
            ).fetchall()
        ]
        record_verdict(c, reruns[0], "better")
        record_verdict(c, reruns[1], "worse")
        report = build_report(c, week, base_url="http://localhost:8501")
        current = build_report(c, this_week, base_url="http://localhost:8501")
        frozen = snapshot.reopen(c, snapshot.generate_and_freeze(c, week).report_id).report
    assert frozen.reruns == report.reruns and frozen.batches == report.batches
    # The reruns ran today, yet they are evidence about the week of the events they reran.
    assert current.reruns == () and current.batches == ()
    assert "None of this week's events has been rerun." in render_markdown(current)
    (row,) = report.reruns
    assert (row.reruns, row.originals, row.errors) == (8, 8, 0)
    assert (row.better, row.worse, row.no_verdict) == (1, 1, 6)
    (batch,) = report.batches
    assert batch.batch_id == plan.batch_id and batch.done == 8
    assert (batch.wins, batch.ties, batch.losses) == (8, 0, 0)
    assert batch.win_rate == 1.0 and batch.win_rate_lo > 0.6
    assert any("judge says 8 wins" in line for line in report.summary)
    assert "8 / 0 / 0" in render_html(report, charts=False)
    assert "| 8 / 0 / 0 | 0 |" in render_markdown(report)
    assert "Reruns of this week&#x27;s events" in render_html(report, charts=False)


def test_a_judge_whose_every_reply_is_unreadable_counts_no_pair(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 6)
    con.close()
    openai_server.set_reply("judge-model", lambda body: "I cannot decide, sorry.")
    opts = rr.BatchOptions(model="gpt-4o", judge_model="judge-model")
    plan = rr.plan_batch(str(db_path), parse_where("feedback=thumbs_down"), "stub", opts)
    rr.run_batch(
        str(db_path),
        plan,
        opts,
        endpoint=Endpoint("stub", openai_server.base_url, kind="compatible", api_key=STUB_API_KEY),
    )
    with connect(db_path) as c:
        report = build_report(c, week_label(T0.date()), base_url="http://localhost:8501")
    (batch,) = report.batches
    assert (batch.judged, batch.wins, batch.ties, batch.losses) == (0, 0, 0, 0)
    assert batch.unreadable == 12  # two order-swapped judgements per pair, none readable
    assert batch.win_rate is None
    warning = "12 judge replies could not be read; they are left out of win / tie / loss"
    assert warning in render_markdown(report)
    assert "| 0 / 0 / 0 | 12 |" in render_markdown(report)
    page = render_html(report, charts=False)
    assert warning in page and "<td class='num worse'>12</td>" in page
    assert any("12 judgements could not be read" in line for line in report.summary)
