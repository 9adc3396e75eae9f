"""LangSmith bulk exports: the Parquet files LangSmith's bulk data export writes (one row per
run, the fields of the Run data format), and the same rows as CSV or JSON Lines.

A row is a run as `langsmith.run_row` maps it (docs/formats.md, LangSmith): the free-form
fields the export writes as JSON text (`inputs`, `outputs`, `extra`, `events`, `serialized`,
`feedback_stats`, the token and cost detail maps, and `tags` in CSV) are decoded first,
timestamps are taken as they come (Parquet timestamps or ISO text), and the server's own
columns (`prompt_tokens`, `completion_tokens`, `total_cost`, `first_token_time`, `status`)
are the run's. A run whose row cannot be mapped is a reject naming its row; the others load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ingest.formats.tabular as tabular
from ingest.formats.langsmith import run_row
from ingest.formats.messages import compact_json
from ingest.records import ParsedFile, Reject

JSON_COLUMNS = ("inputs", "outputs", "extra", "events", "serialized", "feedback_stats", "tags",
                "attachments", "prompt_token_details", "completion_token_details",
                "prompt_cost_details", "completion_cost_details", "child_run_ids",
                "parent_run_ids", "direct_child_run_ids", "inputs_s3_urls",
                "outputs_s3_urls")  # fmt: skip
COLUMNS = {"run_type", "trace_id"}  # what marks a file of runs


def _run(record: dict[str, Any]) -> dict[str, Any]:
    run = {}
    for key, value in record.items():
        if tabular.missing(value):
            continue
        if key in JSON_COLUMNS:
            value = tabular.json_cell(value)
        run[key] = tabular.iso(value)
    for key in ("inputs", "outputs", "extra"):
        if key in run and not isinstance(run[key], dict):
            raise ValueError(f"{key} is not a JSON object")
    return run


def read(path: Path, data: bytes) -> ParsedFile:
    out = ParsedFile(source_format="langsmith")
    for where, record in tabular.rows(path, data, out):
        out.records_read += 1
        if not isinstance(record, dict):
            out.rejects.append(Reject(where, "row is not an object", str(record)[:2000]))
            continue
        try:
            out.events.append(run_row(_run(record)))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            rid = record.get("id")
            label = f"run {rid}: " if rid else ""
            out.rejects.append(Reject(where, f"{label}{exc}", _clip(record)))
    return out


def _clip(record: dict[str, Any]) -> str:
    try:
        return compact_json({k: tabular.iso(v) for k, v in record.items()})[:2000]
    except (TypeError, ValueError):
        return repr(record)[:2000]
