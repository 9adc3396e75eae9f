"""OTLP LogsData carrying GenAI events → feedback and llm rows.

`gen_ai.evaluation.result` records become feedback; `gen_ai.client.inference.operation.details`
records carry a whole call (same attributes as the inference span); the deprecated per-message
events (`gen_ai.user.message`, `gen_ai.choice`, …) of one span are gathered into one llm row.
How these rows meet the spans of a traces file next to them is otlp._join_signals.
"""

from __future__ import annotations

from typing import Any

from ingest.formats.messages import compact_json
from ingest.formats.otlp_spans import (
    EVAL_EVENT,
    any_value,
    clip,
    evaluation_feedback,
    fid,
    kv_list,
    norm_id,
    row_from,
)
from ingest.records import ParsedFile, Reject


def read_logs_doc(doc: dict[str, Any], line_no: int | None, out: ParsedFile) -> None:
    for rl in doc.get("resourceLogs") or []:
        resource = kv_list((rl.get("resource") or {}).get("attributes") or [])
        by_span: dict[str, list[dict[str, Any]]] = {}
        for sl in rl.get("scopeLogs") or []:
            for rec in sl.get("logRecords") or []:
                out.records_read += 1
                try:
                    read_log_record(rec, resource, by_span, out)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    out.rejects.append(Reject(line_no, f"log record: {exc}", clip(rec)))
        # Deprecated per-message events of one span, with no span in this file: one llm row.
        for span_id, recs in by_span.items():
            first = recs[0]
            row = row_from(
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


def read_log_record(rec, resource, by_span, out: ParsedFile) -> None:
    attrs = kv_list(rec.get("attributes") or [])
    name = rec.get("eventName") or attrs.get("event.name")
    trace_id, span_id = norm_id(rec.get("traceId")), norm_id(rec.get("spanId"))
    time_ns = rec.get("timeUnixNano") or rec.get("observedTimeUnixNano")
    body = any_value(rec.get("body")) if rec.get("body") is not None else None
    if name == EVAL_EVENT:
        out.feedback.append(evaluation_feedback(attrs, span_id, trace_id, time_ns))
    elif name == "gen_ai.client.inference.operation.details":
        if isinstance(body, dict):
            attrs = {**body, **attrs}
        event_id = span_id or fid(trace_id, time_ns, compact_json(attrs)[:200])
        row = row_from(
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
