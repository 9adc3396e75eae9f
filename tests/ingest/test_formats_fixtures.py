"""Cross-check: every real file in ../shared/fixtures (written by other projects) ingests with exact
expected values. Skipped where that folder is absent; test_formats_own_*.py cover the same shapes
on the project's own fixtures (tests/data)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.formats import detect_format, read_foreign
from ingest.records import ParsedFile
from tests.conftest import FIXTURES, needs_shared

pytestmark = needs_shared


def parse(rel: str) -> tuple[str, ParsedFile]:
    path = FIXTURES / rel
    data = path.read_bytes()
    name = detect_format(path, data[:65536])
    assert name is not None, rel
    return name, read_foreign(name, path, data)


def by_id(parsed: ParsedFile) -> dict[str, dict]:
    return {e["event_id"]: e for e in parsed.events}


PARITY = [
    "otel/otel_genai_client_span_tool_calls.json",
    "otel/otel_genai_deprecated_client_span_tool_calls.json",
    "otel/openinference_client_span_tool_calls.json",
]


def test_three_conventions_yield_identical_rows():
    rows = []
    for rel in PARITY:
        name, parsed = parse(rel)
        assert name == "otlp" and parsed.rejects == [] and len(parsed.events) == 1
        row = dict(parsed.events[0])
        row.pop("raw")
        row.pop("ts")  # the files carry no clock: ts is the file's mtime, checked below
        rows.append(row)
    assert rows[0] == rows[1] == rows[2]
    row = rows[0]
    assert row["kind"] == "llm" and row["provider"] == "openai"
    assert (row["model"], row["model_requested"]) == ("gpt-4-0613", "gpt-4")
    assert (row["tokens_in"], row["tokens_out"]) == (97, 52)
    assert row["params"] == {"max_tokens": 200, "temperature": 0.5, "top_p": 0.9}
    assert row["input_messages"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "Absolutely! Let me check the weather for you.",
            "tool_calls": [
                {
                    "id": "1234",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"location":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "content": "rainy, 57°F", "tool_call_id": "1234"},
    ]
    text = "The weather in Paris is currently rainy with a temperature of 57°F."
    assert row["output_messages"] == [{"role": "assistant", "content": text}]
    assert (row["input_text"], row["output_text"]) == ("Weather in Paris?", text)
    # gpt-4: $30 in / $60 out per 1M
    assert row["cost_usd"] == pytest.approx((97 * 30 + 52 * 60) / 1e6)
    assert row["cost_source"] == "computed" and row["status"] == "ok"
    _, parsed = parse(PARITY[0])
    mtime = int((FIXTURES / PARITY[0]).stat().st_mtime)
    assert parsed.events[0]["ts"] == datetime.fromtimestamp(mtime, tz=UTC)


def test_otlp_layout_conformance_trace_json():
    _, parsed = parse("otel/trace.json")
    assert len(parsed.events) == 1 and parsed.feedback == []
    row = parsed.events[0]
    assert row["event_id"] == "eee19b7ec3c1b174"
    assert row["trace_id"] == "5b8efff798038103d269b633813fc60c"
    assert row["parent_id"] == "eee19b7ec3c1b173"
    assert row["name"] == "I'm a server span" and row["kind"] == "other"
    assert row["ts"] == datetime(2018, 12, 13, 14, 51, 0, tzinfo=UTC)
    assert row["latency_ms"] == 1000.0 and row["model"] is None


VERCEL_LLM = {
    "39d6e9b3ddec9996": ("ai.generateText.doGenerate", 14, 20, "Write a haiku about programming."),
    "6c0201026326855d": ("ai.generateText.doGenerate", 50, 9, "And what is 3 + 3?"),
    "bf098ec12458e605": (
        "ai.generateObject.doGenerate", 63, 156, "Generate a simple recipe for scrambled eggs."
    ),
    "5a81ef3ffb5d8603": ("ai.streamText.doStream", 15, 112, "Write a short poem about TypeScript."),
}  # fmt: skip


@pytest.mark.parametrize(
    "rel", ["otel/vercel-ai-v6.otlp.json", "otel/vercel-ai-v6.readable-spans.json"]
)
def test_vercel_ai_spans(rel):
    _, parsed = parse(rel)
    assert parsed.records_read == 10 and len(parsed.events) == 10 and parsed.rejects == []
    kinds = sorted(e["kind"] for e in parsed.events)
    assert kinds == ["chain"] * 5 + ["embedding"] + ["llm"] * 4
    rows = by_id(parsed)
    for span_id, (name, t_in, t_out, prompt) in VERCEL_LLM.items():
        row = rows[span_id]
        assert (row["name"], row["kind"], row["provider"]) == (name, "llm", "openai")
        assert (row["model"], row["model_requested"]) == ("gpt-4o-mini-2024-07-18", "gpt-4o-mini")
        assert (row["tokens_in"], row["tokens_out"], row["input_text"]) == (t_in, t_out, prompt)
        assert row["cost_usd"] == pytest.approx((t_in * 0.15 + t_out * 0.60) / 1e6)
    first = rows["39d6e9b3ddec9996"]
    assert first["output_text"] == (
        "Lines of code align,  \nLogic dances through the night—  \nDreams in data flow."
    )
    assert first["ts"] == datetime(2026, 2, 3, 15, 19, 52, 242000, tzinfo=UTC)
    assert first["latency_ms"] == pytest.approx(1779.415667, abs=1e-3)
    multi = rows["6c0201026326855d"]
    assert [m["role"] for m in multi["input_messages"]] == ["system", "user", "assistant", "user"]
    assert multi["output_text"] == "3 + 3 equals 6."
    stream = rows["5a81ef3ffb5d8603"]
    assert stream["ttft_ms"] == pytest.approx(426.8535)
    assert (stream["tokens_cache_read"], stream["tokens_reasoning"]) == (0, 0)
    embed = rows["53e12604843b0399"]
    assert (embed["kind"], embed["model"], embed["tokens_in"]) == (
        "embedding",
        "text-embedding-3-small",
        10,
    )


def test_readable_spans_equal_their_otlp_encoding():
    _, a = parse("otel/vercel-ai-v6.otlp.json")
    _, b = parse("otel/vercel-ai-v6.readable-spans.json")
    strip = [{k: v for k, v in e.items() if k != "raw"} for e in a.events]
    assert strip == [{k: v for k, v in e.items() if k != "raw"} for e in b.events]


def test_langfuse_pydantic_ai():
    name, parsed = parse("langfuse/pydantic-ai-2025-06-06.trace.json")
    assert name == "langfuse" and parsed.rejects == []
    assert len(parsed.events) == 3 and len(parsed.feedback) == 1
    rows = by_id(parsed)
    gen = rows["5cb389a3bdd21a6e"]
    assert (gen["kind"], gen["name"], gen["provider"]) == ("llm", "chat gpt-4o", "openai")
    assert (gen["model"], gen["model_requested"]) == ("gpt-4o-2024-08-06", "gpt-4o")
    assert (gen["tokens_in"], gen["tokens_out"]) == (31, 96)
    assert (gen["cost_usd"], gen["cost_source"]) == (0.0010375, "provided")
    assert gen["input_messages"] == [
        {
            "role": "system",
            "content": "You are a helpful assistant that answers questions clearly and concisely.",
        },
        {"role": "user", "content": "What is Langfuse?"},
    ]  # fmt: skip
    assert gen["output_text"].startswith("Langfuse is a tool designed for observability")
    assert gen["output_text"].endswith(
        "supporting both self-hosted implementations and cloud-based solutions."
    )
    for row in parsed.events:  # trace context on every observation
        assert (row["user_id"], row["session_id"]) == ("user_123", "session_abc")
        assert row["tags"] == ["dev", "pydantic-ai"]
        assert row["trace_id"] == "25f4bdeebaab60e6e1bee7e8469554bc"
    assert sorted(e["kind"] for e in parsed.events) == ["llm", "other", "other"]
    assert rows["538fed87d11686d3"]["parent_id"] is None
    (fb,) = parsed.feedback
    assert fb["feedback_id"] == "9c7e9644-912b-46c5-9a1a-859c1724695c"
    assert (fb["kind"], fb["name"], fb["source"]) == ("correction", "correction", "reviewer")
    assert fb["event_id"] is None and fb["trace_id"] == "25f4bdeebaab60e6e1bee7e8469554bc"
    assert fb["author"] == "cm167x5rh00018bk3mcnituff"
    assert fb["correction"] == gen["output_text"] and fb["value"] == 0.0
    assert fb["ts"] == datetime(2026, 3, 5, 9, 13, 54, 218000, tzinfo=UTC)


def test_langfuse_openai_agents():
    _, parsed = parse("langfuse/openai-agents-2025-09-30.trace.json")
    assert len(parsed.events) == 5 and len(parsed.feedback) == 2 and parsed.rejects == []
    assert sorted(e["kind"] for e in parsed.events) == ["agent", "agent", "llm", "llm", "tool"]
    rows = by_id(parsed)
    first, second = rows["98870087af69bf06"], rows["90d94774e8e3724d"]
    assert first["model"] == second["model"] == "gpt-4.1-2025-04-14"
    assert (first["tokens_in"], first["tokens_out"], first["cost_usd"]) == (55, 15, 0.00023)
    assert (second["tokens_in"], second["tokens_out"], second["cost_usd"]) == (85, 29, 0.000402)
    assert first["input_messages"] == [
        {"role": "system", "content": "You are a helpful agent."},
        {"role": "user", "content": "What's the weather in Tokyo?"},
    ]
    call = first["output_messages"][0]["tool_calls"][0]
    assert call["id"] == "call_Kud0j0DxWSmLzv9W5m6qVqXn"
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Tokyo"}'}
    assert second["input_messages"][-1] == {
        "role": "tool", "content": "The weather in Tokyo is sunny.",
        "tool_call_id": "call_Kud0j0DxWSmLzv9W5m6qVqXn",
    }  # fmt: skip
    assert second["output_text"] == (
        "The weather in Tokyo is currently sunny. If you need more details like temperature "
        "or forecast for the upcoming days, just let me know!"
    )
    scores = {f["name"]: f for f in parsed.feedback}
    assert scores["toxicity"]["value"] == 0.8 and scores["hallucination"]["value"] == 0.0
    for fb in parsed.feedback:
        assert (fb["kind"], fb["source"], fb["event_id"]) == ("score", "llm_judge", None)
        assert fb["trace_id"] == "fee618f96dc31e0ca38b2f7b26eb8b29"


def test_langfuse_vercel_aisdk():
    _, parsed = parse("langfuse/vercel-aisdk-2025-11-17.trace.json")
    assert len(parsed.events) == 3 and len(parsed.feedback) == 2
    rows = by_id(parsed)
    wrapper, call, tool = (
        rows["1dc6768109615657"],
        rows["91a17a2274bfd23f"],
        rows["e9bb8c191e1e4706"],
    )
    assert (wrapper["kind"], call["kind"], tool["kind"]) == ("chain", "llm", "tool")
    assert call["model_requested"] == "gpt-5" and call["model"].startswith("gpt-5-")
    assert (call["tokens_in"], call["tokens_out"], call["cost_usd"]) == (62, 85, 0.000927499999)
    assert call["input_text"] == "What is the weather like today in San Francisco?"
    assert call["output_messages"][0]["tool_calls"][0]["function"] == {
        "name": "getWeather", "arguments": '{"location":"San Francisco"}'
    }  # fmt: skip
    assert {f["name"]: f["value"] for f in parsed.feedback} == {
        "hallucination": 0.0,
        "toxicity": 0.0,
    }
    assert all(f["trace_id"] == "df41e597d0a85e0d7a6ae8ebfaa70aa0" for f in parsed.feedback)


def test_langsmith_post_patch_merged():
    name, parsed = parse("langsmith/langsmith_py_wrap_openai_.json")
    assert name == "langsmith" and len(parsed.events) == 1 and parsed.feedback == []
    row = parsed.events[0]
    assert row["event_id"] == row["trace_id"] == "d0d84d31-923d-4cb5-94a8-40a0a0087578"
    assert (row["kind"], row["provider"]) == ("llm", "openai")
    assert (row["model"], row["model_requested"]) == ("gpt-4o-mini-2024-07-18", "gpt-4o-mini")
    assert (row["tokens_in"], row["tokens_out"], row["tokens_cache_read"]) == (9, 9, 0)
    assert row["input_messages"] == [{"role": "user", "content": "howdy"}]
    assert row["output_text"] == "Howdy! How can I assist you today?"
    assert row["latency_ms"] == pytest.approx(1118.333)
    assert row["cost_usd"] == pytest.approx((9 * 0.15 + 9 * 0.60) / 1e6)


def test_cassette_404_is_model_not_found():
    name, parsed = parse("openai/test_chat_completion_404.yaml")
    assert name == "openai"
    (row,) = parsed.events
    assert (row["status"], row["error_type"]) == ("error", "model_not_found")
    assert row["error_message"].startswith("The model `this-model-does-not-exist` does not exist")
    assert row["event_id"] == "req_c3e0f92d7b5426d1a4a17bb3d39953ea"
    assert row["ts"] == datetime(2024, 11, 11, 23, 43, 52, tzinfo=UTC)
    assert row["cost_usd"] is None and row["output_messages"] is None


def test_cassette_streaming_reassembled():
    _, parsed = parse("openai/test_chat_completion_streaming.yaml")
    (row,) = parsed.events
    assert row["event_id"] == "chatcmpl-ASYMZ4oSykiIFK4lXLReDiKyAjsQl"
    assert row["output_messages"] == [{"role": "assistant", "content": '"This is a test."'}]
    assert (row["tokens_in"], row["tokens_out"]) == (12, 5)
    assert (row["model"], row["model_requested"]) == ("gpt-4-0613", "gpt-4")
    assert row["params"] == {"stream": True}
    assert row["cost_usd"] == pytest.approx((12 * 30 + 5 * 60) / 1e6)


def test_cassette_tool_calls():
    _, parsed = parse("openai/test_tool_calls.yaml")
    (row,) = parsed.events
    assert row["model"] == "gpt-4o-mini-2024-07-18"
    assert (row["tokens_in"], row["tokens_out"], row["tokens_cache_read"]) == (207, 46, 0)
    assert row["input_text"] == "What's the weather and population in San Francisco?"
    calls = row["output_messages"][0]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_population"]
    assert calls[0]["function"]["arguments"] == '{"city": "San Francisco"}'


def test_batch_pair_joins_65_of_65(tmp_path: Path):
    name, parsed = parse("openai/batch_output.jsonl")
    assert name == "openai_batch" and parsed.rejects == []
    assert len(parsed.events) == 65
    assert all(e["raw"]["joined"] for e in parsed.events)
    assert all(e["params"] == {"max_tokens": 1000, "temperature": 0} for e in parsed.events)
    assert {e["model"] for e in parsed.events} == {"gpt-4o-2024-08-06"}
    assert {e["model_requested"] for e in parsed.events} == {"gpt-4o"}
    assert sum(e["tokens_in"] for e in parsed.events) == 36501
    assert sum(e["tokens_out"] for e in parsed.events) == 11980
    # gpt-4o at half price (Batch API)
    assert sum(e["cost_usd"] for e in parsed.events) == pytest.approx(
        (36501 * 2.5 + 11980 * 10) / 1e6 / 2
    )
    first = by_id(parsed)["batch_req_671997dbd05c8190b8253393e04fd23f"]
    assert first["input_messages"][0] == {
        "role": "system", "content": "You are expert for embodied robot navigation."
    }  # fmt: skip
    assert first["output_text"].startswith("- Trash can is below the bulletin board")
    # the input file alone yields no events: nothing ran yet
    name, inputs = parse("openai/batch_input.jsonl")
    assert name == "openai_batch" and inputs.records_read == 65 and inputs.events == []


EXPECTED_FORMAT = {
    "otel/otel_genai_client_span_tool_calls.json": "otlp",
    "otel/otel_genai_deprecated_client_span_tool_calls.json": "otlp",
    "otel/openinference_client_span_tool_calls.json": "otlp",
    "otel/trace.json": "otlp",
    "otel/vercel-ai-v6.otlp.json": "otlp",
    "otel/vercel-ai-v6.readable-spans.json": "otlp",
    "langfuse/pydantic-ai-2025-06-06.trace.json": "langfuse",
    "langfuse/openai-agents-2025-09-30.trace.json": "langfuse",
    "langfuse/vercel-aisdk-2025-11-17.trace.json": "langfuse",
    "langsmith/langsmith_py_wrap_openai_.json": "langsmith",
    "openai/batch_input.jsonl": "openai_batch",
    "openai/batch_output.jsonl": "openai_batch",
    "openai/test_tool_calls.yaml": "openai",
    "openai/test_chat_completion_404.yaml": "openai",
    "openai/test_chat_completion_streaming.yaml": "openai",
}


def test_every_fixture_is_detected_by_content(tmp_path):
    on_disk = {str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*") if p.is_file()}
    assert on_disk - {"MANIFEST.md"} == set(EXPECTED_FORMAT)
    for rel, fmt in EXPECTED_FORMAT.items():
        data = (FIXTURES / rel).read_bytes()
        # the name says nothing: detection reads the content
        assert detect_format(tmp_path / "upload.bin", data[:65536]) == fmt, rel
        parsed = read_foreign(fmt, FIXTURES / rel, data)
        assert parsed.rejects == [], rel
