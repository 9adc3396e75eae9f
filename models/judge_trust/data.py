"""SQL over `feedback` that pairs an evaluator's verdicts with human labels on the same events.

Conventions (docs/evaluators.md, docs/judge-trust.md):
- an evaluator N's verdicts are feedback rows name = N, source 'llm_judge' or 'code', with
  `evaluator_version`; pages use the latest version (ingest.feedback_sql.LATEST_VERSIONS_SQL: the
  one whose rows were written last);
- a verdict's category is the label for label rubrics (kind 'label'), else 'fail' when value < 0.5
  (ingest.feedback_sql.LOW_SCORE) and 'pass' otherwise;
- humans' labels are rows name = N, source 'reviewer'. Each reviewer (author) counts once per
  event, with their latest label. **The human label of an event is the majority of its
  reviewers; a tie has no human label** and the event is left out of agreement and of the
  corrected rate (it still counts in inter-reviewer κ);
- an event's week is the ISO week of the event's own time (as on the trends page), its segment
  the event's model and its cluster (cluster_members).

DuckDB does the grouping; the functions return polars frames.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from collections.abc import Iterator

import duckdb
import polars as pl

from ingest.feedback_sql import LATEST_VERSIONS_SQL, LOW_SCORE

EVALUATOR_SOURCES = ("llm_judge", "code")
_CAT = f"CASE WHEN kind = 'label' THEN label WHEN value < {LOW_SCORE} THEN 'fail' ELSE 'pass' END"
_WHEN = "coalesce(ts, ingested_at)"


def evaluator_versions(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every (evaluator, version) with rows, newest version of each first, and `latest`.

    Read once per open week scope (week_feedback: no feedback is written meanwhile)."""
    scope = _SCOPES.get(id(con))
    if scope is not None:
        memo = scope[3]
        if "versions" not in memo:
            memo["versions"] = _evaluator_versions(con)
        return memo["versions"]
    return _evaluator_versions(con)


