"""Queries behind the events explorer: a filtered page of events, its count, and one event in full.

The events table has no index, so each query reads as few columns as it can: the list reads the
summary columns with ORDER BY ts DESC LIMIT/OFFSET (a top-N, not a full sort), the count is a
bare count(*), and the heavy JSON columns are read for one event only, in the detail view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from ingest.feedback_sql import FEEDBACK_NAMES_SQL
from models.filters import EventFilter, where_sql

PAGE_SIZE = 50


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()[0][0]
    )


def _where(con: duckdb.DuckDBPyConnection, flt: EventFilter) -> tuple[str, list[object]]:
    if flt.cluster_id is not None and not _has_table(con, "cluster_members"):
        # No clusters yet means no event is in cluster N: an empty result, not an SQL error.
        return "FALSE", []
    return where_sql(flt)


def count_events(con: duckdb.DuckDBPyConnection, flt: EventFilter) -> int:
    where, params = _where(con, flt)
    return con.execute(f"SELECT count(*) FROM events e WHERE {where}", params).fetchall()[0][0]


def page_of_events(
    con: duckdb.DuckDBPyConnection, flt: EventFilter, offset: int = 0, limit: int = PAGE_SIZE
) -> pl.DataFrame:
    """The newest events first, `limit` of them from `offset`, with a feedback summary each.

    Two steps, because DuckDB's top-N would otherwise carry the wide text columns of every
    matching row: first the page's ids and times (narrow), then the columns of those rows only,
    with the time range as a constant so DuckDB skips row groups by their min/max.
    """
    where, params = _where(con, flt)
    ids = con.execute(
        f"SELECT e.event_id, e.ts FROM events e WHERE {where}"
        " ORDER BY e.ts DESC, e.event_id LIMIT ? OFFSET ?",
        [*params, int(limit), int(offset)],
    ).fetchall()
    if not ids:
        ids_params: list[object] = [None]
        lo = hi = None
    else:
        ids_params = [r[0] for r in ids]
        lo, hi = min(r[1] for r in ids), max(r[1] for r in ids)
    marks = ", ".join("?" * len(ids_params))
    # The names come from trend_facts (migration 008), pruned by the page's time range; the
    # feedback table itself has no index, and an IN lookup there reads all of it.
    page = con.sql(
        f"""
        WITH page AS (
            SELECT e.event_id, e.ts, e.kind, e.model, e.prompt_version, e.status,
                   left(e.input_text, 200) AS input, left(e.output_text, 200) AS output,
                   e.tokens_in, e.tokens_out, e.cost_usd, e.latency_ms, e.rerun_of
            FROM events e
            WHERE e.ts BETWEEN ? AND ? AND e.event_id IN ({marks})
        ),
        facts AS (
            SELECT t.event_id, t.feedback_names
            FROM trend_facts t
            WHERE t.ts BETWEEN ? AND ? AND t.event_id IN ({marks})
        )
        SELECT page.*, facts.feedback_names AS feedback, facts.event_id IS NULL AS unfolded
        FROM page LEFT JOIN facts USING (event_id)
        ORDER BY page.ts DESC, page.event_id
        """,
        params=[lo, hi, *ids_params, lo, hi, *ids_params],
    ).pl()
    unfolded = page.filter(pl.col("unfolded"))["event_id"].to_list()
    if unfolded:
        # Events a writer loaded without refreshing trend_facts: ask feedback for these only.
        names = dict(_feedback_names(con, unfolded))
        looked_up = pl.col("event_id").replace_strict(names, default=None, return_dtype=pl.String)
        page = page.with_columns(
            pl.when(pl.col("unfolded")).then(looked_up).otherwise(pl.col("feedback"))
            .alias("feedback")
        )
    return page.drop("unfolded")


def _feedback_names(con: duckdb.DuckDBPyConnection, ids: list[str]) -> list[tuple[str, str]]:
    marks = ", ".join("?" * len(ids))
    return con.execute(
        f"SELECT f.event_id, {FEEDBACK_NAMES_SQL} FROM feedback f"
        f" WHERE f.event_id IN ({marks}) GROUP BY f.event_id",
        ids,
    ).fetchall()


@dataclass(frozen=True)
class EventDetail:
    fields: dict[str, Any]  # every column of the events row; JSON columns as text

    @property
    def event_id(self) -> str:
        return self.fields["event_id"]


def event_detail(con: duckdb.DuckDBPyConnection, event_id: str) -> EventDetail | None:
    cur = con.execute("SELECT * FROM events WHERE event_id = ? LIMIT 1", [event_id])
    rows = cur.fetchall()
    if not rows:
        return None
    row = rows[0]
    names = [d[0] for d in cur.description]
    return EventDetail(dict(zip(names, row, strict=True)))


def event_feedback(
    con: duckdb.DuckDBPyConnection, event_id: str, trace_id: str | None
) -> pl.DataFrame:
    """All feedback on the event, and the scores given to its whole trace (event_id unset)."""
    return con.sql(
        """
        SELECT CASE WHEN f.event_id = ? THEN 'event' ELSE 'trace' END AS scope,
               f.name, f.kind, f.value, f.label, f.source, f.author, f.ts,
               f.comment, f.correction, f.feedback_id
        FROM feedback f
        WHERE f.event_id = ? OR (? IS NOT NULL AND f.trace_id = ? AND f.event_id IS NULL)
        ORDER BY scope, f.ts NULLS LAST, f.name
        """,
        params=[event_id, event_id, trace_id, trace_id],
    ).pl()


def reruns_of(con: duckdb.DuckDBPyConnection, event_id: str) -> pl.DataFrame:
    """Events that re-ran this one (the playground and `reviewdeck rerun`), with any verdict."""
    return con.sql(
        """
        SELECT e.event_id, e.ts, e.model, e.status, left(e.output_text, 300) AS output,
               e.cost_usd, e.latency_ms,
               (SELECT string_agg(f.label, ', ') FROM feedback f
                 WHERE f.event_id = e.event_id AND f.name = 'verdict') AS verdict
        FROM events e WHERE e.rerun_of = ?
        ORDER BY e.ts DESC
        """,
        params=[event_id],
    ).pl()


def kinds_present(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT kind FROM events ORDER BY 1").fetchall()]


def dataset_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every dataset's name, newest first (for the explorer's dataset filter)."""
    return [r[0] for r in con.execute(
        "SELECT name FROM datasets ORDER BY created_at DESC, dataset_id DESC").fetchall()]
