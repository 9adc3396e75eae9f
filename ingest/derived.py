"""Derived tables kept in step with events and feedback, refreshed by the loader after each load.

The loader calls `refresh(con)` inside its transaction after inserting rows, so anything derived
is never out of date with what it derives from.
"""

from __future__ import annotations

import duckdb


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Bring derived tables up to date (none are needed yet)."""
