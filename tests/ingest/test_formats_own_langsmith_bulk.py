"""LangSmith bulk exports (tests/data/langsmith_bulk/runs.parquet, made by
make_langsmith_bulk.py from the runs the real langsmith SDK posted, laid out as the bulk export
writes them): every field of every run, the same runs as CSV, and bad rows that cost only
themselves."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.db import connect
from ingest.errors import InputError
from ingest.formats import detect_format, read_foreign
from ingest.records import ParsedFile
from tests.conftest import DATA

PATH = DATA / "langsmith_bulk" / "runs.parquet"


def parse(path: Path = PATH, fmt: str = "langsmith_bulk") -> ParsedFile:
    data = path.read_bytes()
    assert detect_format(path, data[:65536]) == fmt, path
    return read_foreign(fmt, path, data)


def table() -> pa.Table:
    return pq.read_table(PATH)


def test_every_field_of_every_run():
    parsed = parse()
    assert (parsed.records_read, parsed.rejects, parsed.feedback) == (6, [], [])
    cells = table().to_pylist()
    chain, tool, *llm = parsed.events
    for row, cell in zip(parsed.events, cells, strict=True):
        assert (row["event_id"], row["trace_id"], row["name"]) == (
            cell["id"], cell["trace_id"], cell["name"])  # fmt: skip
        assert (row["ts"], row["ts_end"]) == (cell["start_time"], cell["end_time"])
        assert row["latency_ms"] == (cell["end_time"] - cell["start_time"]).total_seconds() * 1e3
        assert row["parent_id"] == cell["parent_run_id"]
        assert (row["user_id"], row["session_id"], row["tags"]) == (
            "user-9", "thread-1", ["fixtures"])  # fmt: skip
        assert row["source_format"] == "langsmith" and row["raw"]["id"] == cell["id"]
        # the JSON-text columns are decoded in raw
        assert isinstance(row["raw"]["extra"], dict) and isinstance(row["raw"]["outputs"], dict)
    assert (chain["kind"], chain["parent_id"], chain["status"]) == ("chain", None, "ok")
    assert (tool["kind"], tool["name"], tool["parent_id"]) == (
        "tool", "get_weather", chain["event_id"])  # fmt: skip
    got = [(e["provider"], e["model"], e["model_requested"], e["tokens_in"], e["tokens_out"],
            e["input_text"], e["output_text"], e["status"], e["params"]) for e in llm]  # fmt: skip
    assert got == [
        ("openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini", 18, 24, "Weather in Paris?", None,
         "ok", {"max_tokens": 100, "temperature": 0.2}),
        ("openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini", 144, 10, "Weather in Paris?",
         "It is rainy in Paris, 14°C.", "ok", {"max_tokens": 100, "temperature": 0.2}),
        ("openai", "gpt-4", "gpt-4", 9, 5, "Say this is a test", "This is a test.", "ok",
         {"stream": True}),
        ("openai", "this-model-does-not-exist", "this-model-does-not-exist", None, None,
         "Say this is a test", None, "error", None),
    ]  # fmt: skip
    tools, answer, stream, missing = llm
    assert [c["function"]["name"] for c in tools["output_messages"][0]["tool_calls"]] == [
        "get_weather", "get_population"]  # fmt: skip
    assert [m["role"] for m in answer["input_messages"]] == [
        "system", "user", "assistant", "tool", "tool"]  # fmt: skip
    assert (answer["tokens_cache_read"], answer["tokens_reasoning"]) == (0, 0)
    assert (answer["cost_usd"], answer["cost_source"]) == (
        pytest.approx((144 * 0.15 + 10 * 0.60) / 1e6), "computed")  # fmt: skip
    assert stream["cost_usd"] == pytest.approx((9 * 30 + 5 * 60) / 1e6)
    assert missing["error_type"] == "error" and missing["error_message"].startswith(
        "NotFoundError('Error code: 404 - The model `this-model-does-not-exist` does not exist")


def test_the_same_runs_as_the_sdk_posted_them():
    """Every column but raw is what the LangSmith reader gives for the SDK's own payloads."""
    bulk = {r["event_id"]: r for r in parse().events}
    path = DATA / "langsmith/runs_batch.jsonl"
    sdk = read_foreign("langsmith", path, path.read_bytes()).events
    assert len(sdk) == len(bulk) == 6
    for row in sdk:
        assert {k: v for k, v in bulk[row["event_id"]].items() if k != "raw"} == {
            k: v for k, v in row.items() if k != "raw"}  # fmt: skip


