"""Langfuse exports: trace-with-observations JSON, and JSON Lines of observations and scores.

Langfuse wraps OTel spans: `metadata.attributes` holds the original span attributes (all values
stringified) and `input`/`output`/`metadata` are JSON strings. We take Langfuse's own fields
first (model, usage, cost, trace user/session/tags) and the span attributes for what Langfuse
does not lift (kind of a Vercel wrapper span, request model, provider). Scores on a trace attach
to the trace, never to every observation.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path
from typing import Any

import ingest.formats.otel_attrs as otel_attrs
import ingest.formats.values as values
from ingest.formats.jsondocs import json_documents
from ingest.formats.messages import (
    compact_json,
    first_output_text,
    last_user_text,
    maybe_json,
    to_chat,
    tool_calls_output,
)
from ingest.formats.timeutil import from_iso, millis_between
from ingest.records import ParsedFile, Reject

_TYPE_KIND = {
    "GENERATION": "llm", "TOOL": "tool", "AGENT": "agent", "CHAIN": "chain",
    "RETRIEVER": "retrieval", "EMBEDDING": "embedding",
}  # fmt: skip
SCORE_SOURCE = {"ANNOTATION": "reviewer", "EVAL": "llm_judge", "API": "code"}


def _outputs(value: Any) -> list[dict[str, Any]] | None:
    value = maybe_json(value)
    if value is None:
        return None
    if (
        isinstance(value, list)
        and value
        and isinstance(value[0], dict)
        and "toolCallId" in value[0]
    ):
        return tool_calls_output(value)
    if isinstance(value, dict) and value.get("object") == "response":
        return to_chat(value["output"])
    if isinstance(value, list) and value and isinstance(value[0], dict) and "role" in value[0]:
        # Pydantic AI writes the whole conversation as output: the answer is the last turn.
        return to_chat(value[-1:])
    msgs = to_chat(value)
    if msgs:
        msgs = [{**m, "role": "assistant"} if m.get("role") == "user" else m for m in msgs]
    return msgs


def _inputs(value: Any, output: Any) -> list[dict[str, Any]] | None:
    msgs = to_chat(value)
    out = maybe_json(output)
    instructions = out.get("instructions") if isinstance(out, dict) else None
    if msgs and isinstance(instructions, str) and not any(m["role"] == "system" for m in msgs):
        msgs = [{"role": "system", "content": instructions}, *msgs]
    return msgs


def _json_text(value: Any) -> Any:
    """The web app's download writes `input`/`output` as JSON text: a plain answer arrives as
    '"It is rainy."'. Decode such a string literal; any other value is left as it is."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def observation_row(
    obs: dict[str, Any], trace: dict[str, Any] | None, *, json_text: bool = False
) -> dict[str, Any]:
    """One observation → an events row. `json_text`: the observation comes from the web app's
    download, whose `input`/`output` are JSON text (objects and string literals alike)."""
    meta = maybe_json(obs.get("metadata"))
    meta = meta if isinstance(meta, dict) else {}
    attrs = meta.get("attributes") if isinstance(meta.get("attributes"), dict) else {}
    decoded = otel_attrs.decode(attrs, None, obs.get("name")) if attrs else {}
    ts = from_iso(obs.get("startTime"))
    if ts is None:
        raise ValueError("observation has no startTime")
    end = from_iso(obs.get("endTime"))
    kind = decoded.get("kind") or _TYPE_KIND.get(str(obs.get("type")).upper(), "other")
    given_in, given_out = obs.get("input"), obs.get("output")
    if json_text:
        given_in, given_out = _json_text(given_in), _json_text(given_out)
    inputs = _inputs(given_in, given_out) if given_in is not None else None
    outputs = _outputs(given_out)
    if kind == "tool":  # a tool's input/output are arguments and results, not chat turns
        inputs = outputs = None
    usage = obs.get("usageDetails") or {}
    t_in = values.as_int(usage.get("input", obs.get("inputUsage")))
    t_out = values.as_int(usage.get("output", obs.get("outputUsage")))
    if not usage and not t_in and not t_out:
        t_in = t_out = None
    cache = values.as_int(
        values.first(usage, "prompt_details.cache_read", "input_cached_tokens", "cache_read")
    )
    reasoning = values.as_int(
        values.first(usage, "completion_details.reasoning", "output_reasoning_tokens")
    )
    # The provider's resolved snapshot (span attribute) beats Langfuse's matched model name.
    model = (
        values.first(attrs, "gen_ai.response.model", "llm.response.model_name", "ai.response.model")
        or obs.get("model")
        or obs.get("providedModelName")
        or decoded.get("model")
    )
    cost = values.as_float(
        obs.get("totalCost")
        if obs.get("totalCost")
        else (obs.get("costDetails") or {}).get("total")
    )
    if cost is not None and (cost > 0 or t_in or t_out):
        cost_fields = {"cost_usd": cost, "cost_source": "provided"}
    else:
        cost_fields = otel_attrs.cost_fields(model, t_in, t_out, cache)
    params = otel_attrs.canonical_params(
        {k: values.maybe_cast(v) for k, v in (obs.get("modelParameters") or {}).items()}
        if isinstance(obs.get("modelParameters"), dict)
        else None
    ) or decoded.get("params")
    level = obs.get("level")
    ttft = values.as_float(obs.get("timeToFirstToken"))
    trace = trace or {}
    tags = list(trace.get("tags") or []) or decoded.get("tags")
    return {
        "event_id": obs["id"],
        "trace_id": obs.get("traceId") or trace.get("id"),
        "parent_id": obs.get("parentObservationId"),
        "ts": ts,
        "ts_end": end,
        "kind": kind,
        "name": obs.get("name"),
        "provider": decoded.get("provider"),
        "model": model,
        "model_requested": decoded.get("model_requested") or obs.get("model") or model,
        "prompt_name": obs.get("promptName") or obs.get("promptId") or decoded.get("prompt_name"),
        "prompt_version": None if obs.get("promptVersion") is None else str(obs["promptVersion"]),
        "input_messages": inputs,
        "output_messages": outputs,
        "input_text": last_user_text(inputs),
        "output_text": first_output_text(outputs),
        "params": params,
        "tokens_in": t_in,
        "tokens_out": t_out,
        "tokens_cache_read": cache,
        "tokens_reasoning": reasoning,
        **cost_fields,
        "latency_ms": millis_between(ts, end),
        "ttft_ms": ttft * 1000
        if ttft is not None
        else millis_between(ts, from_iso(obs.get("completionStartTime"))),
        "status": "error" if level == "ERROR" else "ok",
        "error_type": "error" if level == "ERROR" else None,
        "error_message": obs.get("statusMessage") if level == "ERROR" else None,
        "user_id": trace.get("userId") or obs.get("userId") or decoded.get("user_id"),
        "session_id": trace.get("sessionId") or obs.get("sessionId") or decoded.get("session_id"),
        "tags": tags or None,
        "environment": obs.get("environment") or trace.get("environment"),
        "source_format": "langfuse",
        "raw": obs,
    }


