"""Reads of the Datasets page: the list, one dataset, its events and the rerun batches on it."""

from __future__ import annotations

import duckdb
import polars as pl

from models.datasets import sources, store


def list_datasets(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return store.list_datasets(con)


def get(con: duckdb.DuckDBPyConnection, name: str) -> store.Dataset | None:
    return store.find_dataset(con, name)


def preview(con: duckdb.DuckDBPyConnection, source: sources.DatasetSource) -> int:
    """How many events the source names now (a DatasetError says why none)."""
    return len(sources.resolve(con, source))


def events(con: duckdb.DuckDBPyConnection, name: str, limit: int = 200) -> pl.DataFrame:
    """The dataset's first `limit` events in its order, with what a reviewer scans first."""
    return con.sql(
        """
        SELECT de.position, e.event_id, e.ts, e.model, e.status,
               left(e.input_text, 160) AS input, left(e.output_text, 160) AS output
        FROM datasets d
        JOIN dataset_events de ON de.dataset_id = d.dataset_id
        JOIN events e ON e.event_id = de.event_id
        WHERE d.name = $name
        ORDER BY de.position
        LIMIT $limit
        """,
        params={"name": name, "limit": limit},
    ).pl()


def runs(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    """The rerun batches run on the dataset, oldest first, with the judge's counts."""
    rows = store.rerun_batches(con, name)
    return pl.DataFrame(
        [
            {"batch": r.batch_id, "made": r.created_at, "model": r.model, "judge": r.judge_model,
             "status": r.status, "items": r.n_items, "spent_usd": r.spent_usd, "wins": r.win,
             "ties": r.tie, "losses": r.loss, "unreadable": r.unreadable}
            for r in rows
        ],
        schema={"batch": pl.String, "made": pl.Datetime(time_zone="UTC"), "model": pl.String,
                "judge": pl.String, "status": pl.String, "items": pl.Int64,
                "spent_usd": pl.Float64, "wins": pl.Int64, "ties": pl.Int64,
                "losses": pl.Int64, "unreadable": pl.Int64},
    )
