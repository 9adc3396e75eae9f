"""Langfuse blob storage exports: the files Langfuse's blob storage integration writes — one per
table and time window under `traces/`, `observations/` and `scores/` — as JSONL, CSV or Parquet,
with the ClickHouse tables' snake_case columns.

Each observation row is turned back into the observation the public API gives (`trace_id` →
`traceId`, `provided_model_name` → `providedModelName`, `usage_details` → `usageDetails`, …;
`metadata`'s values, `input`, `output` and `model_parameters` decoded from JSON text; Parquet
maps and timestamps made plain) and mapped by `langfuse.observation_row`, so every column
follows docs/formats.md's Langfuse table. Observations carry no trace fields in this export:
user, session, tags and environment come from the trace rows of the `traces/` files beside them
(`../traces/*`, or trace rows in the same file). Score rows go through `langfuse.score_row`; a
correction's share-changed value needs the observation's output, read from `../observations/*`.
Trace rows themselves are context, not events.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import ingest.formats.tabular as tabular
from ingest.errors import InputError
from ingest.formats.langfuse import observation_row, score_row
from ingest.formats.messages import compact_json, maybe_json
from ingest.records import ParsedFile, Reject

TRACE_KEYS = {"bookmarked"}
SCORE_KEYS = {"data_type", "observation_id"}
_OBSERVATION = {"trace_id": "traceId", "parent_observation_id": "parentObservationId",
                "parent_span_id": "parentObservationId",
                "start_time": "startTime", "end_time": "endTime",
                "completion_start_time": "completionStartTime", "status_message": "statusMessage",
                "provided_model_name": "providedModelName", "model_parameters": "modelParameters",
                "usage_details": "usageDetails", "cost_details": "costDetails",
                "prompt_name": "promptName", "prompt_version": "promptVersion",
                "project_id": "projectId", "user_id": "userId", "session_id": "sessionId",
                "total_cost": "totalCost", "prompt_id": "promptId"}  # fmt: skip
_SCORE = {"trace_id": "traceId", "observation_id": "observationId", "session_id": "sessionId",
          "dataset_run_id": "datasetRunId", "data_type": "dataType",
          "string_value": "stringValue", "long_string_value": "longStringValue",
          "author_user_id": "authorUserId", "config_id": "configId", "queue_id": "queueId",
          "created_at": "createdAt", "updated_at": "updatedAt"}  # fmt: skip
_MAPS = {"metadata", "usage_details", "cost_details"}
_JSON_TEXT = {"input", "output", "model_parameters", "usage_details", "cost_details", "tags",
              "metadata"}  # fmt: skip


def kind_of(record: dict[str, Any]) -> str | None:
    keys = record.keys()
    if "start_time" in keys and "type" in keys and "trace_id" in keys:
        return "observation"
    if SCORE_KEYS & keys and "name" in keys:
        return "score"
    if TRACE_KEYS & keys or ("timestamp" in keys and "session_id" in keys and "id" in keys):
        return "trace"
    return None


def _plain(value: Any) -> Any:
    if tabular.missing(value):
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list) and value and all(isinstance(v, tuple) and len(v) == 2
                                                 for v in value):  # fmt: skip
        return {str(k): _plain(v) for k, v in value}  # a Parquet map
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return tabular.iso(value)


def _cells(record: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in record.items():
        value = _plain(value)
        if value is None:
            continue
        if key in _JSON_TEXT and key not in ("input", "output"):
            value = tabular.json_cell(value)
        if key in _MAPS and value == []:
            value = {}  # an empty Parquet map reads as an empty list
        out[key] = value
    meta = out.get("metadata")
    if isinstance(meta, dict):  # Map(String, String): structured values are JSON text
        out["metadata"] = {k: maybe_json(v) if isinstance(v, str) else v for k, v in meta.items()}
    return out


def observation(record: dict[str, Any]) -> dict[str, Any]:
    cells = _cells(record)
    obs = {_OBSERVATION.get(k, k): v for k, v in cells.items()}
    ttft = obs.pop("time_to_first_token_ms", None)  # enriched observations: milliseconds
    if ttft is not None and obs.get("timeToFirstToken") is None:
        obs["timeToFirstToken"] = float(ttft) / 1000
    for key in ("modelParameters", "usageDetails", "costDetails"):
        if key in obs and not isinstance(obs[key], dict):
            raise ValueError(f"{key} is not a JSON object")
    return obs


def score(record: dict[str, Any]) -> dict[str, Any]:
    return {_SCORE.get(k, k): v for k, v in _cells(record).items()}


def trace_context(record: dict[str, Any]) -> dict[str, Any]:
    cells = _cells(record)
    tags = cells.get("tags")
    return {"id": cells.get("id"), "userId": cells.get("user_id"),
            "sessionId": cells.get("session_id"),
            "tags": tags if isinstance(tags, list) else None,
            "environment": cells.get("environment")}  # fmt: skip


def _tables_beside(path: Path, table: str) -> list[dict[str, Any]]:
    """Records of the `table` files next to this one (`../<table>/*`, any export format)."""
    found: list[dict[str, Any]] = []
    if str(path) == "-" or not path.parent.is_dir():
        return found
    folder = path.parent.parent / table
    if not folder.is_dir() or folder == path.parent:
        return found
    for other in sorted(folder.iterdir()):
        if not other.is_file() or other.name.startswith("."):
            continue
        try:
            scratch = ParsedFile(source_format="langfuse")
            found.extend(r for _, r in tabular.rows(other, other.read_bytes(), scratch)
                         if isinstance(r, dict))  # fmt: skip
        except (OSError, InputError, ValueError):
            continue
    return found


def read(path: Path, data: bytes) -> ParsedFile:
    out = ParsedFile(source_format="langfuse")
    records = list(tabular.rows(path, data, out))
    kinds = [kind_of(r) if isinstance(r, dict) else None for _, r in records]
    traces: dict[str, dict[str, Any]] = {}
    if "observation" in kinds:
        for rec in _tables_beside(path, "traces"):
            if kind_of(rec) == "trace" and rec.get("id"):
                traces[str(rec["id"])] = trace_context(rec)
    for (_, rec), kind in zip(records, kinds, strict=True):
        if kind == "trace" and rec.get("id"):
            traces[str(rec["id"])] = trace_context(rec)
    outputs: dict[str, str] = {}
    for (where, rec), kind in zip(records, kinds, strict=True):
        out.records_read += 1
        try:
            if kind == "observation":
                obs = observation(rec)
                # enriched observations (observations_v2/) carry their trace's fields
                context = traces.get(str(obs.get("traceId"))) or trace_context(rec)
                row = observation_row(obs, context, json_text=True)
                out.events.append(row)
                if row["output_text"] is not None:
                    outputs[row["event_id"]] = row["output_text"]
            elif kind is None:
                shown = "row is not an object" if not isinstance(rec, dict) else (
                    "neither an observation (id, trace_id, type, start_time), a trace nor a "
                    "score row")  # fmt: skip
                raise ValueError(shown)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            rid = rec.get("id") if isinstance(rec, dict) else None
            label = f"{kind} {rid}: " if kind and rid else ""
            out.rejects.append(Reject(where, f"{label}{exc}", _clip(rec)))
    if "score" in kinds:
        if not outputs:
            for rec in _tables_beside(path, "observations"):
                if kind_of(rec) == "observation":
                    try:
                        row = observation_row(observation(rec), None, json_text=True)
                    except (KeyError, TypeError, ValueError, AttributeError):
                        continue
                    if row["output_text"] is not None:
                        outputs[row["event_id"]] = row["output_text"]
        for (where, rec), kind in zip(records, kinds, strict=True):
            if kind != "score":
                continue
            try:
                out.feedback.append(score_row(score(rec), outputs))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                out.rejects.append(Reject(where, f"score {rec.get('id')}: {exc}", _clip(rec)))
    return out


def _clip(record: Any) -> str:
    try:
        return compact_json(_plain(record) if isinstance(record, dict) else record)[:2000]
    except (TypeError, ValueError):
        return repr(record)[:2000]
