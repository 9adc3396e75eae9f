"""The OTLP/HTTP protocol: request bodies in, responses out (no server, no disk).

A request body (protobuf `application/x-protobuf` or OTLP/JSON `application/json`, gzip or
not) becomes one OTLP/JSON document, the shape the file readers of ingest/formats/ take. The
protobuf form is decoded with the opentelemetry-proto classes and converted with
google.protobuf.json_format.MessageToDict (traces: fastproto.py, tested equal to it and several
times faster); protobuf's JSON mapping differs from OTLP/JSON in
two ways that matter here, both normalised: `bytes` ids come out base64 where OTLP/JSON writes
them as hex, and enums would come out as names (asked for as integers, as OTLP/JSON writes them).

Responses follow the OTLP/HTTP specification: 200 with an Export*ServiceResponse (its
`partial_success` naming the rejected spans or log records and why), 4xx/5xx with a
google.rpc.Status, each encoded like the request (protobuf or JSON).
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from ingest.formats.otlp_spans import norm_id

TRACES = "/v1/traces"
LOGS = "/v1/logs"
SIGNALS = {TRACES: "resourceSpans", LOGS: "resourceLogs"}
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
MAX_BODY_BYTES = 64 * 1024 * 1024  # decompressed; a gzip bomb stops here

# google.rpc.Code values used in Status bodies.
INVALID_ARGUMENT = 3
NOT_FOUND = 5
RESOURCE_EXHAUSTED = 8
UNAVAILABLE = 14


class WireError(Exception):
    """A request the receiver refuses: its HTTP status and google.rpc code say how."""

    def __init__(self, http_status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message


def bad_request(message: str) -> WireError:
    return WireError(400, INVALID_ARGUMENT, message)


def media_type(content_type: str | None) -> str:
    """PROTOBUF or JSON from a Content-Type header (parameters such as charset ignored)."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    if base in (PROTOBUF, "application/protobuf"):
        return PROTOBUF
    if base == JSON:
        return JSON
    raise WireError(
        415,
        INVALID_ARGUMENT,
        f"unsupported Content-Type {content_type!r}: send {PROTOBUF} or {JSON}",
    )


def decompress(body: bytes, encoding: str | None) -> bytes:
    enc = (encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        return body
    if enc != "gzip":
        raise WireError(415, INVALID_ARGUMENT, f"unsupported Content-Encoding {encoding!r}")
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(body, MAX_BODY_BYTES)
        if d.unconsumed_tail:
            raise WireError(413, INVALID_ARGUMENT, f"body over {MAX_BODY_BYTES} bytes unzipped")
        if not d.eof:
            raise gzip.BadGzipFile("truncated gzip stream")
        return out
    except (zlib.error, gzip.BadGzipFile, EOFError) as exc:
        raise bad_request(f"Content-Encoding gzip, but the body is not valid gzip: {exc}") from exc


def _request_class(path: str) -> Any:
    if path == TRACES:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        return ExportTraceServiceRequest
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    return ExportLogsServiceRequest


def _hex(item: dict[str, Any], *keys: str) -> None:
    for key in keys:
        value = item.get(key)
        if isinstance(value, str) and value:
            try:
                item[key] = norm_id(value)
            except ValueError:
                pass  # left as sent: the reader rejects that span with the reason


def normalise_ids(doc: dict[str, Any]) -> dict[str, Any]:
    """Trace, span and parent ids (spans, their links, log records) as lowercase hex, in place."""
    for rs in doc.get("resourceSpans") or []:
        for ss in (rs.get("scopeSpans") or []) if isinstance(rs, dict) else []:
            for span in (ss.get("spans") or []) if isinstance(ss, dict) else []:
                if not isinstance(span, dict):
                    continue
                _hex(span, "traceId", "spanId", "parentSpanId")
                for link in span.get("links") or []:
                    if isinstance(link, dict):
                        _hex(link, "traceId", "spanId")
    for rl in doc.get("resourceLogs") or []:
        for sl in (rl.get("scopeLogs") or []) if isinstance(rl, dict) else []:
            for rec in (sl.get("logRecords") or []) if isinstance(sl, dict) else []:
                if isinstance(rec, dict):
                    _hex(rec, "traceId", "spanId")
    return doc


def decode(path: str, ctype: str, body: bytes) -> dict[str, Any]:
    """The request body as an OTLP/JSON TracesData or LogsData dict (ids in hex)."""
    key = SIGNALS[path]
    if ctype == PROTOBUF:
        from google.protobuf.json_format import MessageToDict
        from google.protobuf.message import DecodeError

        msg = _request_class(path)()
        try:
            msg.ParseFromString(body)
        except DecodeError as exc:
            raise bad_request(f"body is not a protobuf {type(msg).__name__}: {exc}") from exc
        if path == TRACES:  # the hot path: the same dict, built without json_format's reflection
            from ingest.collect.fastproto import traces_request

            doc = traces_request(msg)
            doc.setdefault(key, [])
            return doc
        doc = MessageToDict(msg, use_integers_for_enums=True)
    else:
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise bad_request(f"body is not JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise bad_request(f"body is JSON {type(doc).__name__}, not an object with {key}")
        other = next(k for k in SIGNALS.values() if k != key)
        if other in doc and key not in doc:
            raise bad_request(f"body holds {other}; POST it to the other endpoint, not {path}")
        if not isinstance(doc.get(key) or [], list):
            raise bad_request(f"{key} is not a list")
    doc.setdefault(key, [])
    return normalise_ids(doc)


def count_items(doc: dict[str, Any]) -> int:
    """Spans (traces) or log records (logs) in a decoded document."""
    n = 0
    for rs in doc.get("resourceSpans") or []:
        for ss in (rs.get("scopeSpans") or []) if isinstance(rs, dict) else []:
            n += len((ss.get("spans") or []) if isinstance(ss, dict) else [])
    for rl in doc.get("resourceLogs") or []:
        for sl in (rl.get("scopeLogs") or []) if isinstance(rl, dict) else []:
            n += len((sl.get("logRecords") or []) if isinstance(sl, dict) else [])
    return n


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def success(path: str, ctype: str, rejected: int = 0, message: str = "") -> Reply:
    """200 with an Export*ServiceResponse; partial_success set when something was rejected."""
    if path == TRACES:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceResponse as Response,
        )

        field = "rejected_spans"
    else:
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
            ExportLogsServiceResponse as Response,
        )

        field = "rejected_log_records"
    resp = Response()
    if rejected or message:
        setattr(resp.partial_success, field, rejected)
        resp.partial_success.error_message = message
    return Reply(200, ctype, _encode(resp, ctype))


def failure(
    ctype: str, http_status: int, code: int, message: str, retry_after: int | None = None
) -> Reply:
    """An error status with a google.rpc.Status body (and Retry-After when throttling)."""
    from google.rpc.status_pb2 import Status

    headers = (("Retry-After", str(retry_after)),) if retry_after is not None else ()
    return Reply(http_status, ctype, _encode(Status(code=code, message=message), ctype), headers)


def _encode(msg: Any, ctype: str) -> bytes:
    if ctype == PROTOBUF:
        return msg.SerializeToString()
    from google.protobuf.json_format import MessageToJson

    return MessageToJson(msg, indent=None).encode()
