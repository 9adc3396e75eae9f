"""Freezing a weekly report so last month's numbers stay last month's numbers.

Dashboards are live: late feedback and new events change a past week's view. A frozen report
keeps (tables from migration 005):
- its whole content as JSON, so reopening shows exactly what the meeting saw;
- its numbers, one per row, so a fresh regeneration can be compared number by number;
- the ids of the events it counted, so "what arrived since" is an anti-join, not a guess.
`compare` puts a frozen report next to a fresh regeneration: "what changed since the meeting".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import duckdb
import polars as pl

from models.report.build import build_report
from models.report.model import (
    FORMAT_VERSION,
    NumberRow,
    Report,
    ReportError,
    from_dict,
    report_numbers,
    to_dict,
)


@dataclass(frozen=True)
class FrozenReport:
    report_id: int
    created_at: str
    created_by: str | None
    report: Report


@dataclass(frozen=True)
class NumberChange:
    key: str
    label: str
    before: float | None
    after: float | None
    n_before: int | None
    n_after: int | None
    change: str  # 'changed', 'new', 'gone'


@dataclass(frozen=True)
class ReportDiff:
    report_id: int
    frozen_at: str
    changes: tuple[NumberChange, ...]
    events_added: int  # events of the week (or the previous one) not in the snapshot
    events_removed: int  # snapshot events no longer in the warehouse
    late_feedback: int  # feedback rows on the week's events loaded after the freeze

    @property
    def unchanged(self) -> bool:
        return not (self.changes or self.events_added or self.events_removed)


def freeze(con: duckdb.DuckDBPyConnection, report: Report, *, created_by: str | None = None) -> int:
    """Store `report` with its numbers and the ids of the events behind it; returns its id.

    Call it on the same connection the report was built on, so the event ids stored are the
    events the numbers counted.
    """
    from models.report.sections import week_event_ids

    numbers = report_numbers(report)
    ids = week_event_ids(con, report.week)
    examples = {
        ex.event_id
        for group in (report.regressions, report.improvements, report.clusters)
        for item in group
        for ex in item.examples
    }
    stamp = con.execute(
        "SELECT greatest((SELECT max(ingested_at) FROM events),"
        " (SELECT max(ingested_at) FROM feedback))"
    ).fetchall()[0][0]
    con.execute("BEGIN TRANSACTION")
    try:
        report_id = con.execute(
            """
            INSERT INTO reports (week, created_by, title, content, n_events, max_ingested_at,
                                 generator)
            VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING report_id
            """,
            [
                report.week,
                created_by,
                f"Weekly review {report.week}",
                json.dumps(to_dict(report)),
                report.n_events,
                stamp,
                FORMAT_VERSION,
            ],
        ).fetchall()[0][0]
        con.executemany(
            "INSERT INTO report_numbers VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                [report_id, r.key, r.label, _finite(r.value), r.n, _finite(r.lo), _finite(r.hi)]
                for r in numbers
            ],
        )
        rows = pl.DataFrame(
            {
                "report_id": [report_id] * (len(ids) + len(examples)),
                "event_id": [i for i, _ in ids] + sorted(examples),
                "role": [role for _, role in ids] + ["example"] * len(examples),
            },
            schema={"report_id": pl.Int64, "event_id": pl.Utf8, "role": pl.Utf8},
        )
        con.register("_report_event_rows", rows)
        con.execute("INSERT INTO report_events SELECT * FROM _report_event_rows")
        con.unregister("_report_event_rows")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return int(report_id)


def generate_and_freeze(
    con: duckdb.DuckDBPyConnection, week: str, *, created_by: str | None = None, **options
) -> FrozenReport:
    """Build the week's report and freeze it in one go, on one (writable) connection."""
    from ingest.load import derived

    # A writer that skipped the refresh would leave trend_facts behind the events it froze.
    if derived.is_stale(con):
        derived.refresh(con)
    report = build_report(con, week, **options)
    report_id = freeze(con, report, created_by=created_by)
    return reopen(con, report_id)


