"""OpenAI Batch API files: an input file and its output file, joined on `custom_id`.

Parameters and messages live only in the input file; output order differs from input order.
The input file alone yields no events (nothing has run yet). Reading an output file, we join it
with every Batch input file in the same folder (so `ingest input.jsonl output.jsonl`, or the
output alone later, both work); failed lines become error events.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ingest.formats.openai_logs as openai_logs
from ingest.errors import InputError
from ingest.formats.jsondocs import json_lines
from ingest.formats.messages import compact_json
from ingest.formats.timeutil import file_time
from ingest.records import ParsedFile, Reject

# The Batch API bills half the synchronous price (OpenAI pricing page); the price table holds
# synchronous prices.
BATCH_DISCOUNT = 0.5


def is_input_line(item: Any) -> bool:
    return isinstance(item, dict) and "custom_id" in item and "body" in item and "url" in item


def is_output_line(item: Any) -> bool:
    return (
        isinstance(item, dict) and "custom_id" in item and ("response" in item or "error" in item)
    )


def _lines(path: Path, data: bytes, out: ParsedFile | None) -> list[tuple[int | None, Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc})") from exc
    sink = out if out is not None else ParsedFile(source_format="openai_batch")
    try:
        doc = json.loads(text)
        return [(None, doc)] if not isinstance(doc, list) else list(enumerate(doc, start=1))
    except ValueError as exc:
        return json_lines(path, text, sink, exc)


def sibling_inputs(path: Path) -> dict[str, dict[str, Any]]:
    """custom_id → input line, from the Batch input files next to `path`."""
    found: dict[str, dict[str, Any]] = {}
    for other in sorted(path.parent.glob("*.jsonl")) if path.parent.is_dir() else []:
        if other == path:
            continue
        try:
            with other.open("rb") as fh:
                if not is_input_line(json.loads(fh.readline() or b"null")):
                    continue
            lines = _lines(other, other.read_bytes(), None)
        except (OSError, ValueError, InputError):
            continue
        for _, item in lines:
            if is_input_line(item):
                found[str(item["custom_id"])] = item
    return found


def read(path: Path, data: bytes, inputs: dict[str, dict[str, Any]] | None = None) -> ParsedFile:
    out = ParsedFile(source_format="openai_batch")
    lines = _lines(path, data, out)
    if lines and all(is_input_line(item) for _, item in lines):
        out.records_read = len(lines)  # an input file: requests only, joined when output arrives
        return out
    joined = sibling_inputs(path) if inputs is None else inputs
    fallback = file_time(path)
    for line_no, item in lines:
        out.records_read += 1
        try:
            if not is_output_line(item):
                raise ValueError("not a Batch output line ({id, custom_id, response, error})")
            source = joined.get(str(item["custom_id"]))
            req = source.get("body") if source else None
            response = item.get("response") or {}
            body = openai_logs._body(response.get("body")) if response else None
            status = response.get("status_code") if response else None
            error = item.get("error")
            if not response and not error:
                raise ValueError("line has neither a response nor an error")
            row = openai_logs.exchange_row(
                req,
                body,
                error=error,
                status_code=status,
                fallback_ts=fallback,
                extra={"request_id": response.get("request_id") if response else None},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            out.rejects.append(Reject(line_no, str(exc), compact_json(item)[:2000]))
            continue
        if row["cost_source"] == "computed":
            row["cost_usd"] *= BATCH_DISCOUNT
        row["event_id"] = str(item.get("id") or f"batch:{item['custom_id']}")
        row["source_format"] = "openai_batch"
        row["name"] = f"batch {item['custom_id']}"
        row["raw"] = {"output": item, "input": source, "joined": source is not None}
        out.events.append(row)
    return out


def read_pair(input_data: bytes, output_data: bytes, output_path: Path) -> ParsedFile:
    """Join an input and an output file given as bytes (no folder lookup)."""
    inputs = {
        str(item["custom_id"]): item
        for _, item in _lines(output_path, input_data, None)
        if is_input_line(item)
    }
    return read(output_path, output_data, inputs)
