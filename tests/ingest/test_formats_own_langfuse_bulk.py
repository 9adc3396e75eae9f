"""Langfuse blob storage exports (tests/data/langfuse_blob, made by make_langfuse_blob.py from
the trace the real Langfuse SDK sent, laid out as the blob export's traces/, observations/ and
scores/ files in JSONL, CSV and Parquet): every field, the trace context joined from traces/,
and bad rows that cost only themselves."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from ingest.db import connect
from ingest.errors import InputError
from ingest.formats import detect_format, read_foreign
from ingest.records import ParsedFile
from tests.conftest import DATA

HERE = DATA / "langfuse_blob"
WINDOW = "2026-12-01T22-00-00"
FORMATS = ["jsonl", "csv", "parquet"]
TRACE = "44855fc8be9d3e8f30508d5eb634aa6d"
ANSWER = "It is rainy in Paris, 14°C."


def file(fmt: str, table: str) -> Path:
    return HERE / fmt / table / f"{WINDOW}.{fmt}"


def parse(path: Path) -> ParsedFile:
    data = path.read_bytes()
    assert detect_format(path, data[:65536]) == "langfuse_bulk", path
    return read_foreign("langfuse_bulk", path, data)


def reference() -> ParsedFile:
    path = DATA / "langfuse/trace_export.json"
    return read_foreign("langfuse", path, path.read_bytes())


def clickhouse(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_field_of_every_observation(fmt):
    parsed = parse(file(fmt, "observations"))
    assert (parsed.records_read, parsed.rejects, parsed.feedback) == (7, [], [])
    rows = [json.loads(line) for line in file("jsonl", "observations").read_text().splitlines()]
    for row, rec in zip(parsed.events, rows, strict=True):
        assert (row["event_id"], row["trace_id"], row["parent_id"], row["name"]) == (
            rec["id"], TRACE, rec["parent_observation_id"], rec["name"])  # fmt: skip
        assert row["ts"] == clickhouse(rec["start_time"])
        assert row["ts_end"] == clickhouse(rec["end_time"])
        # the trace's fields, from the traces/ file beside this one
        assert (row["user_id"], row["session_id"], row["tags"], row["environment"]) == (
            "user-5", "session-5", ["fixtures", "weather"], "fixtures")  # fmt: skip
        assert row["source_format"] == "langfuse"
        assert row["raw"]["traceId"] == TRACE and isinstance(row["raw"]["metadata"], dict)
    got = [(e["name"], e["kind"], e["model"], e["tokens_in"], e["tokens_out"], e["cost_source"],
            e["status"], e["output_text"]) for e in parsed.events]  # fmt: skip
    assert got == [
        ("get_weather", "tool", None, None, None, None, "ok", None),
        ("weather-agent", "agent", None, None, None, None, "ok", ANSWER),
        ("OpenAI-generation", "llm", "gpt-4o-mini-2024-07-18", 18, 24, "computed", "ok", None),
        ("OpenAI-generation", "llm", "gpt-4o-mini-2024-07-18", 144, 10, "computed", "ok",
         ANSWER),
        ("OpenAI-generation", "llm", "gpt-4", 9, 5, "computed", "ok", "This is a test."),
        ("OpenAI-generation", "llm", "this-model-does-not-exist", None, None, None, "error",
         None),
        ("summarise", "llm", "gpt-4o", 30, 2, "provided", "ok", "Rainy."),
    ]  # fmt: skip
    summarise = parsed.events[6]
    assert summarise["cost_usd"] == pytest.approx(8.25e-05)
    assert summarise["input_messages"] == [{"role": "user", "content": "Summarise the weather."}]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_rows_as_the_api_export_of_the_trace(fmt):
    """Every column but raw equals what the Langfuse reader gives for the same trace as the
    public API exports it (tests/ingest/test_formats_own_langfuse.py checks those values)."""
    ref = {e["event_id"]: e for e in reference().events}
    for row in parse(file(fmt, "observations")).events:
        assert {k: v for k, v in row.items() if k != "raw"} == {
            k: v for k, v in ref[row["event_id"]].items() if k != "raw"}  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
def test_scores_every_field(fmt):
    parsed = parse(file(fmt, "scores"))
    assert (parsed.records_read, parsed.rejects, parsed.events) == (4, [], [])
    ref = {f["feedback_id"]: f for f in reference().feedback}
    assert {f["feedback_id"]: f for f in parsed.feedback} == ref
    by_id = {f["feedback_id"]: f for f in parsed.feedback}
    assert {k: by_id["score-helpfulness"][k] for k in ("event_id", "trace_id", "kind", "value",
                                                        "source", "comment")} == {  # fmt: skip
        "event_id": "e6adfc3c1ada8fe5", "trace_id": None, "kind": "score", "value": 0.75,
        "source": "code", "comment": "ok"}  # fmt: skip
    assert (by_id["score-resolved"]["trace_id"], by_id["score-resolved"]["label"]) == (
        TRACE, "True")  # fmt: skip
    assert (by_id["score-tone"]["kind"], by_id["score-tone"]["label"]) == ("label", "polite")
    # the share of the observation's output the correction changed: the output comes from
    # the observations/ file beside the scores
    assert by_id["score-correction"]["value"] == pytest.approx(0.125)


def test_trace_rows_are_context_not_events():
    for fmt in FORMATS:
        parsed = parse(file(fmt, "traces"))
        assert (parsed.records_read, parsed.events, parsed.feedback, parsed.rejects) == (
            1, [], [], [])  # fmt: skip


def test_observations_alone_keep_what_their_own_attributes_say(tmp_path):
    alone = tmp_path / "observations" / "x.jsonl"
    alone.parent.mkdir()
    shutil.copy(file("jsonl", "observations"), alone)
    parsed = parse(alone)
    assert parsed.rejects == [] and len(parsed.events) == 7
    tool = parsed.events[0]
    # without traces/: user and session from the span attributes Langfuse kept in metadata
    assert (tool["user_id"], tool["session_id"]) == ("user-5", "session-5")
    corrections = tmp_path / "scores" / "x.jsonl"
    corrections.parent.mkdir()
    shutil.copy(file("jsonl", "scores"), corrections)
    (alone_fix,) = [f for f in parse(corrections).feedback if f["kind"] == "correction"]
    assert alone_fix["value"] == pytest.approx(0.125)  # the observations/ beside it


def test_enriched_observations_carry_their_trace_fields(tmp_path):
    """The enriched source (`observations_v2/`): no traces files, each row with its trace's
    user, session, tags and name, `span_id` as `id` and `parent_span_id`, and the latency and
    time to first token in milliseconds — the columns of Langfuse's events export query. Built
    from the legacy rows (no real file of this source was available)."""
    trace = json.loads(file("jsonl", "traces").read_text())
    rows = []
    for line in file("jsonl", "observations").read_text().splitlines():
        rec = json.loads(line)
        rec["parent_span_id"] = rec.pop("parent_observation_id")
        rec.update(user_id=trace["user_id"], session_id=trace["session_id"], tags=trace["tags"],
                   trace_name=trace["name"], latency_ms=5, time_to_first_token_ms=None)
        rows.append(rec)
    rows[3]["time_to_first_token_ms"] = 250
    path = tmp_path / "observations_v2" / f"{WINDOW}.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    parsed = parse(path)
    assert parsed.rejects == []
    ref = {e["event_id"]: e for e in reference().events}
    for row in parsed.events:
        want = {k: v for k, v in ref[row["event_id"]].items() if k != "raw"}
        if row["event_id"] == rows[3]["id"]:
            assert row["ttft_ms"] == 250.0
            want["ttft_ms"] = 250.0
        assert {k: v for k, v in row.items() if k != "raw"} == want


# --- bad input ---------------------------------------------------------------------------------


def test_bad_rows_are_rejected_with_their_line_and_the_rest_kept(tmp_path):
    lines = file("jsonl", "observations").read_text().splitlines()
    good = [json.loads(x) for x in lines]
    rows = [
        lines[0],
        "{broken",
        json.dumps({**good[1], "start_time": None}),
        json.dumps({**good[2], "usage_details": "lots"}),
        json.dumps({"id": "x", "parent_observation_id": None, "what": 1}),
        json.dumps({"id": "s1", "name": "helpfulness", "data_type": "NUMERIC", "value": 1,
                    "observation_id": None, "trace_id": None}),  # fmt: skip
        lines[3],
    ]
    path = tmp_path / "observations" / "bad.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(rows) + "\n")
    parsed = parse(path)
    assert [e["event_id"] for e in parsed.events] == [good[0]["id"], good[3]["id"]]
    reasons = [(r.line_no, r.reason) for r in parsed.rejects]
    assert reasons[0][0] == 2 and reasons[0][1].startswith("not JSON (")
    assert reasons[1:] == [
        (3, f"observation {good[1]['id']}: observation has no startTime"),
        (4, f"observation {good[2]['id']}: usageDetails is not a JSON object"),
        (5, "neither an observation (id, trace_id, type, start_time), a trace nor a score row"),
        (6, "score s1: score names no observationId or traceId"),
    ]
    assert parsed.records_read == 7


def test_bad_csv_and_cut_parquet(tmp_path):
    text = file("csv", "observations").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    rows[1]["model_parameters"] = "[1, 2]"
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "observations" / "bad.csv"
    path.parent.mkdir()
    path.write_text(buf.getvalue())
    parsed = parse(path)
    assert len(parsed.events) == 6
    (bad,) = parsed.rejects
    assert (bad.line_no, bad.reason) == (
        3, f"observation {rows[1]['id']}: modelParameters is not a JSON object")  # fmt: skip
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(file("parquet", "observations").read_bytes()[:-80])
    with pytest.raises(InputError, match=r"cut\.parquet: not a readable Parquet file"):
        read_foreign("langfuse_bulk", cut, cut.read_bytes())


def test_detection_keeps_the_api_shapes_apart(tmp_path):
    for rel in ("langfuse/records.jsonl", "langfuse/trace_export.json"):
        data = (DATA / rel).read_bytes()
        assert detect_format(tmp_path / "x", data[:65536]) == "langfuse", rel
    # a Langfuse scores CSV has name and trace_id, but is not a reviewdeck score file
    assert detect_format(tmp_path / "x", file("csv", "scores").read_bytes()) == "langfuse_bulk"


def test_end_to_end_through_the_cli_with_secrets_scrubbed(tmp_path, db_path):
    from typer.testing import CliRunner

    from dashboard.cli import app

    export = tmp_path / "langfuse-export"
    shutil.copytree(HERE / "jsonl", export)
    obs_file = export / "observations" / f"{WINDOW}.jsonl"
    lines = obs_file.read_text().splitlines()
    first = json.loads(lines[0])
    first["metadata"]["openai_api_key"] = "sk-proj-abcdefghijklmnopqrstuvwxyz012345"
    lines[0] = json.dumps(first)
    obs_file.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["ingest", "--db", str(db_path), str(export)])
    assert result.exit_code == 0, result.output
    with connect(db_path, read_only=True) as con:
        kinds = con.execute("SELECT kind, count(*) FROM events GROUP BY 1 ORDER BY 1").fetchall()
        assert kinds == [("agent", 1), ("llm", 5), ("tool", 1)]
        assert con.execute(
            "SELECT DISTINCT user_id, session_id FROM events").fetchall() == [  # fmt: skip
            ("user-5", "session-5")]
        fb = con.execute("SELECT feedback_id, kind FROM feedback ORDER BY 1").fetchall()
        assert fb == [("score-correction", "correction"), ("score-helpfulness", "score"),
                      ("score-resolved", "score"), ("score-tone", "label")]  # fmt: skip
        raw = con.execute("SELECT raw FROM events WHERE event_id = ?", [first["id"]]).fetchone()
        assert json.loads(raw[0])["metadata"]["openai_api_key"] == "[redacted]"
        assert "abcdefghijklmnop" not in raw[0]
