"""The direct protobuf walk gives exactly MessageToDict's OTLP/JSON (with hex ids)."""

from __future__ import annotations

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, StatusCode
from opentelemetry.trace import Status as SpanStatus

from ingest.collect.fastproto import traces_request
from ingest.collect.wire import normalise_ids
from tests.ingest.collect.test_collect_sdk import _emit, _request


def _reference(msg) -> dict:
    return normalise_ids(MessageToDict(msg, use_integers_for_enums=True))


def test_sdk_spans_of_every_convention_convert_as_message_to_dict() -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "x", "n": 3}))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t", "1.2", schema_url="https://opentelemetry.io/schemas/1.30")
    _emit(tracer)
    first = memory.get_finished_spans()[0].context
    with tracer.start_as_current_span("odd", kind=SpanKind.SERVER,
                                      links=[Link(first, {"why": "retry"})]) as s:  # fmt: skip
        s.set_attributes({"f": 1.5, "b": False, "i": -7, "tags": ["a", "b"], "ns": [1, 2],
                          "empty": ""})  # fmt: skip
        s.add_event("exception", {"exception.type": "ValueError", "exception.message": "x"})
        s.set_status(SpanStatus(StatusCode.OK))
    msg = encode_spans(memory.get_finished_spans())
    got = traces_request(msg)
    assert got == _reference(msg)
    assert len(got["resourceSpans"][0]["scopeSpans"][0]["spans"]) == 8


def test_ids_of_a_wrong_length_stay_base64_as_the_reference_leaves_them() -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    msg = ExportTraceServiceRequest.FromString(_request(b"\x01" * 8, b"\xab\xcd\xef"))
    got = traces_request(msg)
    assert got == _reference(msg)
    spans = got["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert [s["spanId"] for s in spans] == ["0101010101010101", "q83v"]
    assert traces_request(ExportTraceServiceRequest()) == _reference(ExportTraceServiceRequest())
