"""Staging the rows a foreign reader produced (ingest/records.py) for the common merge.

Readers hand over Python rows; this turns them into the same staging tables the native path
fills, so dedup, rejects and the transaction are the loader's, whatever the format. It loops
over rows in Python: foreign readers are Python already, and a row that cannot be stored as its
column's type becomes a reject naming the column instead of failing the file.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from ingest import native
from ingest.records import ParsedFile

_JSON = {"input_messages", "output_messages", "params", "raw"}
_INT = {"tokens_in", "tokens_out", "tokens_cache_read", "tokens_reasoning"}
_FLOAT = {"cost_usd", "latency_ms", "ttft_ms", "value"}
_TS = {"ts", "ts_end"}

_EVENT_SCHEMA = pa.schema(
    [("line_no", pa.int64())]
    + [
        (c, pa.timestamp("us", tz="UTC") if c in _TS else pa.int64() if c in _INT
         else pa.float64() if c in _FLOAT else pa.list_(pa.string()) if c == "tags"
         else pa.string())
        for c in native.EVENT_COLUMNS
    ]
)  # fmt: skip
_FEEDBACK_SCHEMA = pa.schema(
    [("line_no", pa.int64()), ("pos", pa.int32())]
    + [
        (c, pa.timestamp("us", tz="UTC") if c == "ts" else pa.float64() if c in _FLOAT
         else pa.string())
        for c in native.FEEDBACK_COLUMNS
    ]
)  # fmt: skip


def _coerce(column: str, v: Any) -> Any:
    if v is None:
        return None
    if column in _JSON:
        return json.dumps(v, ensure_ascii=False, allow_nan=False, default=str)
    if column in _TS:
        if not isinstance(v, datetime):
            raise ValueError("expected a datetime")
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    if column in _INT:
        if isinstance(v, float) and not v.is_integer():
            raise ValueError("expected an integer")
        return int(v)
    if column in _FLOAT:
        x = float(v)
        if not math.isfinite(x):
            raise ValueError("expected a finite number")
        return x
    if column == "tags":
        return [str(t) for t in v]
    return v if isinstance(v, str) else str(v)


def _rows(
    records: list[dict[str, Any]], columns: tuple[str, ...], required: tuple[str, ...],
    defaults: dict[str, Any], rejects: list[tuple[int | None, str, str]],
) -> list[dict[str, Any]]:  # fmt: skip
    out = []
    for i, record in enumerate(records, start=1):
        line_no = record.get("line_no", i)
        row: dict[str, Any] = {"line_no": line_no, "pos": i}
        try:
            for c in columns:
                value = record.get(c)
                row[c] = _coerce(c, value if value is not None else defaults.get(c))
            missing = [c for c in required if row.get(c) in (None, "")]
            if missing:
                raise ValueError(f"missing {' and '.join(missing)}")
        except (TypeError, ValueError) as exc:
            where = f"{c}: " if "missing" not in str(exc) else ""
            text = json.dumps(record, default=str)[: native.REJECT_TEXT_CHARS]
            rejects.append((line_no, f"{where}{exc}", text))
            continue
        out.append(row)
    return out


def stage_parsed(stage: duckdb.DuckDBPyConnection, parsed: ParsedFile) -> None:
    rejects = [
        (r.line_no, r.reason, r.raw_text[: native.REJECT_TEXT_CHARS]) for r in parsed.rejects
    ]
    fmt = {"source_format": parsed.source_format}
    events = _rows(parsed.events, native.EVENT_COLUMNS, ("event_id", "ts"),
                   {"kind": "llm", "status": "ok", **fmt}, rejects)  # fmt: skip
    feedback = _rows(parsed.feedback, native.FEEDBACK_COLUMNS, ("name", "kind", "source"),
                     fmt, rejects)  # fmt: skip
    for table, rows, schema in (("s_events", events, _EVENT_SCHEMA),
                                ("s_feedback", feedback, _FEEDBACK_SCHEMA)):  # fmt: skip
        if not rows:
            continue
        arrow = pa.Table.from_pylist(rows, schema=schema)
        cols = ", ".join(schema.names)
        stage.register("_rd_rows", arrow)
        try:
            stage.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _rd_rows")
        finally:
            stage.unregister("_rd_rows")
    if feedback:
        # Feedback rows without an id get the same stable content id as native ones.
        args = ", ".join(native.FEEDBACK_ID_PARTS)
        stage.execute(
            f"UPDATE s_feedback SET feedback_id = rd_feedback_id({args}) WHERE feedback_id IS NULL"
        )
    if rejects:
        stage.executemany("INSERT INTO s_rejects VALUES (?, ?, ?)", [list(r) for r in rejects])
