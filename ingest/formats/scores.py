"""Score and feedback files (CSV or JSON Lines) of (event_id or trace_id, name, value or label,
source, comment, ts).

Feedback may arrive before its event: rows keep their event_id and attach when the event is
loaded. A row naming only a trace_id judges the whole trace and is never copied onto its spans.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from ingest.errors import InputError
from ingest.formats.jsondocs import json_lines
from ingest.formats.messages import compact_json
from ingest.formats.timeutil import from_any
from ingest.formats.values import as_float
from ingest.records import ParsedFile, Reject

SOURCES = {
    "user": "user", "end_user": "user", "app": "user",
    "reviewer": "reviewer", "human": "reviewer", "annotation": "reviewer",
    "llm_judge": "llm_judge", "llm": "llm_judge", "judge": "llm_judge", "eval": "llm_judge",
    "model": "llm_judge",
    "code": "code", "api": "code", "heuristic": "code",
}  # fmt: skip
_VOTES = {"thumbs": "vote", "rating": "vote", "regenerated": "action", "copied": "action",
          "shared": "action", "edited": "action", "correction": "correction",
          "verdict": "label"}  # fmt: skip
KEYS = ("event_id", "trace_id", "name", "value", "label", "source", "comment", "ts")


def row_of(rec: dict[str, Any]) -> dict[str, Any]:
    rec = {str(k).strip().lower(): (v.strip() if isinstance(v, str) else v) for k, v in rec.items()}
    event_id = rec.get("event_id") or None
    trace_id = rec.get("trace_id") or None
    if not event_id and not trace_id:
        raise ValueError("needs event_id or trace_id")
    name = rec.get("name") or rec.get("key")
    if not name:
        raise ValueError("needs a name")
    raw_value = rec.get("value", rec.get("score"))
    value = as_float(raw_value) if raw_value not in (None, "") else None
    if raw_value not in (None, "") and value is None:
        if isinstance(raw_value, bool) or str(raw_value).lower() in ("true", "false"):
            value = 1.0 if str(raw_value).lower() == "true" else 0.0
        else:
            raise ValueError(f"value {raw_value!r} is not a number")
    label = rec.get("label") or None
    if value is None and label is None and not rec.get("correction"):
        raise ValueError("needs a value or a label")
    source_text = str(rec.get("source") or "code").lower()
    if source_text not in SOURCES:
        raise ValueError(f"source {source_text!r} is not one of user, reviewer, llm_judge, code")
    ts = from_any(rec.get("ts") or rec.get("timestamp") or rec.get("created_at"))
    kind = rec.get("kind") or _VOTES.get(str(name), "score" if value is not None else "label")
    return {
        "feedback_id": rec.get("feedback_id")
        or rec.get("id")
        or hashlib.sha1(
            compact_json([event_id, trace_id, name, value, label, str(ts)]).encode()
        ).hexdigest()[:32],
        "event_id": event_id,
        "trace_id": None if event_id else trace_id,
        "name": str(name),
        "kind": kind,
        "value": value,
        "label": label,
        "source": SOURCES[source_text],
        "comment": rec.get("comment") or None,
        "correction": rec.get("correction") or None,
        "author": rec.get("author") or None,
        "ts": ts,
        "source_format": "scores",
    }


def read(path: Path, data: bytes) -> ParsedFile:
    out = ParsedFile(source_format="scores")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc})") from exc
    first = text.lstrip()[:1]
    records: list[tuple[int | None, Any]]
    if first in ("{", "["):
        try:
            doc = json.loads(text)
            records = list(enumerate(doc, start=1)) if isinstance(doc, list) else [(None, doc)]
        except ValueError as exc:
            records = json_lines(path, text, out, exc)
    else:
        reader = csv.DictReader(io.StringIO(text))
        header = {h.strip().lower() for h in reader.fieldnames or []}
        if "name" not in header or not header & {"event_id", "trace_id"}:
            raise InputError(
                f"{path}: a score CSV needs a header with name and event_id or trace_id "
                f"(found {sorted(header)})"
            )
        records = [(reader.line_num, rec) for rec in reader]
    for line_no, rec in records:
        out.records_read += 1
        try:
            if not isinstance(rec, dict):
                raise ValueError("record is not an object")
            if None in rec:
                raise ValueError("more fields than the header")
            out.feedback.append(row_of(rec))
        except (TypeError, ValueError) as exc:
            raw = compact_json(rec) if isinstance(rec, dict | list) else str(rec)
            out.rejects.append(Reject(line_no, str(exc), raw[:2000]))
    return out
