"""Storage of reruns, verdicts, corrections, batches and judgements: the one module with SQL.

A rerun is a new `events` row (environment 'playground', source_format 'playground', rerun_of =
the original event_id) so every view sees it; a reviewer's verdict is a `feedback` row on the
rerun (source 'reviewer', name 'verdict', kind 'label'); a correction is correction feedback on
the original. Batches, their items and the judge's verdicts live in the m003 tables.

Every function takes an open connection; callers open it (ingest.db.connect) only for the
write itself, never while a model is being called. No key or endpoint secret is ever passed in.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import duckdb

from ingest.errors import ReviewdeckError
from ingest.load import derived

VERDICTS = {"better": 1.0, "same": 0.5, "worse": 0.0}
PREFERRED = ("original", "rerun", "tie", "unreadable")

# Each rerun's latest reviewer verdict (a reviewer may change their mind): one row per event.
LATEST_VERDICT_SQL = (
    "SELECT event_id, arg_max(label, coalesce(ts, ingested_at)) AS verdict"
    " FROM feedback WHERE name = 'verdict' GROUP BY event_id"
)


class EventNotFound(ReviewdeckError):
    """The event to rerun is not in the warehouse."""


@dataclass(frozen=True)
class Original:
    event_id: str
    trace_id: str | None
    name: str | None
    provider: str | None
    model: str | None
    model_requested: str | None
    prompt_name: str | None
    prompt_version: str | None
    messages: list[dict[str, Any]]
    output_text: str | None
    params: dict[str, Any]
    tokens_in: int | None
    tokens_out: int | None
    cost_usd: float | None
    latency_ms: float | None
    status: str
    error_type: str | None
    tags: tuple[str, ...]
    environment: str | None
    rerun_of: str | None


@dataclass(frozen=True)
class RerunRow:
    """Everything a rerun event row holds, built by models/rerun/runner.py from a call's result."""
    event_id: str
    original: Original
    model_requested: str
    model: str | None
    provider: str | None
    messages: list[dict[str, Any]]
    params: dict[str, Any]
    output_text: str
    tokens_in: int | None
    tokens_out: int | None
    tokens_cache_read: int | None
    tokens_reasoning: int | None
    cost_usd: float | None
    latency_ms: float | None
    ttft_ms: float | None
    status: str
    error_type: str | None
    error_message: str | None
    ts: dt.datetime
    extra: dict[str, Any]  # endpoint name (never its key), batch id, adaptations, sample index


def new_rerun_id() -> str:
    return f"rerun-{uuid.uuid4().hex[:20]}"


def _json(value: Any) -> Any:
    if value is None:
        return None
    return value if not isinstance(value, str) else json.loads(value)


_ORIGINAL_COLS = ("event_id, trace_id, name, provider, model, model_requested, prompt_name, "
                  "prompt_version, input_messages, output_text, params, tokens_in, tokens_out, "
                  "cost_usd, latency_ms, status, error_type, tags, environment, rerun_of")


def _original(row: tuple) -> Original:
    (event_id, trace_id, name, provider, model, model_requested, prompt_name, prompt_version,
     messages, output_text, params, tokens_in, tokens_out, cost_usd, latency_ms, status,
     error_type, tags, environment, rerun_of) = row
    msgs = _json(messages) or []
    return Original(event_id, trace_id, name, provider, model, model_requested, prompt_name,
                    prompt_version, msgs if isinstance(msgs, list) else [], output_text,
                    _json(params) or {}, tokens_in, tokens_out, cost_usd, latency_ms, status,
                    error_type, tuple(tags or ()), environment, rerun_of)


def load_event(con: duckdb.DuckDBPyConnection, event_id: str) -> Original:
    row = con.execute(
        f"SELECT {_ORIGINAL_COLS} FROM events WHERE event_id = ? LIMIT 1", [event_id]
    ).fetchone()
    if row is None:
        raise EventNotFound(f"no event {event_id!r} in the warehouse; pick one in the Events "
                            "page or check the id")
    return _original(row)