def test_the_exports_own_columns_win(tmp_path):
    """prompt_tokens / total_cost / first_token_time columns, as LangSmith computes them."""
    t = table()
    rows = t.to_pylist()
    answer = rows[3]
    answer.update(prompt_tokens=150, total_cost=0.5, first_token_time=answer["end_time"])
    path = tmp_path / "runs.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=t.schema), path)
    row = next(r for r in parse(path).events if r["event_id"] == answer["id"])
    assert (row["tokens_in"], row["cost_usd"], row["cost_source"]) == (150, 0.5, "provided")
    assert row["ttft_ms"] == (answer["end_time"] - answer["start_time"]).total_seconds() * 1e3


def test_csv_of_the_same_runs(tmp_path):
    rows = table().to_pylist()
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (json.dumps(v) if isinstance(v, list) else
                             v.isoformat() if hasattr(v, "isoformat") else v)
                         for k, v in row.items()})  # fmt: skip
    path = tmp_path / "runs.csv"
    path.write_text(buf.getvalue())
    parsed = parse(path)
    assert parsed.rejects == []
    assert [{k: v for k, v in r.items() if k != "raw"} for r in parsed.events] == [
        {k: v for k, v in r.items() if k != "raw"} for r in parse().events]  # fmt: skip


def test_bad_rows_are_rejected_with_their_row_and_the_rest_kept(tmp_path):
    t = table()
    rows = t.to_pylist()
    rows[1]["start_time"] = None
    rows[2]["inputs"] = '"just text"'
    rows[4]["id"] = None
    path = tmp_path / "runs.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=t.schema), path)
    parsed = parse(path)
    assert len(parsed.events) == 3 and parsed.records_read == 6
    assert [(r.line_no, r.reason) for r in parsed.rejects] == [
        (2, f"run {rows[1]['id']}: run has no start_time"),
        (3, f"run {rows[2]['id']}: inputs is not a JSON object"),
        (5, "run has no id"),
    ]
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(PATH.read_bytes()[:-64])
    with pytest.raises(InputError, match=r"cut\.parquet: not a readable Parquet file"):
        read_foreign("langsmith_bulk", cut, cut.read_bytes())


def test_end_to_end_through_the_cli_with_secrets_scrubbed(tmp_path, db_path):
    from typer.testing import CliRunner

    from dashboard.cli import app

    t = table()
    rows = t.to_pylist()
    extra = json.loads(rows[0]["extra"])
    extra["metadata"]["openai_api_key"] = "sk-proj-abcdefghijklmnopqrstuvwxyz012345"
    rows[0]["extra"] = json.dumps(extra)
    path = tmp_path / "export" / "runs.parquet"
    path.parent.mkdir()
    pq.write_table(pa.Table.from_pylist(rows, schema=t.schema), path)
    result = CliRunner().invoke(app, ["ingest", "--db", str(db_path), str(path.parent)])
    assert result.exit_code == 0, result.output
    with connect(db_path, read_only=True) as con:
        kinds = con.execute("SELECT kind, count(*) FROM events GROUP BY 1 ORDER BY 1").fetchall()
        assert kinds == [("chain", 1), ("llm", 4), ("tool", 1)]
        raw = con.execute("SELECT raw FROM events WHERE kind = 'chain'").fetchone()[0]
        assert json.loads(raw)["extra"]["metadata"]["openai_api_key"] == "[redacted]"
        assert "abcdefghijklmnop" not in raw
        assert con.execute("SELECT source_format FROM ingested_files").fetchall() == [
            ("langsmith",)]  # fmt: skip
