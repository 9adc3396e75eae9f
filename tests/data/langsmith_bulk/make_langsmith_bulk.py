"""Make the LangSmith bulk-export fixture: runs.parquet, the runs of ../langsmith/runs_batch.jsonl
(what the real langsmith SDK posted to `/runs/batch`, captured by ../make_langsmith.py) laid
out as LangSmith's bulk data export writes them: one Parquet row per run with the fields of the
Run data format.

The export is LangSmith's server's output (Plus/Enterprise, to an S3 bucket); no package writes
it, so this script stands in for the server the way it stores runs: a run's post and patch
merged by id (later non-empty fields win), the project as `session_id`, `status` success/error,
the token counts LangSmith derives from `outputs.usage_metadata` as `prompt_tokens` /
`completion_tokens` / `total_tokens`, times as UTC timestamps (microseconds), `tags` a list of
strings, and the free-form fields (`inputs`, `outputs`, `extra`, `events`, `serialized`) as
JSON text. Run it with the project's environment (it needs only pyarrow):

    python tests/data/langsmith_bulk/make_langsmith_bulk.py
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from fixture_server import record_versions, versions  # noqa: E402

PROJECT_ID = "8d6ff1b2-6a53-4a1e-9c1f-2b9f3f0a7e11"  # the tracing project's id
TENANT_ID = "c0ffee00-0000-4000-8000-000000000001"
JSON_FIELDS = ("inputs", "outputs", "extra", "events", "serialized")


def merge(base: dict, patch: dict) -> dict:
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        elif value not in (None, {}, []):
            out[key] = value
        else:
            out.setdefault(key, value)
    return out


def stamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def main() -> None:
    runs: dict[str, dict] = {}
    for line in (HERE.parent / "langsmith" / "runs_batch.jsonl").read_text().splitlines():
        payload = json.loads(line)
        for run in [*(payload.get("post") or []), *(payload.get("patch") or [])]:
            runs[run["id"]] = merge(runs.get(run["id"], {}), run)
    rows = []
    for run in sorted(runs.values(), key=lambda r: r["dotted_order"]):
        usage = (run.get("outputs") or {}).get("usage_metadata") or {}
        rows.append({
            "id": run["id"], "tenant_id": TENANT_ID, "name": run["name"],
            "run_type": run["run_type"], "start_time": stamp(run.get("start_time")),
            "end_time": stamp(run.get("end_time")), "first_token_time": None,
            "status": "error" if run.get("error") else "success", "error": run.get("error"),
            **{f: json.dumps(run.get(f), ensure_ascii=False) if run.get(f) is not None
               else None for f in JSON_FIELDS},
            "tags": run.get("tags") or [], "trace_id": run["trace_id"],
            "dotted_order": run["dotted_order"], "parent_run_id": run.get("parent_run_id"),
            "session_id": PROJECT_ID, "reference_example_id": None,
            "prompt_tokens": usage.get("input_tokens"),
            "completion_tokens": usage.get("output_tokens"),
            "total_tokens": usage.get("total_tokens"),
            "prompt_cost": None, "completion_cost": None, "total_cost": None,
            "feedback_stats": None,
        })  # fmt: skip
    schema = pa.schema([
        ("id", pa.string()), ("tenant_id", pa.string()), ("name", pa.string()),
        ("run_type", pa.string()), ("start_time", pa.timestamp("us", tz="UTC")),
        ("end_time", pa.timestamp("us", tz="UTC")),
        ("first_token_time", pa.timestamp("us", tz="UTC")), ("status", pa.string()),
        ("error", pa.string()), *((f, pa.string()) for f in JSON_FIELDS),
        ("tags", pa.list_(pa.string())), ("trace_id", pa.string()), ("dotted_order", pa.string()),
        ("parent_run_id", pa.string()), ("session_id", pa.string()),
        ("reference_example_id", pa.string()), ("prompt_tokens", pa.int64()),
        ("completion_tokens", pa.int64()), ("total_tokens", pa.int64()),
        ("prompt_cost", pa.float64()), ("completion_cost", pa.float64()),
        ("total_cost", pa.float64()), ("feedback_stats", pa.string()),
    ])  # fmt: skip
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), HERE / "runs.parquet")
    sdk = json.loads((HERE.parent / "versions.json").read_text())["langsmith/runs_batch.jsonl"]
    record_versions(["langsmith_bulk/runs.parquet"], {**sdk, **versions("pyarrow")})


if __name__ == "__main__":
    main()
