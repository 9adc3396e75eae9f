"""Rows of a tabular export file — Parquet, CSV or JSON Lines — as plain dicts, for the readers
of bulk exports (langsmith_bulk.py, langfuse_bulk.py).

Parquet cells come back as Python values (timestamps as datetimes); CSV cells as text, empty
cells as None; JSON Lines as parsed. Cells holding JSON text (`{…}` / `[…]`) are decoded with
`json_cell`, since exports write free-form fields that way. Below every reader but the common
helpers, so any of them may use it.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest.errors import InputError
from ingest.formats.jsondocs import decode_text, json_documents
from ingest.formats.messages import maybe_json
from ingest.records import ParsedFile

PARQUET_MAGIC = b"PAR1"


def parquet_columns(path: Path, head: bytes) -> list[str] | None:
    """Column names of a Parquet file from its footer (the head when it holds the whole file,
    else the file on disk), or None when it is not one."""
    if not head.startswith(PARQUET_MAGIC):
        return None
    import pyarrow.parquet as pq

    try:
        source = io.BytesIO(head) if head.endswith(PARQUET_MAGIC) else path
        return list(pq.read_schema(source).names)
    except (OSError, ValueError, TypeError):
        return None


def csv_header(text: str) -> set[str]:
    first = text.splitlines()[0] if text else ""
    return {c.strip().strip('"').strip() for c in next(csv.reader([first]), [])}


def rows(path: Path, data: bytes, out: ParsedFile) -> Iterator[tuple[int | None, Any]]:
    """(row or line number, record) of a Parquet, CSV or JSON (Lines) file."""
    if data.startswith(PARQUET_MAGIC):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(pa.BufferReader(data))
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
        number = 0
        for batch in table.to_batches(max_chunksize=4096):  # one batch of dicts at a time
            for record in batch.to_pylist():
                number += 1
                yield number, record
        return
    text = decode_text(path, data)
    if text.lstrip()[:1] in ("{", "["):
        for line_no, doc in json_documents(path, data, out):
            if isinstance(doc, list):
                yield from enumerate(doc, start=1)
            else:
                yield line_no, doc
        return
    reader = csv.DictReader(io.StringIO(text))
    try:
        for record in reader:
            # the header is line 1; a record's line is where it ends (cells may hold newlines)
            yield reader.line_num, {k: (v if v != "" else None) for k, v in record.items()}
    except csv.Error as exc:
        raise InputError(f"{path}: not CSV (line {reader.line_num}: {exc})") from exc


def json_cell(value: Any) -> Any:
    """A cell that holds JSON text as its value; other cells unchanged."""
    if isinstance(value, str) and value[:1] in ("{", "[", '"'):
        return maybe_json(value)
    return value


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def iso(value: Any) -> Any:
    """Datetimes as ISO text (what the JSON readers' time parsing takes); others unchanged."""
    return value.isoformat() if isinstance(value, datetime) else value
