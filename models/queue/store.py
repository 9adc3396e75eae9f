"""Storage of review queues, their items, skips and labels: the one module of the queue with SQL.

A label is a `feedback` row: source 'reviewer', name = the queue's rubric (an evaluator's name,
so the judge can be compared with the humans), kind 'label', author, queue_id, tags = failure
tags, comment = the note. Pass/fail is value 1.0 / 0.0 with label 'pass' / 'fail'; a label
rubric's choice is the label, value NULL. A corrected answer is a second row (name and kind
'correction', value = edit size, the share of characters changed, as the playground stores it).
Feedback ids are a hash of queue, event, author and name: labelling again (or importing the same
CSV twice) replaces the row instead of adding one.

Every function takes an open connection; writers call `derived.refresh` in the same
transaction so the trends page counts the label at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import duckdb
import polars as pl

from ingest.errors import ReviewdeckError
from ingest.load import derived
from models.queue.sample import Drawn
from models.queue.sources import QueueSource
from models.rerun.store import changed_share

RUBRIC_KINDS = ("pass_fail", "labels")
PASS_FAIL = {"pass": 1.0, "fail": 0.0}
DEFAULT_FAILURE_TAGS = (
    "hallucination",
    "refusal",
    "wrong tool",
    "formatting",
    "incomplete",
    "off-topic",
)
RESERVED_RUBRICS = ("correction", "verdict", "thumbs")


class QueueError(ReviewdeckError):
    """A queue, item or label that is not there or not allowed."""


@dataclass(frozen=True)
class Queue:
    queue_id: int
    name: str
    created_at: dt.datetime
    created_by: str | None
    source: QueueSource
    rubric: str
    rubric_kind: str
    labels: tuple[str, ...]
    failure_tags: tuple[str, ...]
    instructions: str | None
    n_requested: int | None
    stratify_by: str | None
    reviewers_per_item: int
    seed: int | None

    @property
    def choices(self) -> tuple[str, ...]:
        """What a reviewer may answer: pass/fail, or the rubric's labels."""
        return tuple(PASS_FAIL) if self.rubric_kind == "pass_fail" else self.labels


@dataclass(frozen=True)
class Progress:
    items: int
    done: int  # items with as many reviewers as they need
    labels: int  # label rows in the queue
    mine: int
    others: int
    skipped_by_me: int
    left_for_me: int  # items I may still label


def feedback_id(queue_id: int, event_id: str, author: str, name: str) -> str:
    key = "\x1f".join(("queue", str(queue_id), event_id, author, name))
    return "fb-q-" + hashlib.sha256(key.encode()).hexdigest()[:24]


_QUEUE_COLS = (
    "queue_id, name, created_at, created_by, source_kind, source, rubric, rubric_kind, labels,"
    " failure_tags, instructions, n_requested, stratify_by, reviewers_per_item, seed"
)


def _queue(row: tuple) -> Queue:
    (qid, name, created, by, kind, source, rubric, rkind, labels, tags, instr, n, strat, rpi,
     seed) = row
    return Queue(qid, name, created, by, QueueSource.from_json(kind, source), rubric, rkind,
                 tuple(labels or ()), tuple(tags or ()), instr, n, strat, rpi, seed)


def insert_queue(
    con: duckdb.DuckDBPyConnection,
    *,
    name: str,
    source: QueueSource,
    rubric: str,
    rubric_kind: str,
    labels: tuple[str, ...],
    failure_tags: tuple[str, ...],
    instructions: str | None,
    n_requested: int,
    stratify_by: str | None,
    reviewers_per_item: int,
    seed: int,
    created_by: str | None,
    items: list[Drawn],
) -> int:
    """The queue and its items, in the caller's transaction; returns the queue id."""
    qid = con.execute(
        "INSERT INTO review_queues (name, created_by, source_kind, source, rubric, rubric_kind,"
        " labels, failure_tags, instructions, n_requested, stratify_by, reviewers_per_item, seed)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING queue_id",
        [name, created_by, source.kind, source.to_json(), rubric, rubric_kind, list(labels),
         list(failure_tags), instructions, n_requested, stratify_by, reviewers_per_item, seed],
    ).fetchall()[0][0]
    if items:
        con.execute(
            "INSERT INTO queue_items (queue_id, position, event_id, stratum, reviewers_needed)"
            " SELECT ?, p, e, s, ? FROM (SELECT unnest(?::INTEGER[]) AS p,"
            " unnest(?::VARCHAR[]) AS e, unnest(?::VARCHAR[]) AS s)",
            [qid, reviewers_per_item, list(range(1, len(items) + 1)),
             [i.event_id for i in items], [i.stratum for i in items]],
        )
    return int(qid)


