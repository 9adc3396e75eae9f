"""OTLP/JSON traces and logs (and the two span dumps seen next to them) → events and feedback.

Reads a `TracesData` document, JSON Lines of them (the OpenTelemetry file exporter), `LogsData`
carrying GenAI events, OTel-JS ReadableSpan arrays, and a bare span attribute map. Tolerates
what real exporters write: hex or base64 ids, enum numbers or names, 64-bit integers as strings
or numbers. Every span becomes a row with its kind, so traces stay whole; attribute decoding is
in otel_attrs.py.

The span → row core is otlp_spans.py, shared with otlp_logs.py and otel_dumps.py; this module
sits on top of them (it picks the reader and joins a traces file with the logs beside it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ingest.errors import InputError
from ingest.formats.jsondocs import iter_json_lines
from ingest.formats.messages import loads
from ingest.formats.otel_dumps import read_attribute_map, read_readable_spans
from ingest.formats.otlp_logs import read_logs_doc
from ingest.formats.otlp_spans import clip, read_traces_doc
from ingest.records import ParsedFile, Reject

_CONTENT = ("input_messages", "output_messages", "input_text", "output_text")


def _sibling_docs(path: Path, marker: bytes) -> list[tuple[Path, bytes]]:
    """OTLP files next to `path` whose first bytes hold `marker` (resourceSpans/resourceLogs)."""
    found = []
    folder = path.parent
    if not folder.is_dir():
        return found
    for other in sorted([*folder.glob("*.json"), *folder.glob("*.jsonl")]):
        if other == path:
            continue
        try:
            with other.open("rb") as fh:
                if marker not in fh.read(4096):
                    continue
            found.append((other, other.read_bytes()))
        except OSError:
            continue
    return found


def join_signals(out: ParsedFile, siblings: Callable[[str], Iterable[ParsedFile]]) -> None:
    """An instrumentation writes a call's metrics on the span and its messages as log events
    (the deprecated per-message events, or operation.details): one row per span needs both, so
    spans take missing content from the logs files beside them, and a logs file leaves the
    spans that a traces file beside it holds to that file. `siblings("logs")` /
    `siblings("traces")` are those files, read (OTLP/JSON here, protobuf in otlp_proto)."""
    is_traces = any(r.get("raw", {}).get("span") is not None for r in out.events)
    if is_traces:
        bare = {
            r["event_id"]: r
            for r in out.events
            if r["kind"] == "llm" and r.get("input_messages") is None
        }
        if not bare:
            return
        for logs in siblings("logs"):
            for row in logs.events:
                target = bare.get(row["event_id"])
                if target is not None:
                    for key in _CONTENT:
                        if target.get(key) is None:
                            target[key] = row.get(key)
        return
    if not out.events:
        return
    span_ids = {r["event_id"] for traces in siblings("traces") for r in traces.events}
    if span_ids:
        out.events = [r for r in out.events if r["event_id"] not in span_ids]


def _json_siblings(path: Path, want: str) -> Iterator[ParsedFile]:
    """The OTLP/JSON documents beside `path` holding `want` ("logs" or "traces"), read."""
    marker = b'"resourceLogs"' if want == "logs" else b'"resourceSpans"'
    for _, data in _sibling_docs(path, marker):
        try:
            yield read(Path("-"), data, join=False)
        except InputError:
            continue


def _join_signals(path: Path, out: ParsedFile) -> None:
    join_signals(out, lambda want: _json_siblings(path, want))


def read(
    path: Path, data: bytes, *, join: bool = True, first_line: int | None = None
) -> ParsedFile:
    """TracesData / LogsData document, or JSON Lines of them. With `first_line`, `data` is a
    slice of a JSON Lines file starting at that line (ingest/parallel_read.py)."""
    out = ParsedFile(source_format="otlp")
    # orjson takes bytes and checks UTF-8 itself: no decoded copy of a big file is made.
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    docs: Iterable[tuple[int | None, Any]]
    if first_line is not None:
        # The first slice answers for the file: a first line that is not JSON fails it whole.
        whole = ValueError("not one JSON document") if first_line == 1 else None
        docs = iter_json_lines(path, body, out, whole, first_line=first_line)
    else:
        try:
            docs = [(None, loads(body))]
        except ValueError as whole_error:
            docs = iter_json_lines(path, body, out, whole_error)
    for line_no, doc in docs:
        if not isinstance(doc, dict) or not ("resourceSpans" in doc or "resourceLogs" in doc):
            out.records_read += 1
            out.rejects.append(Reject(line_no, "not a TracesData or LogsData object", clip(doc)))
            continue
        if "resourceSpans" in doc:
            read_traces_doc(doc, line_no, out)
        else:
            read_logs_doc(doc, line_no, out)
    if join:
        _join_signals(path, out)
    return out


def read_any(path: Path, data: bytes) -> ParsedFile:
    """Pick the OTLP-family reader by the top-level shape of the file."""
    head = data.lstrip()[:65536]
    if head.startswith(b"[") and (b'"spanContext"' in head or b'"_spanContext"' in head):
        return read_readable_spans(path, data)
    if head.startswith(b"{") and b'"resourceSpans"' not in head and b'"resourceLogs"' not in head:
        try:
            doc = loads(data)
        except ValueError:
            return read(path, data)  # JSON Lines, or broken: read() says which
        if isinstance(doc, dict) and not ({"resourceSpans", "resourceLogs"} & doc.keys()):
            if "spanContext" in doc or "_spanContext" in doc:
                return read_readable_spans(path, data)
            return read_attribute_map(path, data)
    return read(path, data)
