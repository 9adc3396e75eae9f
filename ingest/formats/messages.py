"""Normalise chat messages from every producer to OpenAI Chat Completions form.

docs/schema.md stores messages as `[{role, content, tool_calls?, tool_call_id?, name?}]` so the
playground can replay a call as it was. Producers write: OpenAI chat messages, OTel GenAI
`{role, parts[]}`, the deprecated per-message events (`gen_ai.user.message`, `gen_ai.choice`),
OpenAI Responses API items (`function_call`, `function_call_output`), Vercel AI SDK content
parts (`tool-call`, `tool-result`) and OpenInference's flattened `message.*` keys. `to_chat`
accepts any of them (or a JSON string of them) and never raises: what it cannot read becomes a
message holding the value as text, so nothing is silently dropped.
"""

from __future__ import annotations

import json
from typing import Any

try:  # orjson parses the JSON-in-JSON message strings of big OTLP files several times faster
    from orjson import JSONDecodeError as _OrjsonError
    from orjson import loads as _orjson_loads

    def loads(text: str | bytes) -> Any:
        try:
            return _orjson_loads(text)
        except _OrjsonError as exc:  # a ValueError subclass, but keep json's message style
            raise ValueError(str(exc)) from None

except ImportError:  # pragma: no cover - orjson is optional
    loads = json.loads

Message = dict[str, Any]

_ROLE_OF_EVENT = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
_TEXT_TYPES = {"text", "input_text", "output_text", "refusal", "reasoning"}


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def maybe_json(value: Any) -> Any:
    """Decode a JSON string holding an object or array; anything else is returned as is."""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("[", "{"):
            try:
                return loads(text)
            except ValueError:
                return value
    return value


def _arguments(value: Any) -> str:
    if value is None:
        return "{}"
    return value if isinstance(value, str) else compact_json(value)


def _tool_call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    return {
        "id": None if call_id is None else str(call_id),
        "type": "function",
        "function": {"name": name, "arguments": _arguments(arguments)},
    }


def _norm_tool_calls(calls: Any) -> list[dict[str, Any]]:
    out = []
    for call in calls if isinstance(calls, list) else []:
        if not isinstance(call, dict):
            continue
        call = call.get("tool_call", call)  # OpenInference nesting
        fn = call.get("function") if isinstance(call.get("function"), dict) else {}
        out.append(
            _tool_call(
                call.get("id") or call.get("toolCallId") or call.get("call_id"),
                fn.get("name") or call.get("name") or call.get("toolName"),
                fn.get("arguments", call.get("arguments", call.get("args", call.get("input")))),
            )
        )
    return out


def _content(parts: list[Any]) -> tuple[Any, list[dict[str, Any]], list[Message]]:
    """(content, tool_calls, tool results) from a list of content parts of any producer."""
    texts: list[str] = []
    rich: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    results: list[Message] = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
            rich.append({"type": "text", "text": part})
            continue
        if not isinstance(part, dict):
            continue
        part = part.get("message_content", part)  # OpenInference nesting
        kind = part.get("type")
        if kind in _TEXT_TYPES or (kind is None and ("text" in part or "content" in part)):
            text = part.get("text", part.get("content"))
            if text is not None:
                texts.append(str(text))
                rich.append({"type": "text", "text": str(text)})
        elif kind in ("tool_call", "tool-call", "function_call"):
            calls.append(
                _tool_call(
                    part.get("id") or part.get("toolCallId") or part.get("call_id"),
                    part.get("name") or part.get("toolName"),
                    part.get("arguments", part.get("args", part.get("input"))),
                )
            )
        elif kind in ("tool_call_response", "tool-result", "function_call_output"):
            result = part.get("response", part.get("result", part.get("output")))
            if isinstance(result, dict) and "value" in result and "type" in result:
                result = result["value"]  # Vercel v5 {type:'text'|'json', value}
            results.append(
                {
                    "role": "tool",
                    "content": result if isinstance(result, str) else compact_json(result),
                    "tool_call_id": part.get("id") or part.get("toolCallId") or part.get("call_id"),
                }
            )
        elif kind in ("image_url", "image"):
            url = part.get("image_url") or part.get("image") or {}
            if isinstance(url, dict):
                url = url.get("url") or (url.get("image") or {}).get("url")
            rich.append({"type": "image_url", "image_url": {"url": url}})
        elif kind in ("uri", "blob", "file"):
            rich.append({"type": kind, **{k: v for k, v in part.items() if k != "type"}})
        else:
            rich.append(part)
    if len(rich) > len(texts):
        content: Any = rich
    elif texts:
        content = "\n".join(texts)
    else:
        content = None
    return content, calls, results


_SIMPLE_OTEL_KEYS = {"role", "parts", "finish_reason"}


def _simple_otel(raw: dict[str, Any]) -> Message | None:
    """Fast path for the commonest message of big files: OTel `{role, parts: [text…]}`."""
    parts = raw.get("parts")
    if type(parts) is not list or not parts or not raw.keys() <= _SIMPLE_OTEL_KEYS:
        return None
    role = raw.get("role")
    if type(role) is not str:
        return None
    texts = []
    for part in parts:
        if type(part) is not dict or len(part) != 2 or part.get("type") != "text":
            return None
        text = part.get("content")
        if type(text) is not str:
            return None
        texts.append(text)
    return {
        "role": "system" if role == "developer" else role,
        "content": texts[0] if len(texts) == 1 else "\n".join(texts),
    }


