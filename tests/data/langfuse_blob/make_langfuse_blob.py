"""Make the Langfuse blob-storage export fixtures: the trace of ../langfuse/trace_export.json
(observations and scores assembled by ../make_langfuse.py from what the real Langfuse SDK sent)
written as Langfuse's blob storage integration writes its legacy "traces and observations"
export: one file per table and time window, under `traces/`, `observations/` and `scores/`,
in each of its file formats (JSONL, CSV, Parquet).

The export is the Langfuse server's (a ClickHouse query streamed to a bucket); no package writes
it, so this script lays the records out as that query returns them: snake_case columns
(`getTracesForBlobStorageExport`, `getObservationsForBlobStorageExport`,
`getScoresForBlobStorageExport` in langfuse/packages/shared), timestamps as ClickHouse text
`YYYY-MM-DD HH:MM:SS.ffffff` (UTC; Parquet: timestamps), `metadata` a map of strings (the
OTel span attributes as JSON text under `attributes`), `input` / `output` /
`model_parameters` JSON text, `usage_details` / `cost_details` maps of numbers; in CSV every
map or list is JSON text. Run it with the project's environment (it needs only pyarrow):

    python tests/data/langfuse_blob/make_langfuse_blob.py
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from fixture_server import record_versions, versions  # noqa: E402

WINDOW = "2026-12-01T22-00-00"  # the export's file name: the start of its time window
PROJECT = "fixtures"


def clickhouse(ts: str | None) -> str | None:
    return datetime.fromisoformat(ts).strftime("%Y-%m-%d %H:%M:%S.%f") if ts else None


def text(value) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def strings(mapping: dict | None) -> dict[str, str]:
    return {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
            for k, v in (mapping or {}).items()}  # fmt: skip


def trace_row(t: dict) -> dict:
    return {"id": t["id"], "timestamp": clickhouse(t["timestamp"]), "name": t.get("name"),
            "environment": t.get("environment"), "project_id": PROJECT,
            "metadata": strings(t.get("metadata")), "user_id": t.get("userId"),
            "session_id": t.get("sessionId"), "release": t.get("release"),
            "version": t.get("version"), "public": bool(t.get("public")),
            "bookmarked": False, "tags": t.get("tags") or [], "input": text(t.get("input")),
            "output": text(t.get("output")), "created_at": clickhouse(t["timestamp"]),
            "updated_at": clickhouse(t["timestamp"])}  # fmt: skip


def observation_row(o: dict) -> dict:
    return {"id": o["id"], "trace_id": o["traceId"], "project_id": PROJECT,
            "environment": o.get("environment"), "type": o["type"],
            "parent_observation_id": o.get("parentObservationId"),
            "start_time": clickhouse(o["startTime"]), "end_time": clickhouse(o.get("endTime")),
            "name": o.get("name"), "metadata": strings(o.get("metadata")),
            "level": o.get("level") or "DEFAULT", "status_message": o.get("statusMessage"),
            "version": o.get("version"), "input": text(o.get("input")),
            "output": text(o.get("output")), "provided_model_name": o.get("model"),
            "model_parameters": text(o.get("modelParameters")),
            "usage_details": {k: int(v) for k, v in (o.get("usageDetails") or {}).items()},
            "cost_details": {k: float(v) for k, v in (o.get("costDetails") or {}).items()},
            "completion_start_time": clickhouse(o.get("completionStartTime")),
            "prompt_name": o.get("promptName"),
            "prompt_version": o.get("promptVersion")}  # fmt: skip


def score_row(s: dict) -> dict:
    return {"id": s["id"], "timestamp": clickhouse(s["timestamp"]), "project_id": PROJECT,
            "environment": s.get("environment"), "trace_id": s.get("traceId"),
            "observation_id": s.get("observationId"), "session_id": s.get("sessionId"),
            "dataset_run_id": s.get("datasetRunId"), "name": s["name"],
            "value": s.get("value"), "source": s.get("source"), "comment": s.get("comment"),
            "data_type": s.get("dataType"),
            "string_value": s.get("stringValue") or s.get("longStringValue"),
            "created_at": clickhouse(s.get("createdAt")),
            "updated_at": clickhouse(s.get("updatedAt"))}  # fmt: skip


TIME = pa.timestamp("us", tz="UTC")
TYPES = {"timestamp": TIME, "start_time": TIME, "end_time": TIME, "completion_start_time": TIME,
         "created_at": TIME, "updated_at": TIME, "metadata": pa.map_(pa.string(), pa.string()),
         "usage_details": pa.map_(pa.string(), pa.uint64()),
         "cost_details": pa.map_(pa.string(), pa.float64()), "tags": pa.list_(pa.string()),
         "public": pa.bool_(), "bookmarked": pa.bool_(), "value": pa.float64(),
         "prompt_version": pa.int64()}  # fmt: skip


def write(table: str, rows: list[dict]) -> list[str]:
    written = []
    for fmt in ("jsonl", "csv", "parquet"):
        path = HERE / fmt / table / f"{WINDOW}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "jsonl":
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        elif fmt == "csv":
            with path.open("w", newline="") as fh:
                out = csv.DictWriter(fh, fieldnames=list(rows[0]))
                out.writeheader()
                for r in rows:
                    out.writerow({k: json.dumps(v, ensure_ascii=False)
                                  if isinstance(v, dict | list) else v
                                  for k, v in r.items()})  # fmt: skip
        else:
            schema = pa.schema([(k, TYPES.get(k, pa.string())) for k in rows[0]])
            cells = [{k: (datetime.fromisoformat(v + "+00:00")
                          if TYPES.get(k) == TIME and v else
                          list(v.items()) if isinstance(v, dict) else v)
                      for k, v in r.items()} for r in rows]  # fmt: skip
            pq.write_table(pa.Table.from_pylist(cells, schema=schema), path)
        written.append(str(path.relative_to(HERE.parent)))
    return written


def main() -> None:
    trace = json.loads((HERE.parent / "langfuse" / "trace_export.json").read_text())
    written = write("traces", [trace_row(trace)])
    written += write("observations", [observation_row(o) for o in trace["observations"]])
    written += write("scores", [score_row(s) for s in trace["scores"]])
    sdk = json.loads((HERE.parent / "versions.json").read_text())["langfuse/trace_export.json"]
    record_versions(written, {**sdk, **versions("pyarrow")})


if __name__ == "__main__":
    main()