def score_row(score: dict[str, Any], target_output: dict[str, str]) -> dict[str, Any]:
    """A Langfuse score → a feedback row (trace scores keep only trace_id)."""
    name = score.get("name")
    if not name:
        raise ValueError("score has no name")
    if not score.get("observationId") and not score.get("traceId"):
        # feedback attaches to an event or a trace; session-only scores have no place yet
        raise ValueError("score names no observationId or traceId")
    dtype = str(score.get("dataType") or "NUMERIC").upper()
    source = SCORE_SOURCE.get(str(score.get("source") or "API").upper(), "code")
    value = values.as_float(score.get("value"))
    label = score.get("stringValue")
    correction = None
    kind = "score"
    if dtype == "CATEGORICAL":
        kind = "label"
    elif dtype == "BOOLEAN":
        label = label or (None if value is None else ("True" if value else "False"))
    elif dtype == "CORRECTION":
        kind, name = "correction", "correction"
        correction = score.get("longStringValue") or label
        label = None
        original = target_output.get(score.get("observationId") or score.get("traceId") or "")
        # schema: a correction's value is the share of the output the reviewer changed
        value = (
            1.0 - difflib.SequenceMatcher(None, original, correction or "").ratio()
            if original is not None and correction is not None
            else None
        )
    elif dtype == "TEXT":
        kind, label = "label", score.get("stringValue") or score.get("longStringValue")
    return {
        "feedback_id": score.get("id") or _hash(score),
        "event_id": score.get("observationId"),
        "trace_id": None if score.get("observationId") else score.get("traceId"),
        "name": str(name),
        "kind": kind,
        "value": value,
        "label": label,
        "source": source,
        "comment": score.get("comment"),
        "correction": correction,
        "author": score.get("authorUserId") or score.get("configId"),
        "ts": from_iso(score.get("timestamp") or score.get("createdAt")),
        "source_format": "langfuse",
    }


