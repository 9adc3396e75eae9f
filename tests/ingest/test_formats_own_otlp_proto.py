"""OTLP protobuf files (tests/data/otlp_proto, made by make_otlp_proto.py from the real OTel SDK,
openai-v2 instrumentation and the SDK's own protobuf encoder): the Collector file exporter's
4-byte length-prefixed layout, varint-delimited messages and one bare request; every field of
their rows, the join with the logs beside them, and bad bytes that cost only their own message
or span."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ingest.db import connect
from ingest.errors import InputError
from ingest.formats import detect_format, read_foreign
from ingest.records import ParsedFile
from tests.conftest import DATA
from tests.ingest.weather_exchange import ANSWER, SDK_NOT_FOUND, history, tool_calls

HERE = DATA / "otlp_proto"
TRACES, LOGS, LAYOUT = "openai_v2.traces.binpb", "openai_v2.logs.binpb", "layout.traces.pb"
CALLS = tool_calls(separator=":")  # the instrumentation writes compact JSON
HISTORY = history(CALLS)
NONE_OF = ("prompt_name", "prompt_version", "tokens_cache_read", "tokens_reasoning", "user_id",
           "session_id", "tags")  # fmt: skip


def frames(data: bytes) -> list[bytes]:
    """The Collector file exporter's proto framing, split independently of the reader."""
    out, i = [], 0
    while i < len(data):
        n = int.from_bytes(data[i : i + 4], "big")
        out.append(data[i + 4 : i + 4 + n])
        i += 4 + n
    return out


def framed(bodies: list[bytes]) -> bytes:
    return b"".join(len(b).to_bytes(4, "big") + b for b in bodies)


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def spans_of(data: bytes) -> list:
    msgs = [ExportTraceServiceRequest.FromString(b) for b in frames(data)]
    return [s for m in msgs for rs in m.resource_spans for ss in rs.scope_spans for s in ss.spans]


