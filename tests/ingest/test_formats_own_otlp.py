"""The project's own OTLP-family fixtures (tests/data/otlp, tests/data/vercel, made by
tests/data/make_otlp.py and make_vercel.py from the real SDKs): attribute maps in three
conventions, an OpenInference TracesData document, LangSmith's OTel export, the layout file, and
Vercel AI SDK spans as ReadableSpans and as OTLP/JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.formats import detect_format, read_foreign
from ingest.records import ParsedFile
from tests.conftest import DATA

ANSWER = "It is rainy in Paris, 14°C."
PARITY = ["otlp/attrs_openai_v2.json", "otlp/attrs_openinference.json",
          "otlp/attrs_langsmith_otel.json"]  # fmt: skip


def parse(rel: str) -> ParsedFile:
    path = DATA / rel
    data = path.read_bytes()
    assert detect_format(path, data[:65536]) == "otlp", rel
    parsed = read_foreign("otlp", path, data)
    assert parsed.rejects == [], rel
    return parsed


def history(arguments: str) -> list[dict]:
    call = {"type": "function", "function": {"arguments": arguments}}
    return [
        {"role": "system", "content": "You answer in one sentence."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {**call, "id": "call_0001", "function": {**call["function"], "name": "get_weather"}},
            {**call, "id": "call_0002",
             "function": {**call["function"], "name": "get_population"}}]},
        {"role": "tool", "content": "rainy, 14°C", "tool_call_id": "call_0001"},
        {"role": "tool", "content": "2.1 million", "tool_call_id": "call_0002"},
    ]  # fmt: skip


@pytest.mark.parametrize("rel", PARITY)
def test_one_call_as_an_attribute_map_in_three_conventions(rel):
    (row,) = parse(rel).events
    assert (row["kind"], row["provider"], row["status"]) == ("llm", "openai", "ok")
    assert (row["model"], row["model_requested"]) == ("gpt-4o-mini-2024-07-18", "gpt-4o-mini")
    assert (row["tokens_in"], row["tokens_out"]) == (144, 10)
    # gpt-4o-mini: $0.15 in / $0.60 out per 1M
    assert row["cost_usd"] == pytest.approx((144 * 0.15 + 10 * 0.60) / 1e6)
    assert row["cost_source"] == "computed"
    assert row["output_messages"] == [{"role": "assistant", "content": ANSWER}]
    assert (row["input_text"], row["output_text"]) == ("Weather in Paris?", ANSWER)
    # OTel parts carry arguments as objects (written back compactly); the others keep the
    # string the SDK sent
    spacing = '{"city":"Paris"}' if "openai_v2" in rel else '{"city": "Paris"}'
    assert row["input_messages"] == history(spacing)
    expected = None if "langsmith" in rel else {"temperature": 0.2, "max_tokens": 100}
    assert row["params"] == expected
    # no clock in an attribute map: the file's modification time
    mtime = int((DATA / rel).stat().st_mtime)
    assert row["ts"] == datetime.fromtimestamp(mtime, tz=UTC)


def test_attribute_maps_with_the_same_content_share_an_event_id():
    ids = [parse(rel).events[0]["event_id"] for rel in PARITY]
    # OpenInference and LangSmith write the same argument string, so the same (model, input,
    # output) hash; OTel's compact arguments make a different input
    assert ids[1] == ids[2] != ids[0]


def by_id(parsed: ParsedFile) -> dict[str, dict]:
    return {e["event_id"]: e for e in parsed.events}


SPAN_IDS = ("0000000000001002", "0000000000001004", "0000000000001006", "0000000000001008")


def test_openinference_traces_document():
    parsed = parse("otlp/openinference.traces.json")
    rows = by_id(parsed)
    assert sorted(rows) == list(SPAN_IDS) and parsed.records_read == 4
    tools, answer, stream, missing = (rows[i] for i in SPAN_IDS)
    assert {r["name"] for r in rows.values()} == {"ChatCompletion"}
    assert (tools["tokens_in"], tools["tokens_out"], tools["output_text"]) == (18, 24, None)
    calls = tools["output_messages"][0]["tool_calls"]
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in calls] == [
        ("call_0001", "get_weather", '{"city": "Paris"}'),
        ("call_0002", "get_population", '{"city": "Paris"}'),
    ]
    assert answer["input_messages"] == history('{"city": "Paris"}')
    assert (answer["tokens_in"], answer["tokens_out"], answer["tokens_cache_read"]) == (144, 10, 0)
    assert (stream["model"], stream["output_text"], stream["params"]) == (
        "gpt-4", "This is a test.", {"stream": True})  # fmt: skip
    assert (stream["tokens_in"], stream["tokens_out"]) == (9, 5)
    assert stream["cost_usd"] == pytest.approx((9 * 30 + 5 * 60) / 1e6)
    # exception.type is the qualified class name: the class alone, as the other conventions give
    assert (missing["status"], missing["error_type"]) == ("error", "NotFoundError")
    assert missing["error_message"].startswith("NotFoundError: Error code: 404 - The model")
    assert missing["tokens_in"] is None and missing["cost_usd"] is None
    for row in rows.values():
        assert row["trace_id"] == f"{int(row['event_id'], 16) - 0x1001 + 0xABC0000:032x}"
        assert (row["parent_id"], row["environment"]) == (None, "fixtures")


MISSING_MESSAGE = ("Error code: 404 - The model `this-model-does-not-exist` does not exist or "
                   "you do not have access to it.")  # fmt: skip


def test_the_404_call_reads_the_same_in_three_conventions():
    # openai-v2 writes error.type "<class 'openai.NotFoundError'>" (current and deprecated),
    # OpenInference an exception event with exception.type "openai.NotFoundError"
    got = []
    for rel in ("otlp/openai_v2_current.traces.jsonl", "otlp/openai_v2_deprecated.traces.jsonl",
                "otlp/openinference.traces.json"):  # fmt: skip
        missing = by_id(parse(rel))[SPAN_IDS[3]]
        assert missing["error_message"].endswith(MISSING_MESSAGE), rel
        keys = ("kind", "status", "error_type", "model_requested", "tokens_in", "cost_usd")
        got.append(tuple(missing[k] for k in keys))
    assert got == [("llm", "error", "NotFoundError", "this-model-does-not-exist", None, None)] * 3


def test_langsmith_otel_export_with_deprecated_prompt_and_completion():
    rows = by_id(parse("otlp/langsmith_otel.traces.jsonl"))
    assert sorted(rows) == list(SPAN_IDS)
    tools, answer, stream, missing = (rows[i] for i in SPAN_IDS)
    assert {r["name"] for r in rows.values()} == {"ChatOpenAI"}
    # the completion is the whole ChatCompletion LangSmith recorded as the run's outputs
    assert [c["function"]["name"] for c in tools["output_messages"][0]["tool_calls"]] == [
        "get_weather", "get_population"]  # fmt: skip
    assert (answer["output_text"], answer["tokens_in"], answer["tokens_out"]) == (ANSWER, 144, 10)
    assert answer["input_messages"] == history('{"city": "Paris"}')
    assert (stream["output_text"], stream["model"]) == ("This is a test.", "gpt-4")
    assert (missing["status"], missing["error_type"], missing["output_messages"]) == (
        "error", "Exception", None)  # fmt: skip


def test_layout_of_a_plain_sdk_trace():
    parsed = parse("otlp/layout.traces.json")
    assert parsed.feedback == []
    root, child = (by_id(parsed)[i] for i in ("0000000000001002", "0000000000001003"))
    assert root["trace_id"] == child["trace_id"] == "0000000000000000000000000abc0001"
    assert (root["name"], root["kind"], root["parent_id"], root["status"]) == (
        "GET /reviews", "other", None, "ok")  # fmt: skip
    assert (child["name"], child["parent_id"]) == ("load reviews", "0000000000001002")
    assert (child["status"], child["error_type"], child["error_message"]) == (
        "error", "error", "database is locked")  # fmt: skip
    assert root["ts"] == datetime.fromtimestamp(1796161672960101387 // 1000 / 1e6, tz=UTC)
    assert root["latency_ms"] == pytest.approx(0.153172)
    assert root["raw"]["span"]["kind"] == 2 and child["raw"]["span"]["kind"] == 1
    assert root["raw"]["scope"] == {"name": "fixtures.layout", "version": "1.0"}
    assert child["raw"]["span"]["events"][0]["name"] == "retry"


VERCEL = ["vercel/ai-sdk.otlp.json", "vercel/ai-sdk.readable-spans.json"]


@pytest.mark.parametrize("rel", VERCEL)
def test_vercel_ai_sdk_spans(rel):
    parsed = parse(rel)
    assert parsed.records_read == 10 and len(parsed.events) == 10
    kinds = sorted(e["kind"] for e in parsed.events)
    assert kinds == ["chain"] * 4 + ["embedding", "llm", "llm", "llm", "llm", "tool"]
    llm = [e for e in parsed.events if e["kind"] == "llm"]
    got = [(e["name"], e["model"], e["tokens_in"], e["tokens_out"], e["input_text"],
            e["output_text"]) for e in llm]  # fmt: skip
    assert got == [
        ("ai.generateText.doGenerate", "gpt-4o-mini-2024-07-18", 17, 13,
         "Write a haiku about ducks.",
         "Still pond at dawn,\nducks draw lines on silver glass,\nripples"),
        ("ai.generateText.doGenerate", "gpt-4o-mini-2024-07-18", 8, 12, "Weather in Paris?", None),
        ("ai.generateText.doGenerate", "gpt-4o-mini-2024-07-18", 76, 10, "Weather in Paris?",
         ANSWER),
        ("ai.streamText.doStream", "gpt-4", 9, 5, "Say this is a test", "This is a test."),
    ]  # fmt: skip
    haiku = llm[0]
    assert haiku["input_messages"][0] == {"role": "system", "content": "Be short."}
    assert haiku["cost_usd"] == pytest.approx((17 * 0.15 + 13 * 0.60) / 1e6)
    call = llm[1]["output_messages"][0]["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert llm[3]["ttft_ms"] is not None and llm[3]["ttft_ms"] > 0
    for row in parsed.events:
        assert (row["user_id"], row["session_id"]) == ("user-3", "s-3")
    # wrappers repeat their children's usage: chain, so the tokens are counted once
    wrapper = next(e for e in parsed.events if e["name"] == "ai.generateText"
                   and e["input_text"] == "Weather in Paris?")  # fmt: skip
    assert (wrapper["kind"], wrapper["tokens_in"], wrapper["tokens_out"]) == ("chain", 84, 22)
    children = [e for e in parsed.events if e["parent_id"] == wrapper["event_id"]]
    assert sorted(e["kind"] for e in children) == ["llm", "llm", "tool"]
    embed = next(e for e in parsed.events if e["kind"] == "embedding")
    assert (embed["model"], embed["tokens_in"]) == ("text-embedding-3-small", 2)


def test_readable_spans_equal_their_otlp_encoding():
    a, b = (parse(rel) for rel in VERCEL)
    strip = [{k: v for k, v in e.items() if k != "raw"} for e in a.events]
    assert strip == [{k: v for k, v in e.items() if k != "raw"} for e in b.events]


def test_langfuse_sdk_otlp_export_base64_ids_and_enum_names():
    # protobuf's json_format output, unchanged: base64 ids, "SPAN_KIND_…" names
    text = (DATA / "langfuse/otel.traces.jsonl").read_text()
    assert '"kind": "SPAN_KIND_INTERNAL"' in text or '"kind":"SPAN_KIND_INTERNAL"' in text
    parsed = parse("langfuse/otel.traces.jsonl")
    rows = {e["name"]: e for e in parsed.events if e["kind"] != "llm"}
    root, tool = rows["weather-agent"], rows["get_weather"]
    assert (root["kind"], tool["kind"]) == ("agent", "tool")
    assert len(root["event_id"]) == 16 and len(root["trace_id"]) == 32
    assert tool["parent_id"] == root["event_id"] and root["parent_id"] is None
    llm = [e for e in parsed.events if e["kind"] == "llm"]
    assert [e["model"] for e in llm] == [
        "gpt-4o-mini-2024-07-18",
        "gpt-4o-mini-2024-07-18",
        "gpt-4",
        "this-model-does-not-exist",
        "gpt-4o",
    ]
    assert [e["output_text"] for e in llm] == [None, ANSWER, "This is a test.", None, "Rainy."]
    assert llm[3]["status"] == "error" and "404" in llm[3]["error_message"]
    # usage and cost only in langfuse.observation.usage_details / cost_details (JSON strings):
    # the OpenAI integration passes OpenAI's usage on, the application's generation Langfuse keys
    usage = [(e["tokens_in"], e["tokens_out"], e["tokens_cache_read"], e["tokens_reasoning"])
             for e in llm]  # fmt: skip
    assert usage == [(18, 24, 0, 0), (144, 10, 0, 0), (9, 5, 0, 0), (None, None, None, None),
                     (30, 2, 10, None)]  # fmt: skip
    costs = [(e["cost_usd"], e["cost_source"]) for e in llm]
    assert costs == [
        (pytest.approx((18 * 0.15 + 24 * 0.60) / 1e6), "computed"),
        (pytest.approx((144 * 0.15 + 10 * 0.60) / 1e6), "computed"),
        (pytest.approx((9 * 30 + 5 * 60) / 1e6), "computed"),
        (None, None),  # the SDK's all-zero cost_details of the failed call is no cost
        (0.0000825, "provided"),  # the application's cost_details total
    ]
    for row in parsed.events:
        assert (row["user_id"], row["session_id"], row["environment"]) == (
            "user-5", "session-5", "fixtures")  # fmt: skip
        assert row["tags"] == ["fixtures", "weather"]


def test_pydantic_ai_with_messages_in_an_events_attribute():
    # pydantic-ai 0.2.16 (event_mode='attributes'): ≤1.36 conventions, gen_ai.system, and the
    # per-message events as a JSON array in the span's `events` attribute
    parsed = parse("otlp/pydantic_ai_events.traces.json")
    rows = by_id(parsed)
    assert sorted(rows) == [f"{0x1002 + i:016x}" for i in range(5)]
    run, tools_span, tool, ask, answer = (rows[f"{0x1002 + i:016x}"] for i in (0, 2, 3, 1, 4))
    assert (run["name"], run["kind"], run["parent_id"]) == ("agent run", "other", None)
    # the run repeats its calls' usage; it is no LLM call, so the tokens count once
    assert (run["tokens_in"], run["tokens_out"], run["cost_usd"]) == (102, 22, None)
    assert (tool["name"], tool["kind"], tool["parent_id"]) == (
        "running tool", "tool", tools_span["event_id"])  # fmt: skip
    assert tools_span["kind"] == "other" and tools_span["parent_id"] == run["event_id"]
    for call in (ask, answer):
        assert (call["name"], call["kind"], call["provider"]) == ("chat gpt-4o", "llm", "openai")
        assert (call["model"], call["model_requested"]) == ("gpt-4o-2024-08-06", "gpt-4o")
        assert call["params"] == {"temperature": 0.2, "max_tokens": 100}
        assert (call["parent_id"], call["status"]) == (run["event_id"], "ok")
    assert (ask["tokens_in"], ask["tokens_out"], answer["tokens_in"], answer["tokens_out"]) == (
        18, 12, 84, 10)  # fmt: skip
    # gpt-4o: $2.50 in / $10 out per 1M
    assert ask["cost_usd"] == pytest.approx((18 * 2.5 + 12 * 10) / 1e6)
    assert answer["cost_usd"] == pytest.approx((84 * 2.5 + 10 * 10) / 1e6)
    assert ask["output_messages"] == [{"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_0001", "type": "function",
         "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}]  # fmt: skip
    assert answer["input_messages"] == [
        {"role": "system", "content": "You answer in one sentence."},
        {"role": "user", "content": "Weather in Paris?"},
        *ask["output_messages"],
        {"role": "tool", "content": "rainy, 14°C", "tool_call_id": "call_0001"},
    ]
    assert (answer["input_text"], answer["output_text"]) == ("Weather in Paris?", ANSWER)
    assert {r["trace_id"] for r in rows.values()} == {f"{0xABC0001:032x}"}


def test_openai_agents_sdk_under_openinference():
    # openai-agents + openinference-instrumentation-openai-agents: Responses API, one tool call
    rows = by_id(parse("otlp/openai_agents_openinference.traces.json"))
    kinds = {r["name"]: r["kind"] for r in rows.values()}
    assert sorted((r["name"], r["kind"]) for r in rows.values()) == [
        ("Agent workflow", "agent"), ("Agent workflow", "chain"), ("Weather agent", "agent"),
        ("get_weather", "tool"), ("response", "llm"), ("response", "llm"), ("turn", "chain"),
        ("turn", "chain")]  # fmt: skip
    assert kinds["get_weather"] == "tool"
    ask, answer = rows["0000000000001006"], rows["0000000000001009"]
    tool = rows["0000000000001007"]
    assert tool["parent_id"] == ask["parent_id"]  # the tool runs in the turn that asked for it
    for call in (ask, answer):
        assert (call["provider"], call["status"]) == ("openai", "ok")
        # OpenInference's invocation parameters are the response's: the snapshot as requested
        assert call["model"] == call["model_requested"] == "gpt-4.1-2025-04-14"
        assert call["params"] == {"temperature": 0.2, "top_p": 1.0, "tool_choice": "auto",
                                  "parallel_tool_calls": True}  # fmt: skip
        assert (call["tokens_cache_read"], call["tokens_reasoning"]) == (0, 0)
    assert (ask["tokens_in"], ask["tokens_out"], answer["tokens_in"], answer["tokens_out"]) == (
        10, 12, 15, 10)  # fmt: skip
    # gpt-4.1: $2 in / $8 out per 1M
    assert ask["cost_usd"] == pytest.approx((10 * 2 + 12 * 8) / 1e6)
    assert answer["cost_usd"] == pytest.approx((15 * 2 + 10 * 8) / 1e6)
    calls = ask["output_messages"][0]["tool_calls"]
    assert [(c["id"], c["function"]) for c in calls] == [
        ("call_0002", {"name": "get_weather", "arguments": '{"city": "Paris"}'})]  # fmt: skip
    assert answer["input_messages"] == [
        {"role": "system", "content": "You answer in one sentence."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "content": "rainy, 14°C", "tool_call_id": "call_0002"},
    ]
    assert (answer["input_text"], answer["output_text"]) == ("Weather in Paris?", ANSWER)
    assert rows["0000000000001002"]["parent_id"] is None
