"""Phoenix span exports (tests/data/phoenix, made by make_phoenix.py: the real `phoenix serve`
received OpenInference spans of the openai SDK's calls, and Phoenix's client read them back
with `get_spans_dataframe()`, saved as Parquet and as JSON Lines). Every field of every span,
the REST span JSON variant, and bad rows that cost only themselves."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.db import connect
from ingest.errors import InputError
from ingest.formats import detect_format, read_foreign
from ingest.records import ParsedFile
from tests.conftest import DATA
from tests.ingest.weather_exchange import (
    ANSWER,
    CALL_COLUMNS,
    CALLS,
    HISTORY,
    SDK_NOT_FOUND,
    TEST,
    pick,
)

HERE = DATA / "phoenix"
PARQUET, JSONL = "spans.parquet", "spans.jsonl"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def frame_rows() -> list[dict]:
    return pq.read_table(HERE / PARQUET).to_pylist()


def parse(path: Path) -> ParsedFile:
    data = path.read_bytes()
    assert detect_format(path, data[:65536]) == "phoenix", path
    return read_foreign("phoenix", path, data)


@pytest.mark.parametrize("rel", [PARQUET, JSONL])
def test_every_field_of_every_span(rel):
    parsed = parse(HERE / rel)
    assert (parsed.records_read, parsed.rejects, parsed.feedback) == (5, [], [])
    frame = frame_rows()
    root, tools, answer, stream, missing = parsed.events  # the frame is sorted by start time
    for row, cell in zip(parsed.events, frame, strict=True):
        assert (row["event_id"], row["trace_id"]) == (cell["context.span_id"],
                                                      cell["context.trace_id"])  # fmt: skip
        assert row["parent_id"] == (None if row is root else root["event_id"])
        if rel == PARQUET:  # Parquet keeps microseconds
            assert (row["ts"], row["ts_end"]) == (cell["start_time"], cell["end_time"])
        else:  # pandas' to_json writes epoch milliseconds
            ms = timedelta(milliseconds=1)
            assert row["ts"] == EPOCH + (cell["start_time"] - EPOCH) // ms * ms
            assert row["ts_end"] == EPOCH + (cell["end_time"] - EPOCH) // ms * ms
        assert row["latency_ms"] == pytest.approx(
            (row["ts_end"] - row["ts"]).total_seconds() * 1000)  # fmt: skip
        # set on the root by using_attributes, propagated by OpenInference to every span
        assert (row["user_id"], row["session_id"], row["tags"]) == (
            "user-9", "thread-1", ["fixtures"])  # fmt: skip
        assert row["environment"] is None  # OpenInference has no environment attribute
        assert (row["prompt_name"], row["prompt_version"]) == (None, None)
        assert row["source_format"] == "phoenix"
        assert row["raw"]["span"]["context.span_id"] == row["event_id"]
        assert row["raw"]["attributes"]["openinference.span.kind"] == cell["span_kind"]
    assert (root["kind"], root["name"], root["status"], root["error_type"]) == (
        "chain", "answer", "ok", None)  # fmt: skip
    for key in ("provider", "model", "model_requested", "input_messages", "output_messages",
                "params", "tokens_in", "tokens_out", "cost_usd", "cost_source"):  # fmt: skip
        assert root[key] is None, key
    assert json.loads(root["raw"]["attributes"]["metadata"]) == {"environment": "fixtures"}

    def call(row):
        return pick(row, ("kind", "name", "provider", *CALL_COLUMNS))

    llm = {"kind": "llm", "name": "ChatCompletion", "provider": "openai", "status": "ok",
           "error_type": None, "error_message": None}  # fmt: skip
    assert call(tools) == {
        **llm, "model": "gpt-4o-mini-2024-07-18", "model_requested": "gpt-4o-mini",
        "input_messages": HISTORY[:2],
        "output_messages": [{"role": "assistant", "content": None, "tool_calls": CALLS}],
        "input_text": "Weather in Paris?", "output_text": None,
        "params": {"max_tokens": 100, "temperature": 0.2}, "tokens_in": 18, "tokens_out": 24,
        "tokens_cache_read": 0, "tokens_reasoning": 0, "cost_source": "computed"}  # fmt: skip
    assert tools["cost_usd"] == pytest.approx((18 * 0.15 + 24 * 0.60) / 1e6)
    assert call(answer) == {
        **llm, "model": "gpt-4o-mini-2024-07-18", "model_requested": "gpt-4o-mini",
        "input_messages": HISTORY, "output_messages": [{"role": "assistant", "content": ANSWER}],
        "input_text": "Weather in Paris?", "output_text": ANSWER,
        "params": {"max_tokens": 100, "temperature": 0.2}, "tokens_in": 144, "tokens_out": 10,
        "tokens_cache_read": 0, "tokens_reasoning": 0, "cost_source": "computed"}  # fmt: skip
    assert answer["cost_usd"] == pytest.approx((144 * 0.15 + 10 * 0.60) / 1e6)
    assert call(stream) == {
        **llm, "model": "gpt-4", "model_requested": "gpt-4", "input_messages": TEST,
        "output_messages": [{"role": "assistant", "content": "This is a test."}],
        "input_text": "Say this is a test", "output_text": "This is a test.",
        "params": {"stream": True}, "tokens_in": 9, "tokens_out": 5, "tokens_cache_read": 0,
        "tokens_reasoning": 0, "cost_source": "computed"}  # fmt: skip
    assert stream["cost_usd"] == pytest.approx((9 * 30 + 5 * 60) / 1e6)
    assert call(missing) == {
        **llm, "model": "this-model-does-not-exist",
        "model_requested": "this-model-does-not-exist", "input_messages": TEST,
        "output_messages": None, "input_text": "Say this is a test", "output_text": None,
        "params": None, "tokens_in": None, "tokens_out": None, "tokens_cache_read": None,
        "tokens_reasoning": None, "cost_source": None, "status": "error",
        "error_type": "NotFoundError",
        "error_message": f"NotFoundError: {SDK_NOT_FOUND}"}  # fmt: skip
    assert missing["cost_usd"] is None
    (exc,) = missing["raw"]["span"]["events"]
    assert (exc["name"], exc["attributes"]["exception.type"]) == (
        "exception", "openai.NotFoundError")  # fmt: skip


def test_parquet_and_json_lines_give_the_same_rows_but_for_sub_millisecond_clocks():
    def columns(rel):
        return [{k: v for k, v in r.items() if k not in ("ts", "ts_end", "latency_ms", "raw")}
                for r in parse(HERE / rel).events]  # fmt: skip

    assert columns(PARQUET) == columns(JSONL)


def test_the_rest_span_json_reads_the_same(tmp_path):
    """Phoenix's REST spans (`context: {trace_id, span_id}`, `attributes: {…}` with dotted
    keys, ISO times) give the rows the frame gives."""
    spans = []
    for cell in frame_rows():
        attributes = {k[len("attributes."):]: v for k, v in cell.items()
                      if k.startswith("attributes.") and v is not None}  # fmt: skip
        spans.append({
            "name": cell["name"], "span_kind": cell["span_kind"], "parent_id": cell["parent_id"],
            "context": {"trace_id": cell["context.trace_id"], "span_id": cell["context.span_id"]},
            "start_time": cell["start_time"].isoformat(), "end_time": cell["end_time"].isoformat(),
            "status_code": cell["status_code"], "status_message": cell["status_message"],
            "events": cell["events"], "attributes": attributes})  # fmt: skip
    path = tmp_path / "spans.json"
    path.write_text(json.dumps({"data": spans, "next_cursor": None}))
    rest = parse(path)
    assert rest.rejects == []
    drop = ("raw",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in rest.events] == [
        {k: v for k, v in r.items() if k not in drop} for r in parse(HERE / PARQUET).events
    ]


@pytest.mark.parametrize("rel", ["annotations.parquet", "annotations.jsonl"])
def test_span_annotations_become_feedback_on_their_spans(rel):
    parsed = parse(HERE / rel)
    assert (parsed.records_read, parsed.rejects, parsed.events) == (3, [], [])
    root, _, answer, _, missing = parse(HERE / PARQUET).events
    got = {f["name"]: f for f in parsed.feedback}
    assert set(got) == {"correctness", "ran_ok", "user_rating"}
    expected = {
        "correctness": (answer, 1.0, "correct", "llm_judge", "matches the tool result"),
        "user_rating": (root, 0.0, "thumbs_down", "reviewer", "too long"),
        "ran_ok": (missing, 0.0, "fail", "code", None),
    }
    cells = {r["annotation_name"]: r for r in pq.read_table(HERE / "annotations.parquet")
             .to_pylist()}  # fmt: skip
    for name, (span, value, label, source, comment) in expected.items():
        fb = got[name]
        assert {k: fb[k] for k in ("event_id", "trace_id", "kind", "value", "label", "source",
                                   "comment", "author", "source_format")} == {  # fmt: skip
            "event_id": span["event_id"], "trace_id": None, "kind": "score", "value": value,
            "label": label, "source": source, "comment": comment, "author": None,
            "source_format": "phoenix"}  # fmt: skip
        assert fb["ts"] == datetime.fromisoformat(cells[name]["updated_at"])
    # stable ids that do not collide between Phoenix instances (theirs restart at 1)
    again = {f["name"]: f["feedback_id"] for f in parse(HERE / "annotations.jsonl").feedback}
    assert {n: f["feedback_id"] for n, f in got.items()} == again
    assert all(f["feedback_id"] != cells[n]["id"] for n, f in got.items())


def test_bad_annotation_rows_cost_only_themselves(tmp_path):
    lines = (HERE / "annotations.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    rows = [lines[0], json.dumps({**first, "span_id": None}),
            json.dumps({**first, "result.score": "high"}),
            json.dumps({**first, "result.score": None, "result.label": None,
                        "result.explanation": None}), lines[1]]  # fmt: skip
    path = tmp_path / "annotations.jsonl"
    path.write_text("\n".join(rows) + "\n")
    parsed = parse(path)
    assert len(parsed.feedback) == 2
    name = first["annotation_name"]
    assert [(r.line_no, r.reason) for r in parsed.rejects] == [
        (2, f"annotation: annotation {name!r} names no span_id"),
        (3, f"annotation: annotation {name!r}: result.score is not a number: 'high'"),
        (4, f"annotation: annotation {name!r} has no score, label or explanation"),
    ]


def test_detection_reads_the_parquet_footer(tmp_path):
    data = (HERE / PARQUET).read_bytes()
    assert data[:4] == b"PAR1"
    # a head without the footer: the columns come from the file on disk
    assert detect_format(HERE / PARQUET, data[:1024]) == "phoenix"
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"id": ["a"], "value": [1]}), other)
    assert detect_format(other, other.read_bytes()) is None
    for rel in ("braintrust/sdk_rows.jsonl", "langsmith/runs.jsonl", "helicone/requests.jsonl"):
        head = (DATA / rel).read_bytes()[:65536]
        assert detect_format(tmp_path / "x.jsonl", head) != "phoenix", rel


# --- bad input ---------------------------------------------------------------------------------


def test_bad_json_lines_are_rejected_with_their_line_and_the_rest_kept(tmp_path):
    good = [json.loads(line) for line in (HERE / JSONL).read_text().splitlines()]
    rows = [
        json.dumps(good[0]),
        "{not json",
        json.dumps({**good[1], "context.span_id": None}),
        json.dumps({**good[2], "start_time": None}),
        json.dumps({**good[3], "events": "boom"}),
        "[1]",
        json.dumps({**good[4], "context.span_id": "not-an-id!"}),
        json.dumps(good[4]),
    ]
    path = tmp_path / "spans.jsonl"
    path.write_text("\n".join(rows) + "\n")
    parsed = parse(path)
    assert [r["event_id"] for r in parsed.events] == [good[0]["context.span_id"],
                                                      good[4]["context.span_id"]]  # fmt: skip
    reasons = [(r.line_no, r.reason) for r in parsed.rejects]
    assert reasons[0][0] == 2 and reasons[0][1].startswith("not JSON (")
    assert reasons[1:] == [
        (3, "span 'ChatCompletion': row has no context.span_id"),
        (4, "span 'ChatCompletion': row has no start_time"),
        (5, "span 'ChatCompletion': events is not a list"),
        (6, "span is not a JSON object"),
        (7, "span 'ChatCompletion': id is neither hex nor base64: 'not-an-id!'"),
    ]
    assert parsed.records_read == 8


def test_a_bad_parquet_row_costs_only_itself_and_a_cut_file_is_an_error(tmp_path):
    table = pq.read_table(HERE / PARQUET)
    starts = table.column("start_time").to_pylist()
    starts[2] = None
    field = table.schema.get_field_index("start_time")
    column = pa.array(starts, type=table.schema.field("start_time").type)
    broken = table.set_column(field, "start_time", column)
    buf = io.BytesIO()
    pq.write_table(broken, buf)
    path = tmp_path / "spans.parquet"
    path.write_bytes(buf.getvalue())
    parsed = parse(path)
    assert len(parsed.events) == 4
    (bad,) = parsed.rejects
    assert (bad.line_no, bad.reason) == (3, "span 'ChatCompletion': row has no start_time")
    cut = tmp_path / "cut.parquet"
    cut.write_bytes((HERE / PARQUET).read_bytes()[:-100])
    with pytest.raises(InputError, match=r"cut\.parquet: not a readable Parquet file"):
        read_foreign("phoenix", cut, cut.read_bytes())


def test_end_to_end_through_the_cli_with_secrets_scrubbed(tmp_path, db_path):
    from typer.testing import CliRunner

    from dashboard.cli import app

    lines = (HERE / JSONL).read_text().splitlines()
    first = json.loads(lines[0])
    first["attributes.http.request.header.authorization"] = "Bearer abcdefghijklmnopqrstuvwxyz01"
    lines[0] = json.dumps(first)
    (tmp_path / "spans.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "parquet").mkdir()
    (tmp_path / "parquet" / PARQUET).write_bytes((HERE / PARQUET).read_bytes())
    (tmp_path / "annotations.jsonl").write_bytes((HERE / "annotations.jsonl").read_bytes())
    targets = (tmp_path / "spans.jsonl", tmp_path / "parquet" / PARQUET,
               tmp_path / "annotations.jsonl")  # fmt: skip
    for target in targets:
        result = CliRunner().invoke(app, ["ingest", "--db", str(db_path), str(target)])
        assert result.exit_code == 0, result.output
    with connect(db_path, read_only=True) as con:
        kinds = con.execute(
            "SELECT kind, count(*) FROM events GROUP BY 1 ORDER BY 1").fetchall()  # fmt: skip
        # the Parquet file holds the same span ids: the second load adds nothing new
        assert kinds == [("chain", 1), ("llm", 4)]
        raw = con.execute("SELECT raw FROM events WHERE kind = 'chain'").fetchone()[0]
        attrs = json.loads(raw)["attributes"]
        assert attrs["http.request.header.authorization"] == "[redacted]"
        assert "abcdefghijklmnop" not in raw
        formats = con.execute("SELECT source_format FROM ingested_files").fetchall()
        assert formats == [("phoenix",)] * 3
        joined = con.execute(
            "SELECT f.name, e.name, f.source FROM feedback f JOIN events e USING (event_id) "
            "ORDER BY 1").fetchall()  # fmt: skip
        assert joined == [("correctness", "ChatCompletion", "llm_judge"),
                          ("ran_ok", "ChatCompletion", "code"),
                          ("user_rating", "answer", "reviewer")]  # fmt: skip
