"""Queries behind the Overview page: volume, errors and cost, and what is in use.

Every function takes the connection first and the shared filter, and lets DuckDB aggregate:
at 1M events each one is a single scan of a few columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from dashboard.stored import kept
from models.filters import EventFilter, where_sql

# The UTC day of an event, by integer arithmetic on the epoch: an order of magnitude faster than
# date_trunc on a TIMESTAMPTZ (which goes through the time-zone library) at 1M rows.
DAY_SQL = "DATE '1970-01-01' + (epoch_us(e.ts) // 86400000000)::INTEGER"


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
               quantile_cont(e.latency_ms, [0.5, 0.95]), min(e.ts), max(e.ts)
        FROM events e WHERE {where}
        """,
        params,
    ).fetchall()[0]
    p50, p95 = row[5] or (None, None)
    return Totals(*row[:5], p50, p95, *row[6:])


def daily(con: duckdb.DuckDBPyConnection, flt: EventFilter) -> pl.DataFrame:
    """One row per UTC day: events, errors, error rate, cost, tokens."""
    where, params = where_sql(flt)
    return con.sql(
        f"""
        SELECT {DAY_SQL} AS day,
               count(*) AS events,
               count(*) FILTER (WHERE e.status = 'error') AS errors,
               errors / events AS error_rate,
               coalesce(sum(e.cost_usd), 0) AS cost_usd,
               coalesce(sum(e.tokens_in), 0) + coalesce(sum(e.tokens_out), 0) AS tokens
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
        SELECT {DAY_SQL} AS day, coalesce(e.model, '(none)') AS model,
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


@dataclass(frozen=True)
class OverviewData:
    totals: Totals
    daily: pl.DataFrame
    daily_by_model: pl.DataFrame
    models: pl.DataFrame
    prompts: pl.DataFrame


@kept
def overview_data(con: duckdb.DuckDBPyConnection, flt: EventFilter) -> OverviewData:
    """Everything the Overview page shows, on one connection (one open of the file, not five)."""
    tot = totals(con, flt)
    if tot.events == 0:
        empty = pl.DataFrame()
        return OverviewData(tot, empty, empty, empty, empty)
    return OverviewData(
        tot,
        daily(con, flt),
        daily_by_model(con, flt),
        models_in_use(con, flt),
        prompts_in_use(con, flt),
    )
