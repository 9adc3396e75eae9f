"""OTLP/JSON variants real exporters write, the dialects of GenAI attributes, feedback carriers."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from ingest.formats import detect_format, read_foreign


def kv(key, value):
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": value}}  # a JSON number, not a string
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, list):
        return {
            "key": key,
            "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}},
        }
    return {"key": key, "value": {"stringValue": value}}


def span(attrs, *, span_id="eee19b7ec3c1b174", events=(), links=(), **extra):
    return {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": span_id,
        "name": "chat gpt-4o",
        "kind": "SPAN_KIND_CLIENT",
        "startTimeUnixNano": 1700000000000000000,  # number, not string
        "endTimeUnixNano": "1700000001500000000",
        "attributes": [kv(k, v) for k, v in attrs.items()],
        "events": list(events),
        "links": list(links),
        **extra,
    }


def doc(*spans):
    return {"resourceSpans": [{"resource": {"attributes": [kv("service.name", "svc")]},
                               "scopeSpans": [{"scope": {"name": "t"}, "spans": list(spans)}]}]}  # fmt: skip  # noqa: E501


def read(tmp_path: Path, payload, name="t.json"):
    path = tmp_path / name
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    path.write_bytes(data)
    fmt = detect_format(path, data[:65536])
    assert fmt == "otlp"
    return read_foreign(fmt, path, data)


def test_base64_ids_enum_names_numbers(tmp_path):
    trace = bytes.fromhex("5b8efff798038103d269b633813fc60c")
    s = span({"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
              "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5},  # fmt: skip
             span_id=base64.b64encode(bytes.fromhex("eee19b7ec3c1b174")).decode(),
             status={"code": "STATUS_CODE_ERROR", "message": "boom"})  # fmt: skip
    s["traceId"] = base64.b64encode(trace).decode()
    parsed = read(tmp_path, doc(s))
    (row,) = parsed.events
    assert row["event_id"] == "eee19b7ec3c1b174"
    assert row["trace_id"] == "5b8efff798038103d269b633813fc60c"
    assert (row["status"], row["error_message"]) == ("error", "boom")
    assert row["latency_ms"] == 1500.0 and (row["tokens_in"], row["tokens_out"]) == (10, 5)


def test_precedence_current_over_deprecated_over_openinference_over_vendor(tmp_path):
    attrs = {
        "gen_ai.operation.name": "chat",
        "ai.model.id": "vendor-model",
        "llm.model_name": "oi-model",
        "gen_ai.response.model": "current-model",
        "gen_ai.system": "az.ai.openai",
        "llm.provider": "oi-provider",
        "gen_ai.usage.prompt_tokens": 7,
        "llm.token_count.prompt": 99,
        "gen_ai.usage.completion_tokens": 3,
        "session.id": "s-oi",
        "gen_ai.conversation.id": "s-current",
        "langfuse.user.id": "u-vendor",
        "tag.tags": ["a", "b"],
    }
    (row,) = read(tmp_path, doc(span(attrs))).events
    assert row["model"] == "current-model"
    assert row["provider"] == "azure.ai.openai"
    assert (row["tokens_in"], row["tokens_out"]) == (7, 3)
    assert (row["session_id"], row["user_id"], row["tags"]) == ("s-current", "u-vendor", ["a", "b"])


def test_indexed_prompt_and_openinference_numeric_order(tmp_path):
    attrs = {"gen_ai.system": "openai", "gen_ai.prompt.0.role": "system",
             "gen_ai.prompt.0.content": "be brief", "gen_ai.prompt.1.role": "user",
             "gen_ai.prompt.1.content": "hi", "gen_ai.completion.0.role": "assistant",
             "gen_ai.completion.0.content": "hello"}  # fmt: skip
    oi = {"openinference.span.kind": "LLM"}
    for i in range(12):  # 10 sorts before 2 as text: must come out in numeric order
        oi[f"llm.input_messages.{i}.message.role"] = "user"
        oi[f"llm.input_messages.{i}.message.content"] = f"m{i}"
    parsed = read(tmp_path, doc(span(attrs), span(oi, span_id="00000000000000aa")))
    a, b = parsed.events
    assert a["kind"] == "llm" and a["input_messages"] == [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]  # fmt: skip
    assert a["output_text"] == "hello"
    assert [m["content"] for m in b["input_messages"]] == [f"m{i}" for i in range(12)]


def test_deprecated_span_events_and_pydantic_events_attribute(tmp_path):
    events = [
        {"name": "gen_ai.user.message", "timeUnixNano": "1700000000000000001",
         "attributes": [kv("content", "what?")]},
        {"name": "gen_ai.choice", "timeUnixNano": "1700000000000000002",
         "attributes": [kv("index", 0), kv("message", json.dumps({"content": "that"}))]},
    ]  # fmt: skip
    pyd = json.dumps([{"event.name": "gen_ai.user.message", "role": "user", "content": "q"},
                      {"event.name": "gen_ai.choice", "index": 0,
                       "message": {"role": "assistant", "content": "a"}}])  # fmt: skip
    parsed = read(
        tmp_path,
        doc(span({"gen_ai.operation.name": "chat"}, events=events),
            span({"gen_ai.operation.name": "chat", "events": pyd}, span_id="00000000000000bb")),
    )  # fmt: skip
    a, b = parsed.events
    assert a["input_text"] == "what?"
    assert (b["input_text"], b["output_text"]) == ("q", "a")


def test_openlit_content_events(tmp_path):
    events = [
        {"name": "gen_ai.content.prompt", "timeUnixNano": "1700000000000000001",
         "attributes": [kv("gen_ai.prompt", "user: hello")]},
        {"name": "gen_ai.content.completion", "timeUnixNano": "1700000000000000002",
         "attributes": [kv("gen_ai.completion", "hi!")]},
    ]  # fmt: skip
    attrs = {"gen_ai.system": "openai", "gen_ai.usage.cost": 0.5, "gen_ai.request.model": "gpt-4o"}
    (row,) = read(tmp_path, doc(span(attrs, events=events))).events
    assert (row["input_text"], row["output_text"]) == ("user: hello", "hi!")
    assert row["output_messages"] == [{"role": "assistant", "content": "hi!"}]
    assert (row["cost_usd"], row["cost_source"]) == (0.5, "provided")


def test_evaluation_events_and_annotations_become_feedback(tmp_path):
    ev = {"name": "gen_ai.evaluation.result", "timeUnixNano": "1700000002000000000",
          "attributes": [kv("gen_ai.evaluation.name", "Relevance"),
                         kv("gen_ai.evaluation.score.value", 0.75),
                         kv("gen_ai.evaluation.explanation", "on topic")]}  # fmt: skip
    ann = {"openinference.span.kind": "EVALUATOR",
           "annotations.0.annotation.name": "helpful", "annotations.0.annotation.score": 1.0,
           "annotations.0.annotation.annotator_kind": "HUMAN",
           "trace.annotations.0.annotation.name": "resolved",
           "trace.annotations.0.annotation.label": "yes"}  # fmt: skip
    link = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174"}
    parsed = read(
        tmp_path,
        doc(span({"gen_ai.operation.name": "chat"}, events=[ev]),
            span(ann, span_id="00000000000000cc", links=[link])),
    )  # fmt: skip
    assert len(parsed.events) == 2  # the carrier span stays a row: traces stay whole
    fb = {f["name"]: f for f in parsed.feedback}
    assert fb["Relevance"]["event_id"] == "eee19b7ec3c1b174" and fb["Relevance"]["value"] == 0.75
    assert fb["Relevance"]["comment"] == "on topic" and fb["Relevance"]["source"] == "llm_judge"
    # post-hoc human annotation attaches to the linked span, not to its carrier
    assert fb["helpful"]["event_id"] == "eee19b7ec3c1b174" and fb["helpful"]["source"] == "reviewer"
    # a trace annotation attaches to the trace only
    assert fb["resolved"]["event_id"] is None and fb["resolved"]["label"] == "yes"
    assert fb["resolved"]["trace_id"] == "5b8efff798038103d269b633813fc60c"


def test_jsonl_of_tracesdata_and_logs(tmp_path):
    lines = [json.dumps(doc(span({"gen_ai.operation.name": "chat"}, span_id=f"{i:016x}")))
             for i in range(1, 4)]  # fmt: skip
    parsed = read(tmp_path, ("\n".join(lines) + "\n").encode(), "spans.jsonl")
    assert [e["event_id"] for e in parsed.events] == [f"{i:016x}" for i in range(1, 4)]
    logs = {"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": [
        {"timeUnixNano": "1700000000000000000", "eventName": "gen_ai.client.inference.operation.details",  # noqa: E501
         "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "00000000000000dd",
         "attributes": [kv("gen_ai.operation.name", "chat"), kv("gen_ai.request.model", "gpt-4o"),
                        kv("gen_ai.input.messages", json.dumps([{"role": "user", "parts": [
                            {"type": "text", "content": "hey"}]}]))]},
        {"timeUnixNano": "1700000001000000000", "eventName": "gen_ai.evaluation.result",
         "spanId": "00000000000000dd", "attributes": [kv("gen_ai.evaluation.name", "ok"),
                                                      kv("gen_ai.evaluation.score.label", "pass")]},
    ]}]}]}  # fmt: skip
    parsed = read(tmp_path, logs, "logs.json")
    (row,) = parsed.events
    assert (row["event_id"], row["model"], row["input_text"]) == (
        "00000000000000dd",
        "gpt-4o",
        "hey",
    )
    (fb,) = parsed.feedback
    assert (fb["event_id"], fb["label"], fb["kind"]) == ("00000000000000dd", "pass", "label")


def test_no_attribute_is_both_a_column_alias_and_a_parameter():
    # otel_attrs._scan reads each attribute once as one or the other.
    from ingest.formats import otel_attrs

    assert not set(otel_attrs._ALIAS_RANK) & set(otel_attrs._OTEL_PARAMS)
    assert not [k for k in otel_attrs._ALIAS_RANK if k.startswith("ai.settings.")]


def test_langfuse_usage_and_cost_details_have_the_lowest_precedence(tmp_path):
    usage = json.dumps({"input_tokens": 40, "output_tokens": 7,
                        "input_tokens_details": {"cached_tokens": 8},
                        "output_tokens_details": {"reasoning_tokens": 3}})  # fmt: skip
    only_langfuse = span({"langfuse.observation.type": "generation",
                          "langfuse.observation.model.name": "gpt-4o",
                          "langfuse.observation.usage_details": usage,
                          "langfuse.observation.cost_details": '{"input": 0.1, "output": 0.2}'},
                         span_id="eee19b7ec3c1b175")  # fmt: skip
    both = span({"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                 "gen_ai.usage.input_tokens": 12, "llm.cost.total": 0.5,
                 "langfuse.observation.usage_details": '{"input": 99, "output": 98}',
                 "langfuse.observation.cost_details": '{"total": 9.0}'},
                span_id="eee19b7ec3c1b176")  # fmt: skip
    rows = {e["event_id"]: e for e in read(tmp_path, doc(only_langfuse, both)).events}
    a, b = rows["eee19b7ec3c1b175"], rows["eee19b7ec3c1b176"]
    assert (a["kind"], a["tokens_in"], a["tokens_out"]) == ("llm", 40, 7)
    assert (a["tokens_cache_read"], a["tokens_reasoning"]) == (8, 3)
    assert (a["cost_usd"], a["cost_source"]) == (0.1 + 0.2, "provided")  # no total: the parts
    # OTel's input tokens and OpenInference's cost win; the unset output falls to Langfuse's
    assert (b["tokens_in"], b["tokens_out"], b["cost_usd"]) == (12, 98, 0.5)
