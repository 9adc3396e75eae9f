"""Which weeks the log covers completely: pages open on the last complete week, and a partial
week says so next to every number.

On a Tuesday the newest week holds a day and a half of traffic; compared with a full week, its
volume "falls" by two thirds and its rates rest on a fraction of the usual n. A week is
*partial* when the production log does not cover all of it: it holds the newest production
event (its "horizon") and either the calendar week is not over yet, or the log stops before the
week's Sunday. Its days covered run from Monday to the day of that last event. Every older week
is complete: later events prove the log went on past it.

The horizon is taken over production traffic only (LLM events that are not reruns): a rerun made
today of an old week's event does not make the old log look current.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PRODUCTION_SQL = "kind = 'llm' AND rerun_of IS NULL AND coalesce(environment, '') <> 'playground'"


@dataclass(frozen=True)
class WeekCoverage:
    monday: dt.date
    last_day: dt.date | None = None  # the last day with data in a partial week; None: complete

    @property
    def partial(self) -> bool:
        return self.last_day is not None

    @property
    def days(self) -> int:
        """Days of the week the log covers (7 when complete)."""
        return 7 if self.last_day is None else (self.last_day - self.monday).days + 1

    @property
    def note(self) -> str:
        """'' for a complete week, else e.g. 'partial: Mon–Tue'."""
        if self.last_day is None:
            return ""
        last = DAY_NAMES[self.last_day.weekday()]
        if last == "Sun":
            return "partial: Sunday not over"
        return "partial: Mon" if last == "Mon" else f"partial: Mon–{last}"


def data_horizon(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    """Time of the newest production event in the warehouse (None when there is none)."""
    value = con.execute(f"SELECT max(ts) FROM events WHERE {PRODUCTION_SQL}").fetchall()[0][0]
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def coverage(
    monday: dt.date, horizon: dt.datetime | None, now: dt.datetime | None = None
) -> WeekCoverage:
    """How much of the week starting `monday` the log covers, given its horizon and the time."""
    monday = monday - dt.timedelta(days=monday.weekday())
    if horizon is None:
        return WeekCoverage(monday)
    start = dt.datetime.combine(monday, dt.time(), dt.UTC)
    end = start + dt.timedelta(days=7)
    horizon = horizon.astimezone(dt.UTC)
    if horizon >= end or horizon < start:
        return WeekCoverage(monday)  # the log went on past it, or it holds nothing yet
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    last_day = horizon.date()
    if now >= end and last_day == monday + dt.timedelta(days=6):
        return WeekCoverage(monday)
    return WeekCoverage(monday, last_day)


def last_complete(
    mondays: list[dt.date], horizon: dt.datetime | None, now: dt.datetime | None = None
) -> dt.date | None:
    """The newest complete week among `mondays` (newest first); the newest when none is."""
    for monday in mondays:
        if not coverage(monday, horizon, now).partial:
            return monday
    return mondays[0] if mondays else None


def with_note(label: str, cov: WeekCoverage) -> str:
    """A week's label with its partial note: '2026-W49 (partial: Mon–Tue)'."""
    return f"{label} ({cov.note})" if cov.partial else label
