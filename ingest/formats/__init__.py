"""Readers of foreign formats (OTLP JSON and protobuf, Phoenix, Braintrust, Helicone, Langfuse
and LangSmith — API shapes and bulk exports —, OpenAI logs and Batch, score files).

Contract used by the loader:
- `FORMATS`: names accepted by `reviewdeck ingest --format` besides 'native'.
- `detect_format(path, head)`: the name of the format of a file from its first bytes, or None.
- `read_foreign(name, path, data)`: parse a whole file into a ParsedFile (never raises for a bad
  record: it becomes a Reject; raises InputError only when the file cannot be read at all).

Detection looks at content, not file names: binary files by their bytes (OTLP protobuf walks as
an Export*ServiceRequest; Parquet by the column names in its footer), text by keys no other
format writes at its top (`resourceSpans`, `span_attributes`, `custom_id`, `run_type`,
`dataType`, …), checked from the most specific to the least, because the general formats quote
the others (a LangSmith run holds a chat.completion).
Each reader module maps one format; docs/formats.md is the column-by-column mapping.

Imports go one way: this package's `__init__` dispatches to the readers, the readers import
only the modules below them (otlp → otlp_logs / otel_dumps → otlp_spans → otel_attrs →
otel_messages → messages, values; jsondocs, timeutil, common at the bottom), never the package.
Readers of a second shape of a format build on the first: otlp_proto and phoenix on
otlp_spans / otlp_logs, helicone on openai_logs, langfuse_bulk on langfuse, langsmith_bulk on
langsmith (the bulk readers through tabular, which reads Parquet, CSV and JSON Lines rows).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ingest.errors import InputError
from ingest.formats.common import no_cyclic_gc
from ingest.records import ParsedFile

__all__ = [
    "DESCRIPTIONS",
    "FORMATS",
    "detect_format",
    "detect_or_raise",
    "no_cyclic_gc",
    "read_foreign",
]

FORMATS: tuple[str, ...] = (
    "otlp", "otlp_proto", "phoenix", "braintrust", "helicone", "langfuse", "langfuse_bulk",
    "langsmith", "langsmith_bulk", "openai", "openai_batch", "scores",
)  # fmt: skip

DESCRIPTIONS = {
    "otlp": "OTLP/JSON TracesData or LogsData (document or JSON Lines), OTel-JS ReadableSpan "
    "arrays, or one span's attribute map",
    "otlp_proto": "OTLP protobuf ExportTraceServiceRequest/ExportLogsServiceRequest files "
    "(Collector file exporter's length-prefixed proto, varint-delimited, or one bare message)",
    "phoenix": "Phoenix span exports: the spans dataframe as Parquet or JSON Lines, or its REST "
    "span JSON",
    "braintrust": "Braintrust logs: span rows as `bt sync pull` writes them (NDJSON), or the "
    "rows the SDK posts",
    "helicone": "Helicone request export (JSON Lines of query-clickhouse records, as "
    "@helicone/export writes them)",
    "langfuse": "Langfuse trace export (trace + observations) or JSON Lines of observations/scores",
    "langsmith": "LangSmith runs (JSON/JSONL, {post, patch} payloads) and feedback",
    "langfuse_bulk": "Langfuse blob storage export (traces/, observations/, scores/ files as "
    "JSONL, CSV or Parquet)",
    "langsmith_bulk": "LangSmith bulk export (Parquet of runs in the Run data format; CSV too)",
    "openai": "OpenAI Chat Completions/Responses request/response logs, VCR cassettes (YAML)",
    "openai_batch": "OpenAI Batch API output file (joined with its input file in the same folder)",
    "scores": "score/feedback CSV or JSON Lines: event_id|trace_id, name, value|label, source, …",
}


_SCORE_KEYS = {
    "event_id", "trace_id", "name", "value", "label", "source", "comment", "ts", "timestamp",
    "feedback_id", "id", "kind", "correction", "author", "score", "created_at",
}  # fmt: skip


def _first_record(text: str) -> object:
    line = text.split("\n", 1)[0]
    try:
        return json.loads(line)
    except ValueError:
        return None


def _has(head: str, *keys: str) -> bool:
    return any(re.search(r'"' + re.escape(k) + r'"\s*:', head) for k in keys)


def _tabular_format(columns: set[str]) -> str | None:
    """The format of a Parquet or CSV file from its column names."""
    if {"context.span_id", "span_kind"} <= columns or {
        "annotation_name",
        "annotator_kind",
    } <= columns:
        return "phoenix"
    if {"run_type", "trace_id"} <= columns:
        return "langsmith_bulk"
    langfuse = {"parent_observation_id", "provided_model_name", "bookmarked", "trace_name"}
    if columns & langfuse or {"data_type", "observation_id"} <= columns:
        return "langfuse_bulk"
    return None


def detect_format(path: Path, head: bytes) -> str | None:
    from ingest.formats import otlp_proto

    if otlp_proto.detect(head):
        return "otlp_proto"
    if head.startswith(b"PAR1"):
        from ingest.formats.tabular import parquet_columns

        return _tabular_format(set(parquet_columns(path, head) or ()))
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    stripped = text.lstrip()
    if re.match(r"(interactions|version)\s*:", stripped) or "\ninteractions:" in text:
        return "openai"
    if not stripped.startswith(("{", "[")):
        header = stripped.splitlines()[0].lower() if stripped else ""
        cols = {c.strip().strip('"') for c in header.split(",")}
        if bulk := _tabular_format(cols):
            return bulk
        if "name" in cols and cols & {"event_id", "trace_id"}:
            return "scores"
        return None
    if _has(text, "resourceSpans", "resourceLogs", "spanContext", "_spanContext"):
        return "otlp"
    if (
        _has(text, "context.span_id")
        or (_has(text, "span_kind") and _has(text, "context"))
        or (_has(text, "annotation_name") and _has(text, "annotator_kind"))
    ):
        return "phoenix"
    if _has(text, "schema_version") and _has(
        text, "object_ref", "spec_hash", "root_discovery_cursor"
    ):
        return "braintrust"  # `bt sync`'s spec.json / state.json / manifest.json
    if _has(text, "span_attributes") or (_has(text, "root_span_id") and _has(text, "span_parents")):
        return "braintrust"
    if _has(text, "request_id") and _has(text, "request_created_at", "response_created_at"):
        return "helicone"
    if _has(text, "custom_id"):
        return "openai_batch"
    if _has(text, "observations", "parentObservationId", "dataType", "projectId"):
        return "langfuse"
    if (
        _has(text, "parent_observation_id", "provided_model_name", "trace_name")
        or (_has(text, "data_type") and _has(text, "observation_id"))
        or (_has(text, "bookmarked") and _has(text, "session_id", "user_id"))
    ):
        return "langfuse_bulk"
    if _has(text, "run_type", "dotted_order", "feedback_source") or (
        _has(text, "post", "patch") and _has(text, "trace_id", "inputs", "outputs")
    ) or (_has(text, "key") and _has(text, "run_id")):  # fmt: skip
        return "langsmith"
    if re.search(r'"object"\s*:\s*"(chat\.completion|chat\.completion\.chunk|response)"', text) or (
        _has(text, "request") and _has(text, "response", "error")
    ):  # fmt: skip
        return "openai"
    record = _first_record(stripped)
    if isinstance(record, dict):
        # Native lines share score keys; a score line has nothing but score keys.
        if record.get("type") in ("event", "feedback") or not record.keys() <= _SCORE_KEYS:
            record = None
    if record and "name" in record and record.keys() & {"event_id", "trace_id"}:
        return "scores"
    if re.search(r'"(gen_ai|llm|openinference|ai|traceloop)\.[a-z_.0-9]+"\s*:', text):
        return "otlp"
    return None


def detect_or_raise(path: Path, head: bytes) -> str:
    """Like detect_format, but an unrecognised file is an InputError naming the formats tried."""
    name = detect_format(path, head)
    if name is None:
        tried = "; ".join(f"{n} ({d})" for n, d in DESCRIPTIONS.items())
        raise InputError(
            f"{path}: format not recognised. Tried: native JSONL; {tried}. "
            "Use --format NAME to force one."
        )
    return name


def read_foreign(name: str, path: Path, data: bytes) -> ParsedFile:
    with no_cyclic_gc():
        return _read(name, path, data)


# Each format's reader: (module under ingest.formats, function); imported when first used, so
# loading one format never imports the others' dependencies.
_READERS = {
    "otlp": ("otlp", "read_any"),
    "otlp_proto": ("otlp_proto", "read"),
    "phoenix": ("phoenix", "read"),
    "braintrust": ("braintrust", "read"),
    "helicone": ("helicone", "read"),
    "langfuse": ("langfuse", "read"),
    "langsmith": ("langsmith", "read"),
    "langfuse_bulk": ("langfuse_bulk", "read"),
    "langsmith_bulk": ("langsmith_bulk", "read"),
    "openai_batch": ("openai_batch", "read"),
    "scores": ("scores", "read"),
}


def _read(name: str, path: Path, data: bytes) -> ParsedFile:
    import importlib

    if name == "openai":  # logged exchanges as JSON, or recorded HTTP cassettes (YAML)
        from ingest.formats import openai_logs

        if data.lstrip()[:1] not in (b"{", b"["):
            return openai_logs.read_cassette(path, data)
        return openai_logs.read(path, data)
    if name not in _READERS:
        raise InputError(f"{path}: unknown format {name!r}; known: native, {', '.join(FORMATS)}")
    module, function = _READERS[name]
    return getattr(importlib.import_module(f"ingest.formats.{module}"), function)(path, data)
