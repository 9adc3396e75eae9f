"""OTLP/JSON traces and logs (and the two span dumps seen next to them) → events and feedback.

Reads a `TracesData` document, JSON Lines of them (the OpenTelemetry file exporter), `LogsData`
carrying GenAI events, OTel-JS ReadableSpan arrays, and a bare span attribute map. Tolerates
what real exporters write: hex or base64 ids, enum numbers or names, 64-bit integers as strings
or numbers. Every span becomes a row with its kind, so traces stay whole; attribute decoding is
in otel_attrs.py.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from pathlib import Path
from typing import Any

from ingest.errors import InputError
from ingest.formats import otel_attrs
from ingest.formats.messages import compact_json, loads
from ingest.formats.timeutil import file_time, from_any, from_unix_nanos
from ingest.records import ParsedFile, Reject

_STATUS = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2,
           "UNSET": 0, "OK": 1, "ERROR": 2}  # fmt: skip
_HEX = set("0123456789abcdefABCDEF")
_CLASS_REPR = re.compile(r"<class '(?:[\w.]*\.)?(\w+)'>")
_HEX_ID = re.compile(r"[0-9a-fA-F]{16}(?:[0-9a-fA-F]{16})?")
_EVAL_EVENT = "gen_ai.evaluation.result"


def norm_id(value: Any) -> str | None:
    """Span/trace id as lowercase hex, from hex (any case) or base64."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"id is not a string: {value!r}")
    if _HEX_ID.fullmatch(value):
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) in (8, 16):
        return raw.hex()
    if set(value) <= _HEX:
        return value.lower()
    raise ValueError(f"id is neither hex nor base64: {value!r}")


