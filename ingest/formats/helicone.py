"""Helicone request exports: JSON Lines (or a JSON array) of the records Helicone's
`POST /v1/request/query-clickhouse` returns, as `npx @helicone/export --include-body` writes them.

A record is one proxied request: Helicone's own columns (`request_id`, `request_created_at`,
`response_created_at`, `response_status`, `delay_ms`, `time_to_first_token`, token counts,
`cost`, `request_user_id`, `properties`, `scores`, `prompt_id`/`prompt_version`, …) and the
provider's request and response bodies (`request_body`, `response_body`). The bodies are mapped
as OpenAI logs are (openai_logs.exchange_row: messages, params, usage, errors); Helicone's
columns win for ids, clocks, users, sessions and, where the body has none, tokens and cost.
Sessions (`Helicone-Session-Id` in the properties) are the trace; scores become feedback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ingest.formats.otel_attrs as otel_attrs
import ingest.formats.values as values
from ingest.formats.jsondocs import json_documents
from ingest.formats.messages import compact_json, maybe_json
from ingest.formats.openai_logs import exchange_row
from ingest.formats.timeutil import from_any, millis_between
from ingest.records import ParsedFile, Reject

FEEDBACK_SCORE = "helicone-score-feedback"  # a user's thumbs up/down, stored as a score (1/0)
BOOL_SUFFIX = "-hcone-bool"  # Helicone's key suffix for a boolean score, stored as 1/0
_SESSION_KEYS = ("Helicone-Session-Id", "Helicone-Session-Path", "Helicone-Session-Name")


def _properties(record: dict[str, Any]) -> dict[str, Any]:
    props = record.get("properties") or record.get("request_properties") or {}
    props = maybe_json(props)
    if not isinstance(props, dict):
        raise ValueError("properties is not an object")
    return props


def _prop(props: dict[str, Any], name: str) -> Any:
    lowered = name.lower()
    return next((v for k, v in props.items() if str(k).lower() == lowered), None)


def _response(record: dict[str, Any]) -> Any:
    body = maybe_json(record.get("response_body"))
    if isinstance(body, dict):
        if "helicone_message" in body and len(body) == 1:
            return {}  # the export ran without --include-body: Helicone's placeholder
        if isinstance(body.get("streamed_data"), list) and not body.get("choices"):
            return [c for c in body["streamed_data"] if isinstance(c, dict)]
        return {k: v for k, v in body.items() if k != "streamed_data"}
    return body


def request_row(record: dict[str, Any]) -> dict[str, Any]:
    request_id = record.get("request_id")
    if not request_id:
        raise ValueError("record has no request_id")
    ts = from_any(record.get("request_created_at"))
    if ts is None:
        raise ValueError("record has no request_created_at")
    req = maybe_json(record.get("request_body"))
    if isinstance(req, dict) and "helicone_message" in req and len(req) == 1:
        req = {}
    if not isinstance(req, dict | None):
        raise ValueError("request_body is not a JSON object")
    resp = _response(record)
    if not isinstance(resp, dict | list | None):
        raise ValueError("response_body is not a JSON object")
    status = values.as_int(record.get("response_status"))
    row = exchange_row(req, resp, status_code=status if status and status > 0 else None,
                       fallback_ts=ts, extra={"id": request_id})  # fmt: skip
    if status is not None and status <= 0 and row["status"] == "ok":
        # Helicone writes 0 / negative codes for calls that got no response (timeouts, cancels)
        row.update(status="error", error_type=f"helicone_status_{status}",
                   error_message=f"no response (Helicone status {status})")  # fmt: skip
    props = _properties(record)
    end = from_any(record.get("response_created_at"))
    ok = row["status"] == "ok"

    def counted(column: str, from_body: Any) -> int | None:
        """The body's usage, else Helicone's column (a failed call's zeros mean no count)."""
        if from_body is not None:
            return from_body
        value = values.as_int(record.get(column))
        return value if value or ok else None

    t_in = counted("prompt_tokens", row["tokens_in"])
    t_out = counted("completion_tokens", row["tokens_out"])
    cache = counted("prompt_cache_read_tokens", row["tokens_cache_read"])
    model = row["model"] or record.get("response_model") or record.get("model") or record.get(
        "request_model")  # fmt: skip
    cost = values.as_float(record.get("cost") if record.get("cost") is not None else
                           record.get("costUSD"))  # fmt: skip
    cost_fields = (
        {"cost_usd": cost, "cost_source": "provided"}
        if cost is not None
        else otel_attrs.cost_fields(model, t_in, t_out, cache)
    )
    target = str(record.get("target_url") or record.get("request_path") or "")
    session = _prop(props, "Helicone-Session-Id")
    environment = _prop(props, "environment")
    tags = [f"{k}:{v}" for k, v in props.items()
            if k not in _SESSION_KEYS and str(k).lower() != "environment"]  # fmt: skip
    ttft = values.as_float(record.get("time_to_first_token"))
    delay = values.as_float(record.get("delay_ms"))
    provider = otel_attrs.normalise_provider(str(record.get("provider") or "").lower() or None)
    row.update(
        event_id=str(request_id),
        trace_id=str(session) if session else None,
        parent_id=None,
        ts=ts,
        ts_end=end,
        kind="embedding" if "embeddings" in target else "llm",
        provider=provider or "openai",
        model=model,
        model_requested=(req or {}).get("model") or record.get("request_model"),
        prompt_name=record.get("prompt_id") or None,
        prompt_version=None
        if record.get("prompt_version") is None
        else str(record["prompt_version"]),
        tokens_in=t_in,
        tokens_out=t_out,
        tokens_cache_read=cache,
        **cost_fields,
        latency_ms=delay if delay is not None else millis_between(ts, end),
        ttft_ms=ttft if ttft and ttft > 0 else None,
        user_id=record.get("request_user_id") or record.get("helicone_user") or row["user_id"],
        session_id=str(session) if session else row["session_id"],
        tags=tags or row["tags"],
        environment=environment,
        source_format="helicone",
        raw=record,
    )
    return row


def _feedback(record: dict[str, Any], event: dict[str, Any]) -> list[dict[str, Any]]:
    scores = maybe_json(record.get("scores")) or {}
    if not isinstance(scores, dict):
        raise ValueError("scores is not an object of name → number")
    when = from_any(record.get("updated_at")) or event["ts_end"] or event["ts"]
    out = []
    for name, raw_value in scores.items():
        if isinstance(raw_value, dict):  # {"value": n, "valueType": "int" | "boolean"}
            raw_value = raw_value.get("value")
        value = float(raw_value) if isinstance(raw_value, bool) else values.as_float(raw_value)
        if value is None:
            raise ValueError(f"score {name!r} is not a number: {raw_value!r}")
        thumbs = name == FEEDBACK_SCORE
        boolean = str(name).endswith(BOOL_SUFFIX)
        label = None
        if thumbs:
            value, label = (1.0, "up") if value > 0 else (0.0, "down")
        elif boolean:
            value, label = (1.0, "true") if value > 0 else (0.0, "false")
        out.append(
            {
                "feedback_id": f"{event['event_id']}:{name}",
                "event_id": event["event_id"],
                "trace_id": None,
                "name": "thumbs" if thumbs else str(name).removesuffix(BOOL_SUFFIX),
                "kind": "vote" if thumbs else "score",
                "value": value,
                "label": label,
                "source": "user" if thumbs else "code",
                "comment": None,
                "ts": when,
                "source_format": "helicone",
            }
        )
    rating = record.get("feedback_rating")
    if isinstance(rating, bool) and not any(f["name"] == "thumbs" for f in out):
        out.append(
            {
                "feedback_id": str(record.get("feedback_id") or f"{event['event_id']}:rating"),
                "event_id": event["event_id"],
                "trace_id": None,
                "name": "thumbs",
                "kind": "vote",
                "value": 1.0 if rating else 0.0,
                "label": "up" if rating else "down",
                "source": "user",
                "comment": None,
                "ts": from_any(record.get("feedback_created_at")) or when,
                "source_format": "helicone",
            }
        )
    return out


def read(path: Path, data: bytes) -> ParsedFile:
    out = ParsedFile(source_format="helicone")
    for line_no, doc in json_documents(path, data, out):
        items = doc if isinstance(doc, list) else (
            doc["data"] if isinstance(doc, dict) and isinstance(doc.get("data"), list)
            else [doc])  # fmt: skip
        for n, item in enumerate(items, start=1):
            out.records_read += 1
            where = line_no if line_no is not None else n
            if not isinstance(item, dict):
                out.rejects.append(Reject(where, "record is not a JSON object", str(item)[:2000]))
                continue
            try:
                event = request_row(item)
                feedback = _feedback(item, event)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                rid = item.get("request_id")
                label = f"request {rid}: " if rid else ""
                out.rejects.append(Reject(where, f"{label}{exc}", compact_json(item)[:2000]))
                continue
            out.events.append(event)
            out.feedback.extend(feedback)
    return out
