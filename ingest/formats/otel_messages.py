"""Chat messages of an OTel span, from whichever convention carried them.

Current OTel (`gen_ai.input.messages` / `gen_ai.output.messages`, JSON string or structured),
deprecated OTel (`gen_ai.prompt`/`gen_ai.completion`, indexed `gen_ai.prompt.N.*`, per-message
events on the span, in logs or in Pydantic AI's `events` attribute), OpenInference
(`llm.input_messages.N.message.*`) and vendor keys (Vercel `ai.prompt.messages`,
`ai.response.text`, Traceloop and Langfuse entity input/output), tried in that order.
"""

from __future__ import annotations

from typing import Any

from ingest.formats.messages import maybe_json, to_chat, tool_calls_output
from ingest.formats.values import first, unflatten

Attrs = dict[str, Any]


_EVENT_ENVELOPE = {"name", "time", "body", "trace_id", "raw", "event.name", "gen_ai.system"}
_EVENT_ROLES = {"gen_ai.system.message", "gen_ai.user.message", "gen_ai.assistant.message",
                "gen_ai.tool.message"}  # fmt: skip


def _messages_from_events(events: list[dict[str, Any]]) -> tuple[list, list]:
    """Deprecated per-message events (span events, log records or Pydantic AI's `events`)."""
    inputs, outputs = [], []
    for ev in events:
        if not isinstance(ev, dict):
            continue
        name = ev.get("event.name") or ev.get("name")
        body = ev.get("body") if isinstance(ev.get("body"), dict) else ev
        msg = {
            k: maybe_json(v) if k in ("message", "tool_calls") else v
            for k, v in body.items()
            if k not in _EVENT_ENVELOPE
        }
        if name == "gen_ai.choice":
            outputs.extend(to_chat(msg) or [])
        elif name in _EVENT_ROLES:
            msg["event.name"] = name
            inputs.extend(to_chat([msg]) or [])
    return inputs, outputs


def _indexed(attrs: Attrs, prefix: str) -> list[dict[str, Any]] | None:
    """Traceloop's `gen_ai.prompt.N.role/content` indexed form."""
    if f"{prefix}.0.role" not in attrs and f"{prefix}.0.content" not in attrs:
        return None
    items = unflatten(attrs, prefix)
    msgs = []
    for item in items:
        if not isinstance(item, dict):
            continue
        msg = {"role": item.get("role") or ("assistant" if "completion" in prefix else "user"),
               "content": item.get("content")}  # fmt: skip
        if item.get("tool_calls"):
            msg["tool_calls"] = item["tool_calls"]
        if item.get("tool_call_id"):
            msg["tool_call_id"] = item["tool_call_id"]
        msgs.append(msg)
    return to_chat(msgs)


def _system(value: Any) -> list[dict[str, Any]]:
    value = maybe_json(value)
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": "system", "content": value}]
    if isinstance(value, list):
        return to_chat([{"role": "system", "parts": value}]) or []
    return []