def load_events(con: duckdb.DuckDBPyConnection, event_ids: list[str]) -> dict[str, Original]:
    if not event_ids:
        return {}
    rows = con.execute(
        f"SELECT {_ORIGINAL_COLS} FROM events WHERE event_id IN (SELECT unnest(?::VARCHAR[]))",
        [event_ids],
    ).fetchall()
    return {r[0]: _original(r) for r in rows}


def _last_user_text(messages: list[dict[str, Any]]) -> str | None:
    for m in reversed(messages):
        if m.get("role") == "user":
            content = m.get("content")
            if isinstance(content, list):
                return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return None if content is None else str(content)
    return None


# A rerun event row's columns, with the type of the list each is sent as. Rows go in as one
# list per column, unnested in one INSERT ... SELECT: one statement binds a few dozen lists
# instead of rows x columns parameters (DuckDB binds a wide multi-row VALUES slowly: 30 rows
# took 20-40 ms that way, 5-8 ms this way), which is most of a batch writer's transaction.
_RERUN_COLUMNS = (
    ("event_id", "VARCHAR"), ("trace_id", "VARCHAR"), ("ts", "TIMESTAMPTZ"),
    ("ts_end", "TIMESTAMPTZ"), ("name", "VARCHAR"), ("provider", "VARCHAR"),
    ("model", "VARCHAR"), ("model_requested", "VARCHAR"), ("prompt_name", "VARCHAR"),
    ("prompt_version", "VARCHAR"), ("input_messages", "JSON"), ("output_messages", "JSON"),
    ("input_text", "VARCHAR"), ("output_text", "VARCHAR"), ("params", "JSON"),
    ("tokens_in", "BIGINT"), ("tokens_out", "BIGINT"), ("tokens_cache_read", "BIGINT"),
    ("tokens_reasoning", "BIGINT"), ("cost_usd", "DOUBLE"), ("cost_source", "VARCHAR"),
    ("latency_ms", "DOUBLE"), ("ttft_ms", "DOUBLE"), ("status", "VARCHAR"),
    ("error_type", "VARCHAR"), ("error_message", "VARCHAR"), ("tags", "VARCHAR[]"),
    ("rerun_of", "VARCHAR"), ("raw", "JSON"),
)


def _unnest(i: int, sql_type: str) -> str:
    """The i-th parameter (a list) unnested as a column of `sql_type` (JSON arrives as text)."""
    if sql_type == "JSON":
        return f"unnest(${i}::VARCHAR[])::JSON"
    return f"unnest(${i}::{sql_type}[])"


_RERUN_INSERT = (
    "INSERT INTO events (" + ", ".join(c for c, _ in _RERUN_COLUMNS)
    + ", parent_id, kind, user_id, session_id, environment, source_format) SELECT "
    + ", ".join(_unnest(i, t) for i, (_, t) in enumerate(_RERUN_COLUMNS, start=1))
    + ", NULL, 'llm', NULL, NULL, 'playground', 'playground'"
)


def _columns(rows: list[list[Any]]) -> list[list[Any]]:
    return [list(col) for col in zip(*rows, strict=True)]


def _rerun_params(row: RerunRow) -> list[Any]:
    o = row.original
    output_messages = ([{"role": "assistant", "content": row.output_text}]
                       if row.status == "ok" else [])
    tags = list(dict.fromkeys([*o.tags, "rerun"]))
    return [
        row.event_id, row.event_id, row.ts,
        row.ts + dt.timedelta(milliseconds=row.latency_ms or 0), o.name, row.provider,
        row.model or row.model_requested, row.model_requested, o.prompt_name,
        o.prompt_version, json.dumps(row.messages), json.dumps(output_messages),
        _last_user_text(row.messages), row.output_text if row.status == "ok" else None,
        json.dumps(row.params), row.tokens_in, row.tokens_out, row.tokens_cache_read,
        row.tokens_reasoning, row.cost_usd,
        "computed" if row.cost_usd is not None else None, row.latency_ms, row.ttft_ms,
        row.status, row.error_type, row.error_message, tags, o.event_id,
        json.dumps(row.extra, default=str),
    ]


def insert_reruns(con: duckdb.DuckDBPyConnection, rows: list[RerunRow]) -> None:
    """Rerun events, in one INSERT (a list per column, see _RERUN_COLUMNS)."""
    if rows:
        con.execute(_RERUN_INSERT, _columns([_rerun_params(row) for row in rows]))


