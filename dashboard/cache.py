"""The Streamlit cache wrappers, in one place, so query functions stay testable without Streamlit.

Pages call `query(fn, *args)`; the result is cached on the function, its (hashable) arguments and
the warehouse stamp (file and WAL mtimes), so a rerun with the same filters never touches DuckDB
and new data shows as soon as a writer commits. The heavy queries (marked `@stored.kept`) are
also kept on disk for the same stamp (dashboard/stored.py), so a restarted server, a second one,
or the first visit after `reviewdeck warm` finds them. Each miss opens a short-lived read-only
connection, so the dashboard never holds the file between queries and an ingest can take it.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl
import streamlit as st

from dashboard import stored
from ingest import config
from ingest.db import connect, warehouse_stamp


def db_path() -> str:
    return str(config.db_path())


def _resolve(name: str) -> Callable[..., Any]:
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)


# The connection a script run's cache misses share (see shared_connection), per script thread.
_run = threading.local()


@contextmanager
def shared_connection() -> Iterator[None]:
    """Within the block, cache misses share one read-only connection, opened at the first miss
    and closed at the end (or before a write).

    Opening the warehouse costs ~30 ms at 1M events; a page's first visit misses ten queries.
    Wrap a page run in this only when the page does nothing long (no LLM calls): the file is
    held while the block runs, and a writer elsewhere waits for it.
    """
    _run.scope = {}
    try:
        yield
    finally:
        _release()
        del _run.scope


def _release() -> None:
    scope = getattr(_run, "scope", None)
    if scope:
        opened = scope.pop("opened")
        scope.clear()
        opened.__exit__(None, None, None)


def _shared(scope: dict[str, Any], db: str) -> Any:
    """The block's connection to `db`, opened at its first miss."""
    if scope.get("db") != db:
        _release()
        opened = connect(db, read_only=True, timeout_s=30)
        scope.update(db=db, con=opened.__enter__(), opened=opened)
    return scope["con"]


@st.cache_data(ttl=900, max_entries=1024, show_spinner=False)
def _cached(name: str, db: str, stamp: tuple, args: tuple, kwargs: tuple) -> Any:
    fn = _resolve(name)
    if not stored.is_kept(name):
        return _run_query(fn, db, args, kwargs)
    hit, value = stored.load(db, stamp, name, args, kwargs)
    if not hit:
        value = _run_query(fn, db, args, kwargs)
        stored.store(db, stamp, name, args, kwargs, value)
    return value


def _run_query(fn: Callable[..., Any], db: str, args: tuple, kwargs: tuple) -> Any:
    scope = getattr(_run, "scope", None)
    if scope is not None:
        # A cursor of the shared connection per query: a query that leaves a result unfetched
        # (fetchone on a one-row aggregate) cannot then block the next query of the run.
        cur = _shared(scope, db).cursor()
        try:
            return fn(cur, *args, **dict(kwargs))
        finally:
            cur.close()
    with connect(db, read_only=True, timeout_s=30) as con:
        return fn(con, *args, **dict(kwargs))


def query(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> pl.DataFrame | Any:
    """Run `fn(con, *args, **kwargs)` on the warehouse, cached until the warehouse changes."""
    db = db_path()
    name = f"{fn.__module__}:{fn.__qualname__}"
    return _cached(name, db, warehouse_stamp(db), args, tuple(sorted(kwargs.items())))


def write(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run `fn(con, ...)` on a short-lived writable connection (verdicts, notes, reruns)."""
    _release()  # DuckDB refuses a writer beside this process's own read-only connection
    with connect(db_path(), timeout_s=30) as con:
        return fn(con, *args, **kwargs)
