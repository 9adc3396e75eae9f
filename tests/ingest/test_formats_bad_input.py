"""Bad input: a whole unreadable file is an InputError naming it; a bad record is a reject with
a reason, and every good record around it is kept. Also score files and the end-to-end path.

The damaged files are cut from the project's own fixtures (tests/data); the same damage done to
../shared/fixtures runs as a cross-check where that folder exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.db import connect
from ingest.errors import InputError
from ingest.formats import detect_format, detect_or_raise, read_foreign
from tests.conftest import DATA, FIXTURES, needs_shared

NOT_FOUND = ("The model `this-model-does-not-exist` does not exist or you do not have access "
             "to it.")  # fmt: skip


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("fmt", "rel", "cut"),
    [("otlp", "vercel/ai-sdk.otlp.json", 5000), ("langfuse", "langfuse/trace_export.json", 3000),
     ("otlp", "otlp/openinference.traces.json", 1000)],
)  # fmt: skip
def test_truncated_document_is_an_input_error_naming_the_file(tmp_path, fmt, rel, cut):
    path = write(tmp_path, "cut.json", (DATA / rel).read_bytes()[:cut])
    with pytest.raises(InputError, match="cut.json.*truncated"):
        read_foreign(fmt, path, path.read_bytes())


@needs_shared
def test_truncated_shared_documents_cross_check(tmp_path):
    data = (FIXTURES / "otel/vercel-ai-v6.otlp.json").read_bytes()[:5000]
    path = write(tmp_path, "cut.json", data)
    with pytest.raises(InputError, match="cut.json.*truncated"):
        read_foreign("otlp", path, data)
    data = (FIXTURES / "langfuse/pydantic-ai-2025-06-06.trace.json").read_bytes()[:3000]
    path = write(tmp_path, "cut2.json", data)
    with pytest.raises(InputError, match="cut2.json"):
        read_foreign("langfuse", path, data)


def test_unrecognised_file_names_formats_tried(tmp_path):
    path = write(tmp_path, "notes.txt", b"hello world\n")
    assert detect_format(path, b"hello world\n") is None
    with pytest.raises(InputError, match="notes.txt.*otlp.*langfuse.*langsmith.*openai_batch"):
        detect_or_raise(path, b"hello world\n")


def test_bad_lines_in_good_batch_output_are_rejected_others_kept(tmp_path):
    batch = DATA / "openai/batch"
    lines = (batch / "batch_output.jsonl").read_bytes().splitlines()
    bad = [lines[0], b'{"custom_id": "x"}', lines[1], b"{not json", *lines[2:4],
           b'{"id": "batch_req_f", "custom_id": "request-zz", "response": null, '
           b'"error": {"code": "rate_limit_exceeded", "message": "slow down"}}']  # fmt: skip
    path = write(tmp_path, "out.jsonl", b"\n".join(bad) + b"\n")
    (tmp_path / "in.jsonl").write_bytes((batch / "batch_input.jsonl").read_bytes())
    parsed = read_foreign("openai_batch", path, path.read_bytes())
    assert len(parsed.events) == 5 and parsed.records_read == 7
    reasons = {r.line_no: r.reason for r in parsed.rejects}
    assert sorted(reasons) == [2, 4]
    assert "not a Batch output line" in reasons[2] and "not JSON" in reasons[4]
    assert [e["raw"]["joined"] for e in parsed.events] == [True, True, True, True, False]
    failed = [e for e in parsed.events if e["status"] == "error"]
    assert [(e["error_type"], e["error_message"]) for e in failed] == [
        ("model_not_found", NOT_FOUND), ("rate_limit_exceeded", "slow down")]  # fmt: skip


def test_wrong_types_inside_a_good_otlp_file(tmp_path):
    good = json.loads((DATA / "otlp/layout.traces.json").read_text())
    spans = good["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans.append({**spans[0], "spanId": "0000000000000001", "startTimeUnixNano": "soon"})
    spans.append({**spans[0], "spanId": "0000000000000002", "attributes": "not-a-list"})
    spans.append({**spans[0], "spanId": 12345})
    spans.append(
        {**spans[0], "spanId": "0000000000000003",
         "attributes": [{"key": "gen_ai.usage.input_tokens", "value": {"intValue": "many"}}]}
    )  # fmt: skip
    spans.append(
        {**spans[0], "spanId": "0000000000000004",
         "attributes": [{"key": "gen_ai.usage.output_tokens", "value": {"stringValue": "lots"}}]}
    )  # fmt: skip
    path = write(tmp_path, "mixed.json", json.dumps(good).encode())
    parsed = read_foreign("otlp", path, path.read_bytes())
    assert [e["event_id"] for e in parsed.events] == ["0000000000001003", "0000000000001002"]
    assert len(parsed.rejects) == 5 and parsed.records_read == 7
    reasons = " | ".join(r.reason for r in parsed.rejects)
    assert "soon" in reasons and "attributes" in reasons and "id is not a string" in reasons
    assert "many" in reasons and "tokens_out (gen_ai.usage.output_tokens" in reasons


def test_langsmith_and_openai_bad_records(tmp_path):
    lines = [json.dumps({"id": "r1", "run_type": "llm", "start_time": "2024-01-01T00:00:00"}),
             json.dumps({"id": "r2", "run_type": "llm"}), "[1]",
             json.dumps({"key": "correctness", "run_id": "r1", "score": True,
                         "feedback_source": {"type": "model"}})]  # fmt: skip
    path = write(tmp_path, "runs.jsonl", "\n".join(lines).encode())
    assert detect_format(path, path.read_bytes()) == "langsmith"
    parsed = read_foreign("langsmith", path, path.read_bytes())
    assert [e["event_id"] for e in parsed.events] == ["r1"]
    assert str(parsed.events[0]["ts"]) == "2024-01-01 00:00:00+00:00"  # no zone → UTC
    assert "start_time" in " ".join(r.reason for r in parsed.rejects)
    (fb,) = parsed.feedback
    assert (fb["event_id"], fb["value"], fb["source"]) == ("r1", 1.0, "llm_judge")
    lines = [
        json.dumps({"request": {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]},
                    "error": {"type": "invalid_request_error", "code": "context_length_exceeded",
                              "message": "too long"}, "ts": "2026-01-01T00:00:00Z"}),
        json.dumps({"request": {"model": "gpt-4o"}, "response": "oops"}),
        json.dumps({"object": "chat.completion", "id": "c1", "created": 1700000000, "model": "gpt-4o",  # noqa: E501
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 1}}),
    ]  # fmt: skip
    path = write(tmp_path, "oai.jsonl", "\n".join(lines).encode())
    assert detect_format(path, path.read_bytes()) == "openai"
    parsed = read_foreign("openai", path, path.read_bytes())
    err, ok = parsed.events
    assert (err["status"], err["error_type"]) == ("error", "context_length_exceeded")
    assert (ok["event_id"], ok["output_text"], ok["tokens_in"]) == ("c1", "hi", 3)
    assert [r.line_no for r in parsed.rejects] == [2]


def test_score_csv_and_jsonl(tmp_path):
    csv_text = (
        "event_id,trace_id,name,value,label,source,comment,ts\n"
        "e1,,helpfulness,0.8,,llm_judge,fine,2026-01-02T03:04:05Z\n"
        ",t1,resolved,,yes,human,,2026-01-02T03:04:05Z\n"
        "e2,,thumbs,abc,,user,,\n"
        "e3,,thumbs,1,,alien,,\n"
    )
    path = write(tmp_path, "scores.csv", csv_text.encode())
    assert detect_format(path, path.read_bytes()) == "scores"
    parsed = read_foreign("scores", path, path.read_bytes())
    a, b = parsed.feedback
    assert (a["event_id"], a["kind"], a["value"], a["source"]) == ("e1", "score", 0.8, "llm_judge")
    assert (b["event_id"], b["trace_id"], b["kind"], b["label"], b["source"]) == (
        None, "t1", "label", "yes", "reviewer")  # fmt: skip
    assert [r.line_no for r in parsed.rejects] == [4, 5]
    assert "not a number" in parsed.rejects[0].reason and "alien" in parsed.rejects[1].reason
    path = write(
        tmp_path, "s.jsonl", b'{"event_id": "e9", "name": "thumbs", "value": 0, "source": "user"}\n'
    )
    parsed = read_foreign("scores", path, path.read_bytes())
    assert (parsed.feedback[0]["kind"], parsed.feedback[0]["value"]) == ("vote", 0.0)


def test_end_to_end_through_the_cli(tmp_path, db_path):
    from typer.testing import CliRunner

    from dashboard.cli import app

    inputs = tmp_path / "batch"
    inputs.mkdir()
    for name in ("batch_input.jsonl", "batch_output.jsonl"):
        (inputs / name).write_bytes((DATA / "openai/batch" / name).read_bytes())
    files = [str(inputs / "batch_input.jsonl"), str(inputs / "batch_output.jsonl"),
             str(DATA / "langfuse/trace_export.json"), str(DATA / "vercel/ai-sdk.otlp.json"),
             str(DATA / "openai/cassette_404.yaml")]  # fmt: skip
    result = CliRunner().invoke(app, ["ingest", "--db", str(db_path), *files])
    assert result.exit_code == 0, result.output
    trace_id = json.loads((DATA / "langfuse/trace_export.json").read_text())["id"]
    with connect(db_path, read_only=True) as con:
        counts = dict(
            con.execute("SELECT source_format, count(*) FROM events GROUP BY 1").fetchall()
        )
        assert counts == {"openai_batch": 4, "langfuse": 7, "otlp": 10, "openai": 1}
        assert con.execute("SELECT count(*) FROM events WHERE kind = 'llm'").fetchone()[0] == 14
        fb = con.execute(
            "SELECT feedback_id, event_id IS NULL, trace_id, kind FROM feedback ORDER BY 1"
        ).fetchall()
        assert fb == [("score-correction", False, None, "correction"),
                      ("score-helpfulness", False, None, "score"),
                      ("score-resolved", True, trace_id, "score"),
                      ("score-tone", True, trace_id, "label")]  # fmt: skip
        err = con.execute("SELECT status, error_type FROM events WHERE source_format='openai'")
        assert err.fetchall() == [("error", "model_not_found")]
        msgs = con.execute(
            "SELECT input_messages FROM events WHERE source_format = 'langfuse' AND name = ?",
            ["summarise"],
        ).fetchone()[0]
        assert json.loads(msgs) == [{"role": "user", "content": "Summarise the weather."}]


@needs_shared
def test_end_to_end_through_the_cli_on_shared_files_cross_check(tmp_path, db_path):
    from typer.testing import CliRunner

    from dashboard.cli import app

    inputs = tmp_path / "batch"
    inputs.mkdir()
    for name in ("batch_input.jsonl", "batch_output.jsonl"):
        (inputs / name).write_bytes((FIXTURES / "openai" / name).read_bytes())
    files = [str(inputs / "batch_input.jsonl"), str(inputs / "batch_output.jsonl"),
             str(FIXTURES / "langfuse/pydantic-ai-2025-06-06.trace.json"),
             str(FIXTURES / "otel/vercel-ai-v6.otlp.json"),
             str(FIXTURES / "openai/test_chat_completion_404.yaml")]  # fmt: skip
    result = CliRunner().invoke(app, ["ingest", "--db", str(db_path), *files])
    assert result.exit_code == 0, result.output
    with connect(db_path, read_only=True) as con:
        counts = dict(
            con.execute("SELECT source_format, count(*) FROM events GROUP BY 1").fetchall()
        )
        assert counts == {"openai_batch": 65, "langfuse": 3, "otlp": 10, "openai": 1}
        assert con.execute("SELECT count(*) FROM events WHERE kind = 'llm'").fetchone()[0] == 71
        fb = con.execute("SELECT event_id, trace_id, kind FROM feedback").fetchall()
        assert fb == [(None, "25f4bdeebaab60e6e1bee7e8469554bc", "correction")]
        err = con.execute("SELECT status, error_type FROM events WHERE source_format='openai'")
        assert err.fetchall() == [("error", "model_not_found")]
        msgs = con.execute(
            "SELECT input_messages FROM events WHERE event_id = '5cb389a3bdd21a6e'"
        ).fetchone()[0]
        assert json.loads(msgs)[1] == {"role": "user", "content": "What is Langfuse?"}