def insert_rerun(con: duckdb.DuckDBPyConnection, row: RerunRow) -> None:
    insert_reruns(con, [row])


def _feedback_id(*parts: object) -> str:
    return "fb-" + hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:24]


def record_verdict(con: duckdb.DuckDBPyConnection, rerun_event_id: str, verdict: str,
                   note: str | None = None, author: str | None = None,
                   now: dt.datetime | None = None) -> str:
    """A reviewer's better/same/worse on a rerun (relative to its original)."""
    if verdict not in VERDICTS:
        raise ReviewdeckError(f"verdict {verdict!r}; use one of {', '.join(VERDICTS)}")
    exists = con.execute("SELECT rerun_of FROM events WHERE event_id = ?",
                         [rerun_event_id]).fetchone()
    if exists is None or exists[0] is None:
        raise EventNotFound(f"{rerun_event_id!r} is not a rerun; verdicts go on rerun events")
    ts = now or dt.datetime.now(dt.UTC)
    fid = _feedback_id("verdict", rerun_event_id, author, ts.isoformat())
    con.execute(
        "INSERT INTO feedback (feedback_id, event_id, name, kind, value, label, source, comment,"
        " author, ts, source_format) VALUES (?, ?, 'verdict', 'label', ?, ?, 'reviewer', ?, ?,"
        " ?, 'playground')",
        [fid, rerun_event_id, VERDICTS[verdict], verdict, note or None, author, ts],
    )
    derived.refresh(con)  # trend_facts stays in step with every feedback writer
    return fid


def changed_share(before: str, after: str) -> float:
    """Share of the text that changed (0 = identical, 1 = all new), as `edited` uses."""
    return round(1.0 - difflib.SequenceMatcher(None, before or "", after or "").ratio(), 4)


def record_correction(con: duckdb.DuckDBPyConnection, event_id: str, corrected: str,
                      author: str | None = None, note: str | None = None,
                      now: dt.datetime | None = None) -> str:
    """A reviewer's corrected output, stored on the original event."""
    original = load_event(con, event_id)
    ts = now or dt.datetime.now(dt.UTC)
    fid = _feedback_id("correction", event_id, author, ts.isoformat())
    con.execute(
        "INSERT INTO feedback (feedback_id, event_id, trace_id, name, kind, value, source,"
        " comment, correction, author, ts, source_format) VALUES (?, ?, ?, 'correction',"
        " 'correction', ?, 'reviewer', ?, ?, ?, ?, 'playground')",
        [fid, event_id, original.trace_id, changed_share(original.output_text or "", corrected),
         note or None, corrected, author, ts],
    )
    derived.refresh(con)
    return fid


# -- batches ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Batch:
    batch_id: str
    where_text: str
    model: str
    endpoint: str | None
    params: dict[str, Any]
    sample_n: int | None
    seed: int
    max_cost_usd: float | None
    estimate_usd: float | None
    spent_usd: float
    judge_model: str | None
    rubric: str | None
    status: str
    n_items: int


_BATCH_COLS = ("batch_id, where_text, model, endpoint, params, sample_n, seed, max_cost_usd, "
               "estimate_usd, spent_usd, judge_model, rubric, status, n_items")


def get_batch(con: duckdb.DuckDBPyConnection, batch_id: str) -> Batch | None:
    row = con.execute(f"SELECT {_BATCH_COLS} FROM rerun_batches WHERE batch_id = ?",
                      [batch_id]).fetchone()
    if row is None:
        return None
    values = list(row)
    values[4] = _json(values[4]) or {}
    return Batch(*values)


