"""LangSmith runs (JSON, JSON Lines, `{post, patch}` ingestion payloads) and feedback records.

A run is created by a `post` and completed by a `patch` with the same id (outputs, end_time,
error); we merge them by run id before mapping. Model metadata lives in `extra.metadata`
(`ls_provider`, `ls_model_name`); `session_id` on a run is the LangSmith project, not a user
session, so the conversation comes from `thread_id` / `session_id` / `conversation_id` metadata.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ingest.formats.otel_attrs as otel_attrs
import ingest.formats.values as values
from ingest.formats.jsondocs import json_documents
from ingest.formats.messages import compact_json, first_output_text, last_user_text, to_chat
from ingest.formats.timeutil import from_any, millis_between
from ingest.records import ParsedFile, Reject

_RUN_KIND = {"llm": "llm", "tool": "tool", "chain": "chain", "retriever": "retrieval",
             "embedding": "embedding", "prompt": "chain", "parser": "chain"}  # fmt: skip


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif value is not None and value != {} and value != []:
            merged[key] = value
        else:
            merged.setdefault(key, value)
    return merged


def run_row(run: dict[str, Any]) -> dict[str, Any]:
    if not run.get("id"):
        raise ValueError("run has no id")
    ts = from_any(run.get("start_time"))
    if ts is None:
        raise ValueError("run has no start_time")
    end = from_any(run.get("end_time"))
    extra = run.get("extra") or {}
    meta = extra.get("metadata") or {}
    inputs = run.get("inputs") or {}
    outputs = run.get("outputs") or {}
    usage = outputs.get("usage_metadata") or {}
    oai_usage = outputs.get("usage") or {}
    t_in = values.as_int(
        values.first(run, "prompt_tokens")
        or usage.get("input_tokens")
        or oai_usage.get("prompt_tokens")
    )
    t_out = values.as_int(
        values.first(run, "completion_tokens")
        or usage.get("output_tokens")
        or oai_usage.get("completion_tokens")
    )
    cache = values.as_int(
        (usage.get("input_token_details") or {}).get("cache_read")
        if usage
        else (oai_usage.get("prompt_tokens_details") or {}).get("cached_tokens")
    )
    reasoning = values.as_int(
        (usage.get("output_token_details") or {}).get("reasoning")
        if usage
        else (oai_usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
    )
    kind = _RUN_KIND.get(str(run.get("run_type")), "other")
    in_msgs = to_chat(inputs.get("messages")) if kind == "llm" else None
    out_msgs = None
    if kind == "llm":
        if outputs.get("choices"):
            out_msgs = to_chat([c for c in outputs["choices"] if isinstance(c, dict)])
        elif outputs.get("generations"):
            gens = outputs["generations"]
            gens = gens[0] if gens and isinstance(gens[0], list) else gens
            out_msgs = to_chat(
                [
                    {"role": "assistant", "content": g.get("text")}
                    for g in gens
                    if isinstance(g, dict)
                ]
            )
    model_requested = inputs.get("model") or (extra.get("invocation_params") or {}).get("model")
    model = outputs.get("model") or meta.get("ls_model_name") or model_requested
    invocation = extra.get("invocation_params") or {
        k: v for k, v in inputs.items() if k not in ("messages", "model", "tools")
    }
    params = otel_attrs.canonical_params(invocation) or otel_attrs.canonical_params(
        {
            "temperature": meta.get("ls_temperature"),
            "max_tokens": meta.get("ls_max_tokens"),
            "stop": meta.get("ls_stop"),
        }  # fmt: skip
    )
    cost = values.as_float(run.get("total_cost") or usage.get("total_cost"))
    cost_fields = (
        {"cost_usd": cost, "cost_source": "provided"}
        if cost is not None
        else otel_attrs.cost_fields(model, t_in, t_out, cache)
    )
    error = run.get("error")
    status = "error" if error or run.get("status") == "error" else "ok"
    return {
        "event_id": str(run["id"]),
        "trace_id": run.get("trace_id"),
        "parent_id": run.get("parent_run_id") or _parent_from_dotted(run.get("dotted_order")),
        "ts": ts,
        "ts_end": end,
        "kind": kind,
        "name": run.get("name"),
        "provider": meta.get("ls_provider"),
        "model": model,
        "model_requested": model_requested or meta.get("ls_model_name"),
        "input_messages": in_msgs,
        "output_messages": out_msgs,
        "input_text": last_user_text(in_msgs),
        "output_text": first_output_text(out_msgs),
        "params": params,
        "tokens_in": t_in,
        "tokens_out": t_out,
        "tokens_cache_read": cache,
        "tokens_reasoning": reasoning,
        **cost_fields,
        "latency_ms": millis_between(ts, end),
        "ttft_ms": millis_between(ts, from_any(run.get("first_token_time"))),
        "status": status,
        "error_type": ("error" if status == "error" else None),
        "error_message": str(error) if error else None,
        "user_id": meta.get("user_id"),
        "session_id": meta.get("thread_id")
        or meta.get("session_id")
        or meta.get("conversation_id"),
        "tags": list(run.get("tags") or []) or None,
        "environment": meta.get("environment") or meta.get("LANGSMITH_ENVIRONMENT"),
        "source_format": "langsmith",
        "raw": run,
    }


def _parent_from_dotted(dotted: Any) -> str | None:
    """`<time><id>.<time><id>`: the parent is the second-to-last segment's id (36-char UUID)."""
    if not isinstance(dotted, str) or "." not in dotted:
        return None
    return dotted.split(".")[-2][-36:]


