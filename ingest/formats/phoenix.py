"""Phoenix span exports: its spans dataframe (`get_spans_dataframe()`) saved as Parquet or as
JSON Lines (`df.to_json(orient="records", lines=True)`), and Phoenix's REST span JSON.

A row is one span: `context.span_id`, `context.trace_id`, `parent_id`, `name`, `span_kind`,
`start_time`, `end_time`, `status_code`, `status_message`, `events`, and the OpenInference
attributes as `attributes.*` columns — leaves dotted into the column name
(`attributes.llm.token_count.prompt`), lists of messages kept as lists of dicts whose keys are
dotted in turn (`attributes.llm.input_messages` = `[{"message.role": …}]`). The attributes are
flattened back into OpenInference keys (`llm.input_messages.0.message.role`) and the span is
mapped by the same code as an OTLP span carrying them (otlp_spans.row_from), so every column
follows docs/formats.md's OTLP precedence table. The REST form nests the same facts
(`context: {trace_id, span_id}`, `attributes: {…}`) and is read the same way.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest.errors import InputError
from ingest.formats.jsondocs import json_documents
from ingest.formats.messages import compact_json
from ingest.formats.otlp_spans import clip, fid, norm_id, row_from
from ingest.formats.tabular import PARQUET_MAGIC
from ingest.formats.timeutil import from_any
from ingest.prices import price_table
from ingest.records import ParsedFile, Reject

COLUMNS = {"context.span_id", "context.trace_id", "span_kind"}  # what a spans dataframe has
_STATUS = {"OK": 1, "ERROR": 2, "UNSET": 0}
# attributes OpenInference writes as JSON strings, which the frame holds parsed
_JSON_KEYS = {"metadata", "llm.invocation_parameters", "llm.prompt_template.variables",
              "tool.parameters"}  # fmt: skip


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    """Nested dataframe cells → OpenInference's flat dotted keys (lists of dicts indexed)."""
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        value = value.tolist()  # numpy arrays and scalars, from a frame read with pandas
    if _missing(value):
        return
    if isinstance(value, dict) and prefix in _JSON_KEYS:
        out[prefix] = compact_json(value)  # OpenInference carries these as JSON text
        return
    if isinstance(value, dict):
        for key, inner in value.items():
            flatten(f"{prefix}.{key}" if prefix else str(key), inner, out)
        return
    if (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(v, dict) or _missing(v) for v in value)
    ):
        for i, inner in enumerate(value):
            flatten(f"{prefix}.{i}", inner, out)
        return
    out[prefix] = list(value) if isinstance(value, tuple) else value


def _nanos(value: Any) -> int | None:
    if _missing(value):
        return None
    if isinstance(value, datetime):
        ts = value
    else:
        ts = from_any(value)
        if ts is None:
            return None
    # whole microseconds: every timestamp the warehouse keeps
    return (int(ts.timestamp()) * 1_000_000 + ts.microsecond) * 1000


def _events(value: Any) -> list[dict[str, Any]]:
    if _missing(value):
        return []
    if not isinstance(value, list | tuple):
        raise ValueError("events is not a list")
    out = []
    for ev in value:
        if not isinstance(ev, dict):
            raise ValueError("an event is not an object")
        attrs: dict[str, Any] = {}
        flatten("", ev.get("attributes") or {}, attrs)
        out.append({"name": ev.get("name"), "time": _nanos(ev.get("timestamp")),
                    **attrs})  # fmt: skip
    return out


def span_row(row: dict[str, Any], feedback: list[dict[str, Any]], prices) -> dict[str, Any]:
    context = row.get("context") if isinstance(row.get("context"), dict) else {}
    span_id = row.get("context.span_id") or context.get("span_id") or row.get("span_id")
    trace_id = row.get("context.trace_id") or context.get("trace_id") or row.get("trace_id")
    if _missing(span_id) or not span_id:
        raise ValueError("row has no context.span_id")
    attrs: dict[str, Any] = {}
    if isinstance(row.get("attributes"), dict):
        flatten("", row["attributes"], attrs)
    for key, value in row.items():
        if key.startswith("attributes."):
            flatten(key[len("attributes.") :], value, attrs)
    kind = row.get("span_kind")
    if isinstance(kind, str) and kind and "openinference.span.kind" not in attrs:
        attrs["openinference.span.kind"] = kind
    status = row.get("status_code")
    code = _STATUS.get(str(status).upper(), 0) if not _missing(status) else 0
    message = row.get("status_message")
    start = _nanos(row.get("start_time"))
    if start is None:
        raise ValueError("row has no start_time")
    end = _nanos(row.get("end_time"))
    parent = row.get("parent_id")
    out = row_from(
        attrs,
        _events(row.get("events")),
        trace_id=norm_id(str(trace_id)) if not _missing(trace_id) and trace_id else None,
        span_id=norm_id(str(span_id)),
        parent_id=norm_id(str(parent)) if not _missing(parent) and parent else None,
        name=None if _missing(row.get("name")) else row.get("name"),
        start_ns=start,
        end_ns=end,
        status=(code, None if _missing(message) or not message else str(message)),
        resource={},
        links=[],
        feedback=feedback,
        source_format="phoenix",
        prices=prices,
    )
    for fb in feedback:
        fb["source_format"] = "phoenix"
    skip = ("attributes", "__index_level_")
    shell = {k: _plain(v) for k, v in row.items() if not k.startswith(skip)}
    out["raw"] = {"span": shell, "attributes": attrs}
    return out


