"""Span dumps that are not OTLP: OTel-JS ReadableSpan arrays and a bare span attribute map.

Test suites and debugging tools write spans these ways (the shared fixtures hold both); they go
through the same attribute decoding and row building as OTLP spans.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingest.errors import InputError
from ingest.formats.jsondocs import decode_text
from ingest.formats.messages import compact_json, loads
from ingest.formats.otel_attrs import decode as decode_attributes
from ingest.formats.otlp_spans import clip, fid, norm_id, row_from, status_of
from ingest.formats.timeutil import file_time, from_any
from ingest.records import ParsedFile, Reject


def read_attribute_map(path: Path, data: bytes) -> ParsedFile:
    """A bare span attribute map (`{"gen_ai.request.model": …}`), as test fixtures are written.

    It has no ids and no clock: the event id is a hash of the decoded call, so one call written
    in several conventions gets one id, and the time is the file's modification time.
    """
    out = ParsedFile(source_format="otlp", records_read=1)
    try:
        attrs = loads(decode_text(path, data))
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(attrs, dict):
        raise InputError(f"{path}: an attribute map must be a JSON object")
    row = decode_attributes(attrs)
    row["kind"] = row["kind"] or "other"
    error_type = row.pop("error_type")
    row["status"] = "error" if error_type else "ok"
    row["error_type"] = error_type
    key = compact_json([row.get(k) for k in ("model", "input_messages", "output_messages")])
    row.update(
        event_id=fid("attrs", key),
        ts=file_time(path),
        source_format="otlp",
        raw={"attributes": attrs},
    )
    out.events.append(row)
    return out


def read_readable_spans(path: Path, data: bytes) -> ParsedFile:
    """OTel-JS ReadableSpan JSON (spanContext, [s, ns] times, plain attribute values)."""
    out = ParsedFile(source_format="otlp")
    try:
        spans = loads(decode_text(path, data))
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from exc
    if isinstance(spans, dict):
        spans = spans.get("spans") or [spans]
    for index, span in enumerate(spans, start=1):
        out.records_read += 1
        try:
            ctx = span.get("spanContext") or span.get("_spanContext") or {}
            start, end = _hr_nanos(span.get("startTime")), _hr_nanos(span.get("endTime"))
            resource = (span.get("resource") or {}).get("attributes") or {}
            parent = span.get("parentSpanId") or (span.get("parentSpanContext") or {}).get("spanId")
            events = [
                {
                    "name": e.get("name"),
                    "time": _hr_nanos(e.get("time")),
                    **(e.get("attributes") or {}),
                }
                for e in span.get("events") or []
            ]
            row = row_from(
                dict(span.get("attributes") or {}), events,
                trace_id=norm_id(ctx.get("traceId")), span_id=norm_id(ctx.get("spanId")),
                parent_id=norm_id(parent), name=span.get("name"), start_ns=start, end_ns=end,
                status=status_of(span), resource=resource,
                links=span.get("links") or [], feedback=out.feedback, source_format="otlp",
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            out.rejects.append(Reject(index, f"span: {exc}", clip(span)))
            continue
        row["raw"] = {"readable_span": span}
        out.events.append(row)
    return out


def _hr_nanos(value: Any) -> int | None:
    """[seconds, nanos] (OTel-JS HrTime) or a number/ISO string → integer nanoseconds."""
    if isinstance(value, list) and len(value) == 2:
        return int(value[0]) * 1_000_000_000 + int(value[1])
    if value is None:
        return None
    when = from_any(value)
    return None if when is None else int(when.timestamp() * 1e9)