def _message(raw: dict[str, Any]) -> list[Message]:
    """One producer message → one or more chat messages (tool results split out)."""
    simple = _simple_otel(raw)
    if simple is not None:
        return [simple]
    if "message" in raw and isinstance(raw["message"], dict) and "role" not in raw:
        inner = dict(raw["message"])  # gen_ai.choice event, OpenInference, chat choice
        inner.setdefault("role", "assistant")
        return _message(inner)
    kind = raw.get("type")
    if kind == "function_call":
        return [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    _tool_call(
                        raw.get("call_id") or raw.get("id"), raw.get("name"), raw.get("arguments")
                    )
                ],
            }
        ]
    if kind == "function_call_output":
        output = raw.get("output")
        text = output if isinstance(output, str) else compact_json(output)
        return [{"role": "tool", "content": text, "tool_call_id": raw.get("call_id")}]
    if kind == "reasoning" and "role" not in raw:
        return []
    role = raw.get("role") or _ROLE_OF_EVENT.get(raw.get("event.name", "")) or "user"
    if role == "developer":
        role = "system"
    if "parts" in raw:
        content, calls, results = _content(raw["parts"] or [])
    elif isinstance(raw.get("contents"), list):
        content, calls, results = _content(raw["contents"])
        if content is None and raw.get("content") is not None:
            content = raw["content"]
    elif isinstance(raw.get("content"), list):
        content, calls, results = _content(raw["content"])
    else:
        content, calls, results = raw.get("content"), [], []
        if content is not None and not isinstance(content, str):
            content = compact_json(content)
    calls = _norm_tool_calls(raw.get("tool_calls")) + calls
    if raw.get("function_call_name"):  # OpenInference legacy function call
        calls.append(
            _tool_call(None, raw["function_call_name"], raw.get("function_call_arguments_json"))
        )
    out: list[Message] = []
    if role == "tool" and results and content is None and not calls:
        return results
    msg: Message = {"role": role, "content": content}
    if calls:
        msg["tool_calls"] = calls
    call_id = (
        raw.get("tool_call_id")
        or raw.get("toolCallId")
        or (raw.get("id") if role == "tool" else None)
    )
    if call_id is not None:
        msg["tool_call_id"] = str(call_id)
    if raw.get("name") and role != "tool":
        msg["name"] = raw["name"]
    if content is not None or calls or role == "tool":
        out.append(msg)
    out.extend(results)
    return out


def to_chat(value: Any) -> list[Message] | None:
    """Any message list (or single message, or JSON string of one) → chat messages, or None."""
    value = maybe_json(value)
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, dict):
        for key in ("messages", "input_messages"):
            if isinstance(value.get(key), list):
                return to_chat(value[key])
        if "choices" in value and isinstance(value["choices"], list):
            return to_chat([c for c in value["choices"] if isinstance(c, dict)])
        if isinstance(value.get("output"), list) and value.get("object") == "response":
            return to_chat(value["output"])
        if "prompt" in value and len(value) <= 2 and isinstance(value["prompt"], str):
            return [{"role": "user", "content": value["prompt"]}]
        if "text" in value and "role" not in value and "parts" not in value:
            return [{"role": "assistant", "content": value["text"]}]
        value = [value]
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if not isinstance(value, list):
        return [{"role": "user", "content": compact_json(value)}]
    out: list[Message] = []
    for item in value:
        if isinstance(item, dict):
            simple = _simple_otel(item)
            if simple is not None:  # never a tool call: nothing to merge with the last turn
                out.append(simple)
                continue
            for msg in _message(item):
                # Responses API: consecutive function_call items belong to one assistant turn.
                if (
                    out
                    and msg.get("role") == "assistant"
                    and msg.get("content") is None
                    and msg.get("tool_calls")
                    and out[-1].get("role") == "assistant"
                    and "tool_call_id" not in out[-1]
                ):
                    out[-1].setdefault("tool_calls", []).extend(msg["tool_calls"])
                    continue
                out.append(msg)
        elif isinstance(item, str):
            out.append({"role": "user", "content": item})
    return out or None


def tool_calls_output(value: Any) -> list[Message] | None:
    """Vercel `ai.response.toolCalls` / Langfuse tool-call outputs → one assistant message."""
    value = maybe_json(value)
    if not isinstance(value, list) or not value:
        return None
    calls = _norm_tool_calls(value)
    return [{"role": "assistant", "content": None, "tool_calls": calls}] if calls else None


def text_of(content: Any) -> str | None:
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "\n".join(t for t in texts if t) or None
    return str(content)


def last_user_text(messages: list[Message] | None) -> str | None:
    for msg in reversed(messages or []):
        if msg.get("role") == "user":
            return text_of(msg.get("content"))
    return None


def first_output_text(messages: list[Message] | None) -> str | None:
    for msg in messages or []:
        text = text_of(msg.get("content"))
        if text is not None:
            return text
    return None
