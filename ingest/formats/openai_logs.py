"""OpenAI Chat Completions and Responses request/response logs, including VCR cassettes.

Teams log OpenAI traffic in a few shapes: JSON Lines of `{"request", "response"}` (or
`{"request", "error"}`), the response object alone, and recorded HTTP exchanges (VCR cassettes,
YAML). A streamed response (SSE text or a list of `chat.completion.chunk` objects) is
reassembled into one output with its usage; an HTTP error becomes `status='error'` with the
API's error code as `error_type` (e.g. `model_not_found`).
"""

from __future__ import annotations

import hashlib
import json
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import ingest.formats.otel_attrs as otel_attrs
import ingest.formats.values as values
from ingest.errors import InputError
from ingest.formats.jsondocs import json_lines
from ingest.formats.messages import compact_json, first_output_text, last_user_text, to_chat
from ingest.formats.timeutil import file_time, from_any, from_unix_seconds
from ingest.records import ParsedFile, Reject


def _body(value: Any) -> Any:
    if isinstance(value, dict) and "string" in value and len(value) == 1:
        value = value["string"]  # VCR: body: {string: "..."}
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("data:") or "\ndata:" in text:
            return _sse_chunks(text)
        try:
            return json.loads(text) if text else None
        except ValueError:
            return value
    return value


def _sse_chunks(text: str) -> list[dict[str, Any]]:
    chunks = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("data:"):
            payload = line[5:].strip()
            if payload and payload != "[DONE]":
                chunks.append(json.loads(payload))
    return chunks


