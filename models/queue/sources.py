"""What a queue can be made from, and the candidate events (with their strata) each source names.

Every source is plain data that goes into `review_queues.source` as JSON and back:
- `filter`: the explorer's filter (models.filters query-string form), e.g. `feedback=negative`;
- `cluster`: a cluster id (the filter `cluster=N`, plus any other filter keys);
- `segment`: a "what moved" segment, as the filter of its events (models.trends.moved
  .segment_filter) and its label;
- `new_topic`: the event ids of a new topic on the Drift page (ids, since a topic is found by
  novelty, not by a filter);
- `rerun_batch`: a batch's rerun events (the new answers, which is what a reviewer checks).

Strata: `model` (the event's model), `cluster` (its cluster in the current analysis, '(none)'
when it has none), `verdict:<evaluator>` (the evaluator's latest verdict on it, 'pass'/'fail' for
scores, the label for label evaluators; events it has not scored are left out, since the point
of that stratification is to compare with its verdicts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import duckdb

from ingest.errors import ReviewdeckError
from ingest.feedback_sql import LOW_SCORE
from models.filters import EventFilter, parse_where, where_sql

SOURCE_KINDS = ("filter", "cluster", "segment", "new_topic", "rerun_batch")
STRATIFY_PLAIN = ("model", "cluster")
EVALUATOR_SOURCES = ("llm_judge", "code")


class QueueSourceError(ReviewdeckError):
    """A queue's source or stratification names something that is not there or not allowed."""


@dataclass(frozen=True)
class QueueSource:
    kind: str
    where: str = ""  # filter / cluster / segment: the models.filters query string
    event_ids: tuple[str, ...] = ()  # new_topic
    batch_id: str | None = None  # rerun_batch
    label: str | None = None  # how pages name it: the segment, the topic, ...
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise QueueSourceError(
                f"queue source {self.kind!r}; use one of {', '.join(SOURCE_KINDS)}"
            )
        if self.kind == "new_topic" and not self.event_ids:
            raise QueueSourceError("a new_topic source needs its event ids")
        if self.kind == "rerun_batch" and not self.batch_id:
            raise QueueSourceError("a rerun_batch source needs its batch id")
        if self.kind in ("filter", "cluster", "segment"):
            flt = self.event_filter()  # fails early on a bad filter string
            if self.kind == "cluster" and flt.cluster_id is None:
                raise QueueSourceError("a cluster source needs cluster=N in its filter")

    def event_filter(self) -> EventFilter:
        return parse_where(self.where)

    def to_json(self) -> str:
        data: dict[str, Any] = {"where": self.where} if self.where else {}
        if self.event_ids:
            data["event_ids"] = list(self.event_ids)
        if self.batch_id:
            data["batch_id"] = self.batch_id
        if self.label:
            data["label"] = self.label
        return json.dumps({**self.extra, **data}, sort_keys=True)

    @staticmethod
    def from_json(kind: str, text: str | None) -> QueueSource:
        data = json.loads(text) if text else {}
        return QueueSource(
            kind,
            where=data.pop("where", ""),
            event_ids=tuple(data.pop("event_ids", ())),
            batch_id=data.pop("batch_id", None),
            label=data.pop("label", None),
            extra=data,
        )

    def describe(self) -> str:
        if self.kind == "new_topic":
            return f"new topic {self.label or ''} ({len(self.event_ids)} events)".replace("  ", " ")
        if self.kind == "rerun_batch":
            return f"rerun batch {self.batch_id}"
        text = self.where or "(all events)"
        return f"{self.kind} {self.label} · {text}" if self.label else f"{self.kind} · {text}"


def check_stratify(stratify_by: str | None) -> None:
    if stratify_by is None or stratify_by in STRATIFY_PLAIN:
        return
    if stratify_by.startswith("verdict:") and stratify_by.removeprefix("verdict:").strip():
        return
    raise QueueSourceError(
        f"stratify by {stratify_by!r}; use model, cluster or verdict:<evaluator name>"
    )


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()[0][0]
    )


def _base(con: duckdb.DuckDBPyConnection, source: QueueSource) -> tuple[str, list[object]]:
    """A SELECT of the source's event ids (column event_id) and its parameters."""
    if source.kind == "new_topic":
        return "SELECT unnest(?::VARCHAR[]) AS event_id", [list(source.event_ids)]
    if source.kind == "rerun_batch":
        exists = con.execute(
            "SELECT count(*) FROM rerun_batches WHERE batch_id = ?", [source.batch_id]
        ).fetchall()[0][0]
        if not exists:
            raise QueueSourceError(f"no rerun batch {source.batch_id!r} in the warehouse")
        return (
            "SELECT rerun_event_id AS event_id FROM rerun_items"
            " WHERE batch_id = ? AND rerun_event_id IS NOT NULL",
            [source.batch_id],
        )
    flt = source.event_filter()
    if flt.cluster_id is not None and not _has_table(con, "cluster_members"):
        return "SELECT NULL::VARCHAR AS event_id WHERE FALSE", []
    where, params = where_sql(flt)
    return f"SELECT e.event_id FROM events e WHERE {where}", params


def _verdict_sql(evaluator: str) -> tuple[str, list[object]]:
    """Each event's latest verdict of one evaluator: 'pass'/'fail' for scores, else the label."""
    return (
        f"""
        SELECT f.event_id,
               arg_max(CASE WHEN f.value IS NOT NULL
                            THEN CASE WHEN f.value < {LOW_SCORE} THEN 'fail' ELSE 'pass' END
                            ELSE f.label END,
                       coalesce(f.ts, f.ingested_at)) AS stratum
        FROM feedback f
        WHERE f.name = ? AND f.source IN ('llm_judge', 'code') AND f.event_id IS NOT NULL
        GROUP BY f.event_id
        """,
        [evaluator],
    )


def candidates(
    con: duckdb.DuckDBPyConnection, source: QueueSource, stratify_by: str | None
) -> list[tuple[str, str | None]]:
    """(event_id, stratum) of every event the source names that is in the warehouse."""
    check_stratify(stratify_by)
    base, params = _base(con, source)
    if stratify_by == "model":
        join, stratum, extra = "", "coalesce(e.model, '(none)')", []
    elif stratify_by == "cluster":
        if _has_table(con, "cluster_members"):
            join = "LEFT JOIN cluster_members m ON m.event_id = e.event_id"
            stratum = "coalesce(CAST(m.cluster_id AS VARCHAR), '(none)')"
        else:
            join, stratum = "", "'(none)'"
        extra = []
    elif stratify_by is not None:
        vsql, extra = _verdict_sql(stratify_by.removeprefix("verdict:").strip())
        join = f"JOIN ({vsql}) v ON v.event_id = e.event_id"
        stratum = "v.stratum"
    else:
        join, stratum, extra = "", "NULL", []
    rows = con.execute(
        f"""
        SELECT DISTINCT e.event_id, {stratum} AS stratum
        FROM events e {join}
        WHERE e.event_id IN ({base})
        ORDER BY e.event_id
        """,
        [*extra, *params],
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def evaluator_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names that evaluators (code checks, LLM judges) have written feedback under."""
    rows = con.execute(
        "SELECT DISTINCT name FROM feedback WHERE source IN ('llm_judge', 'code') ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]