def create_batch(con: duckdb.DuckDBPyConnection, batch: Batch, event_ids: list[str]) -> None:
    """The batch and one pending item per event, in one transaction (the sample is fixed here)."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"INSERT INTO rerun_batches ({_BATCH_COLS}, updated_at) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
            [batch.batch_id, batch.where_text, batch.model, batch.endpoint,
             json.dumps(batch.params), batch.sample_n, batch.seed, batch.max_cost_usd,
             batch.estimate_usd, batch.spent_usd, batch.judge_model, batch.rubric,
             batch.status, len(event_ids)],
        )
        con.execute(
            "INSERT INTO rerun_items (batch_id, event_id) SELECT ?, unnest(?::VARCHAR[])",
            [batch.batch_id, event_ids],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def pending_items(con: duckdb.DuckDBPyConnection, batch_id: str) -> list[str]:
    """Items not finished yet (never tried, or failed after all retries), in a stable order."""
    rows = con.execute(
        "SELECT event_id FROM rerun_items WHERE batch_id = ? AND status IN ('pending', 'failed')"
        " ORDER BY event_id", [batch_id]).fetchall()
    return [r[0] for r in rows]


def unjudged_items(con: duckdb.DuckDBPyConnection, batch_id: str) -> dict[str, tuple[str, str]]:
    """Done items of a judged batch whose pair was never judged ({original: (rerun event id,
    its output text)}): an interrupted batch finishes the reruns in flight but does not start
    their judgements, so a resume does."""
    rows = con.execute(
        """
        SELECT i.event_id, i.rerun_event_id, coalesce(e.output_text, '')
        FROM rerun_items i
        JOIN rerun_batches b ON b.batch_id = i.batch_id
        JOIN events e ON e.event_id = i.rerun_event_id
        WHERE i.batch_id = ? AND i.status = 'done' AND b.judge_model IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM rerun_judgements j
                          WHERE j.batch_id = i.batch_id AND j.rerun_event_id = i.rerun_event_id)
        ORDER BY i.event_id
        """,
        [batch_id],
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def _add_judgements(con: duckdb.DuckDBPyConnection, batch_id: str, event_id: str,
                    judgements: tuple[Judgement, ...], judge_cost_usd: float) -> float:
    """The judgements of an item already done, with their cost; returns the money added."""
    for j in judgements:
        insert_judgement(con, batch_id, j)
    con.execute(
        "UPDATE rerun_items SET judge_cost_usd = coalesce(judge_cost_usd, 0) + ?"
        " WHERE batch_id = ? AND event_id = ?", [judge_cost_usd, batch_id, event_id])
    return judge_cost_usd or 0.0


def set_batch(con: duckdb.DuckDBPyConnection, batch_id: str, *, status: str | None = None,
              add_spent: float = 0.0, max_cost_usd: float | None = None,
              judge_model: str | None = None, rubric: str | None = None) -> None:
    con.execute(
        "UPDATE rerun_batches SET status = coalesce(?, status), spent_usd = spent_usd + ?,"
        " max_cost_usd = coalesce(?, max_cost_usd), judge_model = coalesce(?, judge_model),"
        " rubric = coalesce(?, rubric), updated_at = now() WHERE batch_id = ?",
        [status, add_spent, max_cost_usd, judge_model, rubric, batch_id],
    )


@dataclass(frozen=True)
class Judgement:
    event_id: str
    rerun_event_id: str
    judge_model: str
    rerun_first: bool
    preferred: str  # 'original' | 'rerun' | 'tie' | 'unreadable' (no usable reply)
    rationale: str
    cost_usd: float | None


def _finish_rows(con: duckdb.DuckDBPyConnection, batch_id: str, items: list[Finished]) -> float:
    """Finished items' rows — rerun events, judgements, item status — set-based; returns the
    money spent."""
    insert_reruns(con, [it.rerun for it in items if it.rerun is not None])
    insert_judgements(con, batch_id, [j for it in items for j in it.judgements])
    if items:
        con.execute(
            "UPDATE rerun_items AS i SET status = v.status, attempts = i.attempts + v.attempts,"
            " error_type = v.error_type, rerun_event_id = coalesce(v.rerun_event_id,"
            " i.rerun_event_id), cost_usd = v.cost_usd, judge_cost_usd = v.judge_cost_usd,"
            " finished_at = now() FROM (SELECT "
            + ", ".join(f"{_unnest(i, t)} AS {c}" for i, (c, t) in enumerate(_ITEM_COLUMNS, 1))
            + f") AS v WHERE i.batch_id = ${len(_ITEM_COLUMNS) + 1} AND i.event_id = v.event_id",
            [*_columns([[it.event_id, it.status, it.attempts, it.error_type,
                         it.rerun.event_id if it.rerun else None, it.cost_usd,
                         it.judge_cost_usd] for it in items]), batch_id],
        )
    return sum(it.cost_usd + it.judge_cost_usd for it in items)


_ITEM_COLUMNS = (("event_id", "VARCHAR"), ("status", "VARCHAR"), ("attempts", "INTEGER"),
                 ("error_type", "VARCHAR"), ("rerun_event_id", "VARCHAR"),
                 ("cost_usd", "DOUBLE"), ("judge_cost_usd", "DOUBLE"))


@dataclass(frozen=True)
class Finished:
    """One item's results to record: a rerun (status done/error/failed) or, with status
    'judged', only the judgements of an item an earlier run left unjudged."""
    event_id: str
    status: str  # 'done' | 'error' | 'failed' | 'judged'
    attempts: int = 0
    error_type: str | None = None
    rerun: RerunRow | None = None
    judgements: tuple[Judgement, ...] = ()
    cost_usd: float = 0.0
    judge_cost_usd: float = 0.0


def finish_items(con: duckdb.DuckDBPyConnection, batch_id: str,
                 items: list[Finished], *, status: str | None = None) -> None:
    """Record finished items — rerun events, judgements, item status, money spent — and bring
    trend_facts up to date, in one transaction.

    All or nothing, so an interruption never leaves a rerun without its item marked done (or
    the reverse) and derived tables never lag the events; one transaction and one refresh for
    every item finished since the last write, because the refresh costs the same for one item
    as for fifty and the batch's writer would otherwise spend longer than the calls. `status`,
    if given, is the batch's final status, set in the same transaction.
    """
    if not items and status is None:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        spent = _finish_rows(con, batch_id, [it for it in items if it.status != "judged"])
        for it in items:
            if it.status == "judged":
                spent += _add_judgements(con, batch_id, it.event_id, it.judgements,
                                         it.judge_cost_usd)
        if spent or status is not None:
            set_batch(con, batch_id, add_spent=spent, status=status)
        if any(it.rerun is not None for it in items):
            derived.refresh(con)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def finish_item(con: duckdb.DuckDBPyConnection, batch_id: str, event_id: str, *,
                status: str, attempts: int, error_type: str | None = None,
                rerun: RerunRow | None = None, judgements: tuple[Judgement, ...] = (),
                cost_usd: float | None = None, judge_cost_usd: float | None = None) -> None:
    """Record one finished item in one transaction (finish_items for several)."""
    finish_items(con, batch_id, [Finished(event_id, status, attempts, error_type, rerun,
                                          judgements, cost_usd or 0.0, judge_cost_usd or 0.0)])


def insert_judgement(con: duckdb.DuckDBPyConnection, batch_id: str | None, j: Judgement) -> None:
    insert_judgements(con, batch_id, [j])


def insert_judgements(con: duckdb.DuckDBPyConnection, batch_id: str | None,
                      judgements: list[Judgement]) -> None:
    for j in judgements:
        if j.preferred not in PREFERRED:
            raise ValueError(f"preferred={j.preferred!r}")
    if judgements:
        con.execute(
            "INSERT INTO rerun_judgements (batch_id, event_id, rerun_event_id, judge_model,"
            " rerun_first, preferred, rationale, cost_usd) SELECT "
            + ", ".join(_unnest(i, t) for i, (_, t) in enumerate(_JUDGEMENT_COLUMNS, 1)),
            _columns([[batch_id, j.event_id, j.rerun_event_id, j.judge_model, j.rerun_first,
                       j.preferred, j.rationale, j.cost_usd] for j in judgements]),
        )


_JUDGEMENT_COLUMNS = (("batch_id", "VARCHAR"), ("event_id", "VARCHAR"),
                      ("rerun_event_id", "VARCHAR"), ("judge_model", "VARCHAR"),
                      ("rerun_first", "BOOLEAN"), ("preferred", "VARCHAR"),
                      ("rationale", "VARCHAR"), ("cost_usd", "DOUBLE"))
