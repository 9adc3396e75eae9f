"""Keys a logging library wrote into a record never reach the warehouse (ingest/secrets.py):
request parameters, the raw record, error messages and rejected lines are scrubbed as they are
inserted, and what is not a secret (max_tokens, the text of the conversation) is kept."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.db import connect
from ingest.load.loader import load_source
from ingest.load.read import Source

KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2
BEARER = "Bearer " + "eyJhbGciOiJIUzI1NiJ9.payload.sig" * 2


def test_keys_in_params_raw_errors_and_rejects_are_redacted(db_path: Path, tmp_path: Path):
    lines = [
        {"event_id": "a", "ts": "2026-11-02T09:00:00Z", "model": "gpt-4o",
         "input_text": "what is the capital of France?", "output_text": "Paris.",
         "params": {"api_key": KEY, "max_tokens": 64, "temperature": 0.2,
                    "extra_headers": {"Authorization": BEARER}},
         "http": {"headers": {"x-api-key": "plain-looking-value", "user-agent": "sdk/1.0"}}},
        {"event_id": "b", "ts": "2026-11-02T09:01:00Z", "status": "error",
         "error_message": f"Incorrect API key provided: {KEY}."},
    ]
    path = tmp_path / "log.jsonl"
    text = "".join(json.dumps(x) + "\n" for x in lines)
    text += '{"event_id": "c", "ts": "not a time", "params": {"api_key": "' + KEY + '"}}\n'
    path.write_text(text)
    r = load_source(db_path, Source(str(path), path))
    assert (r.events_inserted, r.rejected) == (2, 1)
    with connect(db_path, read_only=True) as con:
        dump = json.dumps(
            con.execute("SELECT * FROM events").fetchall()
            + con.execute("SELECT * FROM rejects").fetchall(), default=str,
        )
        params = json.loads(con.execute("SELECT params FROM events WHERE event_id = 'a'")
                            .fetchall()[0][0])
        raw = con.execute("SELECT raw FROM events WHERE event_id = 'a'").fetchall()[0][0]
        error = con.execute("SELECT error_message FROM events WHERE event_id = 'b'").fetchall()
        reject = con.execute("SELECT raw_text FROM rejects").fetchall()[0][0]
    assert KEY not in dump and "eyJhbGciOiJIUzI1NiJ9" not in dump
    assert "plain-looking-value" not in dump
    assert params["api_key"] == "[redacted]"
    assert params["max_tokens"] == 64 and params["temperature"] == 0.2  # not secrets
    assert params["extra_headers"]["Authorization"] == "[redacted]"
    assert "sdk/1.0" in raw  # the rest of the raw record is kept
    assert error == [("Incorrect API key provided: [redacted].",)]
    assert "[redacted]" in reject and "not a time" in reject


def test_the_cue_guard_changes_nothing_but_speed() -> None:
    import duckdb

    from ingest import secrets

    samples = [
        {"api_key": KEY}, {"X-Api-Key": "v"}, {"Authorization": BEARER}, {"password": "p"},
        {"passwd": "p"}, {"client_secret": "s"}, {"private-key": "k"}, {"Cookie": "c"},
        {"access_token": "t"}, {"idToken": "t"}, {"note": f"pasted {KEY}"},
        {"aws": "AKIA" + "A" * 16}, {"gh": "ghp_" + "a" * 36}, {"slack": "xoxb-1234567890-ab"},
        {"max_tokens": 5, "tokens_in": 3}, {"text": "no secret here"},
    ]
    con = duckdb.connect()
    for sample in samples:
        value = json.dumps(sample)
        plain, guarded = con.execute(
            f"SELECT {secrets.json_sql('x')}, {secrets.json_sql('x', guarded=True)} "
            "FROM (SELECT ?::JSON AS x)", [value],
        ).fetchall()[0]
        assert guarded == plain, sample
    assert "[redacted]" not in con.execute(
        f"SELECT {secrets.json_sql('x', guarded=True)} FROM (SELECT ?::JSON AS x)",
        [json.dumps(samples[-2])],
    ).fetchall()[0][0]


def test_keys_in_json_kept_as_a_string_are_redacted(db_path: Path, tmp_path: Path) -> None:
    # OpenInference keeps the request's parameters as a JSON string attribute: the key sits one
    # escaping level down in the raw span, and a rejected line keeps it the same way
    from tests.ingest.collect.helpers import span, traces_doc

    inner = json.dumps({"temperature": 0.2, "api_key": "plain-looking-\"quoted\"-value",
                        "note": "keep \"this\" one", "headers": {"Authorization": "x y"}})
    doc = traces_doc(span("00f067aa0ba902b7", **{
        "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
        "llm.invocation_parameters": inner, "input.value": "q", "output.value": "a"}))
    spans = tmp_path / "spans.json"
    spans.write_bytes(doc)
    bad = tmp_path / "log.jsonl"
    bad.write_text(json.dumps({"event_id": "b", "ts": "not a time",
                               "params": {"request_json": inner}}) + "\n")
    r1 = load_source(db_path, Source(str(spans), spans))
    r2 = load_source(db_path, Source(str(bad), bad))
    assert (r1.events_inserted, r2.rejected) == (1, 1)
    with connect(db_path, read_only=True) as con:
        raw = con.execute("SELECT raw FROM events").fetchall()[0][0]
        reject = con.execute("SELECT raw_text FROM rejects").fetchall()[0][0]
    assert "plain-looking" not in raw and "plain-looking" not in reject
    attrs = json.loads(raw)["span"]["attributes"]
    kept = json.loads(attrs["llm.invocation_parameters"])  # still valid JSON
    assert kept == {"temperature": 0.2, "api_key": "[redacted]", "note": 'keep "this" one',
                    "headers": {"Authorization": "[redacted]"}}
    assert json.loads(json.loads(reject)["params"]["request_json"])["api_key"] == "[redacted]"
