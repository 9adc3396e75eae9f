"""Queries every page shares: the values offered in the shared filters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from dashboard.stored import kept


@dataclass(frozen=True)
class FilterChoices:
    min_day: dt.date | None
    max_day: dt.date | None
    models: list[str]
    prompt_versions: list[str]
    tags: list[str]
    environments: list[str]


@kept
def filter_choices(con: duckdb.DuckDBPyConnection) -> FilterChoices:
    lo, hi = con.execute(
        "SELECT min(ts)::DATE, max(ts)::DATE FROM events WHERE kind = 'llm'"
    ).fetchall()[0]

    def distinct(column: str) -> list[str]:
        # column comes from the fixed list below, never from user input
        rows = con.execute(
            f"SELECT DISTINCT {column} AS v FROM events WHERE kind = 'llm' AND {column} IS NOT NULL"
            " ORDER BY v"
        ).fetchall()
        return [r[0] for r in rows]

    tags = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT unnest(tags) AS t FROM events WHERE kind = 'llm' ORDER BY t"
        ).fetchall()
    ]
    return FilterChoices(
        lo, hi, distinct("model"), distinct("prompt_version"), tags, distinct("environment")
    )
