"""A score metric counts only an evaluator's latest version: rows of v1 and v2 of one evaluator
on the same events are two different questions, and averaging them would hide the change."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingest.db import connect
from models.filters import EventFilter
from models.trends.core import Period, period_scores
from models.trends.series import series_counts
from tests.models.judge_trust.fixtures import insert_rows

MONDAY = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)


def _seed(db: Path) -> None:
    events = [{"event_id": f"e{i}", "ts": MONDAY + dt.timedelta(hours=i), "model": "m",
               "input_text": "q", "output_text": "a"} for i in range(40)]
    old, new = dt.datetime(2026, 11, 10, tzinfo=dt.UTC), dt.datetime(2026, 11, 11, tzinfo=dt.UTC)
    rows = []
    for i in range(40):
        for version, value, at in (("1", 0.0, old), ("2", 1.0 if i % 4 else 0.0, new)):
            rows.append({"feedback_id": f"{version}-{i}", "event_id": f"e{i}", "name": "helpful",
                         "kind": "score", "value": value, "source": "llm_judge",
                         "author": "judge", "ts": at, "ingested_at": at,
                         "evaluator_version": version})
        # an imported score without a version always counts
        rows.append({"feedback_id": f"x-{i}", "event_id": f"e{i}", "name": "imported",
                     "kind": "score", "value": 0.5, "source": "llm_judge", "author": "x",
                     "ts": old, "ingested_at": old})
    with connect(db) as con:
        insert_rows(con, events, rows)


def test_score_metrics_use_the_latest_version(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    _seed(db)
    week = Period("this", dt.date(2026, 11, 2), dt.date(2026, 11, 9))
    with connect(db, read_only=True) as con:
        scores = period_scores(con, EventFilter(), [week])
        series = series_counts(con, EventFilter(), "score:llm_judge:helpful", "week", "none")
    got = {r["name"]: (r["n"], r["mean"]) for r in scores.iter_rows(named=True)}
    assert got["helpful"] == (40, 0.75)  # v2 only: 30 of 40 pass; with v1 it would be 80 rows
    assert got["imported"] == (40, 0.5)
    assert series["n"].sum() == 40