def _hash(value: Any) -> str:
    return hashlib.sha1(compact_json(value).encode()).hexdigest()[:32]


def _trace_output(trace: dict[str, Any]) -> str | None:
    out = maybe_json(trace.get("output"))
    if isinstance(out, str) and out.startswith('"'):
        try:
            out = json.loads(out)
        except ValueError:
            pass
    if isinstance(out, str):
        return out
    msgs = _outputs(out)
    return first_output_text(msgs)


def read(path: Path, data: bytes) -> ParsedFile:
    out = ParsedFile(source_format="langfuse")
    docs = json_documents(path, data, out)
    for line_no, doc in docs:
        if isinstance(doc, dict) and isinstance(doc.get("trace"), dict):  # the web app's download
            _read_trace_export(doc["trace"], doc.get("observations"), line_no, out, json_text=True)
        elif isinstance(doc, dict) and isinstance(doc.get("observations"), list) and "id" in doc:
            _read_trace_export(doc, doc["observations"], line_no, out)  # public API trace
        elif isinstance(doc, list):
            for index, item in enumerate(doc, start=1):
                _read_record(item, index, out)
        else:
            _read_record(doc, line_no, out)
    return out


def _read_record(item: Any, line_no: int | None, out: ParsedFile) -> None:
    out.records_read += 1
    try:
        if not isinstance(item, dict):
            raise ValueError("record is not a JSON object")
        if "dataType" in item or ("name" in item and ("value" in item or "stringValue" in item)
                                  and "startTime" not in item):  # fmt: skip
            out.feedback.append(score_row(item, {}))
        elif "startTime" in item and "id" in item:
            out.events.append(observation_row(item, None))
        else:
            raise ValueError("neither a Langfuse observation (id, startTime) nor a score")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        out.rejects.append(Reject(line_no, str(exc), compact_json(item)[:2000]))


def _read_trace_export(trace, observations, line_no, out: ParsedFile, json_text=False) -> None:
    full = {o.get("id"): o for o in observations or [] if isinstance(o, dict)}
    for summary in trace.get("observations") or []:  # summaries: used only if the full is absent
        if isinstance(summary, dict) and summary.get("id") not in full:
            full[summary.get("id")] = summary
    trace_ctx = {k: trace.get(k) for k in ("id", "userId", "sessionId", "tags", "environment")}
    outputs: dict[str, str] = {}
    for index, obs in enumerate(full.values(), start=1):
        out.records_read += 1
        try:
            row = observation_row(obs, trace_ctx, json_text=json_text)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            out.rejects.append(
                Reject(line_no or index, f"observation: {exc}", compact_json(obs)[:2000])
            )
            continue
        out.events.append(row)
        if row["output_text"] is not None:
            outputs[row["event_id"]] = row["output_text"]
    trace_out = _trace_output(trace)
    if trace_out is not None and trace.get("id"):
        outputs[trace["id"]] = trace_out
    for score in [*(trace.get("scores") or []), *(trace.get("corrections") or [])]:
        out.records_read += 1
        try:
            out.feedback.append(score_row(score, outputs))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            out.rejects.append(Reject(line_no, f"score: {exc}", compact_json(score)[:2000]))
