"""Make OTLP/JSON test files by replaying recorded OpenAI exchanges through the OpenTelemetry SDK
and its OpenAI instrumentation (event-formats.md §3.4). Tests read the committed output, so CI
needs none of these packages; rerun this only to refresh the files:

    pip install opentelemetry-sdk opentelemetry-instrumentation-openai-v2 \\
        opentelemetry-exporter-otlp-proto-common "opentelemetry-util-genai==1.1b0" vcrpy httpx
    OLD_OTEL_DIR=/path/to/old/sdk python tests/data/make_otlp.py   # see main() for that dir

Each convention runs in its own process, because the instrumentation reads
OTEL_SEMCONV_STABILITY_OPT_IN once. Output, one TracesData / LogsData per line, ids re-encoded
as hex and enums as integers (protobuf's JSON writes base64 and names):
    tests/data/otlp/openai_v2_{current,deprecated}.traces.jsonl and .logs.jsonl
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent.parent.parent / "shared" / "fixtures" / "openai"
CASSETTES = ("test_tool_calls.yaml", "test_chat_completion_streaming.yaml",
             "test_chat_completion_404.yaml")  # fmt: skip
MODES = {
    "current": {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
                "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_AND_EVENT"},
    "deprecated": {"OTEL_SEMCONV_STABILITY_OPT_IN": "",
                   "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"},
}  # fmt: skip
_SPAN_KIND = {"SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2,
              "SPAN_KIND_CLIENT": 3, "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5}  # fmt: skip
_STATUS = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}
_SEVERITY = {"SEVERITY_NUMBER_UNSPECIFIED": 0, "SEVERITY_NUMBER_INFO": 9}


def _fix(node):
    """protobuf JSON → OTLP/JSON spec: hex ids, integer enums."""
    if isinstance(node, list):
        return [_fix(n) for n in node]
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
        out[key] = _fix(value)
    return out


def _replay(mode: str) -> None:
    import openai
    import vcr
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogExporter, SimpleLogRecordProcessor
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

    resource = Resource.create({"service.name": f"replay-{mode}"})
    spans, logs = InMemorySpanExporter(), InMemoryLogExporter()
    tracer_provider = TracerProvider(resource=resource, id_generator=Sequential())
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    try:  # ≤2.1b0 emitted the deprecated per-message events through the Events API
        from opentelemetry.sdk._events import EventLoggerProvider

        events = {"event_logger_provider": EventLoggerProvider(logger_provider)}
    except ImportError:
        events = {"logger_provider": logger_provider}
    OpenAIInstrumentor().instrument(tracer_provider=tracer_provider, **events)
    client = openai.OpenAI(api_key="test", base_url="https://api.openai.com/v1", max_retries=0)
    for name in CASSETTES:
        path = FIXTURES / name
        import yaml

        body = json.loads(yaml.safe_load(path.read_text())["interactions"][0]["request"]["body"])
        with vcr.use_cassette(str(path), record_mode="none"):
            try:
                result = client.chat.completions.create(**body)
                if body.get("stream"):
                    for _ in result:
                        pass
            except openai.NotFoundError:
                pass
    out = HERE / "otlp"
    out.mkdir(exist_ok=True)
    traces = _fix(MessageToDict(encode_spans(spans.get_finished_spans())))
    (out / f"openai_v2_{mode}.traces.jsonl").write_text(json.dumps(traces) + "\n")
    records = logs.get_finished_logs()
    if records:
        logs_doc = _fix(MessageToDict(encode_logs(records)))
        (out / f"openai_v2_{mode}.logs.jsonl").write_text(json.dumps(logs_doc) + "\n")


def main() -> None:
    if len(sys.argv) > 1:
        _replay(sys.argv[1])
        return
    for mode, env in MODES.items():
        env = {**os.environ, **env}
        if mode == "deprecated":
            # openai-v2 ≥2.4 only writes the current conventions; the deprecated ones come from
            # 2.1b0 with its own SDK, installed apart so it does not replace the current one:
            #   pip install --target DIR opentelemetry-instrumentation-openai-v2==2.1b0 \
            #     opentelemetry-sdk==1.30.0 opentelemetry-api==1.30.0 \
            #     opentelemetry-exporter-otlp-proto-common==1.30.0 \
            #     opentelemetry-instrumentation==0.51b0 opentelemetry-semantic-conventions==0.51b0
            old = os.environ.get("OLD_OTEL_DIR", "/tmp/helperC_oldotel")
            env["PYTHONPATH"] = old + os.pathsep + env.get("PYTHONPATH", "")
        subprocess.run([sys.executable, __file__, mode], check=True, env=env, cwd=HERE)


if __name__ == "__main__":
    main()