_ANNOTATOR = {"HUMAN": "reviewer", "LLM": "llm_judge", "CODE": "code"}


def annotation_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row of Phoenix's span annotations dataframe (`get_span_annotations_dataframe()`)."""
    name = row.get("annotation_name")
    if _missing(name) or not name:
        raise ValueError("no annotation_name")
    span_id = row.get("span_id") or row.get("context.span_id")
    if _missing(span_id) or not span_id:
        raise ValueError(f"annotation {name!r} names no span_id")
    value = row.get("result.score")
    label = row.get("result.label")
    explanation = row.get("result.explanation")
    if not _missing(value) and not isinstance(value, int | float):
        raise ValueError(f"annotation {name!r}: result.score is not a number: {value!r}")
    value = None if _missing(value) else float(value)
    label = None if _missing(label) or label == "" else str(label)
    if value is None and label is None and (_missing(explanation) or not explanation):
        raise ValueError(f"annotation {name!r} has no score, label or explanation")
    kind = str(row.get("annotator_kind") or "").upper()
    author = row.get("user_id")
    when = row.get("updated_at") if not _missing(row.get("updated_at")) else row.get("created_at")
    # Phoenix's own ids (`SpanAnnotation:1`, base64) restart in every Phoenix instance
    ident = row.get("id")
    return {
        "feedback_id": fid(
            "phoenix", span_id, name, row.get("identifier") or "", "" if _missing(ident) else ident
        ),
        "event_id": norm_id(str(span_id)),
        "trace_id": None,
        "name": str(name),
        "kind": "score" if value is not None else "label",
        "value": value,
        "label": label,
        "source": _ANNOTATOR.get(kind, "code"),
        "comment": None if _missing(explanation) or not explanation else str(explanation),
        "author": None if _missing(author) or not author else str(author),
        "ts": when if isinstance(when, datetime) else from_any(when),
        "source_format": "phoenix",
    }


def _plain(value: Any) -> Any:
    """A cell as JSON can hold it (Parquet timestamps become ISO text)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return None if _missing(value) else value


def _rows_of_parquet(path: Path, data: bytes) -> list[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
    return table.to_pylist()


def read(path: Path, data: bytes) -> ParsedFile:
    out = ParsedFile(source_format="phoenix")
    if data.startswith(PARQUET_MAGIC):
        docs: list[tuple[int | None, Any]] = [
            (n, r) for n, r in enumerate(_rows_of_parquet(path, data), start=1)
        ]
    else:
        docs = []
        for line_no, doc in json_documents(path, data, out):
            if isinstance(doc, list):
                docs.extend((n if line_no is None else line_no, d)
                            for n, d in enumerate(doc, start=1))  # fmt: skip
            elif isinstance(doc, dict) and isinstance(doc.get("data"), list):
                docs.extend((n, d) for n, d in enumerate(doc["data"], start=1))
            else:
                docs.append((line_no, doc))
    prices = price_table()
    for where, row in docs:
        out.records_read += 1
        if not isinstance(row, dict):
            out.rejects.append(Reject(where, "span is not a JSON object", clip(row)))
            continue
        if "annotation_name" in row:
            try:
                out.feedback.append(annotation_row(row))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                out.rejects.append(Reject(where, f"annotation: {exc}", _clip(row)))
            continue
        feedback: list[dict[str, Any]] = []
        try:
            event = span_row(row, feedback, prices)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            name = row.get("name")
            out.rejects.append(Reject(where, f"span {name!r}: {exc}", _clip(row)))
            continue
        out.events.append(event)
        out.feedback.extend(feedback)
    return out


def _clip(row: dict[str, Any]) -> str:
    try:
        return compact_json(row)[:2000]
    except (TypeError, ValueError):
        return repr(row)[:2000]
