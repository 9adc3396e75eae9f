"""The demo's review queue as warehouse rows, after its log is ingested.

The demo log carries the simulated reviewers' labels as feedback rows with
`queue_id = plan.REVIEW_QUEUE_ID`; the queue they were given in (a `review_queues` row and its
`queue_items`, ingest/migrations/m006_evaluations.py) is not part of a log, so `reviewdeck demo`
writes it from the truths sidecar once the log is loaded. Items are the sampled events in event
time; those whose labels are not due yet (after the end of the data) are the queue's open items.

Idempotent: run again, it adds only missing items. It writes no feedback, so the derived tables
need no refresh.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest.db import connect
from ingest.errors import WarehouseError

CREATED_BY = "reviewdeck demo (simulated reviewers)"
INSTRUCTIONS = (
    "Demo data: the labels here were given by simulated reviewers, not people. Rubric: does the "
    "answer resolve the customer's issue? Pass or fail; tag the failure."
)


def ensure_demo_queue(db: Path | str, truths: dict[str, Any]) -> int:
    """Create (or complete) the demo's review queue; returns the number of items added."""
    review = truths["review"]
    q = review["queue"]
    qid = int(q["queue_id"])
    items = review["items"]
    source = {
        "where": "status=ok",
        "label": f"judged events ({q['rubric']}), random sample",
        "sample": q["sample"],
        "simulated": True,
    }
    created = datetime.fromisoformat(truths["start"].replace("Z", "+00:00"))
    with connect(db) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            found = con.execute(
                "SELECT name FROM review_queues WHERE queue_id = ?", [qid]
            ).fetchall()
            if found and found[0][0] != q["name"]:
                raise WarehouseError(
                    f"{db}: review queue {qid} is {found[0][0]!r}, not the demo's queue; "
                    "use a warehouse of its own for the demo (reviewdeck demo --db NEW.duckdb)"
                )
            if not found:
                _claim_id(con, qid)
                con.execute(
                    "INSERT INTO review_queues (queue_id, name, created_at, created_by,"
                    " source_kind, source, rubric, rubric_kind, failure_tags, instructions,"
                    " n_requested, reviewers_per_item, seed)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                    [qid, q["name"], created, CREATED_BY, q["source_kind"], json.dumps(source),
                     q["rubric"], q["rubric_kind"], q["failure_tags"], INSTRUCTIONS,
                     len(items), truths["seed"]],
                )  # fmt: skip
            before = con.execute(
                "SELECT count(*) FROM queue_items WHERE queue_id = ?", [qid]
            ).fetchall()[0][0]
            if items:
                con.execute(
                    "INSERT INTO queue_items (queue_id, position, event_id, reviewers_needed)"
                    " SELECT ?, p, e, r FROM (SELECT unnest(?::INTEGER[]) AS p,"
                    " unnest(?::VARCHAR[]) AS e, unnest(?::INTEGER[]) AS r) new"
                    " WHERE NOT EXISTS (SELECT 1 FROM queue_items i"
                    "                   WHERE i.queue_id = ? AND i.event_id = new.e)",
                    [qid, list(range(1, len(items) + 1)), [i[0] for i in items],
                     [int(i[1]) for i in items], qid],
                )  # fmt: skip
            after = con.execute(
                "SELECT count(*) FROM queue_items WHERE queue_id = ?", [qid]
            ).fetchall()[0][0]
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return int(after - before)


def _claim_id(con, qid: int) -> None:
    """Move the queue id sequence past `qid`, so queues made later never collide with it."""
    last = con.execute(
        "SELECT last_value FROM duckdb_sequences() WHERE sequence_name = 'review_queues_seq'"
    ).fetchall()[0][0]
    while last is None or last < qid:
        last = con.execute("SELECT nextval('review_queues_seq')").fetchall()[0][0]
