"""Make the OTLP fixtures by running the real OpenTelemetry SDK and instrumentations against the
local OpenAI-compatible server in fixture_server.py (127.0.0.1, no network). Tests read the
committed output, so CI needs none of these packages; rerun only to refresh the files, from a
virtualenv of their own (so the project's environment keeps its versions):

    python -m venv /tmp/fixture-venv && /tmp/fixture-venv/bin/pip install -e . \\
        opentelemetry-sdk opentelemetry-instrumentation-openai-v2 \\
        "opentelemetry-util-genai==1.1b0" opentelemetry-exporter-otlp-proto-common \\
        openinference-instrumentation-openai langsmith
    # the deprecated conventions need openai-v2 2.1b0 with its own SDK, installed apart:
    /tmp/fixture-venv/bin/pip install --target /tmp/fixture-oldotel \\
        opentelemetry-instrumentation-openai-v2==2.1b0 opentelemetry-sdk==1.30.0 \\
        opentelemetry-api==1.30.0 opentelemetry-exporter-otlp-proto-common==1.30.0 \\
        opentelemetry-instrumentation==0.51b0 opentelemetry-semantic-conventions==0.51b0
    OLD_OTEL_DIR=/tmp/fixture-oldotel /tmp/fixture-venv/bin/python tests/data/make_otlp.py

Each run is its own process (an instrumentation patches openai once, and reads
OTEL_SEMCONV_STABILITY_OPT_IN once). Output in tests/data/otlp/, spans encoded by the SDK's own
OTLP encoder and protobuf's json_format, then ids re-encoded as hex and enums as integers (the
OTLP/JSON spec; protobuf's JSON writes base64 and names — make_langfuse.py keeps that form):

- openai_v2_{current,deprecated}.traces.jsonl / .logs.jsonl — opentelemetry-instrumentation-
  openai-v2, latest conventions with content on spans and events / ≤1.36 conventions with
  content only in per-message log events; the four calls of fixture_server.drive_openai.
- openinference.traces.json — openinference-instrumentation-openai, one TracesData document.
- langsmith_otel.traces.jsonl — LangSmith's OTel exporter (LANGSMITH_OTEL_ENABLED), which still
  writes the deprecated gen_ai.prompt / gen_ai.completion JSON strings.
- attrs_{openai_v2,openinference,langsmith_otel}.json — the attribute map of the second call's
  span (tool results → text answer) from each of the three, as a bare JSON object.
- layout.traces.json — a non-GenAI SERVER span with an INTERNAL child that failed, made with
  the SDK's tracer: the layout conformance file.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "otlp"
sys.path.insert(0, str(HERE))

MODES = {
    "current": {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
                "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_AND_EVENT"},
    "deprecated": {"OTEL_SEMCONV_STABILITY_OPT_IN": "",
                   "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"},
    "openinference": {},
    "langsmith_otel": {"LANGSMITH_OTEL_ENABLED": "true", "LANGSMITH_OTEL_ONLY": "true",
                       "LANGSMITH_TRACING": "true", "LANGSMITH_API_KEY": "ls-local"},
    "layout": {},
}  # fmt: skip
_SPAN_KIND = {"SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2,
              "SPAN_KIND_CLIENT": 3, "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5}  # fmt: skip
_STATUS = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}
_SEVERITY = {"SEVERITY_NUMBER_UNSPECIFIED": 0, "SEVERITY_NUMBER_INFO": 9}


def spec_json(node):
    """protobuf JSON → OTLP/JSON spec: hex ids, integer enums."""
    if isinstance(node, list):
        return [spec_json(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
            value = base64.b64decode(value).hex()
        elif key == "kind" and isinstance(value, str):
            value = _SPAN_KIND[value]
        elif key == "code" and isinstance(value, str):
            value = _STATUS[value]
        elif key == "severityNumber" and isinstance(value, str):
            value = _SEVERITY.get(value, 0)
        out[key] = spec_json(value)
    return out


def _providers(service: str):
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.trace.id_generator import IdGenerator

    class Sequential(IdGenerator):  # stable ids, so regenerated files diff cleanly
        def __init__(self) -> None:
            self.n = 0

        def generate_span_id(self) -> int:
            self.n += 1
            return 0x1000 + self.n

        def generate_trace_id(self) -> int:
            self.n += 1
            return 0xABC0000 + self.n

    resource = Resource.create({"service.name": service, "deployment.environment.name": "fixtures"})
    spans = InMemorySpanExporter()
    provider = TracerProvider(resource=resource, id_generator=Sequential())
    provider.add_span_processor(SimpleSpanProcessor(spans))
    return resource, provider, spans


def _encode_spans(spans) -> dict:
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    return spec_json(MessageToDict(encode_spans(spans)))


def _attrs(span) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in span.attributes.items()}


def _write(name: str, payload, lines: bool) -> str:
    OUT.mkdir(exist_ok=True)
    text = json.dumps(payload, ensure_ascii=False)
    (OUT / name).write_text(text + "\n" if lines else json.dumps(payload, indent=1) + "\n")
    return f"otlp/{name}"


def _client(base_url: str):
    import openai

    return openai.OpenAI(api_key="sk-local", base_url=base_url, max_retries=0)


def _run(mode: str) -> None:
    from fixture_server import OpenAIServer, drive_openai, record_versions, versions

    resource, provider, spans = _providers(f"fixtures-{mode}")
    written: list[str] = []
    libs = ("opentelemetry-sdk", "openai")
    if mode in ("current", "deprecated"):
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import InMemoryLogExporter, SimpleLogRecordProcessor

        logs = InMemoryLogExporter()
        logger_provider = LoggerProvider(resource=resource)
        logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
        try:  # ≤2.1b0 emitted the deprecated per-message events through the Events API
            from opentelemetry.sdk._events import EventLoggerProvider

            events = {"event_logger_provider": EventLoggerProvider(logger_provider)}
        except ImportError:
            events = {"logger_provider": logger_provider}
        OpenAIInstrumentor().instrument(tracer_provider=provider, **events)
        with OpenAIServer() as server:
            drive_openai(_client(server.base_url))
        finished = spans.get_finished_spans()
        written.append(_write(f"openai_v2_{mode}.traces.jsonl", _encode_spans(finished), True))
        from google.protobuf.json_format import MessageToDict
        from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs

        records = logs.get_finished_logs()
        doc = spec_json(MessageToDict(encode_logs(records)))
        written.append(_write(f"openai_v2_{mode}.logs.jsonl", doc, True))
        if mode == "current":
            written.append(_write("attrs_openai_v2.json", _attrs(finished[1]), False))
        libs += ("opentelemetry-instrumentation-openai-v2", "opentelemetry-util-genai")
    elif mode == "openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=provider)
        with OpenAIServer() as server:
            drive_openai(_client(server.base_url))
        finished = spans.get_finished_spans()
        written.append(_write("openinference.traces.json", _encode_spans(finished), False))
        written.append(_write("attrs_openinference.json", _attrs(finished[1]), False))
        libs += ("openinference-instrumentation-openai", "openinference-semantic-conventions")
    elif mode == "langsmith_otel":
        from opentelemetry import trace

        trace.set_tracer_provider(provider)  # LangSmith's exporter uses the global provider
        import langsmith
        from langsmith.wrappers import wrap_openai

        with OpenAIServer() as server:
            ls = langsmith.Client(api_url="http://127.0.0.1:9", api_key="ls-local")
            with langsmith.tracing_context(client=ls, project_name="fixtures", enabled=True):
                drive_openai(wrap_openai(_client(server.base_url)))
            ls.flush()
        finished = [s for s in spans.get_finished_spans() if "gen_ai.prompt" in s.attributes]
        written.append(_write("langsmith_otel.traces.jsonl", _encode_spans(finished), True))
        written.append(_write("attrs_langsmith_otel.json", _attrs(finished[1]), False))
        libs += ("langsmith",)
    elif mode == "layout":
        from opentelemetry.trace import SpanKind, Status, StatusCode

        tracer = provider.get_tracer("fixtures.layout", "1.0")
        with tracer.start_as_current_span("GET /reviews", kind=SpanKind.SERVER) as root:
            root.set_attribute("http.request.method", "GET")
            root.set_attribute("http.response.status_code", 500)
            with tracer.start_as_current_span("load reviews") as child:
                child.set_status(Status(StatusCode.ERROR, "database is locked"))
                child.add_event("retry", {"attempt": 2})
        written.append(_write("layout.traces.json", _encode_spans(spans.get_finished_spans()),
                              False))  # fmt: skip
    record_versions(written, versions(*libs))


def main() -> None:
    from fixture_server import quiet_env

    modes = sys.argv[1:] or list(MODES)
    if len(modes) == 1 and os.environ.get("_FIXTURE_CHILD"):
        _run(modes[0])
        return
    for mode in modes:
        env = {**os.environ, **quiet_env(), **MODES[mode], "_FIXTURE_CHILD": "1"}
        if mode == "deprecated":
            # openai-v2 ≥2.4 writes only the current conventions; 2.1b0 writes the old ones.
            old = os.environ.get("OLD_OTEL_DIR", "/tmp/fixture-oldotel")
            env["PYTHONPATH"] = old + os.pathsep + env.get("PYTHONPATH", "")
        subprocess.run([sys.executable, __file__, mode], check=True, env=env, cwd=HERE)


if __name__ == "__main__":
    main()
