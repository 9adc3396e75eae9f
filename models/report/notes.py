"""Reviewers' notes and action items on a week of the weekly review.

A note belongs to the week it was written for and points at the week itself, a segment
(`tag=intent:billing`), a cluster or an event. An action item is a note that stays open: it is
shown again in every later week's report ("carried over") until someone closes it, and a
report of a past week shows it as it stood that week (closed only if closed by then).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from models.report.model import NoteItem, ReportError, parse_week, week_label

TARGET_KINDS = ("week", "segment", "cluster", "event")


def _week(week: str) -> str:
    return week_label(parse_week(week))


def add_note(
    con: duckdb.DuckDBPyConnection,
    week: str,
    text: str,
    *,
    target_kind: str = "week",
    target_id: str | None = None,
    is_action: bool = False,
    owner: str | None = None,
    author: str | None = None,
) -> int:
    """Store a note (or an action item) for a week; returns its id."""
    week = _week(week)
    text = (text or "").strip()
    if not text:
        raise ReportError("a note needs some text")
    if target_kind not in TARGET_KINDS:
        raise ReportError(f"target {target_kind!r}: use one of {', '.join(TARGET_KINDS)}")
    if target_kind != "week" and not (target_id or "").strip():
        raise ReportError(f"a note on a {target_kind} needs the {target_kind}'s id")
    row = con.execute(
        """
        INSERT INTO report_notes (week, target_kind, target_id, text, is_action, owner, author)
        VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING note_id
        """,
        [
            week,
            target_kind,
            (target_id or None) if target_kind != "week" else None,
            text,
            is_action,
            owner or None,
            author or None,
        ],
    ).fetchall()[0]
    return int(row[0])


def close_note(
    con: duckdb.DuckDBPyConnection,
    note_id: int,
    *,
    week: str | None = None,
    closed_by: str | None = None,
) -> None:
    """Close an action item (in `week`, default the current week) so it stops carrying over."""
    closed_week = _week(week) if week else week_label(dt.datetime.now(dt.UTC).date())
    found = con.execute(
        "UPDATE report_notes SET closed_at = now(), closed_week = ?, closed_by = ? "
        "WHERE note_id = ? AND closed_at IS NULL RETURNING note_id",
        [closed_week, closed_by or None, note_id],
    ).fetchall()
    if not found:
        exists = con.execute("SELECT 1 FROM report_notes WHERE note_id = ?", [note_id]).fetchall()
        if not exists:
            raise ReportError(f"no note {note_id}")


def reopen_note(con: duckdb.DuckDBPyConnection, note_id: int) -> None:
    con.execute(
        "UPDATE report_notes SET closed_at = NULL, closed_week = NULL, closed_by = NULL "
        "WHERE note_id = ?",
        [note_id],
    )


def notes_for_week(con: duckdb.DuckDBPyConnection, week: str) -> list[NoteItem]:
    """The week's own notes, then action items of earlier weeks still open during this week."""
    week = _week(week)
    rows = con.execute(
        """
        SELECT note_id, week, target_kind, target_id, text, is_action, owner, author,
               created_at, closed_week
        FROM report_notes
        WHERE week = ?
           OR (week < ? AND is_action AND (closed_week IS NULL OR closed_week >= ?))
        ORDER BY week = ? DESC, is_action DESC, note_id
        """,
        [week, week, week, week],
    ).fetchall()
    return [
        NoteItem(
            note_id=int(r[0]),
            week=r[1],
            target_kind=r[2],
            target_id=r[3],
            text=r[4],
            is_action=bool(r[5]),
            owner=r[6],
            author=r[7],
            created_at=r[8].isoformat(timespec="seconds"),
            closed=r[9] is not None and r[9] <= week,
            carried_over=r[1] != week,
        )
        for r in rows
    ]


def notes_frame(con: duckdb.DuckDBPyConnection, week: str) -> pl.DataFrame:
    """The same notes as a frame, for the Weekly page's table."""
    items = notes_for_week(con, week)
    return pl.DataFrame(
        [
            {
                "id": n.note_id,
                "week": n.week,
                "on": n.target_kind,
                "target": n.target_id or "",
                "text": n.text,
                "action": n.is_action,
                "owner": n.owner or "",
                "status": ("closed" if n.closed else "open") if n.is_action else "",
                "carried over": n.carried_over,
            }
            for n in items
        ],
        schema={
            "id": pl.Int64,
            "week": pl.Utf8,
            "on": pl.Utf8,
            "target": pl.Utf8,
            "text": pl.Utf8,
            "action": pl.Boolean,
            "owner": pl.Utf8,
            "status": pl.Utf8,
            "carried over": pl.Boolean,
        },
    )