def at(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 10**9, UTC).replace(microsecond=ns // 1000 % 10**6)


def parse(path: Path) -> ParsedFile:
    data = path.read_bytes()
    assert detect_format(path, data[:65536]) == "otlp_proto", path
    return read_foreign("otlp_proto", path, data)


def test_the_fixture_is_the_collector_file_exporter_layout():
    data = (HERE / TRACES).read_bytes()
    bodies = frames(data)
    assert len(bodies) == 2 and framed(bodies) == data
    assert [len(spans_of(framed([b]))) for b in bodies] == [2, 2]
    logs = [ExportLogsServiceRequest.FromString(b) for b in frames((HERE / LOGS).read_bytes())]
    assert len(logs) == 4


def test_every_field_of_the_four_calls():
    parsed = parse(HERE / TRACES)
    assert (parsed.records_read, parsed.rejects, parsed.feedback) == (4, [], [])
    spans = spans_of((HERE / TRACES).read_bytes())
    tools, answer, stream, missing = parsed.events
    ids = [("0000000000001002", "0000000000000000000000000abc0001"),
           ("0000000000001004", "0000000000000000000000000abc0003"),
           ("0000000000001006", "0000000000000000000000000abc0005"),
           ("0000000000001008", "0000000000000000000000000abc0007")]  # fmt: skip
    for row, span, (event_id, trace_id) in zip(parsed.events, spans, ids, strict=True):
        assert (row["event_id"], row["trace_id"], row["parent_id"]) == (event_id, trace_id, None)
        assert (span.span_id.hex(), span.trace_id.hex()) == (event_id, trace_id)
        assert (row["kind"], row["provider"], row["source_format"]) == ("llm", "openai", "otlp")
        assert row["environment"] == "fixtures"  # the resource's deployment.environment.name
        assert row["ts"] == at(span.start_time_unix_nano)
        assert row["ts_end"] == at(span.end_time_unix_nano)
        assert row["latency_ms"] == (span.end_time_unix_nano - span.start_time_unix_nano) / 1e6
        assert all(row[k] is None for k in NONE_OF), row
        # raw: the span with hex ids and attributes as a flat map, its resource and scope
        raw = row["raw"]
        assert (raw["span"]["spanId"], raw["span"]["traceId"]) == (event_id, trace_id)
        assert raw["span"]["kind"] == 3 and raw["span"]["name"] == row["name"]
        assert raw["resource"]["service.name"] == "fixtures-proto"
        assert raw["scope"] == {"name": "opentelemetry.util.genai.handler", "version": "1.1b0"}
        assert raw["span"]["attributes"]["gen_ai.operation.name"] == "chat"
    assert {k: tools[k] for k in (
        "name", "model", "model_requested", "input_messages", "output_messages", "input_text",
        "output_text", "params", "tokens_in", "tokens_out", "cost_source", "status",
        "error_type", "error_message")} == {  # fmt: skip
        "name": "chat gpt-4o-mini", "model": "gpt-4o-mini-2024-07-18",
        "model_requested": "gpt-4o-mini", "input_messages": HISTORY[:2],
        "output_messages": [{"role": "assistant", "content": None, "tool_calls": CALLS}],
        "input_text": "Weather in Paris?", "output_text": None,
        "params": {"temperature": 0.2, "max_tokens": 100}, "tokens_in": 18, "tokens_out": 24,
        "cost_source": "computed", "status": "ok", "error_type": None, "error_message": None,
    }  # fmt: skip
    # gpt-4o-mini: $0.15 in / $0.60 out per 1M
    assert tools["cost_usd"] == pytest.approx((18 * 0.15 + 24 * 0.60) / 1e6)
    assert (answer["name"], answer["input_messages"], answer["output_messages"]) == (
        "chat gpt-4o-mini", HISTORY, [{"role": "assistant", "content": ANSWER}])  # fmt: skip
    assert (answer["input_text"], answer["output_text"]) == ("Weather in Paris?", ANSWER)
    assert (answer["tokens_in"], answer["tokens_out"], answer["params"]) == (
        144, 10, {"temperature": 0.2, "max_tokens": 100})  # fmt: skip
    assert answer["cost_usd"] == pytest.approx((144 * 0.15 + 10 * 0.60) / 1e6)
    assert (answer["model"], answer["model_requested"], answer["status"]) == (
        "gpt-4o-mini-2024-07-18", "gpt-4o-mini", "ok")  # fmt: skip
    assert {k: stream[k] for k in ("name", "model", "model_requested", "input_messages",
                                   "output_messages", "output_text", "params", "tokens_in",
                                   "tokens_out", "status")} == {  # fmt: skip
        "name": "chat gpt-4", "model": "gpt-4", "model_requested": "gpt-4",
        "input_messages": [{"role": "user", "content": "Say this is a test"}],
        "output_messages": [{"role": "assistant", "content": "This is a test."}],
        "output_text": "This is a test.", "params": None, "tokens_in": 9, "tokens_out": 5,
        "status": "ok"}  # fmt: skip
    assert stream["cost_usd"] == pytest.approx((9 * 30 + 5 * 60) / 1e6)  # gpt-4: $30 / $60
    assert {k: missing[k] for k in ("name", "model", "model_requested", "input_text",
                                    "output_messages", "tokens_in", "tokens_out", "cost_usd",
                                    "cost_source", "status", "error_type",
                                    "error_message")} == {  # fmt: skip
        "name": "chat this-model-does-not-exist", "model": "this-model-does-not-exist",
        "model_requested": "this-model-does-not-exist", "input_text": "Say this is a test",
        "output_messages": None, "tokens_in": None, "tokens_out": None, "cost_usd": None,
        "cost_source": None, "status": "error", "error_type": "NotFoundError",
        "error_message": SDK_NOT_FOUND}  # fmt: skip


def test_the_same_calls_as_the_sdk_wrote_in_otlp_json():
    """The JSON fixture of the same four calls (make_otlp.py, same instrumentation and ids):
    every column but the clocks and raw is the same, read from protobuf or JSON."""
    proto = parse(HERE / TRACES).events
    path = DATA / "otlp/openai_v2_current.traces.jsonl"
    as_json = read_foreign("otlp", path, path.read_bytes()).events
    clocks = {"ts", "ts_end", "latency_ms", "raw"}
    assert [{k: v for k, v in r.items() if k not in clocks} for r in proto] == [
        {k: v for k, v in r.items() if k not in clocks} for r in as_json
    ]


def test_one_bare_request_every_field():
    data = (HERE / LAYOUT).read_bytes()
    assert ExportTraceServiceRequest.FromString(data).SerializeToString() == data
    parsed = parse(HERE / LAYOUT)
    assert (parsed.records_read, parsed.rejects, parsed.feedback) == (2, [], [])
    child, root = parsed.events
    trace = "0000000000000000000000000abc0101"
    spans = {s.name: s for s in spans_of(framed([data]))}
    for row in (child, root):
        span = spans[row["name"]]
        assert (row["ts"], row["ts_end"]) == (
            at(span.start_time_unix_nano), at(span.end_time_unix_nano))  # fmt: skip
        assert row["latency_ms"] == (span.end_time_unix_nano - span.start_time_unix_nano) / 1e6
        assert (row["kind"], row["trace_id"], row["environment"]) == ("other", trace, "fixtures")
        for key in ("provider", "model", "model_requested", "input_messages", "output_messages",
                    "input_text", "output_text", "params", "tokens_in", "tokens_out",
                    "cost_usd", "cost_source", *NONE_OF):  # fmt: skip
            assert row[key] is None, key
    assert (root["event_id"], root["parent_id"], root["name"]) == (
        "0000000000001102", None, "GET /reviews")  # fmt: skip
    assert (root["status"], root["error_type"], root["error_message"]) == ("ok", None, None)
    assert root["raw"]["span"]["attributes"] == {
        "http.request.method": "GET", "http.response.status_code": 500}  # fmt: skip
    assert root["raw"]["span"]["kind"] == 2
    assert (child["event_id"], child["parent_id"], child["name"]) == (
        "0000000000001103", "0000000000001102", "load reviews")  # fmt: skip
    assert (child["status"], child["error_type"], child["error_message"]) == (
        "error", "error", "database is locked")  # fmt: skip
    assert [e["name"] for e in child["raw"]["span"]["events"]] == ["retry"]


def test_a_logs_file_alone_gives_one_call_per_span_and_beside_its_traces_none(tmp_path):
    shutil.copy(HERE / LOGS, tmp_path / LOGS)
    alone = parse(tmp_path / LOGS)
    assert (alone.records_read, alone.rejects) == (4, [])
    with_traces = parse(HERE / LOGS)  # the traces file beside it holds these spans
    assert (with_traces.records_read, with_traces.events, with_traces.rejects) == (4, [], [])
    traces = parse(HERE / TRACES).events
    keep = ("event_id", "trace_id", "kind", "provider", "model", "model_requested",
            "input_messages", "output_messages", "params", "tokens_in", "tokens_out", "status",
            "error_type")  # fmt: skip
    assert [{k: r[k] for k in keep} for r in alone.events] == [
        {k: r[k] for k in keep} for r in traces
    ]
    assert {r["name"] for r in alone.events} == {"gen_ai.client.inference.operation.details"}
    assert all(r["ts_end"] is None and r["latency_ms"] is None for r in alone.events)
    assert alone.events[0]["raw"]["log_record"]["spanId"] == "0000000000001002"


def test_spans_without_content_take_it_from_the_logs_file_beside_them(tmp_path):
    bodies = []
    for body in frames((HERE / TRACES).read_bytes()):
        msg = ExportTraceServiceRequest.FromString(body)
        for span in msg.resource_spans[0].scope_spans[0].spans:
            keep = [a for a in span.attributes if not a.key.endswith(".messages")]
            del span.attributes[:]
            span.attributes.extend(keep)
        bodies.append(msg.SerializeToString())
    (tmp_path / "spans.binpb").write_bytes(framed(bodies))
    bare = read_foreign("otlp_proto", Path("-"), framed(bodies)).events
    assert all(r["input_messages"] is None for r in bare)
    shutil.copy(HERE / LOGS, tmp_path / "events.binpb")
    joined = parse(tmp_path / "spans.binpb").events
    assert [r["input_messages"] for r in joined] == [
        HISTORY[:2], HISTORY, [{"role": "user", "content": "Say this is a test"}],
        [{"role": "user", "content": "Say this is a test"}]]  # fmt: skip
    assert joined[1]["output_text"] == ANSWER


def test_varint_delimited_messages_read_the_same(tmp_path):
    bodies = frames((HERE / TRACES).read_bytes())
    path = tmp_path / "dump.bin"
    path.write_bytes(b"".join(varint(len(b)) + b for b in bodies))
    got = parse(path)
    assert got.rejects == [] and got.records_read == 4
    want = parse(HERE / TRACES).events
    assert [r["event_id"] for r in got.events] == [r["event_id"] for r in want]
    assert [r["output_messages"] for r in got.events] == [r["output_messages"] for r in want]


def test_text_and_other_binaries_are_not_taken_for_protobuf(tmp_path):
    for head in (b'{"resourceSpans": []}', b"\n\n{}", b"PAR1\x15\x04", b"\x00\x00\x00\x05hello",
                 b"\x0a\x05hello", b"\x89PNG\r\n", b""):  # fmt: skip
        assert detect_format(tmp_path / "x.pb", head) != "otlp_proto", head


# --- bad input: each costs only its own message or span, and says where it was -------------


def test_a_corrupt_message_costs_only_itself(tmp_path):
    first, second = frames((HERE / TRACES).read_bytes())
    layout = (HERE / LAYOUT).read_bytes()
    garbage = b"\x0a\x03\xff\xff\xff"  # a resource_spans field holding no valid ResourceSpans
    path = tmp_path / "mixed.binpb"
    path.write_bytes(framed([first, garbage, second, layout]))
    parsed = parse(path)
    assert len(parsed.events) == 6 and parsed.records_read == 7
    (bad,) = parsed.rejects
    offset = 4 + len(first)
    assert bad.line_no == 2
    assert bad.reason == (
        f"message 2 at byte {offset} (4-byte big-endian length-prefixed): not an "
        "ExportTraceServiceRequest or ExportLogsServiceRequest"
    )
    assert bad.raw_text == garbage.hex()


def test_a_message_protobuf_refuses_is_rejected_with_protobufs_reason(tmp_path):
    (first, second), layout = frames((HERE / TRACES).read_bytes()), (HERE / LAYOUT).read_bytes()
    # the span name "GET /reviews" with a byte that is not UTF-8: protobuf refuses the message
    broken = layout.replace(b"GET /reviews", b"GET /revi\xffws")
    path = tmp_path / "utf8.binpb"
    path.write_bytes(framed([first, broken, second]))
    parsed = parse(path)
    assert [r["event_id"] for r in parsed.events] == [
        "0000000000001002", "0000000000001004", "0000000000001006", "0000000000001008"]
    (bad,) = parsed.rejects
    assert bad.line_no == 2 and bad.reason.startswith(
        f"message 2 at byte {4 + len(first)} (4-byte big-endian length-prefixed): Error parsing"
    )


def test_a_truncated_file_keeps_the_whole_messages_before_the_cut(tmp_path):
    data = (HERE / TRACES).read_bytes()
    path = tmp_path / "cut.binpb"
    path.write_bytes(data[:-10])
    parsed = parse(path)
    assert [r["name"] for r in parsed.events] == ["chat gpt-4o-mini", "chat gpt-4o-mini"]
    (bad,) = parsed.rejects
    assert (bad.line_no, bad.reason) == (
        2, f"message 2 at byte {4 + len(frames(data)[0])} (4-byte big-endian length-prefixed): "
        "truncated, the file ends inside it")  # fmt: skip


def test_a_bad_span_costs_only_itself(tmp_path):
    msg = ExportTraceServiceRequest.FromString(frames((HERE / TRACES).read_bytes())[0])
    spans = msg.resource_spans[0].scope_spans[0].spans
    spans[0].span_id = b"\x01\x02\x03"  # 3 bytes, not 8
    extra = spans.add()
    extra.CopyFrom(spans[1])
    extra.span_id = bytes.fromhex("00000000000000ff")
    extra.start_time_unix_nano = 0  # no start time
    path = tmp_path / "spans.binpb"
    path.write_bytes(framed([msg.SerializeToString()]))
    parsed = parse(path)
    assert parsed.records_read == 3
    assert [r["event_id"] for r in parsed.events] == ["0000000000001004"]
    reasons = sorted((r.line_no, r.reason) for r in parsed.rejects)
    assert reasons == [
        (1, "span 'chat gpt-4o-mini': id is neither hex nor base64: 'AQID'"),
        (1, "span 'chat gpt-4o-mini': span has no startTimeUnixNano"),
    ]


def test_a_file_that_is_not_otlp_protobuf_is_an_error_naming_it(tmp_path):
    path = tmp_path / "random.pb"
    path.write_bytes(b"\x08\x96\x01" * 10)  # a valid protobuf, but not an OTLP request
    assert detect_format(path, path.read_bytes()) is None
    with pytest.raises(InputError, match=r"random\.pb: not an OTLP protobuf file"):
        read_foreign("otlp_proto", path, path.read_bytes())


def test_end_to_end_through_the_cli_gzip_and_secrets(tmp_path, db_path):
    from typer.testing import CliRunner

    from dashboard.cli import app

    msg = ExportTraceServiceRequest.FromString((HERE / LAYOUT).read_bytes())
    root = msg.resource_spans[0].scope_spans[0].spans[1]
    assert root.name == "GET /reviews"
    header = root.attributes.add()
    header.key = "http.request.header.authorization"
    header.value.string_value = "Bearer abcdefghijklmnopqrstuvwxyz0123"
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "layout.pb.gz").write_bytes(gzip.compress(msg.SerializeToString()))
    shutil.copy(HERE / TRACES, folder / TRACES)
    shutil.copy(HERE / LOGS, folder / LOGS)
    result = CliRunner().invoke(app, ["ingest", "--db", str(db_path), str(folder)])
    assert result.exit_code == 0, result.output
    with connect(db_path, read_only=True) as con:
        rows = con.execute(
            "SELECT event_id, kind, source_format FROM events ORDER BY event_id"
        ).fetchall()
        assert rows == [("0000000000001002", "llm", "otlp"), ("0000000000001004", "llm", "otlp"),
                        ("0000000000001006", "llm", "otlp"), ("0000000000001008", "llm", "otlp"),
                        ("0000000000001102", "other", "otlp"),
                        ("0000000000001103", "other", "otlp")]  # fmt: skip
        raw = con.execute("SELECT raw FROM events WHERE event_id = '0000000000001102'").fetchone()
        attrs = json.loads(raw[0])["span"]["attributes"]
        assert attrs["http.request.header.authorization"] == "[redacted]"
        assert "abcdefghijklmnop" not in raw[0]
        formats = con.execute("SELECT source_format FROM ingested_files ORDER BY 1").fetchall()
        assert formats == [("otlp",)] * 3
