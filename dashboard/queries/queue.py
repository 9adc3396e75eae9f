"""Queries behind the Review queue page: queues, progress, the reviewer's next item, the verdicts
kept hidden until they answer. Thin wrappers over models.queue.store, connection first, so the
page reads through dashboard.cache like every other page."""

from __future__ import annotations

import duckdb
import polars as pl

from models.queue import sources, store


def queues(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return store.list_queues(con)


def queue(con: duckdb.DuckDBPyConnection, queue_id: int) -> store.Queue:
    return store.get_queue(con, queue_id)


def progress(con: duckdb.DuckDBPyConnection, queue_id: int, author: str) -> store.Progress:
    return store.progress(con, store.get_queue(con, queue_id), author)


def next_item(con: duckdb.DuckDBPyConnection, queue_id: int, author: str) -> str | None:
    return store.next_item(con, store.get_queue(con, queue_id), author)


def my_label(
    con: duckdb.DuckDBPyConnection, queue_id: int, event_id: str, author: str
) -> dict | None:
    return store.my_label(con, store.get_queue(con, queue_id), event_id, author)


def hidden_verdicts(
    con: duckdb.DuckDBPyConnection, queue_id: int, event_id: str, author: str
) -> pl.DataFrame:
    return store.hidden_verdicts(con, store.get_queue(con, queue_id), event_id, author)


def evaluator_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return sources.evaluator_names(con)


def candidate_count(
    con: duckdb.DuckDBPyConnection, source: sources.QueueSource, stratify_by: str | None
) -> int:
    """How many events the source names (with a verdict, when stratified by one)."""
    return len({e for e, _ in sources.candidates(con, source, stratify_by)})