def reassemble(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """Chat `chat.completion.chunk` list (or Responses stream events) → one response object."""
    for event in reversed(chunks):
        if event.get("type") in ("response.completed", "response.failed", "response.incomplete"):
            return event["response"]
    choices: dict[int, dict[str, Any]] = {}
    head: dict[str, Any] = {"object": "chat.completion"}
    for chunk in chunks:
        for key in ("id", "created", "model", "system_fingerprint", "service_tier"):
            if chunk.get(key) is not None:
                head[key] = chunk[key]
        if chunk.get("usage"):
            head["usage"] = chunk["usage"]
        for choice in chunk.get("choices") or []:
            slot = choices.setdefault(
                choice.get("index", 0),
                {
                    "index": choice.get("index", 0),
                    "message": {"role": "assistant", "content": None},
                    "finish_reason": None,
                    "_calls": {},
                },  # fmt: skip
            )
            delta = choice.get("delta") or {}
            if delta.get("role"):
                slot["message"]["role"] = delta["role"]
            if delta.get("content") is not None:
                slot["message"]["content"] = (slot["message"]["content"] or "") + delta["content"]
            for call in delta.get("tool_calls") or []:
                acc = slot["_calls"].setdefault(
                    call.get("index", 0),
                    {
                        "id": None,
                        "type": "function",
                        "function": {"name": None, "arguments": ""},
                    },  # fmt: skip
                )
                acc["id"] = call.get("id") or acc["id"]
                fn = call.get("function") or {}
                acc["function"]["name"] = fn.get("name") or acc["function"]["name"]
                acc["function"]["arguments"] += fn.get("arguments") or ""
            if choice.get("finish_reason"):
                slot["finish_reason"] = choice["finish_reason"]
    head["choices"] = []
    for index in sorted(choices):
        slot = choices[index]
        calls = slot.pop("_calls")
        if calls:
            slot["message"]["tool_calls"] = [calls[i] for i in sorted(calls)]
        head["choices"].append(slot)
    return head


def _responses_input(req: dict[str, Any]) -> list[dict[str, Any]] | None:
    msgs = to_chat(req.get("input")) if req.get("input") is not None else None
    if req.get("instructions"):
        msgs = [{"role": "system", "content": req["instructions"]}, *(msgs or [])]
    return msgs


def exchange_row(
    req: dict[str, Any] | None,
    resp: Any,
    *,
    error: Any = None,
    status_code: int | None = None,
    headers: dict[str, Any] | None = None,
    fallback_ts=None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One request and its response (or error) → an events row."""
    req = req or {}
    headers = {
        str(k).lower(): (v[0] if isinstance(v, list) and v else v)
        for k, v in (headers or {}).items()
    }
    if isinstance(resp, list):
        resp = reassemble(resp)
    resp = resp if isinstance(resp, dict) else {}
    if isinstance(resp.get("error"), dict) and not resp.get("choices") and not resp.get("output"):
        error = error or resp["error"]
    is_responses = resp.get("object") == "response" or "input" in req
    if is_responses:
        in_msgs = _responses_input(req)
        out_msgs = to_chat(resp.get("output")) if resp.get("output") else None
        usage = resp.get("usage") or {}
        t_in, t_out = usage.get("input_tokens"), usage.get("output_tokens")
        cache = (usage.get("input_tokens_details") or {}).get("cached_tokens")
        reasoning = (usage.get("output_tokens_details") or {}).get("reasoning_tokens")
    else:
        in_msgs = to_chat(req.get("messages")) if req.get("messages") else None
        choices = [c for c in resp.get("choices") or [] if isinstance(c, dict)]
        out_msgs = to_chat(choices) if choices else None
        usage = resp.get("usage") or {}
        t_in, t_out = usage.get("prompt_tokens"), usage.get("completion_tokens")
        cache = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
        reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
    t_in, t_out = values.as_int(t_in), values.as_int(t_out)
    cache, reasoning = values.as_int(cache), values.as_int(reasoning)
    model = resp.get("model") or req.get("model")
    ts = from_unix_seconds(resp.get("created") or resp.get("created_at"))
    if ts is None and headers.get("date"):
        ts = parsedate_to_datetime(headers["date"])
    extra = extra or {}
    if ts is None and extra.get("ts") is not None:
        ts = from_any(extra["ts"])
    ts = ts or fallback_ts
    if ts is None:
        raise ValueError("no timestamp: the response has no `created` and the log no time")
    if status_code is not None and status_code >= 400 and error is None:
        error = {"message": f"HTTP {status_code}", "code": f"http_{status_code}"}
    if isinstance(error, str):
        error = {"message": error}
    request_id = headers.get("x-request-id") or extra.get("request_id")
    event_id = resp.get("id") or request_id or extra.get("id")
    if event_id is None:
        event_id = (
            "openai:" + hashlib.sha1(compact_json([req, resp, error]).encode()).hexdigest()[:24]
        )
    metadata = req.get("metadata") if isinstance(req.get("metadata"), dict) else {}
    latency = values.as_float(extra.get("latency_ms") or extra.get("duration_ms"))
    if latency is None and headers.get("openai-processing-ms") is not None:
        latency = values.as_float(headers["openai-processing-ms"])
    return {
        "event_id": str(event_id),
        "trace_id": metadata.get("trace_id"),
        "ts": ts,
        "kind": "llm",
        "name": "responses" if is_responses else "chat.completions",
        "provider": "openai",
        "model": model,
        "model_requested": req.get("model"),
        "input_messages": in_msgs,
        "output_messages": out_msgs,
        "input_text": last_user_text(in_msgs),
        "output_text": first_output_text(out_msgs),
        "params": otel_attrs.canonical_params(
            {k: v for k, v in req.items() if k not in ("messages", "input", "model", "tools")}
        ),
        "tokens_in": t_in,
        "tokens_out": t_out,
        "tokens_cache_read": cache,
        "tokens_reasoning": reasoning,
        **otel_attrs.cost_fields(model, t_in, t_out, cache),
        "latency_ms": latency,
        "status": "error" if error else "ok",
        "error_type": (error.get("code") or error.get("type") or "error") if error else None,
        "error_message": error.get("message") if error else None,
        "user_id": req.get("user") or req.get("safety_identifier") or metadata.get("user_id"),
        "session_id": metadata.get("session_id") or metadata.get("conversation_id"),
        "tags": [
            f"{k}:{v}"
            for k, v in metadata.items()
            if k not in ("user_id", "session_id", "conversation_id", "trace_id")
        ]
        or None,  # fmt: skip
        "source_format": "openai",
    }


def _line_row(item: Any, fallback_ts) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError("record is not a JSON object")
    if "request" in item or "response" in item:
        req = _body(item.get("request"))
        if isinstance(req, dict) and isinstance(req.get("body"), dict | str) and "url" in req:
            req = _body(req["body"])
        resp = _body(item.get("response"))
        status = item.get("status_code")
        if isinstance(resp, dict) and "body" in resp and "status_code" in resp:
            status, resp = resp["status_code"], _body(resp["body"])
        if not isinstance(req, dict | None) or not isinstance(resp, dict | list | None):
            raise ValueError("request/response are not JSON objects")
        extra = {
            k: item.get(k)
            for k in ("ts", "timestamp", "latency_ms", "duration_ms", "id", "request_id")
        }
        extra["ts"] = extra["ts"] or extra.pop("timestamp")
        return exchange_row(req, resp, error=item.get("error"), status_code=status,
                            fallback_ts=fallback_ts, extra=extra)  # fmt: skip
    if item.get("object") in ("chat.completion", "response") or "choices" in item:
        return exchange_row(None, item, fallback_ts=fallback_ts)
    if item.get("object") == "chat.completion.chunk":
        raise ValueError("a lone stream chunk (log the chunks of one call as a list)")
    raise ValueError("neither {request, response}, a request with its error, nor a response object")


def read(path: Path, data: bytes) -> ParsedFile:
    out = ParsedFile(source_format="openai")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc})") from exc
    fallback = file_time(path)
    try:
        docs: list[tuple[int | None, Any]] = [(None, json.loads(text))]
    except ValueError as exc:
        docs = json_lines(path, text, out, exc)
    for line_no, doc in docs:
        items = doc if isinstance(doc, list) and doc and isinstance(doc[0], dict) and doc[0].get(
            "object") != "chat.completion.chunk" else [doc]  # fmt: skip
        for index, item in enumerate(items, start=1):
            out.records_read += 1
            try:
                out.events.append({**_line_row(item, fallback), "raw": item})
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                out.rejects.append(Reject(line_no or index, str(exc), compact_json(item)[:2000]))
    return out


def read_cassette(path: Path, data: bytes) -> ParsedFile:
    """A VCR cassette (YAML `interactions: [{request, response}]`) as a request/response log."""
    import yaml  # only cassettes need it

    out = ParsedFile(source_format="openai")
    try:
        doc = yaml.safe_load(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: not a readable YAML cassette ({exc})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("interactions"), list):
        raise InputError(f"{path}: a cassette needs a top-level `interactions` list")
    fallback = file_time(path)
    for index, inter in enumerate(doc["interactions"], start=1):
        out.records_read += 1
        try:
            req, resp = inter["request"], inter["response"]
            uri = str(req.get("uri") or "")
            if not uri.endswith(("/chat/completions", "/responses")):
                raise ValueError(f"not a Chat Completions or Responses call: {uri}")
            row = exchange_row(
                _body(req.get("body")),
                _body(resp.get("body")),
                status_code=(resp.get("status") or {}).get("code"),
                headers=resp.get("headers"),
                fallback_ts=fallback,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            out.rejects.append(Reject(index, f"interaction: {exc}", str(inter)[:2000]))
            continue
        row["raw"] = {"request": {k: v for k, v in inter["request"].items() if k != "headers"},
                      "response": inter["response"]}  # fmt: skip
        out.events.append(row)
    return out
