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


@dataclass(frozen=True)
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
                AND v.event_id = e.event_id)
            ORDER BY e.ts, e.event_id""",
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


def _arrow(columns: dict[str, list[Any]], types: dict[str, Any]) -> Any:
    import pyarrow as pa

    return pa.table({k: pa.array(v, type=types.get(k, pa.string())) for k, v in columns.items()})


def write(con: duckdb.DuckDBPyConnection, run_id: int, rows: list[Row]) -> list[Row]:
    """Commit rows (evaluations + feedback + run counts + derived refresh) in one transaction;
    returns the rows written (those not already present)."""
    import pyarrow as pa

    from ingest.load.derived import refresh

    if not rows:
        return []
    now = dt.datetime.now(dt.UTC)
    con.execute("BEGIN TRANSACTION")
    try:
        keys = _arrow({"evaluator": [r.spec.name for r in rows],
                       "version": [r.spec.version for r in rows],
                       "event_id": [r.event_id for r in rows]}, {})
        con.register("_eval_keys", keys)
        taken = set(con.execute(
            "SELECT k.evaluator, k.version, k.event_id FROM _eval_keys k JOIN evaluations v "
            "USING (evaluator, version, event_id)").fetchall())
        con.unregister("_eval_keys")
        fresh, seen = [], set(taken)
        for r in rows:
            key = (r.spec.name, r.spec.version, r.event_id)
            if key not in seen:
                seen.add(key)
                fresh.append(r)
        if fresh:
            _insert(con, run_id, fresh, now, pa)
            refresh(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return fresh


def _insert(con: duckdb.DuckDBPyConnection, run_id: int, rows: list[Row], now: dt.datetime,
            pa: Any) -> None:
    scored = [r for r in rows if r.status == "scored" and r.verdict is not None]
    ev = {
        "evaluator": [r.spec.name for r in rows], "version": [r.spec.version for r in rows],
        "event_id": [r.event_id for r in rows], "status": [r.status for r in rows],
        "feedback_id": [feedback_id(r.spec, r.event_id) if r.status == "scored" else None
                        for r in rows],
        "value": [r.verdict.value if r.verdict else None for r in rows],
        "label": [r.verdict.label if r.verdict else None for r in rows],
        "reason": [r.verdict.reason if r.verdict else None for r in rows],
        "raw": [r.raw for r in rows], "judge_model": [r.judge_model for r in rows],
        "cost_usd": [r.cost_usd for r in rows], "latency_ms": [r.latency_ms for r in rows],
    }
    con.register("_eval_rows", _arrow(ev, {"value": pa.float64(), "cost_usd": pa.float64(),
                                           "latency_ms": pa.float64()}))
    con.execute(
        "INSERT INTO evaluations (evaluator, version, event_id, run_id, status, feedback_id, "
        "value, label, reason, raw, judge_model, cost_usd, latency_ms, created_at) "
        "SELECT evaluator, version, event_id, ?, status, feedback_id, value, label, reason, raw, "
        "judge_model, cost_usd, latency_ms, ? FROM _eval_rows", [run_id, now])
    con.unregister("_eval_rows")
    if scored:
        fb = {
            "feedback_id": [feedback_id(r.spec, r.event_id) for r in scored],
            "event_id": [r.event_id for r in scored], "name": [r.spec.name for r in scored],
            "kind": [r.verdict.kind for r in scored],
            "value": [r.verdict.value for r in scored],
            "label": [r.verdict.label for r in scored],
            "source": [r.spec.feedback_source for r in scored],
            "comment": [r.verdict.reason for r in scored],
            "author": [r.judge_model or r.spec.model if r.spec.kind == "llm"
                       else f"{r.spec.name}@{r.spec.version}" for r in scored],
            "evaluator_version": [r.spec.version for r in scored],
            "judge_model": [r.judge_model if r.spec.kind == "llm" else None for r in scored],
            "cost_usd": [r.cost_usd for r in scored],
        }
        con.register("_eval_fb", _arrow(fb, {"value": pa.float64(), "cost_usd": pa.float64()}))
        con.execute(
            "INSERT INTO feedback (feedback_id, event_id, name, kind, value, label, source, "
            "comment, author, ts, source_format, evaluator_version, judge_model, cost_usd) "
            "SELECT feedback_id, event_id, name, kind, value, label, source, comment, author, "
            "?, NULL, evaluator_version, judge_model, cost_usd FROM _eval_fb", [now])
        con.unregister("_eval_fb")
    con.execute(
        "UPDATE evaluator_runs SET n_scored = n_scored + ?, n_errors = n_errors + ?, "
        "n_unparsed = n_unparsed + ?, cost_usd = cost_usd + ? WHERE run_id = ?",
        [len(scored), sum(r.status == "error" for r in rows),
         sum(r.status == "unparsed" for r in rows),
         sum(r.cost_usd or 0.0 for r in rows), run_id])