def _evaluator_versions(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql(
        f"""
        WITH v AS (
            SELECT name, evaluator_version AS version, any_value(source) AS source,
                   CASE WHEN bool_or(kind = 'label') THEN 'label' ELSE 'score' END AS kind,
                   count(*) AS n_rows, max(ingested_at) AS last_written
            FROM feedback
            WHERE source IN ('llm_judge', 'code') AND evaluator_version IS NOT NULL
            GROUP BY name, evaluator_version
        )
        SELECT v.*, l.name IS NOT NULL AS latest
        FROM v LEFT JOIN ({LATEST_VERSIONS_SQL}) l ON l.name = v.name AND l.version = v.version
        ORDER BY v.name, v.last_written DESC, v.version DESC
        """
    ).pl()


def latest_version(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    rows = evaluator_versions(con).filter(pl.col("name") == name, pl.col("latest"))
    return rows["version"][0] if rows.height else None


def reviewed_rubrics(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Feedback names people labelled (reviewer rows): the rubrics a judge can be checked on."""
    return [r[0] for r in con.execute(
        "SELECT DISTINCT name FROM feedback WHERE source = 'reviewer' ORDER BY 1"
    ).fetchall()]


_PAIRS = f"""
WITH j AS (
    SELECT event_id, arg_max({_CAT}, {_WHEN}) AS judge, sum(cost_usd) AS cost_usd
    FROM {{feedback}}
    WHERE name = $name AND evaluator_version = $version
      AND source IN ('llm_judge', 'code') AND event_id IS NOT NULL {{in_week}}
    GROUP BY event_id
), per_author AS (
    SELECT event_id, coalesce(author, feedback_id) AS author, arg_max({_CAT}, {_WHEN}) AS cat,
           arg_max(queue_id, {_WHEN}) AS queue_id
    FROM {{feedback}}
    WHERE name = $name AND source = 'reviewer' AND event_id IS NOT NULL {{in_week}}
    GROUP BY event_id, coalesce(author, feedback_id)
), votes AS (
    SELECT event_id, cat, count(*) AS c FROM per_author GROUP BY event_id, cat
), vm AS (
    SELECT *, max(c) OVER (PARTITION BY event_id) AS mx FROM votes
), h AS (
    SELECT event_id, any_value(cat) FILTER (WHERE c = mx) AS top,
           count(*) FILTER (WHERE c = mx) AS n_top, sum(c)::BIGINT AS n_humans
    FROM vm GROUP BY event_id
), cm AS (
    SELECT event_id, min(cluster_id) AS cluster_id FROM {{clusters}}
    WHERE event_id IN (SELECT event_id FROM j) GROUP BY event_id
), q AS (
    SELECT event_id, list(DISTINCT queue_id) FILTER (WHERE queue_id IS NOT NULL) AS queues
    FROM per_author GROUP BY event_id
)
SELECT j.event_id, strftime(e.ts, '%G-W%V') AS week, e.ts, e.model,
       cm.cluster_id,
       j.judge, CASE WHEN h.n_top = 1 THEN h.top END AS human,
       coalesce(h.n_humans, 0) AS n_humans, q.queues, j.cost_usd
FROM j
JOIN events e ON e.event_id = j.event_id {{events_in_week}}
LEFT JOIN h ON h.event_id = j.event_id
LEFT JOIN q ON q.event_id = j.event_id
LEFT JOIN cm ON cm.event_id = j.event_id
ORDER BY e.ts, j.event_id
"""


# With a week: only the feedback of that week's events is grouped (at millions of verdicts,
# grouping them all to keep one week was most of a weekly page's time: docs/scale.md).
_IN_WEEK = "AND event_id IN (SELECT event_id FROM events WHERE ts >= $lo AND ts < $hi)"


def _week_range(week: str) -> tuple[dt.datetime, dt.datetime]:
    year, number = week.split("-W")
    monday = dt.datetime.combine(dt.date.fromisocalendar(int(year), int(number), 1), dt.time(),
                                 dt.UTC)
    return monday, monday + dt.timedelta(days=7)


# Open week scopes: id(connection) -> (lo, hi, its temporary tables, what it has read once).
# See week_feedback.
_SCOPES: dict[int, tuple[dt.datetime, dt.datetime, dict[str, str], dict]] = {}
# The feedback columns the scoped reads use (what exists of them: older warehouses lack some).
_SCOPE_COLUMNS = (
    "feedback_id", "event_id", "name", "kind", "value", "label", "source", "author", "ts",
    "ingested_at", "evaluator_version", "cost_usd", "queue_id", "tags",
)


@contextlib.contextmanager
def week_feedback(con: duckdb.DuckDBPyConnection, week: str) -> Iterator[str]:
    """Within the block, the feedback rows of ISO `week`'s events (by the event's time, not the
    feedback's) are read once into a temporary table on `con`, whose name is yielded, and so is
    the week's events' cluster membership; `judged_events(con, …, week)` and `failure_tags` of
    that week read them instead of the whole `feedback` and `cluster_members` tables, and
    `evaluator_versions(con)` is read once.

    For a caller that asks many questions of one week on one connection and writes no feedback
    meanwhile (the weekly report: one pass over `feedback` instead of one per evaluator)."""
    lo, hi = _week_range(week)
    tag = uuid.uuid4().hex
    tables = {"feedback": f"week_feedback_{tag}", "clusters": f"week_clusters_{tag}"}
    have = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'feedback' "
        "AND table_schema = 'main'"
    ).fetchall()}
    columns = ", ".join(c for c in _SCOPE_COLUMNS if c in have)
    week_events = "SELECT event_id FROM events WHERE ts >= ? AND ts < ?"
    try:
        con.execute(
            f"CREATE TEMP TABLE {tables['feedback']} AS SELECT {columns} FROM feedback "
            f"WHERE event_id IN ({week_events})",
            [lo, hi],
        )
        con.execute(
            f"CREATE TEMP TABLE {tables['clusters']} AS SELECT event_id, "
            f"min(cluster_id) AS cluster_id FROM cluster_members "
            f"WHERE event_id IN ({week_events}) GROUP BY event_id",
            [lo, hi],
        )
        _SCOPES[id(con)] = (lo, hi, tables, {})
        yield tables["feedback"]
    finally:
        _SCOPES.pop(id(con), None)
        for table in tables.values():
            try:
                con.execute(f"DROP TABLE IF EXISTS {table}")
            except duckdb.Error:
                pass  # an aborted transaction: the table goes with it or with the connection


def _scoped(con: duckdb.DuckDBPyConnection, lo, hi) -> dict[str, str] | None:
    """The open week scope's tables on `con` when it covers exactly [lo, hi)."""
    scope = _SCOPES.get(id(con))
    return scope[2] if scope is not None and (scope[0], scope[1]) == (lo, hi) else None


def judged_events(
    con: duckdb.DuckDBPyConnection, name: str, version: str, week: str | None = None
) -> pl.DataFrame:
    """One row per event the evaluator version scored (of ISO `week` only, e.g. '2026-W48',
    when given): its week, model, cluster, the judge's category, the human (majority) category
    or null, how many reviewers labelled it and the queues they labelled it in."""
    params: dict[str, object] = {"name": name, "version": version}
    if week is None:
        sql = _PAIRS.format(
            in_week="", feedback="feedback", clusters="cluster_members", events_in_week=""
        )
        return con.sql(sql, params=params).pl()
    lo, hi = _week_range(week)
    params.update(lo=lo, hi=hi)
    scope = _scoped(con, lo, hi) or {}
    # Every row left is of an event of the week: the join to events prunes to the week too.
    sql = _PAIRS.format(
        in_week="" if scope else _IN_WEEK,
        feedback=scope.get("feedback", "feedback"),
        clusters=scope.get("clusters", "cluster_members"),
        events_in_week="AND e.ts >= $lo AND e.ts < $hi",
    )
    return con.sql(sql, params=params).pl()


def reviewer_pairs(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    """Events labelled by two or more reviewers on rubric `name`: the first two reviewers' labels
    (by time of labelling) as columns a and b, with the event's week."""
    return con.sql(
        f"""
        WITH per_author AS (
            SELECT event_id, author, arg_max({_CAT}, {_WHEN}) AS cat, max({_WHEN}) AS labelled_at
            FROM feedback
            WHERE name = $name AND source = 'reviewer' AND author IS NOT NULL
              AND event_id IS NOT NULL
            GROUP BY event_id, author
        ), ranked AS (
            SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY labelled_at, author) AS k
            FROM per_author
        )
        SELECT r1.event_id, strftime(e.ts, '%G-W%V') AS week, r1.author AS author_a,
               r1.cat AS a, r2.author AS author_b, r2.cat AS b
        FROM ranked r1 JOIN ranked r2 ON r1.event_id = r2.event_id AND r1.k = 1 AND r2.k = 2
        JOIN events e ON e.event_id = r1.event_id
        ORDER BY e.ts, r1.event_id
        """,
        params={"name": name},
    ).pl()


def evaluation_counts(con: duckdb.DuckDBPyConnection, name: str, version: str) -> dict:
    """Scored / error / unparsed counts and cost of one evaluator version (`evaluations`)."""
    row = con.execute(
        """
        SELECT count(*) FILTER (WHERE status = 'scored'),
               count(*) FILTER (WHERE status = 'error'),
               count(*) FILTER (WHERE status = 'unparsed'),
               sum(cost_usd), any_value(judge_model)
        FROM evaluations WHERE evaluator = ? AND version = ?
        """,
        [name, version],
    ).fetchall()[0]
    # The feedback rows' cost only where the runs kept none (a scan of the version's rows).
    fb_cost = None if row[3] is not None else con.execute(
        "SELECT sum(cost_usd) FROM feedback WHERE name = ? AND evaluator_version = ? "
        "AND source IN ('llm_judge', 'code')",
        [name, version],
    ).fetchall()[0][0]
    return {
        "scored": int(row[0]),
        "errors": int(row[1]),
        "unparsed": int(row[2]),
        "cost_usd": row[3] if row[3] is not None else fb_cost,
        "judge_model": row[4],
    }


def queue_info(con: duckdb.DuckDBPyConnection, queue_ids: list[int]) -> list[dict]:
    """How each queue's sample was drawn (what decides whether PPI's assumption holds)."""
    if not queue_ids:
        return []
    rows = con.execute(
        "SELECT queue_id, name, source_kind, source, stratify_by FROM review_queues "
        "WHERE queue_id IN (SELECT unnest(?)) ORDER BY queue_id",
        [list(queue_ids)],
    ).fetchall()
    out = []
    for qid, qname, kind, source, strat in rows:
        try:
            parsed = json.loads(source) if isinstance(source, str) else source
        except ValueError:
            parsed = None
        out.append(
            {"queue_id": qid, "name": qname, "source_kind": kind, "source": parsed,
             "stratify_by": strat}
        )
    return out


def verdict_strata(
    con: duckdb.DuckDBPyConnection, queue_ids: list[int], name: str, version: str
) -> dict[int, tuple[int, int]]:
    """Per queue: (items, items whose stratum is not this version's verdict on the event).

    A queue stratified by `verdict:<name>` keeps the verdict it was drawn on in each item's
    stratum; where that is still the version's verdict, the draw depended on the judge's verdict
    alone, which the corrected rate allows (docs/judge-trust.md). A mismatch means the strata came
    from another version (or another scale), and the draw is of unknown bias."""
    if not queue_ids:
        return {}
    rows = con.execute(
        f"""
        WITH j AS (
            SELECT event_id, arg_max({_CAT}, {_WHEN}) AS judge FROM feedback
            WHERE name = ? AND evaluator_version = ? AND source IN ('llm_judge', 'code')
              AND event_id IS NOT NULL
            GROUP BY event_id
        )
        SELECT i.queue_id, count(*),
               count(*) FILTER (WHERE j.judge IS DISTINCT FROM i.stratum)
        FROM queue_items i LEFT JOIN j ON j.event_id = i.event_id
        WHERE i.queue_id IN (SELECT unnest(?))
        GROUP BY i.queue_id
        """,
        [name, version, list(queue_ids)],
    ).fetchall()
    return {int(q): (int(n), int(bad)) for q, n, bad in rows}


def review_progress(con: duckdb.DuckDBPyConnection, start, end) -> pl.DataFrame:
    """Per queue created before `end` and open in [start, end): items, items labelled (by as many
    reviewers as they need), labels given in the window, and labels overall."""
    return con.sql(
        """
        WITH labels AS (
            SELECT queue_id, event_id, count(DISTINCT coalesce(author, feedback_id)) AS k,
                   count(*) FILTER (WHERE coalesce(ts, ingested_at) >= $start
                                     AND coalesce(ts, ingested_at) < $end) AS in_week
            FROM feedback WHERE source = 'reviewer' AND queue_id IS NOT NULL
            GROUP BY queue_id, event_id
        )
        SELECT q.queue_id, q.name, q.rubric, count(i.event_id) AS items,
               count(*) FILTER (WHERE l.k >= i.reviewers_needed) AS done,
               coalesce(sum(l.in_week), 0) AS labels_this_week
        FROM review_queues q
        JOIN queue_items i ON i.queue_id = q.queue_id
        LEFT JOIN labels l ON l.queue_id = i.queue_id AND l.event_id = i.event_id
        WHERE q.created_at < $end AND (q.closed_at IS NULL OR q.closed_at >= $start)
        GROUP BY q.queue_id, q.name, q.rubric
        ORDER BY q.queue_id
        """,
        params={"start": start, "end": end},
    ).pl()


def failure_tags(con: duckdb.DuckDBPyConnection, start, end, limit: int = 5) -> pl.DataFrame:
    """The commonest failure tags reviewers gave on events of [start, end), with up to three
    example event ids each."""
    # a week scope holds these events' feedback
    table = (_scoped(con, start, end) or {}).get("feedback", "feedback")
    return con.sql(
        f"""
        WITH t AS (
            SELECT unnest(f.tags) AS tag, f.event_id, e.ts
            FROM {table} f JOIN events e ON e.event_id = f.event_id
            WHERE f.source = 'reviewer' AND f.tags IS NOT NULL
              AND e.ts >= $start AND e.ts < $end
        )
        SELECT tag, count(*) AS n, count(DISTINCT event_id) AS events,
               list(DISTINCT event_id ORDER BY event_id)[1:3] AS examples
        FROM t GROUP BY tag ORDER BY n DESC, tag LIMIT $limit
        """,
        params={"start": start, "end": end, "limit": limit},
    ).pl()
