"""Reads behind the Weekly review page: the weeks with data, the live report of a week, the
stored (frozen) reports, one frozen report and its comparison with a fresh regeneration.

Each takes the connection first; the page calls them through `dashboard.cache.query`, so a
report is rebuilt only when the warehouse changes (new events, feedback, a note).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from dashboard.stored import kept
from models.report import notes, snapshot, stored
from models.report.build import build_report
from models.report.model import Report, parse_week, week_label
from models.report.snapshot import FrozenReport, ReportDiff
from models.trends import weeks as trend_weeks


def weeks_available(con: duckdb.DuckDBPyConnection) -> list[str]:
    """ISO weeks that have production LLM events, newest first (a week holding only reruns is
    no week to review: its reruns count in their originals' weeks)."""
    rows = con.execute(
        "SELECT DISTINCT date_trunc('week', ts)::DATE AS monday FROM events "
        f"WHERE {trend_weeks.PRODUCTION_SQL} ORDER BY monday DESC"
    ).fetchall()
    return [week_label(r[0]) for r in rows]


@dataclass(frozen=True)
class WeekChoices:
    weeks: list[str]  # newest first
    notes: dict[str, str]  # week -> 'partial: Mon–Tue' for a week the log does not cover fully
    default: str | None  # the last complete week (the newest week when none is complete)


@kept
def weeks_and_horizon(con: duckdb.DuckDBPyConnection) -> tuple[list[str], dt.datetime | None]:
    """The weeks with events and the newest event's time: the data behind `week_choices`,
    kept on disk (a scan of every event); the clock's part is applied by `choices_of`."""
    return weeks_available(con), trend_weeks.data_horizon(con)


def week_choices(con: duckdb.DuckDBPyConnection) -> WeekChoices:
    """The weeks to offer, which of them is partial, and the one the page opens on."""
    return choices_of(*weeks_and_horizon(con))


def choices_of(weeks: list[str], horizon: dt.datetime | None) -> WeekChoices:
    """Which of `weeks` is partial at this moment (the newest may be, until its end has passed)
    and the one the page opens on."""
    notes = {}
    for week in weeks[:1]:  # only the newest week can be partial
        cover = trend_weeks.coverage(parse_week(week), horizon)
        if cover.partial:
            notes[week] = cover.note
    default = next((w for w in weeks if w not in notes), weeks[0] if weeks else None)
    return WeekChoices(weeks, notes, default)


def live_report(con: duckdb.DuckDBPyConnection, week: str, base_url: str) -> Report:
    """The week's live report, read from the stored one while the warehouse is unchanged
    (models.report.stored: a build takes seconds to tens of seconds at millions of events)."""
    return stored.live_report(con, week, base_url)


def past_reports(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return snapshot.list_reports(con)


def frozen_report(con: duckdb.DuckDBPyConnection, report_id: int) -> FrozenReport:
    return snapshot.reopen(con, report_id)


def frozen_diff(con: duckdb.DuckDBPyConnection, report_id: int, base_url: str) -> ReportDiff:
    frozen = snapshot.reopen(con, report_id)
    fresh = build_report(con, frozen.report.week, base_url=base_url)
    return snapshot.compare(con, report_id, fresh)


def week_notes(con: duckdb.DuckDBPyConnection, week: str) -> pl.DataFrame:
    return notes.notes_frame(con, week)
