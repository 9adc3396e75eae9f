"""Staging the rows a foreign reader produced (ingest/records.py) for the common merge.

Readers hand over Python rows; this turns them into the same staging tables the native path
fills, so dedup, rejects and the transaction are the loader's, whatever the format. It
builds each column in one pass (a list comprehension and one pa.array per column, no per-cell
function call); when any value is odd (a wrong type, a non-finite number, a missing required
key) the file goes through the row-by-row path instead, where a row that cannot be stored as
its column's type becomes a reject naming the column instead of failing the file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from ingest.formats import no_cyclic_gc
from ingest.load import native
from ingest.records import ParsedFile

if TYPE_CHECKING:  # only in annotations: a worker process reading OTLP never loads duckdb
    import duckdb

STAGE_BATCH_ROWS = 8192
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


class _Odd(Exception):
    """A value the column-wise path does not convert; the row-by-row path will say why."""


try:  # orjson writes the JSON columns (raw above all) ~2.5x faster than json
    import orjson

    def _dumps(v: Any) -> str:
        return orjson.dumps(v, default=str).decode()

except ImportError:  # pragma: no cover - orjson is a dependency
    _dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=str).encode


def _column(column: str, values: list[Any], typ: pa.DataType) -> pa.Array:
    """One column, converted as _coerce would, or _Odd when a value needs _coerce's checks."""
    if column in _JSON:
        try:
            return pa.array([None if v is None else _dumps(v) for v in values], typ)
        except (TypeError, ValueError) as exc:  # e.g. a key that is not a string
            raise _Odd from exc
    if column in _TS:
        if not all(v is None or isinstance(v, datetime) for v in values):
            raise _Odd
        return pa.array(
            [v if v is None or v.tzinfo else v.replace(tzinfo=UTC) for v in values], typ
        )
    if column == "tags":
        return pa.array([None if v is None else [str(t) for t in v] for v in values], typ)
    kinds = {type(v) for v in values}
    kinds.discard(type(None))
    if column in _INT:
        if not kinds <= {int}:
            raise _Odd
    elif column in _FLOAT:
        if not kinds <= {int, float}:
            raise _Odd
        arr = pa.array(values, typ)
        if (
            arr.null_count < len(arr)
            and not pa.compute.all(pa.compute.is_finite(arr.drop_null())).as_py()
        ):
            raise _Odd
        return arr
    elif not kinds <= {str}:
        raise _Odd
    return pa.array(values, typ)


