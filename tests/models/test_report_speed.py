"""The weekly report's shared reads (issue 17) give what the per-call whole-table queries gave.

The report now reads the week's bad events once (models.report.sections._badness_table) and the
week's feedback once (models.judge_trust.data.week_feedback) instead of grouping the whole
`feedback` table per example list and per evaluator. These tests plant feedback logged long after
its event's week and feedback on other weeks' events, and check the examples (same events, same
order, for several seeds and conditions) against the old whole-table query, the judge-trust reads
scoped and unscoped against each other, and that nothing is left on the connection.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from urllib.parse import parse_qs

import numpy as np
import pytest

from ingest.db import connect
from ingest.feedback_sql import LOW_SCORE
from models.filters import from_query, where_sql
from models.judge_trust import data as trust_data
from models.report import sections
from models.report.build import build_report
from models.report.model import shift_week, week_bounds
from tests.models import report_fixtures
from tests.models.judge_trust import fixtures as trust_fixtures

WEEK = report_fixtures.REGRESSION_WEEK


def _reference_worst(con, week: str, condition: str, params: list, seed: int, k: int) -> list:
    """The examples as the report chose them before issue 17: the whole feedback table grouped
    for the events of the week that match `condition`."""
    start, end = week_bounds(week)
    rows = con.execute(
        f"""
        WITH ev AS (
            SELECT e.event_id, e.status FROM events e
            WHERE {sections.BASE_SQL} AND e.ts >= ? AND e.ts < ? AND ({condition})
        ),
        fb AS (
            SELECT f.event_id,
                   coalesce(count_if(f.name = 'thumbs' AND f.value = 0), 0) AS downs,
                   coalesce(count_if(f.name = 'regenerated'), 0) AS regen,
                   coalesce(count_if(f.name = 'edited' AND f.value >= 0.5), 0) AS heavy,
                   min(f.value) FILTER (WHERE f.kind = 'score') AS min_score
            FROM feedback f SEMI JOIN ev ON f.event_id = ev.event_id GROUP BY f.event_id
        ),
        scored AS (
            SELECT ev.event_id, coalesce(downs, 0) + coalesce(regen, 0) + coalesce(heavy, 0)
                   + (ev.status = 'error')::INT
                   + CASE WHEN min_score < ? THEN 1 - min_score ELSE 0 END AS badness
            FROM ev LEFT JOIN fb USING (event_id)
        )
        SELECT event_id FROM scored WHERE badness > 0
        ORDER BY badness DESC, hash(event_id, ?) LIMIT ?
        """,
        [start, end, *params, LOW_SCORE, seed, k],
    ).fetchall()
    return [r[0] for r in rows]


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    path = tmp_path_factory.mktemp("report-speed") / "planted.duckdb"
    rng = np.random.default_rng(3)
    with connect(path) as con:
        report_fixtures.plant(con, per_group=150)
        start, _ = week_bounds(WEEK)
        week_ids = [r[0] for r in con.execute(
            "SELECT event_id FROM events WHERE ts >= ? AND ts < ? ORDER BY event_id",
            [start, start + dt.timedelta(days=7)],
        ).fetchall()]
        other_ids = [r[0] for r in con.execute(
            "SELECT event_id FROM events WHERE ts < ? ORDER BY event_id LIMIT 300", [start]
        ).fetchall()]
        later = start + dt.timedelta(days=30)  # logged weeks after the event's week
        feedback = []
        for i, eid in enumerate(week_ids):
            if i % 5 == 0:
                feedback.append(_fb(f"late-regen-{i}", eid, "regenerated", "signal", 1.0, later))
            if i % 7 == 0:
                feedback.append(_fb(f"late-edit-{i}", eid, "edited", "signal", 0.8, later))
            if i % 3 == 0:
                value = float(rng.choice([0.1, 0.3, 0.45, 0.9]))
                feedback.append(_fb(f"late-score-{i}", eid, "accuracy", "score", value, later,
                                    source="code", version="1"))
        for i, eid in enumerate(other_ids):  # other weeks' events: must not count
            feedback.append(_fb(f"old-down-{i}", eid, "thumbs", "vote", 0.0, later))
            feedback.append(_fb(f"old-regen-{i}", eid, "regenerated", "signal", 1.0, later))
        report_fixtures.insert(con, [], feedback)
    return path


def _fb(fid, eid, name, kind, value, ts, *, source="user", version=None) -> dict:
    return {"feedback_id": fid, "event_id": eid, "name": name, "kind": kind, "value": value,
            "source": source, "ts": ts, "evaluator_version": version}


def _temp_tables(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary"
    ).fetchall()]


def test_examples_are_the_whole_table_querys(planted):
    with connect(planted, read_only=True) as con:
        flt = sections.production_filter(con, WEEK)
        conditions = [
            ("TRUE", []),
            ("list_contains(e.tags, ?)", ["intent:billing"]),
            ("e.model IN (?)", ["gpt-4o"]),
            ("e.event_id IN (SELECT unnest(?::VARCHAR[]))",
             [[f"{WEEK}-intent:shipping-{i}" for i in range(0, 150, 2)]]),
        ]
        late_signals = set()
        for seed in (0, 1, 7):
            ctx = sections.Context(con, flt, WEEK, shift_week(WEEK, -1), "http://x", 6, 5,
                                   0.05, seed)
            try:
                for condition, params in conditions:
                    got = sections.worst_examples(ctx, condition, params)
                    want = _reference_worst(con, WEEK, condition, params, seed, 6)
                    assert [x.event_id for x in got] == want, (seed, condition)
                    assert len(want) == 6
                    late_signals |= {s for x in got for s in x.signal.split(", ")}
            finally:
                sections.release(ctx)
        # the late feedback decided the ranking: its signals are among the examples
        assert {"regenerated", "heavily edited"} <= late_signals
        assert any(s.startswith("accuracy 0.") for s in late_signals)
        assert _temp_tables(con) == []


def test_report_examples_and_no_leftovers(planted):
    with connect(planted, read_only=True) as con:
        first = build_report(con, WEEK, seed=2)
        assert _temp_tables(con) == []
        again = build_report(con, WEEK, seed=2)
        start, end = week_bounds(WEEK)
        for move in first.regressions:
            assert move.examples
            for ex in move.examples:
                assert start.isoformat()[:10] <= ex.ts[:10] < end.isoformat()[:10]
    strip = {"generated_at": ""}
    assert dataclasses.replace(first, **strip) == dataclasses.replace(again, **strip)
    # a regression's examples are the old query's on the same segment (billing moved model)
    billing = next(m for m in first.regressions if "billing" in m.key or "4.1" in m.key)
    with connect(planted, read_only=True) as con:
        flt = from_query(parse_qs(billing.explorer_url.split("?", 1)[1]))
        where, params = where_sql(flt)
        want = _reference_worst(con, WEEK, where, params, 2, 3)
    assert [x.event_id for x in billing.examples] == want


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    path = tmp_path_factory.mktemp("report-speed-trust") / "warehouse.duckdb"
    with connect(path) as con:
        trust_fixtures.plant(con)
    return path


@pytest.mark.parametrize("week", ["2026-W45", "2026-W46"])
def test_week_scope_reads_as_the_whole_table(judged, week):
    """Labels of W45's events were given in W46: the scope goes by the event's week."""
    with connect(judged, read_only=True) as con:
        start, end = week_bounds(week)
        plain = (
            trust_data.judged_events(con, trust_fixtures.NAME, "2", week),
            trust_data.judged_events(con, trust_fixtures.NAME, "1", week),
            trust_data.failure_tags(con, start, end),
            trust_data.evaluator_versions(con),
            trust_data.judged_events(con, trust_fixtures.NAME, "2"),
        )
        with trust_data.week_feedback(con, week) as table:
            assert table in _temp_tables(con)
            scoped = (
                trust_data.judged_events(con, trust_fixtures.NAME, "2", week),
                trust_data.judged_events(con, trust_fixtures.NAME, "1", week),
                trust_data.failure_tags(con, start, end),
                trust_data.evaluator_versions(con),
                trust_data.judged_events(con, trust_fixtures.NAME, "2"),  # no week: history
            )
            other = trust_data.judged_events(con, trust_fixtures.NAME, "2", "2026-W44")
        assert _temp_tables(con) == []
        unscoped_other = trust_data.judged_events(con, trust_fixtures.NAME, "2", "2026-W44")
    assert plain[0].height > 0 and plain[0]["human"].drop_nulls().len() > 0
    assert plain[2].height > 0 or week == "2026-W46"
    for a, b in zip(plain, scoped, strict=True):
        assert a.equals(b)
    assert other.equals(unscoped_other) and other.height > 0  # another week: not the scope's
