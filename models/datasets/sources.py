"""What a dataset can be made from, and the event ids each source names at the time it is made.

A source is plain data kept in `datasets.source` as JSON (for people to read; it is never
evaluated again, since a dataset is frozen):
- `filter`: the explorer's filter (models.filters query-string form), e.g.
  `feedback=negative&tag=topic:billing&start=2026-11-09&end=2026-11-15`;
- `queue`: a review queue's items, in the queue's order;
- `cluster`: a cluster of the current analysis (`cluster_members`), with any other filter keys;
- `new_topic`: the event ids of a new topic (found by novelty, not by a filter), with its label;
- `events`: a plain list of event ids.
An optional seeded sample (`sample_n`, `seed`) keeps N of the matching events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import duckdb

from ingest.errors import ReviewdeckError
from models.filters import parse_where, where_sql

SOURCE_KINDS = ("filter", "queue", "cluster", "new_topic", "events")


class DatasetError(ReviewdeckError):
    """A dataset's name or source is wrong: a duplicate or unknown name, a bad source."""


@dataclass(frozen=True)
class DatasetSource:
    kind: str
    where: str = ""  # filter / cluster: the models.filters query string
    queue_id: int | None = None  # queue
    event_ids: tuple[str, ...] = ()  # new_topic / events
    label: str | None = None  # how a new topic is named
    sample_n: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise DatasetError(f"dataset source {self.kind!r}; use one of "
                               f"{', '.join(SOURCE_KINDS)}")
        if self.kind in ("new_topic", "events") and not self.event_ids:
            raise DatasetError(f"a {self.kind} dataset needs its event ids (--ids)")
        if self.kind == "queue" and self.queue_id is None:
            raise DatasetError("a queue dataset needs the queue id (--queue)")
        if self.kind in ("filter", "cluster"):
            flt = parse_where(self.where)  # a bad filter fails here, before anything is read
            if self.kind == "cluster" and flt.cluster_id is None:
                raise DatasetError("a cluster dataset needs cluster=N (--cluster N)")
        if self.sample_n is not None and self.sample_n < 1:
            raise DatasetError(f"sample size {self.sample_n}; give 1 or more")

    def to_json(self) -> str:
        data: dict[str, Any] = {}
        if self.kind in ("filter", "cluster"):
            data["where"] = self.where
        if self.queue_id is not None:
            data["queue_id"] = self.queue_id
        if self.event_ids:
            data["event_ids"] = list(self.event_ids)
        if self.label:
            data["label"] = self.label
        if self.sample_n is not None:
            data.update(sample_n=self.sample_n, seed=self.seed)
        return json.dumps(data, sort_keys=True)

    def describe(self) -> str:
        sample = f", sample of {self.sample_n} (seed {self.seed})" if self.sample_n else ""
        if self.kind == "queue":
            return f"review queue {self.queue_id}{sample}"
        if self.kind in ("new_topic", "events"):
            label = f" {self.label}" if self.label else ""
            return f"{self.kind.replace('_', ' ')}{label} ({len(self.event_ids)} ids){sample}"
        return f"{self.kind} · {self.where or '(all events)'}{sample}"


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables"
                            " WHERE table_name = ?", [name]).fetchall()[0][0])


def _matching(con: duckdb.DuckDBPyConnection, source: DatasetSource
              ) -> tuple[str, list[object]]:
    """A SELECT of (event_id, ord) for the source's events in the warehouse, and its params."""
    if source.kind in ("new_topic", "events"):
        return ("SELECT e.event_id, list_position(?::VARCHAR[], e.event_id) AS ord"
                " FROM events e WHERE e.event_id IN (SELECT unnest(?::VARCHAR[]))",
                [list(source.event_ids), list(source.event_ids)])
    if source.kind == "queue":
        if not con.execute("SELECT count(*) FROM review_queues WHERE queue_id = ?",
                           [source.queue_id]).fetchall()[0][0]:
            raise DatasetError(f"no review queue {source.queue_id} in the warehouse "
                               "(`reviewdeck queue list` shows them)")
        return ("SELECT q.event_id, q.position AS ord FROM queue_items q"
                " JOIN events e ON e.event_id = q.event_id WHERE q.queue_id = ?",
                [source.queue_id])
    flt = parse_where(source.where)
    if flt.cluster_id is not None and not _has_table(con, "cluster_members"):
        raise DatasetError("there are no clusters yet: run `reviewdeck analyze` first")
    where, params = where_sql(flt)
    return (f"SELECT e.event_id, row_number() OVER (ORDER BY e.ts, e.event_id) AS ord"
            f" FROM events e WHERE {where}", params)


def resolve(con: duckdb.DuckDBPyConnection, source: DatasetSource) -> list[str]:
    """The source's event ids, now, in the source's order (a sample keeps that order)."""
    base, params = _matching(con, source)
    if source.kind in ("new_topic", "events"):
        found = {r[0] for r in con.execute(f"SELECT event_id FROM ({base})", params).fetchall()}
        missing = [e for e in source.event_ids if e not in found]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise DatasetError(f"{len(missing)} of the given event ids are not in the "
                               f"warehouse: {shown}")
    if source.sample_n is None:
        rows = con.execute(f"SELECT event_id FROM ({base}) ORDER BY ord, event_id",
                           params).fetchall()
    else:
        rows = con.execute(
            f"SELECT event_id FROM (SELECT event_id, ord FROM ({base})"
            " ORDER BY hash(event_id || ?), event_id LIMIT ?) ORDER BY ord, event_id",
            [*params, str(source.seed), source.sample_n]).fetchall()
    ids = [r[0] for r in rows]
    if not ids:
        raise DatasetError(f"no events match {source.describe()}; widen the source")
    return ids