def _as_output(msgs: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """A bare completion string reads as a user turn: it is the assistant's."""
    if not msgs:
        return msgs
    return [{**m, "role": "assistant"} if m.get("role") == "user" else m for m in msgs]


def messages_of(attrs: Attrs, span_events: list[dict[str, Any]] | None) -> tuple[Any, Any]:
    # 1. current OTel
    inputs = (
        to_chat(attrs.get("gen_ai.input.messages")) if "gen_ai.input.messages" in attrs else None
    )
    outputs = (
        to_chat(attrs.get("gen_ai.output.messages")) if "gen_ai.output.messages" in attrs else None
    )
    system = _system(attrs.get("gen_ai.system_instructions"))
    if system and inputs is not None and not any(m.get("role") == "system" for m in inputs):
        inputs = system + inputs
    elif system and inputs is None:
        inputs = system
    # 2. deprecated OTel: JSON strings, indexed keys, per-message events
    if inputs is None:
        inputs = to_chat(attrs.get("gen_ai.prompt")) or _indexed(attrs, "gen_ai.prompt")
    if outputs is None:
        completion = maybe_json(attrs.get("gen_ai.completion"))
        # `{text}` / `{content}` (OpenLIT, Traceloop); a whole ChatCompletion or Responses object
        # (LangSmith's OTel exporter writes the run's outputs) goes to to_chat like a message.
        shaped = {"role", "parts", "choices", "messages", "output"}
        if isinstance(completion, dict) and not shaped & completion.keys():
            text = completion.get("text", completion.get("content"))
            outputs = [{"role": "assistant", "content": text}] if text is not None else None
        else:
            outputs = to_chat(completion) if completion is not None else None
        if outputs is None:
            outputs = _indexed(attrs, "gen_ai.completion")
        if outputs:
            outputs = [{**m, "role": m.get("role") or "assistant"} for m in outputs]
    if inputs is None or outputs is None:
        evs = list(span_events or [])
        evs += [e for e in maybe_json(attrs.get("events")) or [] if isinstance(e, dict)]
        if evs:
            ev_in, ev_out = _messages_from_events(evs)
            inputs = inputs if inputs is not None else (ev_in or None)
            outputs = outputs if outputs is not None else (ev_out or None)
        for ev in span_events or []:  # OpenLIT: gen_ai.content.prompt / .completion events
            if inputs is None and ev.get("name") == "gen_ai.content.prompt":
                inputs = to_chat(ev.get("gen_ai.prompt"))
            if outputs is None and ev.get("name") == "gen_ai.content.completion":
                outputs = _as_output(to_chat(ev.get("gen_ai.completion")))
    # 3. OpenInference
    if inputs is None and "llm.input_messages.0.message.role" in attrs:
        inputs = to_chat(
            [
                m.get("message", m)
                for m in unflatten(attrs, "llm.input_messages")
                if isinstance(m, dict)
            ]
        )
    if outputs is None and "llm.output_messages.0.message.role" in attrs:
        outputs = to_chat(
            [
                m.get("message", m)
                for m in unflatten(attrs, "llm.output_messages")
                if isinstance(m, dict)
            ]
        )
    if inputs is None and "llm.prompts.0.prompt.text" in attrs:
        prompts = unflatten(attrs, "llm.prompts")
        inputs = [{"role": "user", "content": p.get("prompt", {}).get("text")} for p in prompts]
    if outputs is None and "llm.choices.0.completion.text" in attrs:
        choices = unflatten(attrs, "llm.choices")
        outputs = [
            {"role": "assistant", "content": c.get("completion", {}).get("text")} for c in choices
        ]
    # 4. vendor keys
    if inputs is None:
        prompt = maybe_json(
            first(
                attrs,
                "ai.prompt.messages",
                "ai.prompt",
                "traceloop.entity.input",
                "langfuse.observation.input",
            )  # fmt: skip
        )
        if isinstance(prompt, dict) and isinstance(prompt.get("messages"), list):
            msgs = prompt["messages"]
            if prompt.get("system"):
                msgs = [{"role": "system", "content": prompt["system"]}, *msgs]
            inputs = to_chat(msgs)
        elif prompt is not None:
            inputs = to_chat(prompt)
    if outputs is None:
        text = attrs.get("ai.response.text")
        if text is None and attrs.get("ai.response.object") is not None:
            text = attrs["ai.response.object"]
        calls = tool_calls_output(attrs.get("ai.response.toolCalls"))
        if text is not None:
            outputs = [{"role": "assistant", "content": text}]
            if calls:
                outputs[0]["tool_calls"] = calls[0]["tool_calls"]
        elif calls:
            outputs = calls
        else:
            out = first(attrs, "traceloop.entity.output", "langfuse.observation.output")
            outputs = to_chat(out) if out is not None else None
            if outputs:
                outputs = [
                    {**m, "role": "assistant"} if m.get("role") == "user" else m for m in outputs
                ]
    return inputs, outputs