def feedback_row(fb: dict[str, Any]) -> dict[str, Any]:
    key = fb.get("key")
    if not key:
        raise ValueError("feedback has no key")
    if not fb.get("run_id") and not fb.get("trace_id"):
        raise ValueError("feedback names no run_id or trace_id")
    source = fb.get("feedback_source") or {}
    stype = str(source.get("type") or "api").lower()
    if source.get("user_id") or stype == "app":
        who = "user" if stype == "app" else "reviewer"
    elif stype == "model":
        who = "llm_judge"
    else:
        who = "code"
    score = fb.get("score")
    value = float(score) if isinstance(score, bool) else values.as_float(score)
    label = fb.get("value") if isinstance(fb.get("value"), str) else None
    correction = fb.get("correction")
    if isinstance(correction, dict | list):
        correction = compact_json(correction)
    kind = "correction" if correction else ("score" if value is not None else "label")
    return {
        "feedback_id": str(fb.get("id") or ""),
        "event_id": fb.get("run_id"),
        "trace_id": None if fb.get("run_id") else fb.get("trace_id"),
        "name": str(key),
        "kind": kind,
        "value": value,
        "label": label,
        "source": who,
        "comment": fb.get("comment"),
        "correction": correction,
        "author": source.get("user_name") or source.get("user_id"),
        "ts": from_any(fb.get("created_at")),
        "source_format": "langsmith",
    }


def read(path: Path, data: bytes) -> ParsedFile:
    out = ParsedFile(source_format="langsmith")
    docs = json_documents(path, data, out)
    runs: dict[str, dict[str, Any]] = {}
    where: dict[str, int | None] = {}
    for line_no, doc in docs:
        items: list[Any]
        if isinstance(doc, dict) and ("post" in doc or "patch" in doc):
            items = [*(doc.get("post") or []), *(doc.get("patch") or [])]
        elif isinstance(doc, dict) and isinstance(doc.get("runs"), list):
            items = doc["runs"]
        elif isinstance(doc, list):
            items = doc
        else:
            items = [doc]
        for item in items:
            if not isinstance(item, dict):
                out.records_read += 1
                out.rejects.append(Reject(line_no, "record is not a JSON object", str(item)[:2000]))
            elif (
                "key" in item
                and ("run_id" in item or "trace_id" in item)
                and "run_type" not in item
            ):
                out.records_read += 1
                try:
                    out.feedback.append(feedback_row(item))
                except (KeyError, TypeError, ValueError) as exc:
                    out.rejects.append(
                        Reject(line_no, f"feedback: {exc}", compact_json(item)[:2000])
                    )
            elif item.get("id"):
                run_id = str(item["id"])
                runs[run_id] = _merge(runs.get(run_id, {}), item)
                where.setdefault(run_id, line_no)
            else:
                out.records_read += 1
                out.rejects.append(
                    Reject(
                        line_no,
                        "neither a run (id) nor feedback (key, run_id)",
                        compact_json(item)[:2000],
                    )  # fmt: skip
                )
    for run_id, run in runs.items():
        out.records_read += 1
        try:
            out.events.append(run_row(run))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            out.rejects.append(
                Reject(where[run_id], f"run {run_id}: {exc}", compact_json(run)[:2000])
            )
    return out
