"""The evaluators' storage: what is left to score, and writing results exactly once.

Reading (short read-only connections): the events an evaluator applies to that have no
`evaluations` row for its (name, version) yet. Writing: one transaction per batch holds each
event's `evaluations` row together with its `feedback` row (a scored event) and the run's
running counts, then refreshes the derived tables (ingest/load/derived.py). A batch either
commits whole or not at all, so after `kill -9` the next run scores exactly what is missing.
Rows whose key another run committed first are dropped inside the transaction, never doubled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb
import orjson

from models.evaluators.config import EvaluatorSpec
from models.evaluators.event import COLUMNS, Event
from models.evaluators.verdict import Verdict


@dataclass(slots=True)
class Row:
    """One evaluator's result on one event, ready to write."""

    spec: EvaluatorSpec
    event_id: str
    status: str  # 'scored' | 'skipped' (the check does not apply) | 'error' | 'unparsed'
    verdict: Verdict | None = None
    raw: str | None = None  # an error's message, a judge's unparsed answer (or its answer)
    judge_model: str | None = None
    cost_usd: float | None = None
    latency_ms: float | None = None


def feedback_id(spec: EvaluatorSpec, event_id: str) -> str:
    digest = hashlib.sha256(f"{spec.name}\x00{spec.version}\x00{event_id}".encode()).hexdigest()
    return f"eval-{digest[:32]}"


def has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_name = 'evaluations'").fetchone()[0])


def pending_ids(con: duckdb.DuckDBPyConnection, spec: EvaluatorSpec, where: str,
                params: list[Any]) -> tuple[int, list[str]]:
    """(events the evaluator applies to, the ids of those not yet evaluated by this version)."""
    matched = con.execute(f"SELECT count(*) FROM events e WHERE {where}", params).fetchone()[0]
    ids = con.execute(
        f"""SELECT e.event_id FROM events e WHERE {where} AND NOT EXISTS (
                SELECT 1 FROM evaluations v WHERE v.evaluator = ? AND v.version = ?
                AND v.event_id = e.event_id)""",
        [*params, spec.name, spec.version]).fetchall()
    return matched, [r[0] for r in ids]


def load_events(con: duckdb.DuckDBPyConnection, ids: list[str],
                corrections: bool = False) -> dict[str, Event]:
    """The events with these ids, JSON columns as text (parsed on use by Event)."""
    if not ids:
        return {}
    cols = ", ".join(f"e.{c}" for c in COLUMNS)
    rows = con.execute(f"SELECT {cols} FROM events e WHERE e.event_id IN "
                       "(SELECT unnest(?::VARCHAR[]))", [ids]).fetchall()
    fixes: dict[str, str] = {}
    if corrections:
        fixes = dict(con.execute(
            """SELECT event_id, arg_max(correction, ts) FROM feedback
               WHERE kind = 'correction' AND correction IS NOT NULL
               AND event_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY event_id""",
            [ids]).fetchall())
    return {r[0]: Event(r, fixes.get(r[0])) for r in rows}


def start_run(con: duckdb.DuckDBPyConnection, config_path: str | None,
              specs: Iterable[EvaluatorSpec]) -> int:
    described = orjson.dumps([s.describe() for s in specs]).decode()
    return con.execute(
        "INSERT INTO evaluator_runs (config_path, evaluators, n_scored, n_errors, n_unparsed, "
        "cost_usd) VALUES (?, ?, 0, 0, 0, 0) RETURNING run_id", [config_path, described]
    ).fetchone()[0]


def finish_run(con: duckdb.DuckDBPyConnection, run_id: int, stopped: str | None) -> None:
    con.execute("UPDATE evaluator_runs SET finished_at = now(), stopped = ? WHERE run_id = ?",
                [stopped, run_id])