def reopen(con: duckdb.DuckDBPyConnection, report_id: int) -> FrozenReport:
    """A frozen report exactly as it was generated."""
    row = con.execute(
        "SELECT report_id, created_at, created_by, content FROM reports WHERE report_id = ?",
        [report_id],
    ).fetchall()
    row = row[0] if row else None
    if row is None:
        raise ReportError(
            f"no frozen report {report_id}; `reviewdeck report --list` shows the stored ones"
        )
    content = row[3] if isinstance(row[3], dict) else json.loads(row[3])
    return FrozenReport(
        int(row[0]), row[1].isoformat(timespec="seconds"), row[2], from_dict(content)
    )


def list_reports(con: duckdb.DuckDBPyConnection, week: str | None = None) -> pl.DataFrame:
    """Stored reports, newest first (optionally of one week)."""
    sql = (
        "SELECT report_id, week, created_at, created_by, n_events,"
        " json_extract(content, '$.quiet')::BOOLEAN AS quiet,"
        " json_extract_string(content, '$.summary[0]') AS lead"
        " FROM reports"
    )
    params: list[object] = []
    if week:
        sql += " WHERE week = ?"
        params.append(week)
    return con.sql(sql + " ORDER BY created_at DESC, report_id DESC", params=params).pl()


def frozen_numbers(con: duckdb.DuckDBPyConnection, report_id: int) -> list[NumberRow]:
    rows = con.execute(
        "SELECT key, label, value, n, lo, hi FROM report_numbers WHERE report_id = ? ORDER BY key",
        [report_id],
    ).fetchall()
    return [NumberRow(*r) for r in rows]


def compare(con: duckdb.DuckDBPyConnection, report_id: int, fresh: Report) -> ReportDiff:
    """What changed since the report was frozen: numbers, events that arrived, late feedback."""
    frozen = reopen(con, report_id)
    if frozen.report.week != fresh.week:
        raise ReportError(
            f"report {report_id} is of {frozen.report.week}, not {fresh.week}; compare a "
            "report with a regeneration of the same week"
        )
    before = {r.key: r for r in frozen_numbers(con, report_id)}
    after = {r.key: r for r in report_numbers(fresh)}
    changes: list[NumberChange] = []
    for key in sorted(before.keys() | after.keys()):
        b, a = before.get(key), after.get(key)
        if b is None:
            changes.append(NumberChange(key, a.label, None, a.value, None, a.n, "new"))
        elif a is None:
            changes.append(NumberChange(key, b.label, b.value, None, b.n, None, "gone"))
        elif not _same(b.value, a.value) or (b.n or 0) != (a.n or 0):
            changes.append(NumberChange(key, a.label, b.value, a.value, b.n, a.n, "changed"))
    from models.report.sections import week_event_ids

    now_ids = pl.DataFrame(
        {"event_id": [i for i, _ in week_event_ids(con, fresh.week)]}, schema={"event_id": pl.Utf8}
    )
    con.register("_report_now_ids", now_ids)
    added = con.execute(
        """
        SELECT count(*) FROM _report_now_ids n
        WHERE n.event_id NOT IN (
            SELECT event_id FROM report_events WHERE report_id = ? AND role <> 'example')
        """,
        [report_id],
    ).fetchall()[0][0]
    con.unregister("_report_now_ids")
    removed = con.execute(
        """
        SELECT count(*) FROM report_events r
        WHERE r.report_id = ? AND r.role <> 'example'
          AND NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = r.event_id)
        """,
        [report_id],
    ).fetchall()[0][0]
    frozen_at = con.execute(
        "SELECT created_at FROM reports WHERE report_id = ?", [report_id]
    ).fetchall()[0][0]
    late = con.execute(
        """
        SELECT count(*) FROM feedback f
        WHERE f.ingested_at > ? AND f.event_id IN (
            SELECT event_id FROM report_events WHERE report_id = ? AND role = 'week')
        """,
        [frozen_at, report_id],
    ).fetchall()[0][0]
    return ReportDiff(
        report_id, frozen.created_at, tuple(changes), int(added), int(removed), int(late)
    )


def _finite(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
