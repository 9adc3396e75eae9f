"""The real OpenTelemetry SDK exporting protobuf over OTLP/HTTP to a collector on 127.0.0.1:
the rows are those file ingest makes from the same spans; protobuf partial success and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf.json_format import MessageToJson
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace import Status as SpanStatus

from ingest.db import connect
from tests.ingest.collect.helpers import ingest_files, post, rows, scalar, start_collector

PROTOBUF = "application/x-protobuf"


def _emit(tracer) -> None:
    """One trace per convention, as instrumentations write them."""
    user = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Refund?"}]}])
    answer = json.dumps([{"role": "assistant", "finish_reason": "stop",
                          "parts": [{"type": "text", "content": "Yes, within 30 days."}]}])
    with tracer.start_as_current_span("invoke_agent support", kind=SpanKind.INTERNAL) as agent:
        agent.set_attributes({"gen_ai.operation.name": "invoke_agent", "session.id": "s-1"})
        with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT) as s:
            s.set_attributes({
                "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                "gen_ai.request.temperature": 0.2, "gen_ai.request.max_tokens": 200,
                "gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 7,
                "gen_ai.input.messages": user, "gen_ai.output.messages": answer,
                "user.id": "u-7",
            })  # fmt: skip
            s.add_event("gen_ai.evaluation.result", {
                "gen_ai.evaluation.name": "relevance", "gen_ai.evaluation.score.value": 0.9,
                "gen_ai.evaluation.score.label": "relevant"})  # fmt: skip
        with tracer.start_as_current_span("execute_tool lookup") as t:
            t.set_attributes({"gen_ai.operation.name": "execute_tool",
                              "gen_ai.tool.name": "lookup"})  # fmt: skip
    with tracer.start_as_current_span("openai.chat", kind=SpanKind.CLIENT) as s:  # deprecated
        s.set_attributes({
            "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.prompt_tokens": 30, "gen_ai.usage.completion_tokens": 4,
            "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "Hi there",
            "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": "Hello",
        })  # fmt: skip
    with tracer.start_as_current_span("ChatCompletion") as s:  # OpenInference
        s.set_attributes({
            "openinference.span.kind": "LLM", "llm.model_name": "claude-3-5-haiku",
            "llm.provider": "anthropic", "llm.token_count.prompt": 50,
            "llm.token_count.completion": 9,
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.content": "Summarise this",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.content": "A summary",
            "llm.invocation_parameters": json.dumps({"temperature": 0}),
        })  # fmt: skip
    with tracer.start_as_current_span("ai.generateText.doGenerate") as s:  # Vercel AI SDK keys
        s.set_attributes({
            "ai.operationId": "ai.generateText.doGenerate", "ai.model.id": "gpt-4.1-nano",
            "ai.model.provider": "openai.responses", "ai.usage.inputTokens": 5,
            "ai.usage.outputTokens": 2, "ai.prompt.messages": json.dumps(
                [{"role": "user", "content": [{"type": "text", "text": "Ping"}]}]),
            "ai.response.text": "Pong",
        })  # fmt: skip
    with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT) as s:  # error
        s.set_attributes({"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                          "gen_ai.request.model": "gpt-5-nope", "error.type": "model_not_found"})
        s.set_status(SpanStatus(StatusCode.ERROR, "The model does not exist"))


def test_sdk_exporter_protobuf_rows_equal_file_ingest(tmp_path: Path, db_path: Path) -> None:
    collector = start_collector(tmp_path, db_path, batch_seconds=3600)
    try:
        provider = TracerProvider(resource=Resource.create({"service.name": "support-bot",
                                                            "deployment.environment": "prod"}))
        memory = InMemorySpanExporter()
        exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{collector.port}/v1/traces")
        provider.add_span_processor(SimpleSpanProcessor(memory))
        provider.add_span_processor(BatchSpanProcessor(exporter))
        _emit(provider.get_tracer("tests.collect"))
        assert provider.force_flush(30_000)
        provider.shutdown()
        collector.drain()
    finally:
        collector.stop()
    spans = memory.get_finished_spans()
    assert len(spans) == 7

    # The same spans as a file: OTLP's protobuf JSON mapping (base64 ids), read by file ingest.
    doc = MessageToJson(encode_spans(spans), indent=None)
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "spans.json").write_text(doc)
    expected_db = tmp_path / "expected.duckdb"
    ingest_files(expected_db, tmp_path / "files")
    got = rows(db_path)
    assert len(got) == 7 and got == rows(expected_db)

    with connect(db_path, read_only=True) as con:
        mapped = con.execute(
            "SELECT kind, provider, model, tokens_in, tokens_out, input_text, output_text, status "
            "FROM events ORDER BY ts"
        ).fetchall()
        raw_ids = con.execute(
            "SELECT raw->>'$.span.spanId', event_id FROM events"
        ).fetchall()
        fb = con.execute("SELECT name, value, label, event_id IS NOT NULL FROM feedback").fetchall()
    assert mapped == [
        ("agent", None, None, None, None, None, None, "ok"),
        ("llm", "openai", "gpt-4o-mini-2024-07-18", 12, 7, "Refund?", "Yes, within 30 days.",
         "ok"),
        ("tool", None, None, None, None, None, None, "ok"),
        ("llm", "openai", "gpt-4o", 30, 4, "Hi there", "Hello", "ok"),
        ("llm", "anthropic", "claude-3-5-haiku", 50, 9, "Summarise this", "A summary", "ok"),
        ("llm", "openai", "gpt-4.1-nano", 5, 2, "Ping", "Pong", "ok"),
        ("llm", "openai", "gpt-5-nope", None, None, None, None, "error"),
    ]  # fmt: skip
    # raw keeps OTLP/JSON's hex ids (protobuf's JSON mapping would have written base64).
    assert all(raw == eid and len(raw) == 16 for raw, eid in raw_ids)
    assert fb == [("relevance", 0.9, "relevant", True)]


def _request(*span_ids: bytes) -> bytes:
    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for i, sid in enumerate(span_ids):
        sp = ss.spans.add(trace_id=bytes(range(1, 17)), span_id=sid, name=f"span {i}",
                          start_time_unix_nano=1767225600000000000 + i,
                          end_time_unix_nano=1767225601000000000)  # fmt: skip
        kv = sp.attributes.add(key="gen_ai.operation.name")
        kv.value.string_value = "chat"
    return req.SerializeToString()


@pytest.fixture
def collector(tmp_path: Path, db_path: Path):
    c = start_collector(tmp_path, db_path, batch_seconds=3600)
    yield c
    c.stop()


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_protobuf_partial_success(collector, db_path: Path, gz: bool) -> None:
    body = _request(b"\x01" * 8, b"\xab\xcd\xef", b"\x02" * 8)  # a 3-byte span id
    status, headers, reply = post(collector.port, "/v1/traces", body, PROTOBUF, gz=gz)
    assert status == 200 and headers["Content-Type"] == PROTOBUF
    resp = ExportTraceServiceResponse.FromString(reply)
    assert resp.partial_success.rejected_spans == 1
    assert "span 1" in resp.partial_success.error_message
    collector.drain()
    assert scalar(db_path, "SELECT list(event_id ORDER BY event_id) FROM events") == [
        "0101010101010101", "0202020202020202"]  # fmt: skip
    assert "neither hex nor base64" in scalar(db_path, "SELECT reason FROM rejects")


def test_protobuf_garbage_gets_a_protobuf_status(collector, db_path: Path) -> None:
    status, headers, reply = post(collector.port, "/v1/traces", b"\xff\xff\xff not protobuf",
                                  PROTOBUF)  # fmt: skip
    assert status == 400 and headers["Content-Type"] == PROTOBUF
    st = Status.FromString(reply)
    assert st.code == 3 and "ExportTraceServiceRequest" in st.message
    collector.drain()
    assert "ExportTraceServiceRequest" in scalar(db_path, "SELECT reason FROM rejects")
    assert scalar(db_path, "SELECT count(*) FROM events") == 0