def write(con: duckdb.DuckDBPyConnection, run_id: int, rows: list[Row]) -> list[Row]:
    """Commit rows (evaluations + feedback + run counts + derived refresh) in one transaction;
    returns the rows written (those whose key no earlier commit holds)."""
    from ingest.load.derived import refresh

    if not rows:
        return []
    now = dt.datetime.now(dt.UTC)
    con.register("_eval_rows", _table(rows))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _eval_fresh AS
               SELECT r.* FROM _eval_rows r ANTI JOIN evaluations v
               ON v.evaluator = r.evaluator AND v.version = r.version
               AND v.event_id = r.event_id""")
        n_fresh = con.execute("SELECT count(*) FROM _eval_fresh").fetchone()[0]
        fresh = rows
        if n_fresh != len(rows):
            keep = set(con.execute("SELECT i FROM _eval_fresh").fetchall())
            fresh = [r for i, r in enumerate(rows) if (i,) in keep]
        if n_fresh:
            _insert(con, run_id, now)
            refresh(con)
        con.execute("DROP TABLE _eval_fresh")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_eval_rows")
    return fresh


def _table(rows: list[Row]) -> Any:
    """The rows as one Arrow table: the evaluation's columns and its feedback row's."""
    import pyarrow as pa

    llm = [r.spec.kind == "llm" for r in rows]
    v = [r.verdict for r in rows]
    columns: dict[str, list[Any]] = {
        "i": list(range(len(rows))),
        "evaluator": [r.spec.name for r in rows], "version": [r.spec.version for r in rows],
        "event_id": [r.event_id for r in rows], "status": [r.status for r in rows],
        "feedback_id": [feedback_id(r.spec, r.event_id) if r.status == "scored" else None
                        for r in rows],
        "kind": [x.kind if x else None for x in v],
        "value": [x.value if x else None for x in v],
        "label": [x.label if x else None for x in v],
        "reason": [x.reason if x else None for x in v],
        "raw": [r.raw for r in rows], "judge_model": [r.judge_model for r in rows],
        "cost_usd": [r.cost_usd for r in rows], "latency_ms": [r.latency_ms for r in rows],
        "source": [r.spec.feedback_source for r in rows],
        "author": [(r.judge_model or r.spec.model) if is_llm else f"{r.spec.name}@{r.spec.version}"
                   for r, is_llm in zip(rows, llm, strict=True)],
    }
    types = {"i": pa.int64(), "value": pa.float64(), "cost_usd": pa.float64(),
             "latency_ms": pa.float64()}
    return pa.table({k: pa.array(col, type=types.get(k, pa.string()))
                     for k, col in columns.items()})


def _insert(con: duckdb.DuckDBPyConnection, run_id: int, now: dt.datetime) -> None:
    con.execute(
        "INSERT INTO evaluations (evaluator, version, event_id, run_id, status, feedback_id, "
        "value, label, reason, raw, judge_model, cost_usd, latency_ms, created_at) "
        "SELECT evaluator, version, event_id, ?, status, feedback_id, value, label, reason, raw, "
        "judge_model, cost_usd, latency_ms, ? FROM _eval_fresh ORDER BY i", [run_id, now])
    con.execute(
        "INSERT INTO feedback (feedback_id, event_id, name, kind, value, label, source, "
        "comment, author, ts, evaluator_version, judge_model, cost_usd) "
        "SELECT feedback_id, event_id, evaluator, kind, value, label, source, reason, author, "
        "?, version, CASE WHEN source = 'llm_judge' THEN judge_model END, cost_usd "
        "FROM _eval_fresh WHERE status = 'scored' ORDER BY i", [now])
    con.execute(
        """UPDATE evaluator_runs SET
               n_scored = n_scored + f.scored, n_errors = n_errors + f.errors,
               n_unparsed = n_unparsed + f.unparsed, cost_usd = cost_usd + f.cost
           FROM (SELECT count(*) FILTER (WHERE status = 'scored') AS scored,
                        count(*) FILTER (WHERE status = 'error') AS errors,
                        count(*) FILTER (WHERE status = 'unparsed') AS unparsed,
                        coalesce(sum(cost_usd), 0) AS cost FROM _eval_fresh) f
           WHERE run_id = ?""", [run_id])
