"""A planted warehouse for judge trust: an evaluator 'helpful' (v1 older, v2 latest) over three
weeks and two models, lenient on gpt-b (it passes most of gpt-b's true failures), and a random
review queue whose labels are the planted truth, some items labelled twice."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import numpy as np
import polars as pl

MONDAY = dt.datetime(2026, 10, 26, 9, tzinfo=dt.UTC)  # 2026-W44
WEEKS = ("2026-W44", "2026-W45", "2026-W46")
NAME = "helpful"


def plant(
    con: duckdb.DuckDBPyConnection,
    *,
    n_events: int = 600,
    n_labelled: int = 240,
    n_double: int = 40,
    seed: int = 0,
    stratify_by: str | None = None,
    strata_of: str | None = None,
    with_evaluator: bool = True,
) -> dict:
    """Plant events, judge rows, a review queue and its labels; returns the planted truth.

    With `strata_of` ('1' or '2'), the queue is a verdict-stratified draw: half its items from
    that version's fails, half from its passes, each item's stratum the verdict (give
    `stratify_by=f"verdict:{NAME}"` with it)."""
    rng = np.random.default_rng(seed)
    events, feedback = [], []
    truth = rng.random(n_events) < 0.3  # True = a real failure
    models = np.where(np.arange(n_events) % 2 == 0, "gpt-a", "gpt-b")
    judge = truth.copy()
    for i in range(n_events):
        if models[i] == "gpt-a":
            judge[i] = truth[i] if rng.random() < 0.9 else not truth[i]
        else:  # lenient: catches 30% of failures, passes 95% of passes correctly
            judge[i] = (rng.random() < 0.3) if truth[i] else (rng.random() < 0.05)
    ids = [f"ev{i:04d}" for i in range(n_events)]
    for i, eid in enumerate(ids):
        ts = MONDAY + dt.timedelta(days=7 * (i % 3), hours=i % 100)
        events.append({"event_id": eid, "ts": ts, "model": str(models[i]),
                       "input_text": f"question {i}", "output_text": f"answer {i} <b>bold</b>"})
    v1 = rng.random(n_events) < 0.5
    if with_evaluator:
        old = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
        new = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
        for i, eid in enumerate(ids):
            for version, fail, at in (("1", v1[i], old), ("2", judge[i], new)):
                feedback.append(_row(f"j{version}-{eid}", eid, fail, "llm_judge",
                                     f"judge@{version}", at, version=version, cost=0.001))
    strata: list[str | None] = [None] * n_events
    if strata_of is None:
        queue_items = rng.choice(n_events, size=n_labelled, replace=False)
    else:
        verdict = {"1": v1, "2": judge}[strata_of]
        fails, passes = np.flatnonzero(verdict), np.flatnonzero(~verdict)
        queue_items = np.concatenate([rng.choice(fails, size=n_labelled // 2, replace=False),
                                      rng.choice(passes, size=n_labelled // 2, replace=False)])
        strata = ["fail" if f else "pass" for f in verdict]
    for k, i in enumerate(queue_items):
        eid = ids[i]
        at = MONDAY + dt.timedelta(days=20, minutes=k)
        tags = ["hallucination"] if truth[i] and i % 3 else (["refusal"] if truth[i] else None)
        feedback.append(_row(f"r-ana-{eid}", eid, truth[i], "reviewer", "ana", at, queue=1,
                             tags=tags))
        if k < n_double:  # a second reviewer, agreeing 90% of the time
            fail = truth[i] if rng.random() < 0.9 else not truth[i]
            feedback.append(_row(f"r-bo-{eid}", eid, fail, "reviewer", "bo",
                                 at + dt.timedelta(hours=1), queue=1))
            if k < n_double // 2:  # a third, with the first: the majority is the truth
                feedback.append(_row(f"r-cy-{eid}", eid, truth[i], "reviewer", "cy",
                                     at + dt.timedelta(hours=2), queue=1))
    insert_rows(con, events, feedback)
    con.execute(
        "INSERT INTO review_queues (queue_id, name, source_kind, source, rubric, rubric_kind, "
        "n_requested, stratify_by, reviewers_per_item, created_at) "
        "VALUES (1, 'weekly sample', 'filter', ?, ?, 'pass_fail', ?, ?, 1, ?)",
        [json.dumps({}), NAME, n_labelled, stratify_by, MONDAY],
    )
    con.executemany(
        "INSERT INTO queue_items (queue_id, position, event_id, stratum, reviewers_needed) "
        "VALUES (1, ?, ?, ?, 1)",
        [[k, ids[i], strata[i]] for k, i in enumerate(queue_items)],
    )
    con.executemany(
        "INSERT INTO cluster_members (event_id, cluster_id, similarity) VALUES (?, ?, 1.0)",
        [[eid, i % 4] for i, eid in enumerate(ids)],
    )
    if with_evaluator:
        con.executemany(
            "INSERT INTO evaluations (evaluator, version, event_id, status, cost_usd, judge_model, "
            "raw) VALUES (?, '2', ?, ?, 0.001, 'judge-model', ?)",
            [[NAME, eid, "scored", None] for eid in ids]
            + [[NAME, "err1", "error", "boom"], [NAME, "err2", "error", "boom"],
               [NAME, "bad1", "unparsed", "<script>alert(1)</script> not json"]],
        )
    return {"ids": ids, "truth": truth, "judge": judge, "models": models,
            "labelled": [ids[i] for i in queue_items]}


def _row(fid, eid, fail, source, author, at, *, version=None, cost=None, queue=None, tags=None):
    return {
        "feedback_id": fid, "event_id": eid, "name": NAME, "kind": "score",
        "value": 0.0 if fail else 1.0, "label": "fail" if fail else "pass", "source": source,
        "author": author, "ts": at, "ingested_at": at, "evaluator_version": version,
        "cost_usd": cost, "queue_id": queue, "tags": tags,
    }


def insert_rows(con: duckdb.DuckDBPyConnection, events: list[dict], feedback: list[dict]) -> None:
    """Insert as a loader would (derived tables refreshed in the same transaction)."""
    from ingest.load import derived

    for table, rows in (("events", events), ("feedback", feedback)):
        if not rows:
            continue
        frame = pl.DataFrame(rows, infer_schema_length=None)
        con.register("_rows", frame)
        cols = ", ".join(frame.columns)
        extra = ", source_format" if table == "events" else ""
        value = ", 'native'" if table == "events" else ""
        con.execute(f"INSERT INTO {table} ({cols}{extra}) SELECT {cols}{value} FROM _rows")
        con.unregister("_rows")
    derived.refresh(con)