def any_value(value: Any) -> Any:
    """OTLP AnyValue → Python value."""
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [any_value(v) for v in (value["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in value:
        return kv_list((value["kvlistValue"] or {}).get("values", []))
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def kv_list(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        raise ValueError("attributes is not a list of {key, value}")
    out = {}
    for item in items:
        value = item.get("value")
        # Most attributes are strings: skip the generic AnyValue dispatch for them.
        text = value.get("stringValue") if isinstance(value, dict) else None
        out[item["key"]] = text if text is not None else any_value(value)
    return out


def _status(span: dict[str, Any]) -> tuple[int, str | None]:
    status = span.get("status") or {}
    code = status.get("code", 0)
    if isinstance(code, str):
        code = _STATUS.get(code, int(code) if code.isdigit() else 0)
    return int(code), status.get("message") or None


def span_row(
    span: dict[str, Any],
    resource: dict[str, Any],
    scope: dict[str, Any] | None,
    feedback: list[dict[str, Any]],
    *,
    source_format: str = "otlp",
) -> dict[str, Any]:
    """One OTLP span (JSON dict) → an events row; evaluation events go to `feedback`."""
    attrs = kv_list(span.get("attributes") or [])
    events = []
    for ev in span.get("events") or []:
        events.append(
            {
                "name": ev.get("name"),
                "time": ev.get("timeUnixNano"),
                **kv_list(ev.get("attributes") or []),
            }  # fmt: skip
        )
    row = _row_from(
        attrs,
        events,
        trace_id=norm_id(span.get("traceId")),
        span_id=norm_id(span.get("spanId")),
        parent_id=norm_id(span.get("parentSpanId")),
        name=span.get("name"),
        start_ns=span.get("startTimeUnixNano"),
        end_ns=span.get("endTimeUnixNano"),
        status=_status(span),
        resource=resource,
        links=span.get("links") or [],
        feedback=feedback,
        source_format=source_format,
    )
    row["raw"] = {"span": span, "resource": resource, "scope": scope}
    return row


def _row_from(
    attrs: dict[str, Any],
    events: list[dict[str, Any]],
    *,
    trace_id: str | None,
    span_id: str | None,
    parent_id: str | None,
    name: str | None,
    start_ns: Any,
    end_ns: Any,
    status: tuple[int, str | None],
    resource: dict[str, Any],
    links: list[dict[str, Any]],
    feedback: list[dict[str, Any]],
    source_format: str,
) -> dict[str, Any]:
    if span_id is None:
        raise ValueError("span has no spanId")
    ts = from_unix_nanos(start_ns)
    if ts is None:
        raise ValueError("span has no startTimeUnixNano")
    row = otel_attrs.decode(attrs, events, name)
    if row["kind"] is None:
        row["kind"] = "other"
    code, message = status
    exc = next((e for e in events if e.get("name") == "exception"), None)
    error_type = row.pop("error_type")
    if code == 2 or error_type:
        row["status"] = "error"
        error_type = error_type or (exc or {}).get("exception.type") or "error"
        # Some instrumentations write str(type(exc)): "<class 'openai.NotFoundError'>".
        match = _CLASS_REPR.fullmatch(str(error_type))
        row["error_type"] = match.group(1) if match else error_type
        row["error_message"] = message or (exc or {}).get("exception.message")
    else:
        row["status"], row["error_type"], row["error_message"] = "ok", None, None
    end = from_unix_nanos(end_ns) if end_ns not in (None, "", 0, "0") else None
    row.update(
        event_id=span_id,
        trace_id=trace_id,
        parent_id=parent_id,
        ts=ts,
        ts_end=end,
        name=name,
        latency_ms=(int(end_ns) - int(start_ns)) / 1e6 if end is not None else None,
        source_format=source_format,
    )
    if row["environment"] is None:
        row["environment"] = resource.get("deployment.environment.name") or resource.get(
            "deployment.environment"
        )
    if row["user_id"] is None and resource.get("user.id"):
        row["user_id"] = resource["user.id"]
    _feedback_of_span(row, attrs, events, links, feedback)
    return row


def _fid(*parts: Any) -> str:
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _feedback_of_span(row, attrs, events, links, feedback) -> None:
    for ev in events:
        if ev.get("name") == _EVAL_EVENT:
            feedback.append(
                evaluation_feedback(ev, row["event_id"], row["trace_id"], ev.get("time"))
            )
    found = otel_attrs.annotations(attrs)
    if not found:
        return
    # Post-hoc feedback: a carrier span with one link points at the span it judges.
    target = norm_id(links[0].get("spanId")) if len(links) == 1 else row["event_id"]
    target_trace = norm_id(links[0].get("traceId")) if len(links) == 1 else row["trace_id"]
    for scope, ann in found:
        fb = {
            "feedback_id": ann["identifier"]
            or _fid(row["event_id"], scope, ann["name"], ann["index"]),
            "event_id": target if scope == "span" else None,
            "trace_id": target_trace if scope in ("span", "trace") else None,
            "name": ann["name"],
            "kind": "score" if ann["value"] is not None else "label",
            "value": ann["value"],
            "label": ann["label"],
            "source": ann["source"],
            "comment": ann["comment"],
            "ts": row["ts"],
            "source_format": row["source_format"],
        }
        if scope == "session":
            fb["comment"] = fb["comment"] or f"session {attrs.get('session.id')}"
        feedback.append(fb)


def evaluation_feedback(attrs: dict[str, Any], event_id, trace_id, time_ns) -> dict[str, Any]:
    """A `gen_ai.evaluation.result` event (span event or log record) → a feedback row."""
    name = attrs.get("gen_ai.evaluation.name")
    if not name:
        raise ValueError("gen_ai.evaluation.result without gen_ai.evaluation.name")
    value = otel_attrs.as_float(attrs.get("gen_ai.evaluation.score.value"))
    label = attrs.get("gen_ai.evaluation.score.label")
    if event_id is None and trace_id is None:
        raise ValueError("gen_ai.evaluation.result names no span or trace to attach to")
    return {
        "feedback_id": _fid(trace_id, event_id, name, time_ns),
        "event_id": event_id,
        "trace_id": trace_id,
        "name": str(name),
        "kind": "score" if value is not None else "label",
        "value": value,
        "label": None if label is None else str(label),
        # The convention has no evaluator attribute; evaluation events come from judges.
        "source": "llm_judge",
        "comment": attrs.get("gen_ai.evaluation.explanation"),
        "ts": from_unix_nanos(time_ns),
        "source_format": "otlp",
    }


def _read_traces_doc(doc: dict[str, Any], line_no: int | None, out: ParsedFile) -> None:
    for rs in doc.get("resourceSpans") or []:
        try:
            resource = kv_list((rs.get("resource") or {}).get("attributes") or [])
        except (KeyError, TypeError, ValueError) as exc:
            out.rejects.append(Reject(line_no, f"bad resource attributes: {exc}", _clip(rs)))
            continue
        for ss in rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or []:
            scope = ss.get("scope") or ss.get("instrumentationLibrary")
            for span in ss.get("spans") or []:
                out.records_read += 1
                fb: list[dict[str, Any]] = []
                try:
                    row = span_row(span, resource, scope, fb)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    name = span.get("name") if isinstance(span, dict) else None
                    out.rejects.append(Reject(line_no, f"span {name!r}: {exc}", _clip(span)))
                    continue
                out.events.append(row)
                out.feedback.extend(fb)


def _read_logs_doc(doc: dict[str, Any], line_no: int | None, out: ParsedFile) -> None:
    for rl in doc.get("resourceLogs") or []:
        resource = kv_list((rl.get("resource") or {}).get("attributes") or [])
        by_span: dict[str, list[dict[str, Any]]] = {}
        for sl in rl.get("scopeLogs") or []:
            for rec in sl.get("logRecords") or []:
                out.records_read += 1
                try:
                    _read_log_record(rec, resource, by_span, out)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    out.rejects.append(Reject(line_no, f"log record: {exc}", _clip(rec)))
        # Deprecated per-message events of one span, with no span in this file: one llm row.
        for span_id, recs in by_span.items():
            first = recs[0]
            row = _row_from(
                {"gen_ai.system": first.get("gen_ai.system")},
                recs,
                trace_id=first["trace_id"],
                span_id=span_id,
                parent_id=None,
                name=None,
                start_ns=first["time"],
                end_ns=None,
                status=(0, None),
                resource=resource,
                links=[],
                feedback=out.feedback,
                source_format="otlp",
            )
            row["raw"] = {"log_records": [r["raw"] for r in recs], "resource": resource}
            out.events.append(row)


def _read_log_record(rec, resource, by_span, out: ParsedFile) -> None:
    attrs = kv_list(rec.get("attributes") or [])
    name = rec.get("eventName") or attrs.get("event.name")
    trace_id, span_id = norm_id(rec.get("traceId")), norm_id(rec.get("spanId"))
    time_ns = rec.get("timeUnixNano") or rec.get("observedTimeUnixNano")
    body = any_value(rec.get("body")) if rec.get("body") is not None else None
    if name == _EVAL_EVENT:
        out.feedback.append(evaluation_feedback(attrs, span_id, trace_id, time_ns))
    elif name == "gen_ai.client.inference.operation.details":
        if isinstance(body, dict):
            attrs = {**body, **attrs}
        event_id = span_id or _fid(trace_id, time_ns, compact_json(attrs)[:200])
        row = _row_from(
            attrs, [], trace_id=trace_id, span_id=event_id, parent_id=None, name=name,
            start_ns=time_ns, end_ns=None, status=(0, None), resource=resource, links=[],
            feedback=out.feedback, source_format="otlp",
        )  # fmt: skip
        row["raw"] = {"log_record": rec, "resource": resource}
        out.events.append(row)
    elif isinstance(name, str) and name.startswith("gen_ai.") and span_id:
        msg = {
            "name": name,
            "body": body if isinstance(body, dict) else {"content": body},
            "trace_id": trace_id,
            "time": time_ns,
            "raw": rec,
            "gen_ai.system": attrs.get("gen_ai.system") or attrs.get("gen_ai.provider.name"),
        }
        by_span.setdefault(span_id, []).append(msg)
    else:
        raise ValueError(f"not a GenAI event: {name!r}")


def _clip(value: Any) -> str:
    try:
        return compact_json(value)[:2000]
    except (TypeError, ValueError):
        return repr(value)[:2000]


_CONTENT = ("input_messages", "output_messages", "input_text", "output_text")


def _sibling_docs(path: Path, marker: bytes) -> list[tuple[Path, bytes]]:
    """OTLP files next to `path` whose first bytes hold `marker` (resourceSpans/resourceLogs)."""
    found = []
    folder = path.parent
    if not folder.is_dir():
        return found
    for other in sorted([*folder.glob("*.json"), *folder.glob("*.jsonl")]):
        if other == path:
            continue
        try:
            with other.open("rb") as fh:
                if marker not in fh.read(4096):
                    continue
            found.append((other, other.read_bytes()))
        except OSError:
            continue
    return found


def _join_signals(path: Path, out: ParsedFile) -> None:
    """An instrumentation writes a call's metrics on the span and its messages as log events
    (the deprecated per-message events, or operation.details): one row per span needs both, so
    spans take missing content from the logs files beside them, and a logs file leaves the
    spans that a traces file beside it holds to that file."""
    is_traces = any(r.get("raw", {}).get("span") is not None for r in out.events)
    if is_traces:
        bare = {r["event_id"]: r for r in out.events if r.get("input_messages") is None}
        if not bare:
            return
        for _, data in _sibling_docs(path, b'"resourceLogs"'):
            try:
                logs = read(Path("-"), data, join=False)
            except InputError:
                continue
            for row in logs.events:
                target = bare.get(row["event_id"])
                if target is not None:
                    for key in _CONTENT:
                        if target.get(key) is None:
                            target[key] = row.get(key)
        return
    span_ids: set[str] = set()
    for _, data in _sibling_docs(path, b'"resourceSpans"'):
        try:
            traces = read(Path("-"), data, join=False)
        except InputError:
            continue
        span_ids.update(r["event_id"] for r in traces.events)
    if span_ids:
        out.events = [r for r in out.events if r["event_id"] not in span_ids]


def read(path: Path, data: bytes, *, join: bool = True) -> ParsedFile:
    """TracesData / LogsData document, or JSON Lines of them."""
    out = ParsedFile(source_format="otlp")
    text = _decode(path, data)
    try:
        docs: list[tuple[int | None, Any]] = [(None, loads(text))]
    except ValueError as whole_error:
        docs = json_lines(path, text, out, whole_error)
    for line_no, doc in docs:
        if not isinstance(doc, dict) or not ("resourceSpans" in doc or "resourceLogs" in doc):
            out.records_read += 1
            out.rejects.append(Reject(line_no, "not a TracesData or LogsData object", _clip(doc)))
            continue
        if "resourceSpans" in doc:
            _read_traces_doc(doc, line_no, out)
        else:
            _read_logs_doc(doc, line_no, out)
    if join:
        _join_signals(path, out)
    return out


def json_lines(
    path: Path, text: str, out: ParsedFile, whole_error: ValueError
) -> list[tuple[int | None, Any]]:
    """Parse JSON Lines; a file whose first line is not JSON is one broken document instead."""
    docs: list[tuple[int | None, Any]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            docs.append((line_no, loads(line)))
        except ValueError as exc:
            if not docs:
                raise InputError(
                    f"{path}: malformed or truncated JSON ({whole_error}); "
                    f"not JSON Lines either (line {line_no} is not JSON)"
                ) from whole_error
            out.records_read += 1
            out.rejects.append(Reject(line_no, f"not JSON ({exc})", line[:2000]))
    return docs


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc})") from exc


def read_attribute_map(path: Path, data: bytes) -> ParsedFile:
    """A bare span attribute map (`{"gen_ai.request.model": …}`), as test fixtures are written.

    It has no ids and no clock: the event id is a hash of the decoded call, so one call written
    in several conventions gets one id, and the time is the file's modification time.
    """
    out = ParsedFile(source_format="otlp", records_read=1)
    try:
        attrs = loads(_decode(path, data))
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(attrs, dict):
        raise InputError(f"{path}: an attribute map must be a JSON object")
    row = otel_attrs.decode(attrs)
    row["kind"] = row["kind"] or "other"
    error_type = row.pop("error_type")
    row["status"] = "error" if error_type else "ok"
    row["error_type"] = error_type
    key = compact_json([row.get(k) for k in ("model", "input_messages", "output_messages")])
    row.update(
        event_id=_fid("attrs", key),
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
        spans = loads(_decode(path, data))
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from exc
    if isinstance(spans, dict):
        spans = spans.get("spans") or [spans]
    for index, span in enumerate(spans, start=1):
        out.records_read += 1
        try:
            ctx = span.get("spanContext") or span.get("_spanContext") or {}
            start, end = _hr_nanos(span.get("startTime")), _hr_nanos(span.get("endTime"))
            parent = span.get("parentSpanId") or (span.get("parentSpanContext") or {}).get("spanId")
            events = [
                {
                    "name": e.get("name"),
                    "time": _hr_nanos(e.get("time")),
                    **(e.get("attributes") or {}),
                }
                for e in span.get("events") or []
            ]
            row = _row_from(
                dict(span.get("attributes") or {}), events,
                trace_id=norm_id(ctx.get("traceId")), span_id=norm_id(ctx.get("spanId")),
                parent_id=norm_id(parent), name=span.get("name"), start_ns=start, end_ns=end,
                status=_status(span), resource=(span.get("resource") or {}).get("attributes") or {},
                links=span.get("links") or [], feedback=out.feedback, source_format="otlp",
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            out.rejects.append(Reject(index, f"span: {exc}", _clip(span)))
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


def read_any(path: Path, data: bytes) -> ParsedFile:
    """Pick the OTLP-family reader by the top-level shape of the file."""
    head = data.lstrip()[:65536]
    if head.startswith(b"[") and (b'"spanContext"' in head or b'"_spanContext"' in head):
        return read_readable_spans(path, data)
    if head.startswith(b"{") and b'"resourceSpans"' not in head and b'"resourceLogs"' not in head:
        try:
            doc = loads(data)
        except ValueError:
            return read(path, data)  # JSON Lines, or broken: read() says which
        if isinstance(doc, dict) and not ({"resourceSpans", "resourceLogs"} & doc.keys()):
            if "spanContext" in doc or "_spanContext" in doc:
                return read_readable_spans(path, data)
            return read_attribute_map(path, data)
    return read(path, data)
