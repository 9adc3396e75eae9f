"""Braintrust logs (tests/data/braintrust, made by make_braintrust.py with the real braintrust
SDK logging to a capture server on 127.0.0.1): the rows as `bt sync pull` writes them, and the
rows the SDK posts (first rows, `_is_merge` updates, a comment row). Every field of every row,
and bad rows that cost only themselves."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.db import connect
from ingest.formats import detect_format, read_foreign
from ingest.records import ParsedFile
from tests.conftest import DATA
from tests.ingest.weather_exchange import ANSWER, CALLS, HISTORY, TEST, pick

HERE = DATA / "braintrust"
SYNC, SDK = "project_logs/part-000001.jsonl", "sdk_rows.jsonl"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse(rel: str | Path) -> ParsedFile:
    path = HERE / rel
    data = path.read_bytes()
    assert detect_format(path, data[:65536]) == "braintrust", rel
    return read_foreign("braintrust", path, data)


def lines(rel: str) -> list[dict]:
    return [json.loads(line) for line in (HERE / rel).read_text().splitlines()]


def at(seconds: float) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


def by_name(events: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in sorted(events, key=lambda r: r["ts"]):
        out.setdefault(row["name"], []).append(row)
    return out


def test_the_sync_file_is_one_stored_span_row_a_line_newest_first():
    rows = lines(SYNC)
    assert len(rows) == 7 and len({r["id"] for r in rows}) == 7
    assert [r["_xact_id"] for r in rows] == sorted((r["_xact_id"] for r in rows), reverse=True)
    assert all(r["log_id"] == "g" and r["project_id"] == "proj-fixtures" for r in rows)
    assert not any("_is_merge" in r or "_audit_source" in r for r in rows)
    sdk = lines(SDK)
    assert sum(1 for r in sdk if r.get("_is_merge")) == 3 and len(sdk) == 11


@pytest.mark.parametrize("rel", [SYNC, SDK])
def test_every_field_of_every_span(rel):
    parsed = parse(rel)
    assert parsed.rejects == [] and len(parsed.events) == 7
    assert parsed.records_read == (7 if rel == SYNC else 8)  # the SDK file has a comment row
    stored = {r["span_id"]: r for r in lines(SYNC)}
    names = by_name(parsed.events)
    (root,), (tool,), (lookup,) = names["answer"], names["get_weather"], names["lookup"]
    tools, answer, stream, missing = names["Chat Completion"]
    trace = root["trace_id"]
    for row in parsed.events:
        raw = stored[row["event_id"]]
        assert row["trace_id"] == raw["root_span_id"] == trace
        assert row["parent_id"] == (None if row is root else root["event_id"])
        assert row["ts"] == at(raw["metrics"]["start"])
        assert row["ts_end"] == at(raw["metrics"]["end"])
        assert row["latency_ms"] == pytest.approx(
            (raw["metrics"]["end"] - raw["metrics"]["start"]) * 1000, abs=0.002)  # fmt: skip
        # set on the root (Braintrust allows tags only there), true of the whole trace
        assert (row["user_id"], row["session_id"], row["tags"], row["environment"]) == (
            "user-9", "thread-1", ["fixtures"], "fixtures")  # fmt: skip
        assert row["source_format"] == "braintrust"
        assert row["raw"]["span_id"] == row["event_id"]
        if row["kind"] != "llm":
            for key in ("provider", "model", "model_requested", "input_messages",
                        "output_messages", "input_text", "output_text", "params", "tokens_in",
                        "tokens_out", "tokens_cache_read", "tokens_reasoning", "cost_usd",
                        "cost_source", "ttft_ms"):  # fmt: skip
                assert row[key] is None, (row["name"], key)
        else:
            assert row["ttft_ms"] == (
                None if missing is row else raw["metrics"]["time_to_first_token"] * 1000)
            assert (row["provider"], row["name"]) == ("openai", "Chat Completion")
    assert (root["kind"], root["status"], root["error_type"]) == ("chain", "ok", None)
    assert (tool["kind"], tool["status"]) == ("tool", "ok")
    assert (lookup["kind"], lookup["status"], lookup["error_type"], lookup["error_message"]) == (
        "chain", "error", "KeyError", "KeyError: 'population'")  # fmt: skip
    assert lookup["raw"]["error"].startswith("Traceback (most recent call last):")

    ok = {"status": "ok", "error_type": None, "error_message": None}
    assert pick(tools) == {
        "model": "gpt-4o-mini", "model_requested": "gpt-4o-mini",
        "input_messages": HISTORY[:2],
        "output_messages": [{"role": "assistant", "content": None, "tool_calls": CALLS}],
        "input_text": "Weather in Paris?", "output_text": None,
        "params": {"max_tokens": 100, "temperature": 0.2}, "tokens_in": 18, "tokens_out": 24,
        "tokens_cache_read": 0, "tokens_reasoning": 0, "cost_source": "computed", **ok}  # fmt: skip
    assert tools["cost_usd"] == pytest.approx((18 * 0.15 + 24 * 0.60) / 1e6)
    assert pick(answer) == {
        "model": "gpt-4o-mini", "model_requested": "gpt-4o-mini", "input_messages": HISTORY,
        "output_messages": [{"role": "assistant", "content": ANSWER}],
        "input_text": "Weather in Paris?", "output_text": ANSWER,
        "params": {"max_tokens": 100, "temperature": 0.2}, "tokens_in": 144, "tokens_out": 10,
        "tokens_cache_read": 0, "tokens_reasoning": 0, "cost_source": "computed", **ok}  # fmt: skip
    assert answer["cost_usd"] == pytest.approx((144 * 0.15 + 10 * 0.60) / 1e6)
    assert pick(stream) == {
        "model": "gpt-4", "model_requested": "gpt-4", "input_messages": TEST,
        "output_messages": [{"role": "assistant", "content": "This is a test."}],
        "input_text": "Say this is a test", "output_text": "This is a test.",
        "params": {"stream": True}, "tokens_in": 9, "tokens_out": 5, "tokens_cache_read": 0,
        "tokens_reasoning": 0, "cost_source": "computed", **ok}  # fmt: skip
    assert stream["cost_usd"] == pytest.approx((9 * 30 + 5 * 60) / 1e6)
    # braintrust 0.48.1's wrap_openai logs no `error` for the 404 (only the input and times)
    assert pick(missing) == {
        "model": "this-model-does-not-exist", "model_requested": "this-model-does-not-exist",
        "input_messages": TEST, "output_messages": None, "input_text": "Say this is a test",
        "output_text": None, "params": None, "tokens_in": None, "tokens_out": None,
        "tokens_cache_read": None, "tokens_reasoning": None, "cost_source": None, **ok}  # fmt: skip
    assert missing["cost_usd"] is None and "error" not in missing["raw"]


@pytest.mark.parametrize("rel", [SYNC, SDK])
def test_scores_become_feedback_on_their_span(rel):
    parsed = parse(rel)
    names = by_name(parsed.events)
    root, answer = names["answer"][0], names["Chat Completion"][1]
    fb = {f["name"]: f for f in parsed.feedback}
    assert set(fb) == ({"answered", "helpful"} | ({"comment"} if rel == SDK else set()))
    answered, helpful = fb["answered"], fb["helpful"]
    assert {k: answered[k] for k in answered if k not in ("feedback_id", "ts")} == {
        "event_id": root["event_id"], "trace_id": None, "name": "answered", "kind": "score",
        "value": 1.0, "label": None, "source": "code", "comment": None,
        "source_format": "braintrust"}  # fmt: skip
    assert answered["feedback_id"] == f"{root['raw']['id']}:answered"
    assert answered["ts"] == root["ts_end"]
    # the bt sync row has the score merged in, without who gave it; the SDK's row says
    # log_feedback(source="external"): feedback an application collected from its user
    assert (helpful["event_id"], helpful["value"], helpful["kind"]) == (
        answer["event_id"], 0.75, "score")  # fmt: skip
    assert helpful["source"] == ("code" if rel == SYNC else "user")
    assert helpful["feedback_id"] == f"{answer['raw']['id']}:helpful"
    if rel == SDK:
        comment = fb["comment"]
        row = next(r for r in lines(SDK) if "comment" in r)
        assert {k: comment[k] for k in comment if k != "ts"} == {
            "feedback_id": row["id"], "event_id": answer["event_id"], "trace_id": None,
            "name": "comment", "kind": "label", "value": None, "label": None, "source": "user",
            "comment": "right answer, a bit short", "author": "user-9",
            "source_format": "braintrust"}  # fmt: skip
        assert comment["ts"] == datetime.fromisoformat(row["created"])


def test_the_sdk_rows_merge_to_the_stored_rows():
    """The SDK's first rows and `_is_merge` updates, merged on reading, give the rows the
    stored (bt sync) file has: same columns, same values."""
    sync, sdk = parse(SYNC).events, parse(SDK).events
    key = sorted
    assert key([{k: v for k, v in r.items() if k != "raw"} for r in sync], key=str) == key(
        [{k: v for k, v in r.items() if k != "raw"} for r in sdk], key=str
    )


# --- bad input: each bad row costs only itself, and says where and what ----------------------


def write(tmp_path: Path, rows: list) -> Path:
    path = tmp_path / "part-000001.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_bad_rows_are_rejected_with_their_line_and_the_rest_kept(tmp_path):
    good = lines(SYNC)
    no_time = {**good[1], "id": "r-no-time", "span_id": "s-no-time", "metrics": {},
               "created": None}  # fmt: skip
    bad_score = {**good[6], "id": "r-bad-score", "span_id": "s-bad-score",
                 "scores": {"answered": "yes"}}  # fmt: skip
    bad_meta = {**good[2], "id": "r-bad-meta", "span_id": "s-bad-meta", "metadata": "gpt-4"}
    rows = [good[0], "{not json", no_time, good[3], 42, {"input": "no ids"}, bad_score,
            bad_meta, {"comment": {"text": "orphan"}, "origin": {}, "id": "c1"}, good[5]]
    path = write(tmp_path, rows)
    parsed = read_foreign("braintrust", path, path.read_bytes())
    assert [r["event_id"] for r in parsed.events] == [
        good[0]["span_id"], good[3]["span_id"], good[5]["span_id"]]  # fmt: skip
    reasons = [(r.line_no, r.reason) for r in parsed.rejects]
    assert reasons[0][0] == 2 and reasons[0][1].startswith("not JSON (")
    assert parsed.rejects[0].raw_text == "{not json"
    assert reasons[1:] == [
        (5, "row is not a JSON object"),
        (6, "row has no id or span_id"),
        (3, "row r-no-time: row has neither metrics.start nor created"),
        (7, "row r-bad-score: score 'answered' is not a number: 'yes'"),
        (8, "row r-bad-meta: metadata is not an object"),
        (9, "comment: comment names no origin.id"),
    ]  # fmt: skip
    assert parsed.records_read == len(parsed.events) + len(parsed.rejects)


def test_a_file_that_is_not_json_lines_is_an_error_naming_it(tmp_path):
    from ingest.errors import InputError

    path = tmp_path / "part-000002.jsonl"
    path.write_text('{"span_attributes": {"name": "x"}, "id": \n')
    with pytest.raises(InputError, match=r"part-000002\.jsonl: malformed or truncated JSON"):
        read_foreign("braintrust", path, path.read_bytes())


def test_detection_sees_braintrust_keys_only(tmp_path):
    for rel in ("langsmith/runs.jsonl", "langfuse/records.jsonl", "openai/logs.jsonl"):
        data = (DATA / rel).read_bytes()
        assert detect_format(tmp_path / "x.jsonl", data[:65536]) != "braintrust", rel
    row = b'{"id": "1", "root_span_id": "r", "span_parents": [], "input": "hi"}\n'
    assert detect_format(tmp_path / "x.jsonl", row) == "braintrust"


def test_a_bt_sync_folder_loads_whole_its_bookkeeping_files_skipped(tmp_path, db_path):
    """`bt sync pull` keeps spec.json, state.json and manifest.json beside its part files (the
    fields of its SyncSpec, PullState and SyncManifest): recognised, and nothing loaded from
    them, so ingesting the folder gives the logs without rejects."""
    from typer.testing import CliRunner

    from dashboard.cli import app

    spec = {"schema_version": 1, "object_ref": "project_logs:reviewdeck-fixtures",
            "object_type": "project_logs", "object_name": "reviewdeck-fixtures",
            "direction": "pull", "scope": "spans", "filter": None, "window": "3d",
            "limit": None, "page_size": 1000}  # fmt: skip
    folder = tmp_path / "bt-sync" / "project_logs"
    folder.mkdir(parents=True)
    (folder / "spec.json").write_text(json.dumps(spec, indent=2))
    (folder / "state.json").write_text(json.dumps(
        {"schema_version": 1, "run_id": "r1", "status": "completed", "phase": "done",
         "scope": "spans", "limit": 0, "filter": None, "page_size": 1000, "cursor": None,
         "root_discovery_cursor": None, "root_ids": [], "current_root_index": 0},
        indent=2))  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(
        {"schema_version": 1, "spec_hash": "ab12", "spec": spec, "last_run_id": "r1",
         "status": "completed", "items_done": 7, "pages_done": 1}, indent=2))  # fmt: skip
    (folder / "part-000001.jsonl").write_bytes((HERE / SYNC).read_bytes())
    for name in ("spec.json", "state.json", "manifest.json"):
        data = (folder / name).read_bytes()
        assert detect_format(folder / name, data) == "braintrust", name
        parsed = read_foreign("braintrust", folder / name, data)
        assert (parsed.records_read, parsed.events, parsed.rejects) == (0, [], []), name
    result = CliRunner().invoke(app, ["ingest", "--db", str(db_path), str(tmp_path / "bt-sync")])
    assert result.exit_code == 0, result.output
    with connect(db_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events").fetchone() == (7,)
        assert con.execute("SELECT sum(rejected) FROM ingested_files").fetchone() == (0,)


def test_end_to_end_through_the_cli_with_secrets_scrubbed(tmp_path, db_path):
    from typer.testing import CliRunner

    from dashboard.cli import app

    rows = lines(SYNC)
    call = next(r for r in rows if r.get("metadata", {}).get("model") == "gpt-4")
    call["metadata"]["api_key"] = "sk-proj-abcdefghijklmnopqrstuvwxyz012345"
    call["metadata"]["temperature"] = 0.5
    path = write(tmp_path, [json.dumps(r) for r in rows])
    result = CliRunner().invoke(app, ["ingest", "--db", str(db_path), str(path)])
    assert result.exit_code == 0, result.output
    with connect(db_path, read_only=True) as con:
        kinds = con.execute(
            "SELECT kind, count(*) FROM events WHERE source_format = 'braintrust' GROUP BY 1 "
            "ORDER BY 1"
        ).fetchall()
        assert kinds == [("chain", 2), ("llm", 4), ("tool", 1)]
        raw, params = con.execute(
            "SELECT raw, params FROM events WHERE model = 'gpt-4'"
        ).fetchone()
        assert json.loads(raw)["metadata"]["api_key"] == "[redacted]"
        assert "abcdefghijklmnop" not in raw
        assert json.loads(params) == {"stream": True, "temperature": 0.5}
        fb = con.execute("SELECT name, value, source FROM feedback ORDER BY name").fetchall()
        assert fb == [("answered", 1.0, "code"), ("helpful", 0.75, "code")]
        fmt = con.execute("SELECT source_format FROM ingested_files").fetchall()
        assert fmt == [("braintrust",)]
