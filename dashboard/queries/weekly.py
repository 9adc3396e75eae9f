"""Reads behind the Weekly review page: the weeks with data, the live report of a week, the
stored (frozen) reports, one frozen report and its comparison with a fresh regeneration.

Each takes the connection first; the page calls them through `dashboard.cache.query`, so a
report is rebuilt only when the warehouse changes (new events, feedback, a note).
"""

from __future__ import annotations

import duckdb
import polars as pl

from models.report import notes, snapshot
from models.report.build import build_report
from models.report.model import Report, week_label
from models.report.snapshot import FrozenReport, ReportDiff


def weeks_available(con: duckdb.DuckDBPyConnection) -> list[str]:
    """ISO weeks that have LLM events, newest first."""
    rows = con.execute(
        "SELECT DISTINCT date_trunc('week', ts)::DATE AS monday FROM events "
        "WHERE kind = 'llm' ORDER BY monday DESC"
    ).fetchall()
    return [week_label(r[0]) for r in rows]


def live_report(con: duckdb.DuckDBPyConnection, week: str, base_url: str) -> Report:
    return build_report(con, week, base_url=base_url)


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
