"""Queries behind the Overview page: volume, errors and cost, and what is in use.

Every function takes the connection first and the shared filter, and lets DuckDB aggregate:
at 1M events each one is a single scan of a few columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from models.filters import EventFilter, where_sql


@dataclass(frozen=True)
class Totals:
    events: int
    errors: int
    cost_usd: float
    tokens_in: int
    tokens_out: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    first_ts: object | None
    last_ts: object | None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.events if self.events else None


def totals(con: duckdb.DuckDBPyConnection, flt: EventFilter) -> Totals:
    where, params = where_sql(flt)
    row = con.execute(
        f"""
        SELECT count(*), count(*) FILTER (WHERE e.status = 'error'),
               coalesce(sum(e.cost_usd), 0), coalesce(sum(e.tokens_in), 0),
               coalesce(sum(e.tokens_out), 0),
               quantile_cont(e.latency_ms, 0.5), quantile_cont(e.latency_ms, 0.95),
               min(e.ts), max(e.ts)
        FROM events e WHERE {where}
        """,
        params,
    ).fetchall()[0]
    return Totals(*row)


def daily(con: duckdb.DuckDBPyConnection, flt: EventFilter) -> pl.DataFrame:
    """One row per UTC day: events, errors, error rate, cost, tokens, median latency."""
    where, params = where_sql(flt)
    return con.sql(
        f"""
        SELECT date_trunc('day', e.ts)::DATE AS day,
               count(*) AS events,
               count(*) FILTER (WHERE e.status = 'error') AS errors,
               errors / events AS error_rate,
               coalesce(sum(e.cost_usd), 0) AS cost_usd,
               coalesce(sum(e.tokens_in), 0) + coalesce(sum(e.tokens_out), 0) AS tokens,
               quantile_cont(e.latency_ms, 0.5) AS latency_p50_ms
        FROM events e WHERE {where}
        GROUP BY ALL ORDER BY day
        """,
        params=params,
    ).pl()


def daily_by_model(con: duckdb.DuckDBPyConnection, flt: EventFilter) -> pl.DataFrame:
    """Events per UTC day and model, for the stacked volume chart."""
    where, params = where_sql(flt)
    return con.sql(
        f"""
        SELECT date_trunc('day', e.ts)::DATE AS day, coalesce(e.model, '(none)') AS model,
               count(*) AS events
        FROM events e WHERE {where}
        GROUP BY ALL ORDER BY day, model
        """,
        params=params,
    ).pl()


# The two "in use" tables group by a fixed column list, never by a name from the UI.
_IN_USE_KEYS = {
    "model": "coalesce(e.model, '(none)') AS model, coalesce(e.provider, '') AS provider",
    "prompt": "coalesce(e.prompt_name, '(none)') AS prompt_name,"
    " coalesce(e.prompt_version, '(none)') AS prompt_version",
}


def in_use(con: duckdb.DuckDBPyConnection, flt: EventFilter, by: str) -> pl.DataFrame:
    """Models (by='model') or prompt versions (by='prompt'): first/last seen and their numbers."""
    keys = _IN_USE_KEYS[by]
    where, params = where_sql(flt)
    return con.sql(
        f"""
        SELECT {keys},
               count(*) AS events,
               count(*) / sum(count(*)) OVER () AS share,
               count(*) FILTER (WHERE e.status = 'error') / count(*) AS error_rate,
               coalesce(sum(e.cost_usd), 0) AS cost_usd,
               quantile_cont(e.latency_ms, 0.5) AS latency_p50_ms,
               min(e.ts) AS first_seen, max(e.ts) AS last_seen
        FROM events e WHERE {where}
        GROUP BY ALL ORDER BY last_seen DESC, events DESC
        """,
        params=params,
    ).pl()


def models_in_use(con: duckdb.DuckDBPyConnection, flt: EventFilter) -> pl.DataFrame:
    return in_use(con, flt, "model")


def prompts_in_use(con: duckdb.DuckDBPyConnection, flt: EventFilter) -> pl.DataFrame:
    return in_use(con, flt, "prompt")
