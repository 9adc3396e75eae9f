"""Making a queue: check the settings, find the source's candidates, draw the sample, store it.

The one entry point the CLI and the page share, so a queue made either way is the same queue.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from models.queue import sample, sources, store
from models.queue.sources import QueueSource


@dataclass(frozen=True)
class QueueSpec:
    name: str
    source: QueueSource
    rubric: str = "quality"
    rubric_kind: str = "pass_fail"
    labels: tuple[str, ...] = ()
    failure_tags: tuple[str, ...] = store.DEFAULT_FAILURE_TAGS
    instructions: str | None = None
    n: int = 50
    stratify_by: str | None = None
    reviewers_per_item: int = 1
    seed: int = 0
    created_by: str | None = None


@dataclass(frozen=True)
class Created:
    queue_id: int
    n_candidates: int
    n_items: int
    strata: dict[str, int]


def check(spec: QueueSpec) -> None:
    """Every setting a queue needs, with what to do when one is wrong."""
    err = store.QueueError
    if not spec.name.strip():
        raise err("a queue needs a name")
    rubric = spec.rubric.strip()
    if not rubric:
        raise err("a queue needs a rubric: the feedback name its labels get (e.g. an evaluator's)")
    if rubric in store.RESERVED_RUBRICS:
        raise err(f"rubric {rubric!r} is a name reviewdeck already uses for other feedback; "
                  "pick another (e.g. the evaluator's name)")
    if spec.rubric_kind not in store.RUBRIC_KINDS:
        raise err(f"rubric kind {spec.rubric_kind!r}; use {' or '.join(store.RUBRIC_KINDS)}")
    if spec.rubric_kind == "labels" and len(spec.labels) < 2:
        raise err("a label rubric needs at least two labels")
    if spec.rubric_kind == "labels" and len(set(spec.labels)) != len(spec.labels):
        raise err("a label rubric lists a label twice")
    if spec.n < 1:
        raise err(f"sample size {spec.n}; ask for at least 1 item")
    if spec.reviewers_per_item not in (1, 2, 3):
        raise err(f"reviewers per item {spec.reviewers_per_item}; use 1, 2 or 3")
    sources.check_stratify(spec.stratify_by)


def create_queue(con: duckdb.DuckDBPyConnection, spec: QueueSpec) -> Created:
    """Draw the sample and store the queue with its items, in one transaction."""
    check(spec)
    found = sources.candidates(con, spec.source, spec.stratify_by)
    drawn = sample.draw(found, spec.n, spec.seed, stratified=spec.stratify_by is not None)
    if not drawn:
        raise store.QueueError(
            f"no events to review in {spec.source.describe()}"
            + (f" with a verdict of {spec.stratify_by.removeprefix('verdict:')}"
               if spec.stratify_by and spec.stratify_by.startswith("verdict:") else "")
            + "; widen the filter or pick another source"
        )
    con.execute("BEGIN")
    try:
        qid = store.insert_queue(
            con,
            name=spec.name.strip(),
            source=spec.source,
            rubric=spec.rubric.strip(),
            rubric_kind=spec.rubric_kind,
            labels=tuple(spec.labels),
            failure_tags=tuple(t.strip() for t in spec.failure_tags if t.strip()),
            instructions=spec.instructions,
            n_requested=spec.n,
            stratify_by=spec.stratify_by,
            reviewers_per_item=spec.reviewers_per_item,
            seed=spec.seed,
            created_by=spec.created_by,
            items=drawn,
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Created(qid, len({e for e, _ in found}), len(drawn), sample.strata_counts(drawn))
