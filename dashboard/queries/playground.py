"""Every read the playground page runs: the event to reopen, its reruns, batches and reports.

Each function takes the connection first and returns plain data (polars frames or frozen
dataclasses) so dashboard.cache can cache it and tests can call it on a temporary warehouse.
"""

from __future__ import annotations

import duckdb
import polars as pl

from models.filters import EventFilter
from models.rerun import runner as rr
from models.rerun import store
from models.rerun.report import BatchReport
from models.rerun.report import batch_report as _batch_report


def event_for_playground(con: duckdb.DuckDBPyConnection, event_id: str) -> store.Original | None:
    try:
        return store.load_event(con, event_id)
    except store.EventNotFound:
        return None


def reruns_of(con: duckdb.DuckDBPyConnection, event_id: str) -> pl.DataFrame:
    """The reruns of one event, newest first, with the latest reviewer verdict on each."""
    return con.sql(
        """
        SELECT e.event_id, e.ts, e.model_requested, e.model, e.status, e.error_type,
               e.error_message, e.output_text, e.tokens_in, e.tokens_out, e.cost_usd,
               e.latency_ms, e.ttft_ms, e.params,
               json_extract_string(e.raw, '$.endpoint') AS endpoint,
               json_extract_string(e.raw, '$.batch_id') AS batch_id,
               CAST(json_extract(e.raw, '$.adaptations') AS VARCHAR[]) AS adaptations,
               (SELECT f.label FROM feedback f WHERE f.event_id = e.event_id
                  AND f.name = 'verdict' ORDER BY f.ts DESC LIMIT 1) AS verdict
          FROM events e
         WHERE e.rerun_of = ?
         ORDER BY e.ts DESC, e.event_id
         LIMIT 50
        """,
        params=[event_id],
    ).pl()


def estimate(
    con: duckdb.DuckDBPyConnection,
    flt: EventFilter,
    model: str,
    judge_model: str | None,
    sample_n: int | None,
    seed: int,
) -> rr.Estimate:
    return rr.estimate_batch(con, flt, model, judge_model, sample_n, seed)


def batches(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql(
        "SELECT batch_id, created_at, model, endpoint, where_text, n_items, status, spent_usd,"
        " judge_model FROM rerun_batches ORDER BY created_at DESC LIMIT 100"
    ).pl()


def batch_report(con: duckdb.DuckDBPyConnection, batch_id: str) -> BatchReport | None:
    return _batch_report(con, batch_id)
