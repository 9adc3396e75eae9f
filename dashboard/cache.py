"""The Streamlit cache wrappers, in one place, so query functions stay testable without Streamlit.

Pages call `query(fn, *args)`; the result is cached on the function, its (hashable) arguments and
the warehouse stamp (file and WAL mtimes), so a rerun with the same filters never touches DuckDB
and new data shows as soon as a writer commits. Each miss opens a short-lived read-only
connection, so the dashboard never holds the file between queries and an ingest can take it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import polars as pl
import streamlit as st

from ingest import config
from ingest.db import connect, warehouse_stamp


def db_path() -> str:
    return str(config.db_path())


def _resolve(name: str) -> Callable[..., Any]:
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)


@st.cache_data(ttl=900, max_entries=1024, show_spinner=False)
def _cached(name: str, db: str, stamp: tuple, args: tuple, kwargs: tuple) -> Any:
    fn = _resolve(name)
    with connect(db, read_only=True, timeout_s=30) as con:
        return fn(con, *args, **dict(kwargs))


def query(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> pl.DataFrame | Any:
    """Run `fn(con, *args, **kwargs)` on the warehouse, cached until the warehouse changes."""
    db = db_path()
    name = f"{fn.__module__}:{fn.__qualname__}"
    return _cached(name, db, warehouse_stamp(db), args, tuple(sorted(kwargs.items())))


def write(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run `fn(con, ...)` on a short-lived writable connection (verdicts, notes, reruns)."""
    with connect(db_path(), timeout_s=30) as con:
        return fn(con, *args, **kwargs)
