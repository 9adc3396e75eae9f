"""Braintrust logs: span rows as `bt sync pull` writes them (NDJSON, one stored row a line), or
the rows the Braintrust SDK posts (a span's first row, then `_is_merge` updates of the same
`id`; comment rows with `origin.id` and `comment.text`).

A row is one span: `span_id` in the trace `root_span_id`, parent `span_parents[0]`, kind and
name in `span_attributes`, times and usage in `metrics` (unix seconds and token counts), the
OpenAI-style messages in `input` / `output` for LLM spans, request parameters mixed with the
caller's keys in `metadata`. Rows with the same `id` are merged in file order before mapping
(an `_is_merge` row deep-merges into the earlier row, any other replaces it), as the server
does; `scores` on a row become feedback on its span. User, session, tags and environment are
set on the root span (Braintrust allows tags only there) and apply to the whole trace.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import ingest.formats.otel_attrs as otel_attrs
import ingest.formats.values as values
from ingest.formats.jsondocs import json_documents
from ingest.formats.messages import compact_json, first_output_text, last_user_text, to_chat
from ingest.formats.timeutil import from_any, millis_between
from ingest.records import ParsedFile, Reject

_KIND = {"llm": "llm", "tool": "tool", "task": "chain", "function": "chain", "eval": "chain",
         "score": "chain", "automation": "chain", "facet": "chain", "preprocessor": "chain",
         "classifier": "chain", "review": "chain"}  # fmt: skip
# feedback's `_audit_source` (log_feedback(source=…)): the app's UI is a reviewer, "external"
# (the default: feedback an application collects from its users) a user, the API code.
_SOURCE = {"app": "reviewer", "external": "user", "api": "code"}
_NOT_PARAMS = ("model", "provider", "tools", "stream_options", "messages")
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)\b|"
                             r"[A-Z]\w*): ?(.*)$")  # fmt: skip


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _error_fields(error: Any) -> tuple[str | None, str | None]:
    """(error_type, error_message) from a Python traceback string, a JS error text or a dict."""
    if error is None or error == "":
        return None, None
    if isinstance(error, dict):
        kind = error.get("type") or error.get("name") or error.get("code") or "error"
        return str(kind), str(error.get("message") or compact_json(error))
    text = str(error).strip()
    last = text.splitlines()[-1].strip() if text else ""
    match = _EXCEPTION_LINE.match(last)
    if match:
        return match.group(1).rsplit(".", 1)[-1], last
    return "error", last or text


def span_row(row: dict[str, Any], root: dict[str, Any] | None) -> dict[str, Any]:
    span_id = row.get("span_id") or row.get("id")
    if not span_id:
        raise ValueError("row has no span_id or id")
    attrs = row.get("span_attributes") or {}
    if not isinstance(attrs, dict):
        raise ValueError("span_attributes is not an object")
    metrics = row.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise ValueError("metrics is not an object")
    meta = row.get("metadata") or {}
    if not isinstance(meta, dict):
        raise ValueError("metadata is not an object")
    ts = from_any(metrics.get("start")) or from_any(row.get("created"))
    if ts is None:
        raise ValueError("row has neither metrics.start nor created")
    end = from_any(metrics.get("end"))
    kind = _KIND.get(str(attrs.get("type") or "").lower(), "other")
    in_msgs = out_msgs = None
    if kind == "llm":
        in_msgs = to_chat(row.get("input"))
        output = row.get("output")
        if isinstance(output, list) and output and all(isinstance(c, dict) for c in output):
            out_msgs = to_chat(output)
        elif output is not None:
            out_msgs = to_chat(output if isinstance(output, dict) else
                               [{"role": "assistant", "content": output}])  # fmt: skip
    model = meta.get("model") if isinstance(meta.get("model"), str) else None
    t_in = values.as_int(metrics.get("prompt_tokens"))
    t_out = values.as_int(metrics.get("completion_tokens"))
    cache = values.as_int(metrics.get("prompt_cached_tokens"))
    reasoning = values.as_int(metrics.get("completion_reasoning_tokens"))
    cost = values.as_float(metrics.get("estimated_cost"))
    cost_fields = (
        {"cost_usd": cost, "cost_source": "provided"}
        if cost is not None
        else otel_attrs.cost_fields(model, t_in, t_out, cache)
    )
    error_type, error_message = _error_fields(row.get("error"))
    root_meta = (root or {}).get("metadata") or {}
    root_meta = root_meta if isinstance(root_meta, dict) else {}

    def ctx(*keys: str) -> Any:
        for source in (meta, root_meta):
            for key in keys:
                if source.get(key) not in (None, ""):
                    return source[key]
        return None

    ttft = values.as_float(metrics.get("time_to_first_token"))
    parents = row.get("span_parents") or []
    tags = row.get("tags") or (root or {}).get("tags")
    return {
        "event_id": str(span_id),
        "trace_id": row.get("root_span_id") or str(span_id),
        "parent_id": str(parents[0]) if isinstance(parents, list) and parents else None,
        "ts": ts,
        "ts_end": end,
        "kind": kind,
        "name": attrs.get("name"),
        "provider": otel_attrs.normalise_provider(meta.get("provider")) if kind == "llm" else None,
        "model": model if kind == "llm" else None,
        "model_requested": model if kind == "llm" else None,
        "input_messages": in_msgs,
        "output_messages": out_msgs,
        "input_text": last_user_text(in_msgs),
        "output_text": first_output_text(out_msgs),
        "params": otel_attrs.canonical_params(
            {k: v for k, v in meta.items() if k not in _NOT_PARAMS}
        )
        if kind == "llm"
        else None,
        "tokens_in": t_in,
        "tokens_out": t_out,
        "tokens_cache_read": cache,
        "tokens_reasoning": reasoning,
        **(
            cost_fields
            if kind == "llm"
            else {"cost_usd": cost, "cost_source": None if cost is None else "provided"}
        ),  # fmt: skip
        "latency_ms": millis_between(ts, end),
        "ttft_ms": ttft * 1000.0 if ttft is not None else None,
        "status": "error" if error_type else "ok",
        "error_type": error_type,
        "error_message": error_message,
        "user_id": ctx("user_id", "userId"),
        "session_id": ctx("session_id", "thread_id", "conversation_id"),
        "tags": list(tags) if isinstance(tags, list) and tags else None,
        "environment": ctx("environment"),
        "source_format": "braintrust",
        "raw": row,
    }


def _score_rows(
    row: dict[str, Any], event: dict[str, Any], sources: dict[str, str]
) -> list[dict[str, Any]]:
    scores = row.get("scores") or {}
    if not isinstance(scores, dict):
        raise ValueError("scores is not an object of name → number")
    out = []
    for name, raw_value in scores.items():
        if raw_value is None:  # a scorer that was skipped
            continue
        if isinstance(raw_value, bool):
            value = float(raw_value)
        else:
            value = values.as_float(raw_value)
            if value is None:
                raise ValueError(f"score {name!r} is not a number: {raw_value!r}")
        out.append(
            {
                "feedback_id": f"{row.get('id') or event['event_id']}:{name}",
                "event_id": event["event_id"],
                "trace_id": None,
                "name": str(name),
                "kind": "score",
                "value": value,
                "label": None,
                "source": sources.get(name, "code"),
                "comment": None,
                "ts": event["ts_end"] or event["ts"],
                "source_format": "braintrust",
            }
        )
    return out


def _comment_row(row: dict[str, Any], span_of: dict[str, str]) -> dict[str, Any]:
    origin = row.get("origin") or {}
    target = origin.get("id") if isinstance(origin, dict) else None
    text = (row.get("comment") or {}).get("text") if isinstance(row.get("comment"), dict) else None
    if not target:
        raise ValueError("comment names no origin.id")
    if not isinstance(text, str) or not text:
        raise ValueError("comment has no comment.text")
    meta = row.get("_audit_metadata") or {}
    return {
        "feedback_id": str(row.get("id") or f"{target}:comment"),
        "event_id": span_of.get(str(target), str(target)),
        "trace_id": None,
        "name": "comment",
        "kind": "label",
        "value": None,
        "label": None,
        "source": _SOURCE.get(str(row.get("_audit_source") or "").lower(), "user"),
        "comment": text,
        "author": meta.get("user_id") if isinstance(meta, dict) else None,
        "ts": from_any(row.get("created")),
        "source_format": "braintrust",
    }


_SYNC_BOOKKEEPING = ("object_ref", "spec_hash", "root_discovery_cursor")


def is_sync_bookkeeping(doc: Any) -> bool:
    """`bt sync` writes spec.json, state.json and manifest.json beside the part files: its own
    progress, not logs (`schema_version` with `object_ref` / `spec_hash` / the pull cursor)."""
    return (
        isinstance(doc, dict)
        and "schema_version" in doc
        and any(k in doc for k in _SYNC_BOOKKEEPING)
        and "span_id" not in doc
    )


def read(path: Path, data: bytes) -> ParsedFile:
    out = ParsedFile(source_format="braintrust")
    rows: dict[str, dict[str, Any]] = {}
    where: dict[str, int | None] = {}
    sources: dict[str, dict[str, str]] = {}
    comments: list[tuple[int | None, dict[str, Any]]] = []
    for line_no, doc in json_documents(path, data, out):
        if line_no is None and is_sync_bookkeeping(doc):
            return out  # nothing to load: a `bt sync` progress file
        items = doc if isinstance(doc, list) else doc.get("data") if (
            isinstance(doc, dict) and isinstance(doc.get("data"), list)) else [doc]  # fmt: skip
        for item in items:
            if not isinstance(item, dict):
                out.records_read += 1
                out.rejects.append(Reject(line_no, "row is not a JSON object", str(item)[:2000]))
            elif isinstance(item.get("comment"), dict) and "origin" in item:
                comments.append((line_no, item))
            elif not item.get("id") and not item.get("span_id"):
                out.records_read += 1
                out.rejects.append(
                    Reject(line_no, "row has no id or span_id", compact_json(item)[:2000])
                )
            else:
                row_id = str(item.get("id") or item["span_id"])
                if item.get("_is_merge") and row_id in rows:
                    rows[row_id] = _merge(rows[row_id], item)
                else:
                    rows[row_id] = item
                    where[row_id] = line_no
                source = _SOURCE.get(str(item.get("_audit_source") or "").lower())
                if source and isinstance(item.get("scores"), dict):
                    for name in item["scores"]:
                        sources.setdefault(row_id, {})[str(name)] = source
    clean = {rid: {k: v for k, v in r.items() if k != "_is_merge"} for rid, r in rows.items()}
    # the root span of each trace: the row without parents (its span_id is not the trace id)
    roots = {r.get("root_span_id"): r for r in clean.values() if not r.get("span_parents")}
    span_of: dict[str, str] = {}
    for row_id, row in clean.items():
        out.records_read += 1
        try:
            event = span_row(row, roots.get(row.get("root_span_id")))
            feedback = _score_rows(row, event, sources.get(row_id, {}))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            out.rejects.append(
                Reject(where[row_id], f"row {row_id}: {exc}", compact_json(row)[:2000])
            )
            continue
        span_of[row_id] = event["event_id"]
        out.events.append(event)
        out.feedback.extend(feedback)
    for line_no, item in comments:
        out.records_read += 1
        try:
            out.feedback.append(_comment_row(item, span_of))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            out.rejects.append(Reject(line_no, f"comment: {exc}", compact_json(item)[:2000]))
    return out