def _table(
    records: list[dict[str, Any]], schema: pa.Schema, required: tuple[str, ...],
    defaults: dict[str, Any],
) -> pa.Table:  # fmt: skip
    """The records as an Arrow table, column by column; _Odd when any needs the row path."""
    arrays = [pa.array([r.get("line_no", i) for i, r in enumerate(records, 1)], pa.int64())]
    if "pos" in schema.names:
        arrays.append(pa.array(range(1, len(records) + 1), pa.int32()))
    fields = [f for f in schema if f.name not in ("line_no", "pos")]
    # One pass over the records (a tuple per record), then transposed: cheaper than one
    # r.get pass per column.
    names = [f.name for f in fields]
    columns = zip(*(tuple(map(r.get, names)) for r in records), strict=True)
    for f, values in zip(fields, columns, strict=True):
        values = list(values)
        d = defaults.get(f.name)
        if d is not None:
            values = [d if v is None else v for v in values]
        if f.name in required and any(v is None or v == "" for v in values):
            raise _Odd
        arrays.append(_column(f.name, values, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


@dataclass
class Staged:
    """A file's (or a slice's) rows as Arrow tables by staging table, and its rejects.

    Built without DuckDB, so worker processes can build it (ingest/load/parallel_read.py)."""

    tables: dict[str, pa.Table]
    rejects: list[tuple[int | None, str, str]]
    records: dict[str, int]  # rows per table, kept or rejected (they number the rows)
    records_read: int  # records of the source (lines, spans…), as ingested_files counts them
    source_format: str


def arrow_rows(parsed: ParsedFile) -> Staged:
    # The rows of a big file are millions of live objects: a cyclic collection triggered by
    # building the columns would rescan them all (measured: a third of the staging time at
    # 100k spans). Nothing here is cyclic; reference counting frees it.
    with no_cyclic_gc():
        return _arrow_rows(parsed)


def _arrow_rows(parsed: ParsedFile) -> Staged:
    rejects = [
        (r.line_no, r.reason, r.raw_text[: native.REJECT_TEXT_CHARS]) for r in parsed.rejects
    ]
    fmt = {"source_format": parsed.source_format}
    staged = {}
    counts = {"s_events": len(parsed.events), "s_feedback": len(parsed.feedback)}
    for table, records, schema, columns, required, defaults in (
        ("s_events", parsed.events, _EVENT_SCHEMA, native.EVENT_COLUMNS, ("event_id", "ts"),
         {"kind": "llm", "status": "ok", **fmt}),
        ("s_feedback", parsed.feedback, _FEEDBACK_SCHEMA, native.FEEDBACK_COLUMNS,
         ("name", "kind", "source"), fmt),
    ):  # fmt: skip
        if not records:
            continue
        try:
            staged[table] = _table(records, schema, required, defaults)
        except (_Odd, TypeError, ValueError, OverflowError, pa.ArrowException):
            rows = _rows(records, columns, required, defaults, rejects)
            if rows:
                staged[table] = pa.Table.from_pylist(rows, schema=schema)
    return Staged(staged, rejects, counts, parsed.records_read, parsed.source_format)


def combine(parts: list[Staged]) -> Staged:
    """The parts of one file as one table per staging table, in file order. Rows are numbered by
    position within a part (line_no, and pos for feedback), so later parts are shifted past the
    earlier ones: the numbers, and so dedup's "first wins", are those of reading the file in one
    piece. The tables come in record batches, which DuckDB scans on all its threads."""
    offsets = {"s_events": 0, "s_feedback": 0}
    pieces: dict[str, list[pa.Table]] = {}
    rejects: list[tuple[int | None, str, str]] = []
    for part in parts:
        for table, arrow in part.tables.items():
            shift = offsets[table]
            if shift:
                for name in ("line_no", "pos"):
                    if name in arrow.schema.names:
                        i = arrow.schema.get_field_index(name)
                        step = pa.scalar(shift, arrow.field(i).type)
                        arrow = arrow.set_column(
                            i, arrow.field(i), pa.compute.add(arrow.column(i), step)
                        )
            pieces.setdefault(table, []).append(arrow)
        for table, n in part.records.items():
            offsets[table] += n
        rejects += part.rejects
    tables = {
        table: pa.Table.from_batches(
            [b for t in arrows for b in t.to_batches(max_chunksize=STAGE_BATCH_ROWS)],
            schema=arrows[0].schema,
        )
        for table, arrows in pieces.items()
    }
    read = sum(p.records_read for p in parts)
    return Staged(tables, rejects, offsets, read, parts[0].source_format)


def insert_staged(stage: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    """Insert combined tables and rejects into the staging tables of the same names."""
    for table, arrow in staged.tables.items():
        cols = ", ".join(arrow.schema.names)
        stage.register("_rd_rows", arrow)
        try:
            stage.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _rd_rows")
        finally:
            stage.unregister("_rd_rows")
    if "s_feedback" in staged.tables:
        # Feedback rows without an id get the same stable content id as native ones.
        args = ", ".join(native.FEEDBACK_ID_PARTS)
        stage.execute(
            f"UPDATE s_feedback SET feedback_id = rd_feedback_id({args}) WHERE feedback_id IS NULL"
        )
    if staged.rejects:
        stage.executemany(
            "INSERT INTO s_rejects VALUES (?, ?, ?)", [list(r) for r in staged.rejects]
        )
