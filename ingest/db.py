"""Opening the warehouse file, the one place that knows DuckDB's locking rules.

DuckDB lets one process write a file, and any other process that holds the file, even read-only,
blocks that writer (and a writer blocks readers). So every process here opens short-lived
connections and retries with backoff while another process holds the lock: the dashboard reads
for milliseconds at a time and caches results; a writer (ingest, analyze, rerun) does its slow
work (parsing, embedding, calling models) without the file and holds the lock only to commit.
See docs/concurrency.md.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from ingest import config
from ingest.errors import WarehouseBusy, WarehouseError


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def open_connection(
    path: str | os.PathLike[str],
    *,
    read_only: bool = False,
    timeout_s: float | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting (jittered backoff) while another process holds its lock."""
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseError(
            f"no warehouse at {path}: run `reviewdeck ingest FILE --db {path}` "
            "or `reviewdeck demo` to create one"
        )
    deadline = time.monotonic() + (config.lock_timeout_s() if timeout_s is None else timeout_s)
    delay = 0.02
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            # Timestamps are stored and shown in UTC whatever the machine's zone is.
            # GLOBAL: the cursors pages take of a shared connection (dashboard/cache.py) too.
            con.execute("SET GLOBAL TimeZone = 'UTC'")
            return con
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise WarehouseError(f"cannot open warehouse {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"warehouse {path} is held by another process (an ingest, analyze or "
                    "rerun job, or an open dashboard); try again when it finishes"
                ) from exc
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.5)


@contextlib.contextmanager
def connect(
    path: str | os.PathLike[str],
    *,
    read_only: bool = False,
    migrate: bool | None = None,
    timeout_s: float | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection; writers get the schema brought up to date first.

    `migrate` defaults to True for writers and False for readers (a reader never changes the
    file; it refuses a warehouse whose schema is newer than this code).
    """
    from ingest.migrations import check_version
    from ingest.migrations import migrate as run_migrations

    con = open_connection(path, read_only=read_only, timeout_s=timeout_s)
    try:
        if migrate if migrate is not None else not read_only:
            run_migrations(con)
        else:
            check_version(con)
        yield con
    finally:
        con.close()


def warehouse_stamp(path: str | os.PathLike[str]) -> tuple[int, int, int, int]:
    """A cheap token that changes whenever the file or its WAL changes, without opening it.

    The dashboard keys its caches on this, so new data shows as soon as a writer commits and
    unchanged data is never re-queried.
    """
    path = Path(path)
    stamp: list[int] = []
    for p in (path, Path(str(path) + ".wal")):
        try:
            st = p.stat()
            stamp += [st.st_mtime_ns, st.st_size]
        except FileNotFoundError:
            stamp += [0, 0]
    return tuple(stamp)  # type: ignore[return-value]
