"""A run's plan: what each evaluator has left to score, counted in the warehouse, and its cut into
batches of events, so that `reviewdeck evaluate` holds one batch in memory at a time.

The counts come from two aggregates over `events` (store.py): per evaluator, the events it
applies to and those it will score (in its sample, not yet evaluated by its version), and per
granule of rowids, the distinct events to read. No event id leaves DuckDB for the plan, so a plan
is a few numbers per granule whatever the warehouse's size. Consecutive granules are packed into
batches of at most `batch_size()` events. A batch is a range of rowids: reading it
(store.load_batch) touches only its row groups, and the ranges hold for the whole run because
`events` only grows (the loader appends; nothing deletes events). Events ingested after the plan
get higher rowids than any batch holds: the next run scores them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

import models.evaluators.store as store
from ingest.errors import ConfigError
from models.evaluators.config import EvaluatorSpec
from models.evaluators.event import Event

# Events per batch. A batch of 50k of the demo's events is ~190 MB of Python objects as read
# (texts and JSON) and ~250 MB once the checks have parsed them; the built-ins over 1M events
# peaked at 926 MB RSS with batches of 50k and 1,113 MB with 100k, no faster (144 s against 140;
# all at once: 5,857 MB), well under the 4 GB a pipeline's process may take. Smaller: more
# reads, each a rowid-pruned scan of 1-2 s for 50k events, against ~6 s of scoring them.
BATCH_EVENTS = 50_000
BATCH_ENV = "REVIEWDECK_EVALUATE_BATCH"
# Rowids per counted granule: fine enough to pack batches close to their size, coarse enough that
# the plan of 100M events is 50k rows of counts. DuckDB's vectors are 2,048 rows.
GRANULE = 2_048


def batch_size() -> int:
    """Events per batch: REVIEWDECK_EVALUATE_BATCH, else BATCH_EVENTS; a whole number >= 1."""
    raw = os.environ.get(BATCH_ENV)
    if raw is None or raw.strip() == "":
        return BATCH_EVENTS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{BATCH_ENV}={raw!r} is not a whole number of events >= 1 "
                          f"(default {BATCH_EVENTS})")
    return value


@dataclass(frozen=True)
class Scope:
    """The run's SQL, per evaluator by name: where it applies and what it has left to score;
    `within` restricts every evaluator (a dataset's events)."""

    specs: tuple[EvaluatorSpec, ...]
    applies: dict[str, store.Condition]
    pending: dict[str, store.Condition]
    within: store.Condition


def scope(specs: list[EvaluatorSpec], event_ids: list[str] | None = None) -> Scope:
    """Each evaluator's filter (the explorer's `applies_to`, narrowed by a built-in's prefilter),
    its sample and its version's ledger, as SQL; `event_ids` (a dataset's) restricts all."""
    from models.evaluators.builtins import BUILTINS
    from models.filters import parse_where, where_sql

    applies, pending = {}, {}
    for spec in specs:
        where, params = where_sql(parse_where(spec.applies_to))
        narrow = BUILTINS[spec.builtin].prefilter if spec.builtin else None
        if narrow:
            where = f"({where}) AND ({narrow})"
        applies[spec.name] = store.Condition(where, tuple(params))
        pending[spec.name] = store.pending(spec, applies[spec.name])
    within = store.TRUE if event_ids is None else store.Condition(
        "e.event_id IN (SELECT unnest(?::VARCHAR[]))", (list(event_ids),))
    return Scope(tuple(specs), applies, pending, within)


@dataclass(frozen=True)
class Batch:
    """The rowids [first, last] of `events`, holding `events` events to read; `per_spec`: how
    many of them each evaluator will score."""

    first: int
    last: int
    events: int
    per_spec: dict[str, int]


@dataclass(frozen=True)
class Plan:
    matched: dict[str, int]  # events each evaluator applies to
    sampled: dict[str, int]  # of those, in its sample and not yet scored by its version
    batches: tuple[Batch, ...]


def make(con: duckdb.DuckDBPyConnection, sc: Scope, size: int) -> Plan:
    names = [s.name for s in sc.specs]
    matched = store.applies_counts(con, [sc.applies[n] for n in names], sc.within)
    granules = store.pending_granules(con, [sc.pending[n] for n in names], sc.within,
                                      min(GRANULE, size))
    batches = pack(granules, size, names)
    sampled = {n: sum(b.per_spec[n] for b in batches) for n in names}
    return Plan(dict(zip(names, matched, strict=True)), sampled, tuple(batches))


def pack(granules: list[store.Granule], size: int, names: list[str]) -> list[Batch]:
    """Consecutive granules into batches of at most `size` events (a granule is never split:
    it holds at most `size` events, being at most `size` rowids)."""
    out: list[Batch] = []
    group: list[store.Granule] = []
    n = 0
    for g in granules:
        if group and n + g.events > size:
            out.append(_batch(group, names))
            group, n = [], 0
        group.append(g)
        n += g.events
    if group:
        out.append(_batch(group, names))
    return out


def _batch(group: list[store.Granule], names: list[str]) -> Batch:
    per = {name: sum(g.per_condition[i] for g in group) for i, name in enumerate(names)}
    return Batch(group[0].first, group[-1].last, sum(g.events for g in group), per)


def read(db_path: str | Path, sc: Scope, batch: Batch, names: list[str], *,
         columns: frozenset[str] | None = None, corrections: bool = False
         ) -> tuple[dict[str, list[str]], dict[str, Event]]:
    """One batch's events that these evaluators will score (a short read-only connection):
    per evaluator its ids, in rowid order, and the events by id."""
    from ingest.db import connect

    with connect(db_path, read_only=True) as con:
        store.bound_memory(con)
        todo, events = store.load_batch(con, [sc.pending[n] for n in names], sc.within,
                                        batch.first, batch.last, columns=columns,
                                        corrections=corrections)
    return dict(zip(names, todo, strict=True)), events
