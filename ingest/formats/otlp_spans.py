"""OTLP spans → events rows: AnyValue decoding, ids, status, evaluation feedback.

The piece every OTLP-family reader shares (TracesData in otlp.py, LogsData in otlp_logs.py, the
span dumps in otel_dumps.py), so each of them depends on this module and none on another.
Attribute decoding itself is otel_attrs.py.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any

from ingest.formats.messages import compact_json
from ingest.formats.otel_attrs import annotations
from ingest.formats.otel_attrs import decode as decode_attributes
from ingest.formats.timeutil import from_unix_nanos
from ingest.formats.values import as_float
from ingest.prices import price_table
from ingest.records import ParsedFile, Reject

_STATUS = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2,
           "UNSET": 0, "OK": 1, "ERROR": 2}  # fmt: skip
_HEX = set("0123456789abcdefABCDEF")
_CLASS_REPR = re.compile(r"<class '(?:[\w.]*\.)?(\w+)'>")
# A qualified class name, as OTel's `exception.type` is meant to be ("openai.NotFoundError"): the
# class alone, so one failure reads the same whichever convention recorded it. Only a dotted
# name ending in a capitalised identifier; codes such as "model_not_found" or "_OTHER" stay.
_QUALIFIED_CLASS = re.compile(r"(?:[A-Za-z_]\w*\.)+([A-Z]\w*)")
_HEX_ID = re.compile(r"[0-9a-fA-F]{16}(?:[0-9a-fA-F]{16})?")
EVAL_EVENT = "gen_ai.evaluation.result"


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


def status_of(span: dict[str, Any]) -> tuple[int, str | None]:
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
    prices: dict[str, Any] | None = None,
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
    row = row_from(
        attrs,
        events,
        trace_id=norm_id(span.get("traceId")),
        span_id=norm_id(span.get("spanId")),
        parent_id=norm_id(span.get("parentSpanId")),
        name=span.get("name"),
        start_ns=span.get("startTimeUnixNano"),
        end_ns=span.get("endTimeUnixNano"),
        status=status_of(span),
        resource=resource,
        links=span.get("links") or [],
        feedback=feedback,
        source_format=source_format,
        prices=prices,
    )
    # raw keeps every field of the span, with attributes decoded from AnyValue to a flat map: the
    # same facts in a third of the memory and JSON, which matters for files of 100k spans.
    shell = {k: v for k, v in span.items() if k != "attributes"}
    shell["attributes"] = attrs
    row["raw"] = {"span": shell, "resource": resource, "scope": scope}
    return row


def row_from(
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
    prices: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if span_id is None:
        raise ValueError("span has no spanId")
    ts = from_unix_nanos(start_ns)
    if ts is None:
        raise ValueError("span has no startTimeUnixNano")
    row = decode_attributes(attrs, events, name, prices)
    if row["kind"] is None:
        row["kind"] = "other"
    code, message = status
    exc = next((e for e in events if e.get("name") == "exception"), None) if events else None
    error_type = row.pop("error_type")
    if code == 2 or error_type:
        row["status"] = "error"
        error_type = error_type or (exc or {}).get("exception.type") or "error"
        # Some instrumentations write str(type(exc)): "<class 'openai.NotFoundError'>".
        match = _CLASS_REPR.fullmatch(str(error_type)) or _QUALIFIED_CLASS.fullmatch(
            str(error_type)
        )
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


def fid(*parts: Any) -> str:
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _feedback_of_span(row, attrs, events, links, feedback) -> None:
    for ev in events:
        if ev.get("name") == EVAL_EVENT:
            feedback.append(
                evaluation_feedback(ev, row["event_id"], row["trace_id"], ev.get("time"))
            )
    found = annotations(attrs)
    if not found:
        return
    # Post-hoc feedback: a carrier span with one link points at the span it judges.
    target = norm_id(links[0].get("spanId")) if len(links) == 1 else row["event_id"]
    target_trace = norm_id(links[0].get("traceId")) if len(links) == 1 else row["trace_id"]
    for scope, ann in found:
        fb = {
            "feedback_id": ann["identifier"]
            or fid(row["event_id"], scope, ann["name"], ann["index"]),
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
    value = as_float(attrs.get("gen_ai.evaluation.score.value"))
    label = attrs.get("gen_ai.evaluation.score.label")
    if event_id is None and trace_id is None:
        raise ValueError("gen_ai.evaluation.result names no span or trace to attach to")
    return {
        "feedback_id": fid(trace_id, event_id, name, time_ns),
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


def read_traces_doc(doc: dict[str, Any], line_no: int | None, out: ParsedFile) -> None:
    prices = price_table()  # once per document, not per span
    for rs in doc.get("resourceSpans") or []:
        try:
            resource = kv_list((rs.get("resource") or {}).get("attributes") or [])
        except (KeyError, TypeError, ValueError) as exc:
            out.rejects.append(Reject(line_no, f"bad resource attributes: {exc}", clip(rs)))
            continue
        for ss in rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or []:
            scope = ss.get("scope") or ss.get("instrumentationLibrary")
            for span in ss.get("spans") or []:
                out.records_read += 1
                fb: list[dict[str, Any]] = []
                try:
                    row = span_row(span, resource, scope, fb, prices=prices)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    name = span.get("name") if isinstance(span, dict) else None
                    out.rejects.append(Reject(line_no, f"span {name!r}: {exc}", clip(span)))
                    continue
                out.events.append(row)
                out.feedback.extend(fb)


def clip(value: Any) -> str:
    try:
        return compact_json(value)[:2000]
    except (TypeError, ValueError):
        return repr(value)[:2000]
