"""OTLP protobuf files (ExportTraceServiceRequest / ExportLogsServiceRequest bytes) → events.

Three layouts are read, told apart by their bytes:
- the OpenTelemetry Collector's file exporter with `format: proto`: each message preceded by its
  length as a 4-byte big-endian unsigned integer;
- varint length-delimited messages (protobuf's `writeDelimitedTo`, Java/Go SDK dumps);
- one bare message (an OTLP/HTTP request body saved as is, `.pb` / `.binpb`).

Each message is decoded with the opentelemetry-proto classes and turned into the OTLP/JSON dict
(traces: the collector's ingest.collect.fastproto walk, tested equal to protobuf's JSON mapping;
logs: `MessageToDict` with enums as integers; ids as hex either way), then mapped by
the same span and log-record code as OTLP/JSON (otlp_spans.py, otlp_logs.py): the columns are
exactly those of docs/formats.md's OTLP section. A message that does not decode is a reject
naming its number and byte offset; the messages around it still load. A span that cannot be
mapped is a reject; the other spans of its message still load.

Traces and logs files in the same folder are joined as for OTLP/JSON: spans without messages
take them from the logs files' log events, and a logs file leaves the calls whose span is in a
traces file beside it to that file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.errors import InputError
from ingest.formats.otlp import join_signals
from ingest.formats.otlp_logs import read_logs_doc
from ingest.formats.otlp_spans import read_traces_doc
from ingest.records import ParsedFile, Reject

TRACES, LOGS = "traces", "logs"


class _Truncated(Exception):
    """The bytes end inside a field (fine in a file's head, an error in a whole message)."""


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(buf):
            raise _Truncated
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")


def _fields(buf: bytes, start: int, end: int, partial: bool = False):
    """(field number, wire type, value start, value end) of a message's fields, in order. With
    `partial` (a file's head), a field the bytes cut off is given clipped, and the walk stops."""
    i = start
    while i < end:
        try:
            tag, i = _varint(buf, i)
            field, wire = tag >> 3, tag & 7
            if wire == 0:
                _, j = _varint(buf, i)
            elif wire == 1:
                j = i + 8
            elif wire == 2:
                n, i = _varint(buf, i)
                j = i + n
            elif wire == 5:
                j = i + 4
            else:
                raise ValueError(f"wire type {wire} (groups are not OTLP)")
        except _Truncated:
            if partial:
                return
            raise
        if field == 0:
            raise ValueError("field number 0")
        if j > end:
            if not partial:
                raise _Truncated
            yield field, wire, i, end
            return
        yield field, wire, i, j
        i = j


def _signal(buf: bytes, start: int, end: int, *, partial: bool) -> str | None:
    """TRACES or LOGS for an Export*ServiceRequest's bytes, None when they are not one. The two
    share their outer tags (resource 1, scope list 2, schema url 3); a span starts with its
    16-byte trace id (field 1, bytes), a log record with a fixed64 time or a varint severity.
    A whole message with no span or record at all is an empty traces request."""
    found = None
    try:
        for field, wire, a, b in _fields(buf, start, end, partial):
            if (field, wire) != (1, 2):  # resource_spans / resource_logs only
                return None
            for f2, w2, a2, b2 in _fields(buf, a, b, partial):
                if w2 != 2 or f2 not in (1, 2, 3):
                    return None
                if f2 != 2:
                    continue
                for f3, w3, a3, b3 in _fields(buf, a2, b2, partial):
                    if w3 != 2 or f3 not in (1, 2, 3):
                        return None
                    if f3 != 2 or found:
                        continue
                    item = next(_fields(buf, a3, b3, partial), None)
                    if item is None:
                        continue
                    if item[:2] == (1, 2) and item[3] - item[2] in (16, 0):
                        found = TRACES
                    elif item[1] in (0, 1, 5) or item[0] in (3, 5, 6, 9, 10, 12):
                        found = LOGS
                    else:
                        return None
                    if partial:
                        return found
    except (_Truncated, ValueError):
        return None
    return found or (None if partial else TRACES)


@dataclass(frozen=True)
class _Message:
    number: int  # 1-based, the "line" of a reject
    offset: int  # byte offset of the message (its length prefix) in the file
    start: int
    end: int  # past the file's end when the file stops inside the message


def _frames(data: bytes, *, partial: bool) -> tuple[str, list[_Message]] | None:
    """The layout of a file (or of its head, with `partial`) and its messages, or None."""
    msgs: list[_Message] = []
    # 4-byte big-endian lengths: a message under 16 MB starts its prefix with a zero byte,
    # which neither a bare request (tag 0x0a) nor text does.
    if data[:1] == b"\x00":
        i = 0
        while i < len(data):
            if i + 4 > len(data):
                if not partial:
                    msgs.append(_Message(len(msgs) + 1, i, i, len(data) + 1))
                break
            n = int.from_bytes(data[i : i + 4], "big")
            msgs.append(_Message(len(msgs) + 1, i, i + 4, i + 4 + n))
            i += 4 + n
        first = msgs[0] if msgs else None
        if first and _signal(data, first.start, min(first.end, len(data)), partial=True):
            return "4-byte big-endian length-prefixed", msgs
        return None
    if data[:1] == b"\x0a" and _signal(data, 0, len(data), partial=partial):
        return "one bare message", [_Message(1, 0, 0, len(data))]
    i = 0
    while i < len(data):
        try:
            n, j = _varint(data, i)
        except _Truncated:
            if not partial:
                msgs.append(_Message(len(msgs) + 1, i, i, len(data) + 1))
            break
        msgs.append(_Message(len(msgs) + 1, i, j, j + n))
        i = j + n
    first = msgs[0] if msgs else None
    if (
        first
        and data[first.start : first.start + 1] == b"\x0a"
        and _signal(data, first.start, min(first.end, len(data)), partial=True)
    ):
        return "varint length-delimited", msgs
    return None


def detect(head: bytes) -> bool:
    """Whether a file's first bytes are an OTLP protobuf file, in any of the three layouts."""
    if not head or head[:1] in (b"{", b"[", b" ", b"\t", b"\r", b"\xef"):
        return False
    return _frames(head, partial=True) is not None


def _request(signal: str) -> Any:
    if signal == TRACES:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        return ExportTraceServiceRequest()
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    return ExportLogsServiceRequest()


def read(path: Path, data: bytes, *, join: bool = True) -> ParsedFile:
    from google.protobuf.json_format import MessageToDict
    from google.protobuf.message import DecodeError

    out = ParsedFile(source_format="otlp")
    layout = _frames(data, partial=False)
    if layout is None:
        raise InputError(
            f"{path}: not an OTLP protobuf file: neither length-prefixed nor varint-delimited "
            "ExportTraceServiceRequest/ExportLogsServiceRequest messages, nor one bare message"
        )
    how, messages = layout
    for m in messages:
        where = f"message {m.number} at byte {m.offset} ({how})"
        if m.end > len(data):
            out.records_read += 1
            out.rejects.append(Reject(m.number, f"{where}: truncated, the file ends inside it", ""))
            continue
        signal = _signal(data, m.start, m.end, partial=False)
        if signal is None:
            out.records_read += 1
            out.rejects.append(
                Reject(
                    m.number,
                    f"{where}: not an ExportTraceServiceRequest or ExportLogsServiceRequest",
                    data[m.start : m.end][:64].hex(),
                )
            )
            continue
        msg = _request(signal)
        try:
            msg.ParseFromString(data[m.start : m.end])
        except DecodeError as exc:
            out.records_read += 1
            out.rejects.append(
                Reject(m.number, f"{where}: {exc}", data[m.start : m.end][:64].hex())
            )
            continue
        if signal == TRACES:
            # the collector's walk of the request: MessageToDict's dict with hex ids, ~10x faster
            from ingest.collect.fastproto import traces_request

            doc = traces_request(msg)
        else:  # protobuf's JSON mapping, its base64 ids made hex as the collector makes them
            from ingest.collect.wire import normalise_ids

            doc = normalise_ids(MessageToDict(msg, use_integers_for_enums=True))
        if signal == TRACES:
            doc.setdefault("resourceSpans", [])
            read_traces_doc(doc, m.number, out)
        else:
            doc.setdefault("resourceLogs", [])
            read_logs_doc(doc, m.number, out)
    if join:
        _join_signals(path, out)
    return out


def _siblings(path: Path, want: str) -> list[ParsedFile]:
    """The other OTLP protobuf files of `path`'s folder holding `want` (TRACES or LOGS)."""
    found: list[ParsedFile] = []
    folder = path.parent
    if str(path) == "-" or not folder.is_dir():
        return found
    for other in sorted(folder.iterdir()):
        if other == path or not other.is_file() or other.name.startswith("."):
            continue
        try:
            with other.open("rb") as fh:
                head = fh.read(65536)
            layout = _frames(head, partial=True) if detect(head) else None
            if layout is None:
                continue
            first = layout[1][0]
            if _signal(head, first.start, min(first.end, len(head)), partial=True) != want:
                continue
            found.append(read(Path("-"), other.read_bytes(), join=False))
        except (OSError, InputError):
            continue
    return found


def _join_signals(path: Path, out: ParsedFile) -> None:
    """As OTLP/JSON joins them (otlp.join_signals), with the protobuf files beside this one."""
    join_signals(out, lambda want: _siblings(path, LOGS if want == "logs" else TRACES))
