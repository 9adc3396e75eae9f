"""Datasets in the warehouse: create (freezing the event ids), read, list, delete, and the rerun
batches run on one (migration 007). Every function takes the connection first; writers are
short transactions."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb

from models.datasets.sources import DatasetError, DatasetSource, resolve

if TYPE_CHECKING:
    import polars as pl

MAX_NAME = 200


@dataclass(frozen=True)
class Dataset:
    dataset_id: int
    name: str
    created_at: dt.datetime
    created_by: str | None
    source_kind: str
    source: dict[str, Any]
    n_events: int
    description: str | None


_COLS = ("dataset_id, name, created_at, created_by, source_kind, source, n_events, "
         "description")


def _row(row: tuple) -> Dataset:
    values = list(row)
    values[5] = json.loads(values[5]) if values[5] else {}
    return Dataset(*values)


def check_name(name: str) -> str:
    clean = (name or "").strip()
    if not clean:
        raise DatasetError("a dataset needs a name (--name), e.g. billing-failures-w07")
    if len(clean) > MAX_NAME:
        raise DatasetError(f"dataset name is {len(clean)} characters; keep it under {MAX_NAME}")
    return clean


def find_dataset(con: duckdb.DuckDBPyConnection, name: str) -> Dataset | None:
    rows = con.execute(f"SELECT {_COLS} FROM datasets WHERE name = ?", [name.strip()]).fetchall()
    return _row(rows[0]) if rows else None


def get_dataset(con: duckdb.DuckDBPyConnection, name: str) -> Dataset:
    """The dataset of this name, or a DatasetError naming the ones there are."""
    found = find_dataset(con, name)
    if found is None:
        names = [r[0] for r in con.execute(
            "SELECT name FROM datasets ORDER BY created_at DESC LIMIT 10").fetchall()]
        known = f"; datasets: {', '.join(names)}" if names else \
            "; there are none yet (make one with `reviewdeck dataset create`)"
        raise DatasetError(f"no dataset named {name!r}{known}")
    return found


def create_dataset(con: duckdb.DuckDBPyConnection, name: str, source: DatasetSource, *,
                   created_by: str | None = None, description: str | None = None) -> Dataset:
    """Resolve the source to event ids now and store them: the dataset never changes after."""
    name = check_name(name)
    con.execute("BEGIN TRANSACTION")
    try:
        existing = find_dataset(con, name)
        if existing is not None:
            raise DatasetError(
                f"a dataset named {name!r} already exists ({existing.n_events} events, made "
                f"{existing.created_at:%Y-%m-%d %H:%M} UTC); pick another name, or "
                f"`reviewdeck dataset delete {name}` first")
        ids = resolve(con, source)
        dataset_id = con.execute(
            "INSERT INTO datasets (name, created_by, source_kind, source, n_events, description)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING dataset_id",
            [name, created_by, source.kind, source.to_json(), len(ids), description],
        ).fetchall()[0][0]
        con.execute(
            "INSERT INTO dataset_events (dataset_id, event_id, position)"
            " SELECT ?, u.event_id, u.position::INTEGER FROM"
            " (SELECT unnest(?::VARCHAR[]) AS event_id,"
            "         unnest(range(1, ? + 1)) AS position) u",
            [dataset_id, ids, len(ids)],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return get_dataset(con, name)


def event_ids(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    """The dataset's event ids in its order (an unknown name is a DatasetError)."""
    ds = get_dataset(con, name)
    return [r[0] for r in con.execute(
        "SELECT event_id FROM dataset_events WHERE dataset_id = ? ORDER BY position",
        [ds.dataset_id]).fetchall()]


def list_datasets(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every dataset, newest first, with how many rerun batches ran on it."""
    return con.sql(
        """
        SELECT d.name, d.created_at, d.created_by, d.source_kind, d.n_events, d.description,
               (SELECT count(*) FROM rerun_batches b WHERE b.dataset = d.name) AS rerun_batches
          FROM datasets d ORDER BY d.created_at DESC, d.dataset_id DESC
        """).pl()


def delete_dataset(con: duckdb.DuckDBPyConnection, name: str) -> Dataset:
    """Remove the dataset and its event list; its rerun batches and their results stay."""
    ds = get_dataset(con, name)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM dataset_events WHERE dataset_id = ?", [ds.dataset_id])
        con.execute("DELETE FROM datasets WHERE dataset_id = ?", [ds.dataset_id])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return ds


@dataclass(frozen=True)
class DatasetRun:
    """One rerun batch on a dataset, with its judge's counts (None when it was not judged)."""

    batch_id: str
    created_at: dt.datetime
    model: str
    judge_model: str | None
    status: str
    n_items: int
    spent_usd: float
    win: int | None
    tie: int | None
    loss: int | None
    unreadable: int


def rerun_batches(con: duckdb.DuckDBPyConnection, name: str) -> list[DatasetRun]:
    """The rerun batches run on the dataset, oldest first, each with win/tie/loss."""
    from models.rerun.report import batch_report

    rows = con.execute(
        "SELECT batch_id, created_at FROM rerun_batches WHERE dataset = ?"
        " ORDER BY created_at, batch_id", [name.strip()]).fetchall()
    runs = []
    for batch_id, created_at in rows:
        rep = batch_report(con, batch_id, with_pairs=False)
        j = rep.judge
        runs.append(DatasetRun(
            batch_id, created_at, rep.batch.model, rep.batch.judge_model, rep.batch.status,
            rep.batch.n_items, rep.batch.spent_usd,
            None if j is None else j.win.count, None if j is None else j.tie.count,
            None if j is None else j.loss.count, rep.unreadable))
    return runs
