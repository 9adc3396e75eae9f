"""Derived tables kept in step with events and feedback, refreshed by the loader after each load.

The loader calls `refresh(con)` inside its transaction after inserting rows, so anything derived
is never out of date with what it derives from. Any other writer of `events` or `feedback`
(reruns, verdicts) calls it too.

`trend_facts` (migration 004) is refreshed incrementally: only events loaded since the last
refresh, and events whose feedback arrived since then (feedback may come long after its event),
are recomputed; the watermark is the newest `ingested_at` seen. A user's first week (new vs
returning users) is recomputed for the users those events belong to.
"""

from __future__ import annotations

import duckdb

from ingest.feedback_sql import FEEDBACK_CHOICES, FEEDBACK_NAMES_SQL, HEAVY_EDIT, NEGATIVE_SQL

_NAME = "trend_facts"


def _facts_select(everything: bool = False) -> str:
    """One row per touched event (every event when `everything`: a first refresh needs no
    semi-join against a copy of all their ids), its feedback folded into flags and, for the
    events list, the names of its feedback.

    The conditions come from ingest.feedback_sql, which the explorer's filter uses too, so
    "negative" and "explicit" mean exactly the same thing everywhere.
    """

    return f"""
    WITH fb AS (
        SELECT f.event_id,
            bool_or(f.name = 'thumbs') AS has_vote,
            bool_or(f.name = 'thumbs' AND f.value = 1) AS thumbs_up,
            bool_or({NEGATIVE_SQL}) AS negative,
            bool_or(f.name = 'regenerated') AS regenerated,
            bool_or(f.name = 'copied') AS copied,
            bool_or(f.name = 'edited') AS edited,
            bool_or(f.name = 'edited' AND f.value >= {HEAVY_EDIT}) AS heavy_edit,
            max(f.value) FILTER (WHERE f.name = 'edited') AS edit_size,
            bool_or(f.kind = 'correction') AS corrected,
            max(f.value) FILTER (WHERE f.kind = 'correction') AS correction_size,
            bool_or({FEEDBACK_CHOICES['any_explicit']}) AS explicit,
            count(*) FILTER (WHERE f.source = 'user') AS fb_user,
            count(*) FILTER (WHERE f.source = 'reviewer') AS fb_reviewer,
            count(*) FILTER (WHERE f.source = 'llm_judge') AS fb_judge,
            count(*) FILTER (WHERE f.source = 'code') AS fb_code,
            {FEEDBACK_NAMES_SQL} AS names
        FROM feedback f
        {"" if everything else "WHERE f.event_id IN (SELECT event_id FROM _touched)"}
        GROUP BY f.event_id
    )
    SELECT e.event_id, e.ts, e.ts::DATE, date_trunc('week', e.ts)::DATE,
        e.kind, e.model, e.prompt_version, e.tags, e.environment, e.status, e.user_id,
        e.rerun_of, NULL, e.latency_ms, e.cost_usd,
        e.status = 'error',
        coalesce(fb.has_vote, FALSE), coalesce(fb.thumbs_up, FALSE),
        coalesce(fb.negative, FALSE), coalesce(fb.regenerated, FALSE),
        coalesce(fb.copied, FALSE), coalesce(fb.edited, FALSE),
        coalesce(fb.heavy_edit, FALSE), fb.edit_size,
        coalesce(fb.corrected, FALSE), fb.correction_size,
        coalesce(fb.explicit, FALSE), fb.event_id IS NOT NULL,
        coalesce(fb.fb_user, 0), coalesce(fb.fb_reviewer, 0),
        coalesce(fb.fb_judge, 0), coalesce(fb.fb_code, 0), fb.names
    FROM events e LEFT JOIN fb ON fb.event_id = e.event_id
    {"" if everything else "WHERE e.event_id IN (SELECT event_id FROM _touched)"}
    ORDER BY e.ts
    """


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Bring `trend_facts` up to date with events and feedback loaded since the last refresh."""
    rows = con.execute("SELECT watermark FROM derived_state WHERE name = ?", [_NAME]).fetchall()
    watermark = rows[0][0] if rows else None
    everything = watermark is None
    if everything:
        con.execute("CREATE OR REPLACE TEMP TABLE _touched AS SELECT event_id FROM events LIMIT 0")
        con.execute("DELETE FROM trend_facts")
    else:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _touched AS
            SELECT event_id FROM events WHERE ingested_at > $wm
            UNION
            SELECT event_id FROM feedback WHERE ingested_at > $wm AND event_id IS NOT NULL
            """,
            {"wm": watermark},
        )
        con.execute("DELETE FROM trend_facts WHERE event_id IN (SELECT event_id FROM _touched)")
    con.execute(f"INSERT INTO trend_facts {_facts_select(everything)}")
    users = (
        ""
        if everything
        else "user_id IN (SELECT e.user_id FROM events e "
        "WHERE e.event_id IN (SELECT event_id FROM _touched)) AND"
    )
    con.execute(
        f"""
        UPDATE trend_facts SET user_first_week = u.first_week
        FROM (
            SELECT user_id, min(week) AS first_week FROM trend_facts
            WHERE {users} user_id IS NOT NULL
            GROUP BY user_id
        ) u
        WHERE trend_facts.user_id = u.user_id
        """
    )
    newest = con.execute(
        "SELECT greatest((SELECT max(ingested_at) FROM events),"
        " (SELECT max(ingested_at) FROM feedback))"
    ).fetchall()[0][0]
    con.execute("INSERT OR REPLACE INTO derived_state VALUES (?, ?)", [_NAME, newest])
    con.execute("DROP TABLE IF EXISTS _touched")


def is_stale(con: duckdb.DuckDBPyConnection) -> bool:
    """True when events or feedback were written after the last refresh (a writer that did not
    call `refresh`, or a warehouse from before migration 004), so a page can ask for one instead
    of showing out-of-date numbers."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'derived_state'"
    ).fetchall()[0][0]
    if not exists:
        return True
    rows = con.execute(
        """
        SELECT (SELECT max(ingested_at) FROM events), (SELECT max(ingested_at) FROM feedback),
            (SELECT watermark FROM derived_state WHERE name = ?)
        """,
        [_NAME],
    ).fetchall()
    newest_event, newest_feedback, watermark = rows[0]
    newest = max((t for t in (newest_event, newest_feedback) if t is not None), default=None)
    return newest is not None and (watermark is None or newest > watermark)