def get_queue(con: duckdb.DuckDBPyConnection, queue_id: int) -> Queue:
    row = con.execute(
        f"SELECT {_QUEUE_COLS} FROM review_queues WHERE queue_id = ?", [queue_id]
    ).fetchall()
    if not row:
        raise QueueError(f"no review queue {queue_id}; `reviewdeck queue list` shows them")
    return _queue(row[0])


def list_queues(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every queue with its progress counts, newest first."""
    return con.sql(
        """
        WITH lab AS (
            SELECT f.queue_id, f.event_id, count(DISTINCT f.author) AS n
            FROM feedback f JOIN review_queues q
              ON q.queue_id = f.queue_id AND f.name = q.rubric
            WHERE f.source = 'reviewer' AND f.kind = 'label'
            GROUP BY ALL
        )
        SELECT q.queue_id, q.name, q.source_kind, q.rubric, q.rubric_kind, q.stratify_by,
               q.reviewers_per_item, q.created_at, q.created_by,
               count(i.event_id) AS items,
               count(i.event_id) FILTER (WHERE coalesce(lab.n, 0) >= i.reviewers_needed) AS done,
               coalesce(sum(lab.n), 0)::BIGINT AS labels
        FROM review_queues q
        LEFT JOIN queue_items i ON i.queue_id = q.queue_id
        LEFT JOIN lab ON lab.queue_id = i.queue_id AND lab.event_id = i.event_id
        GROUP BY ALL
        ORDER BY q.queue_id DESC
        """
    ).pl()


def items(con: duckdb.DuckDBPyConnection, queue_id: int) -> pl.DataFrame:
    return con.sql(
        "SELECT position, event_id, stratum, reviewers_needed FROM queue_items"
        " WHERE queue_id = ? ORDER BY position",
        params=[queue_id],
    ).pl()


_LABELS = (
    "SELECT f.event_id, f.author FROM feedback f WHERE f.queue_id = $q AND f.name = $rubric"
    " AND f.source = 'reviewer' AND f.kind = 'label'"
)


def next_item(con: duckdb.DuckDBPyConnection, queue: Queue, author: str) -> str | None:
    """The first item (by position) this reviewer has neither labelled nor skipped and that
    still needs a reviewer; None when there is none left for them.

    Items someone else has started come first among those, so a second reviewer completes the
    pairs a double-review queue needs before opening new ones.
    """
    row = con.execute(
        f"""
        WITH lab AS ({_LABELS})
        SELECT i.event_id FROM queue_items i
        WHERE i.queue_id = $q
          AND i.event_id NOT IN (SELECT event_id FROM lab WHERE author = $a)
          AND i.event_id NOT IN (SELECT event_id FROM queue_skips WHERE queue_id = $q
                                 AND author = $a)
          AND (SELECT count(DISTINCT author) FROM lab WHERE lab.event_id = i.event_id)
              < i.reviewers_needed
        ORDER BY (SELECT count(*) FROM lab WHERE lab.event_id = i.event_id) = 0, i.position
        LIMIT 1
        """,
        {"q": queue.queue_id, "rubric": queue.rubric, "a": author},
    ).fetchall()
    return row[0][0] if row else None


def progress(con: duckdb.DuckDBPyConnection, queue: Queue, author: str | None) -> Progress:
    row = con.execute(
        f"""
        WITH lab AS ({_LABELS}),
        per AS (
            SELECT i.event_id, i.reviewers_needed,
                   (SELECT count(DISTINCT author) FROM lab WHERE lab.event_id = i.event_id) AS n,
                   i.event_id IN (SELECT event_id FROM lab WHERE author = $a) AS mine,
                   i.event_id IN (SELECT event_id FROM queue_skips
                                  WHERE queue_id = $q AND author = $a) AS skipped
            FROM queue_items i WHERE i.queue_id = $q
        )
        SELECT count(*), count(*) FILTER (WHERE n >= reviewers_needed),
               coalesce(sum(n), 0), count(*) FILTER (WHERE mine),
               coalesce(sum(n), 0) - count(*) FILTER (WHERE mine),
               count(*) FILTER (WHERE skipped AND NOT mine),
               count(*) FILTER (WHERE NOT mine AND NOT skipped AND n < reviewers_needed)
        FROM per
        """,
        {"q": queue.queue_id, "rubric": queue.rubric, "a": author or ""},
    ).fetchall()
    return Progress(*(int(v) for v in row[0]))


def check_label(queue: Queue, answer: str, tags: tuple[str, ...]) -> None:
    if answer not in queue.choices:
        raise QueueError(f"answer {answer!r}; this queue takes {', '.join(queue.choices)}")
    unknown = [t for t in tags if t not in queue.failure_tags]
    if unknown:
        raise QueueError(
            f"failure tag {', '.join(map(repr, unknown))} is not in this queue's list "
            f"({', '.join(queue.failure_tags) or 'none'})"
        )


def _is_correction(correction: str | None, output: str | None) -> bool:
    text = (correction or "").strip()
    return bool(text) and text != (output or "").strip()


def _delete_ids(con: duckdb.DuckDBPyConnection, ids: list[str]) -> None:
    con.execute("DELETE FROM feedback WHERE feedback_id IN (SELECT unnest(?::VARCHAR[]))", [ids])


def write_label(
    con: duckdb.DuckDBPyConnection,
    queue: Queue,
    event_id: str,
    author: str,
    answer: str,
    *,
    tags: tuple[str, ...] = (),
    note: str | None = None,
    correction: str | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Write one reviewer's label (and correction) on one item; no refresh (see record_label)."""
    author = (author or "").strip()
    if not author:
        raise QueueError("a label needs the reviewer's name (author)")
    check_label(queue, answer, tags)
    event = con.execute(
        "SELECT e.trace_id, e.output_text FROM queue_items i JOIN events e USING (event_id)"
        " WHERE i.queue_id = ? AND i.event_id = ?",
        [queue.queue_id, event_id],
    ).fetchall()
    if not event:
        raise QueueError(f"event {event_id!r} is not an item of queue {queue.queue_id}")
    trace_id, output = event[0]
    ts = now or dt.datetime.now(dt.UTC)
    fid = feedback_id(queue.queue_id, event_id, author, queue.rubric)
    cid = feedback_id(queue.queue_id, event_id, author, "correction")
    value = PASS_FAIL.get(answer) if queue.rubric_kind == "pass_fail" else None
    _delete_ids(con, [fid, cid])
    con.execute(
        "INSERT INTO feedback (feedback_id, event_id, trace_id, name, kind, value, label, source,"
        " comment, author, ts, source_format, queue_id, tags) VALUES (?, ?, ?, ?, 'label', ?, ?,"
        " 'reviewer', ?, ?, ?, 'review_queue', ?, ?)",
        [fid, event_id, trace_id, queue.rubric, value, answer, (note or "").strip() or None,
         author, ts, queue.queue_id, list(tags)],
    )
    if _is_correction(correction, output):
        con.execute(
            "INSERT INTO feedback (feedback_id, event_id, trace_id, name, kind, value, source,"
            " correction, author, ts, source_format, queue_id) VALUES (?, ?, ?, 'correction',"
            " 'correction', ?, 'reviewer', ?, ?, ?, 'review_queue', ?)",
            [cid, event_id, trace_id, changed_share(output or "", correction), correction,
             author, ts, queue.queue_id],
        )
    # Labelling an item settles an earlier skip of it by the same reviewer.
    con.execute(
        "DELETE FROM queue_skips WHERE queue_id = ? AND event_id = ? AND author = ?",
        [queue.queue_id, event_id, author],
    )
    return fid


def record_label(
    con: duckdb.DuckDBPyConnection,
    queue_id: int,
    event_id: str,
    author: str,
    answer: str,
    *,
    tags: tuple[str, ...] = (),
    note: str | None = None,
    correction: str | None = None,
) -> str:
    """One reviewer's answer on one item, in one transaction with the trend_facts refresh."""
    con.execute("BEGIN")
    try:
        queue = get_queue(con, queue_id)
        fid = write_label(con, queue, event_id, author, answer, tags=tags, note=note,
                          correction=correction)
        derived.refresh(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return fid


def record_skip(con: duckdb.DuckDBPyConnection, queue_id: int, event_id: str, author: str) -> None:
    """A skip is not a label: the item stays for others, and leaves this reviewer's queue."""
    author = (author or "").strip()
    if not author:
        raise QueueError("a skip needs the reviewer's name (author)")
    if con.execute(
        "SELECT count(*) FROM queue_items WHERE queue_id = ? AND event_id = ?", [queue_id, event_id]
    ).fetchall()[0][0] == 0:
        raise QueueError(f"event {event_id!r} is not an item of queue {queue_id}")
    con.execute(
        "INSERT INTO queue_skips (queue_id, event_id, author) SELECT ?, ?, ? WHERE NOT EXISTS"
        " (SELECT 1 FROM queue_skips WHERE queue_id = ? AND event_id = ? AND author = ?)",
        [queue_id, event_id, author, queue_id, event_id, author],
    )


def my_label(
    con: duckdb.DuckDBPyConnection, queue: Queue, event_id: str, author: str
) -> dict | None:
    row = con.execute(
        "SELECT label, tags, comment FROM feedback WHERE feedback_id = ?",
        [feedback_id(queue.queue_id, event_id, author, queue.rubric)],
    ).fetchall()
    if not row:
        return None
    return {"label": row[0][0], "tags": list(row[0][1] or []), "note": row[0][2]}


def is_unchanged(
    con: duckdb.DuckDBPyConnection, queue: Queue, event_id: str, author: str, answer: str,
    tags: tuple[str, ...], note: str | None, correction: str | None,
) -> bool:
    """True when this reviewer's stored label says exactly this already (an import of a file
    exported earlier rewrites nothing, so labelled_at stays the time it was given)."""
    mine = my_label(con, queue, event_id, author)
    if mine != {"label": answer, "tags": list(tags), "note": (note or "").strip() or None}:
        return False
    row = con.execute(
        "SELECT e.output_text, f.correction FROM events e LEFT JOIN feedback f"
        " ON f.feedback_id = ? WHERE e.event_id = ?",
        [feedback_id(queue.queue_id, event_id, author, "correction"), event_id],
    ).fetchall()
    output, stored = row[0] if row else (None, None)
    return (correction if _is_correction(correction, output) else None) == stored


def hidden_verdicts(
    con: duckdb.DuckDBPyConnection, queue: Queue, event_id: str, author: str
) -> pl.DataFrame:
    """What a blind reviewer must not see before answering: every evaluator's verdict on the
    event (the rubric's own first), and other reviewers' labels on it."""
    return con.sql(
        """
        SELECT f.source, f.name, f.label, f.value, f.evaluator_version, f.judge_model,
               f.author, f.comment AS reason, f.tags
        FROM feedback f
        WHERE f.event_id = $e
          AND (f.source IN ('llm_judge', 'code')
               OR (f.source = 'reviewer' AND f.kind = 'label' AND f.name = $rubric
                   AND coalesce(f.author, '') <> $a))
        ORDER BY f.name <> $rubric, f.source = 'reviewer', f.name, coalesce(f.ts, f.ingested_at)
        """,
        params={"e": event_id, "rubric": queue.rubric, "a": author},
    ).pl()


def labels_frame(con: duckdb.DuckDBPyConnection, queue: Queue) -> pl.DataFrame:
    """One row per item per reviewer (an item nobody has labelled: one row, no reviewer), with
    the correction and the text a spreadsheet reviewer needs; the CSV export's rows."""
    return con.sql(
        """
        WITH lab AS (
            SELECT event_id, author, label, tags, comment, ts FROM feedback
            WHERE queue_id = $q AND name = $rubric AND source = 'reviewer' AND kind = 'label'
        ),
        cor AS (
            SELECT event_id, author, correction FROM feedback
            WHERE queue_id = $q AND name = 'correction' AND source = 'reviewer'
        )
        SELECT i.position, i.event_id, i.stratum, lab.author AS reviewer, lab.label AS verdict,
               array_to_string(lab.tags, ';') AS tags, lab.comment AS note,
               cor.correction, lab.ts AS labelled_at, e.model, e.input_text AS input,
               e.output_text AS output
        FROM queue_items i
        JOIN events e ON e.event_id = i.event_id
        LEFT JOIN lab ON lab.event_id = i.event_id
        LEFT JOIN cor ON cor.event_id = i.event_id AND cor.author = lab.author
        WHERE i.queue_id = $q
        ORDER BY i.position, lab.author NULLS LAST
        """,
        params={"q": queue.queue_id, "rubric": queue.rubric},
    ).pl()
