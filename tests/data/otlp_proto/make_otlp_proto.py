"""Make the OTLP protobuf fixtures by running the real OpenTelemetry SDK and openai-v2
instrumentation against the local OpenAI-compatible server in ../fixture_server.py (127.0.0.1,
no network), and writing the SDK's own protobuf encoding (the bytes its OTLP/HTTP exporter
sends) the way the OpenTelemetry Collector's file exporter writes them in `format: proto`:
each ExportTraceServiceRequest / ExportLogsServiceRequest preceded by its length as a 4-byte
big-endian unsigned integer. Run it from the fixture virtualenv (tests/data/MANIFEST.md):

    /tmp/fixture-venv/bin/python tests/data/otlp_proto/make_otlp_proto.py

- openai_v2.traces.binpb — the four calls of fixture_server.drive_openai under openai-v2 2.4b0
  (`gen_ai_latest_experimental`, SPAN_AND_EVENT), in two length-prefixed messages (calls 1-2,
  then 3-4: the exporter's batches);
- openai_v2.logs.binpb — their `gen_ai.client.inference.operation.details` log records, one
  message per call;
- layout.traces.pb — one bare ExportTraceServiceRequest (an OTLP/HTTP body saved as is): a
  SERVER span with an INTERNAL child that failed, with an event, made with the SDK's tracer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

ENV = {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
       "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_AND_EVENT"}  # fmt: skip


def framed(messages) -> bytes:
    """The Collector file exporter's proto framing: 4-byte big-endian length, then the bytes."""
    out = bytearray()
    for msg in messages:
        body = msg.SerializeToString()
        out += len(body).to_bytes(4, "big") + body
    return bytes(out)


def run() -> None:
    from fixture_server import OpenAIServer, drive_openai, record_versions, versions
    from make_otlp import _client, _providers
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogExporter, SimpleLogRecordProcessor
    from opentelemetry.trace import SpanKind, Status, StatusCode

    resource, provider, spans = _providers("fixtures-proto")
    logs = InMemoryLogExporter()
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    OpenAIInstrumentor().instrument(tracer_provider=provider, logger_provider=logger_provider)
    with OpenAIServer() as server:
        drive_openai(_client(server.base_url))
    calls = spans.get_finished_spans()
    assert len(calls) == 4, calls
    (HERE / "openai_v2.traces.binpb").write_bytes(
        framed([encode_spans(calls[:2]), encode_spans(calls[2:])])
    )
    records = logs.get_finished_logs()
    (HERE / "openai_v2.logs.binpb").write_bytes(framed([encode_logs([r]) for r in records]))

    _, provider, spans = _providers("fixtures-proto-layout")
    provider.id_generator.n = 0x100  # ids apart from the calls': the folder loads as one
    tracer = provider.get_tracer("fixtures.layout", "1.0")
    with tracer.start_as_current_span("GET /reviews", kind=SpanKind.SERVER) as root:
        root.set_attribute("http.request.method", "GET")
        root.set_attribute("http.response.status_code", 500)
        with tracer.start_as_current_span("load reviews") as child:
            child.set_status(Status(StatusCode.ERROR, "database is locked"))
            child.add_event("retry", {"attempt": 2})
    (HERE / "layout.traces.pb").write_bytes(
        encode_spans(spans.get_finished_spans()).SerializeToString()
    )
    libs = ("opentelemetry-sdk", "opentelemetry-proto", "protobuf", "openai",
            "opentelemetry-instrumentation-openai-v2", "opentelemetry-util-genai")  # fmt: skip
    record_versions(
        ["otlp_proto/openai_v2.traces.binpb", "otlp_proto/openai_v2.logs.binpb",
         "otlp_proto/layout.traces.pb"],
        versions(*libs),
    )  # fmt: skip


def main() -> None:
    from fixture_server import quiet_env

    if os.environ.get("_FIXTURE_CHILD"):
        run()
        return
    # its own process: the instrumentation reads OTEL_SEMCONV_STABILITY_OPT_IN once
    env = {**os.environ, **quiet_env(), **ENV, "_FIXTURE_CHILD": "1"}
    subprocess.run([sys.executable, __file__], check=True, env=env, cwd=HERE.parent)


if __name__ == "__main__":
    main()
