"""Numbered schema migrations, the only place tables are defined.

Each module `mNNN_name.py` in this package has an `up(con)` function. They run in number order,
each in its own transaction, and the applied numbers are recorded in `schema_migrations`, so an
old warehouse is upgraded in place and a half-applied migration never stays half-applied.
Never edit a migration that has shipped: add the next number.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from ingest.errors import WarehouseError

_NAME = re.compile(r"^m(\d{3})_(\w+)$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    up: Callable[[duckdb.DuckDBPyConnection], None]


def all_migrations() -> list[Migration]:
    return list(_discovered())


@functools.cache
def _discovered() -> tuple[Migration, ...]:
    """The migration modules of this package, found and imported once per process (every
    connect checks the warehouse against them)."""
    found: list[Migration] = []
    for info in pkgutil.iter_modules(__path__):
        match = _NAME.match(info.name)
        if not match:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.append(Migration(int(match.group(1)), match.group(2), module.up))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return tuple(found)


def latest_version() -> int:
    migrations = all_migrations()
    return migrations[-1].version if migrations else 0


def applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    # One query, not an information_schema lookup first: every connect runs this.
    try:
        rows = con.execute("SELECT version FROM schema_migrations").fetchall()
    except duckdb.CatalogException:  # a new or foreign file: nothing applied
        return set()
    return {row[0] for row in rows}


def check_version(con: duckdb.DuckDBPyConnection, applied: set[int] | None = None) -> None:
    """Refuse a warehouse whose schema is not exactly this code's (readers never migrate)."""
    applied = applied_versions(con) if applied is None else applied
    newest = max(applied, default=0)
    if newest > latest_version():
        raise WarehouseError(
            f"this warehouse has schema version {newest}, newer than this reviewdeck "
            f"({latest_version()}); upgrade reviewdeck"
        )
    # Compare the sets, not the maxima: a migration added below the newest one still counts.
    missing = sorted({m.version for m in all_migrations()} - applied)
    if missing:
        raise WarehouseError(
            f"this warehouse has schema version {newest}, older than this reviewdeck "
            f"({latest_version()}; missing migrations {missing}); run any write command "
            "(e.g. `reviewdeck migrate`) to upgrade it"
        )


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration not yet recorded; returns the versions applied now."""
    applied = applied_versions(con)
    if not applied:
        # Only then: an up-to-date warehouse is not written to (its connection stays clean).
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
    if max(applied, default=0) > latest_version():
        check_version(con, applied)
    done: list[int] = []
    for m in all_migrations():
        if m.version in applied:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            m.up(con)
            con.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [m.version, m.name]
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        done.append(m.version)
    return done
