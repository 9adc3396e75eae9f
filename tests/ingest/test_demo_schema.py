"""Every line of the demo log is valid native JSONL and follows docs/schema.md's conventions."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import jsonschema
import pytest

from ingest.demo.generate import generate
from ingest.prices import compute_cost

REPO = Path(__file__).resolve().parents[2]
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
EVENT_KEYS = [
    "event_id", "trace_id", "ts", "ts_end", "kind", "name", "provider", "model",
    "model_requested", "prompt_name", "prompt_version", "input_messages", "output_messages",
    "input_text", "output_text", "params", "tokens_in", "tokens_out", "cost_usd", "latency_ms",
    "ttft_ms", "status", "error_type", "error_message", "user_id", "session_id", "tags",
    "environment", "feedback",
]  # fmt: skip
ERROR_ABSENT = {"output_messages", "tokens_in", "tokens_out", "ttft_ms"}  # no answer, no tokens
FEEDBACK_KEYS = [
    "feedback_id", "name", "kind", "value", "label", "source", "comment", "correction", "author",
    "ts",
]  # fmt: skip
# name → (kind, allowed sources) from the conventions table of docs/schema.md
CONVENTIONS = {
    "thumbs": ("vote", {"user"}),
    "copied": ("action", {"user"}),
    "regenerated": ("action", {"user"}),
    "edited": ("action", {"user"}),
    "correction": ("correction", {"user", "reviewer"}),
    "helpfulness": ("score", {"llm_judge"}),
    "correctness": ("score", {"llm_judge"}),
    "links_valid": ("score", {"code"}),
    # The pass/fail judge (m006 convention): its verdicts are scores, the reviewers' labels on the
    # same rubric are labels.
    "resolves_issue": ("score", {"llm_judge"}),
}
REVIEW = ("resolves_issue", "label", "reviewer")
# Keys the evaluator and review rows add after `ts` (docs/native-format.md).
EXTRA_KEYS = {
    ("resolves_issue", "llm_judge"): ["evaluator_version", "judge_model", "cost_usd"],
    ("resolves_issue", "reviewer"): ["queue_id", "tags"],
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("demo") / "demo.jsonl"
    result = generate(out, events=6000, weeks=12, seed=11, end_date=date(2026, 11, 22))
    lines = out.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    events = [r for r in rows if r.get("type") != "feedback"]
    late = [r for r in rows if r.get("type") == "feedback"]
    return result, lines, events, late


def test_every_line_matches_the_native_json_schema(demo) -> None:
    _, lines, _, _ = demo
    schema = json.loads((REPO / "ingest" / "load" / "native_event.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for no, line in enumerate(lines, 1):
        errors = list(validator.iter_errors(json.loads(line)))
        assert not errors, f"line {no}: {errors[0].message}"


def test_event_lines_have_every_key_in_order_and_sane_values(demo) -> None:
    result, lines, events, late = demo
    assert len(events) == result.events and len(late) == result.feedback_late
    # Events first, then late feedback: the file never interleaves them.
    assert all('"type":"feedback"' not in x for x in lines[: len(events)])
    start, end = result.truths["start"], result.truths["end"]
    for e in events:
        if e["status"] == "ok":
            assert list(e) == EVENT_KEYS
        else:
            assert list(e) == [k for k in EVENT_KEYS if k not in ERROR_ABSENT]
        assert TS.match(e["ts"]) and TS.match(e["ts_end"])
        assert start <= e["ts"] <= e["ts_end"] and e["ts"] < end
        assert e["kind"] == "llm" and e["environment"] == "production"
        assert e["provider"] == "openai"
        assert e["latency_ms"] > 0
        msgs = e["input_messages"]
        assert msgs[0]["role"] == "system" and msgs[-1]["role"] == "user"
        assert msgs[-1]["content"] == e["input_text"]
        assert {m["role"] for m in msgs} <= {"system", "user", "assistant"}
        tags = e["tags"]
        assert [t.split(":")[0] for t in tags] == ["topic", "intent", "channel", "lang", "plan"]
        if e["status"] == "ok":
            assert e["error_type"] is None and e["error_message"] is None
            assert e["output_messages"] == [{"role": "assistant", "content": e["output_text"]}]
            assert e["tokens_in"] > 0 and e["tokens_out"] > 0 and 0 < e["ttft_ms"] < e["latency_ms"]
            expected = compute_cost(e["model"], e["tokens_in"], e["tokens_out"])
            assert e["cost_usd"] == pytest.approx(expected, rel=1e-6, abs=1e-8)
        else:
            assert e["status"] == "error" and e["error_type"] and e["error_message"]
            assert e["output_text"] is None
            assert e["feedback"] == [] and e["cost_usd"] == 0.0
    ts = [e["ts"] for e in events]
    assert ts == sorted(ts)
    assert len({e["event_id"] for e in events}) == len(events)


def test_multi_turn_sessions_carry_their_history(demo) -> None:
    _, _, events, _ = demo
    by_session: dict[str, list[dict]] = {}
    for e in events:
        by_session.setdefault(e["session_id"], []).append(e)
    multi = [turns for turns in by_session.values() if len(turns) > 1]
    assert len(multi) > 0.1 * len(by_session)
    for turns in multi:
        assert len(turns) <= 3
        assert len({t["tags"][0] for t in turns}) == 1  # one topic per session
        for earlier, later in zip(turns, turns[1:], strict=False):
            history = later["input_messages"]
            assert {"role": "user", "content": earlier["input_text"]} in history
            if earlier["status"] == "ok":
                assert {"role": "assistant", "content": earlier["output_text"]} in history


def test_feedback_follows_the_naming_conventions(demo) -> None:
    _, _, events, late = demo
    ids = {e["event_id"]: e for e in events}
    rows = [(e, f) for e in events for f in e["feedback"]]
    rows += [(ids[f["event_id"]], f) for f in late]
    assert len({f["feedback_id"] for _, f in rows}) == len(rows)
    names = Counter()
    for event, f in rows:
        extra = EXTRA_KEYS.get((f["name"], f["source"]), [])
        assert [k for k in f if k not in ("type", "event_id")] == FEEDBACK_KEYS + extra
        if (f["name"], f["kind"], f["source"]) != REVIEW:
            kind, sources = CONVENTIONS[f["name"]]
            assert f["kind"] == kind and f["source"] in sources, f
        assert 0.0 <= f["value"] <= 1.0
        assert TS.match(f["ts"]) and f["ts"] > event["ts_end"] or f["ts"] == event["ts_end"]
        names[f["name"], f["source"]] += 1
        if f["name"] in ("thumbs", "links_valid"):
            assert f["value"] in (0.0, 1.0)
        if f["name"] in ("links_valid", "resolves_issue"):
            assert f["value"] in (0.0, 1.0)
            assert f["label"] == ("pass" if f["value"] == 1.0 else "fail")
        if f["name"] == "resolves_issue" and f["source"] == "llm_judge":
            assert f["evaluator_version"] == "1" and f["judge_model"] == f["author"]
            assert 0 < f["cost_usd"] < 0.01
        if f["source"] == "reviewer" and f["kind"] == "label":
            assert f["queue_id"] == 1 and f["author"] in ("maria.k", "tom.r", "ana.s", "li.w")
            assert (f["tags"] == []) == (f["value"] == 1.0), f  # a fail carries its tags
        if f["source"] == "llm_judge":
            assert f["comment"] and f["author"] == "gpt-4.1-2025-04-14"
        if f["kind"] == "correction":
            assert f["correction"] and f["correction"] != event["output_text"] or f["value"] > 0
        if f["source"] == "user":
            assert f["author"] == event["user_id"]
    expected = {(n, s) for n, (_, srcs) in CONVENTIONS.items() for s in srcs}
    assert set(names) == expected | {(REVIEW[0], REVIEW[2])}
    # Late lines are the reviewers' corrections and labels and part of the judge's scores.
    assert {(f["name"], f["source"]) for f in late} == {
        ("correction", "reviewer"), ("helpfulness", "llm_judge"),
        ("correctness", "llm_judge"), ("links_valid", "code"),
        ("resolves_issue", "llm_judge"), ("resolves_issue", "reviewer"),
    }  # fmt: skip
    # Every judged event has one verdict; reviewer labels only on judged events, at most two.
    judged = Counter(f["event_id"] if "event_id" in f else e["event_id"]
                     for e, f in rows if f["name"] == "helpfulness")  # fmt: skip
    verdicts = Counter(e["event_id"] for e, f in rows if f["name"] == "resolves_issue"
                       and f["source"] == "llm_judge")  # fmt: skip
    labels = Counter(e["event_id"] for e, f in rows if f["source"] == "reviewer"
                     and f["kind"] == "label")  # fmt: skip
    assert verdicts == judged
    assert set(labels) <= set(judged) and max(labels.values()) == 2
    assert [f["ts"] for f in late] == sorted(f["ts"] for f in late)


def test_duckdb_reads_the_whole_file(demo) -> None:
    result, lines, _, _ = demo
    con = duckdb.connect()
    n, typed = con.execute(
        "SELECT count(*), count(type) FROM read_json(?, format='newline_delimited')",
        [str(result.path)],
    ).fetchone()
    assert (n, typed) == (len(lines), result.feedback_late)


def test_the_loader_ingests_it_without_rejects(demo, tmp_path: Path) -> None:
    result, _, events, late = demo
    db = tmp_path / "w.duckdb"
    done = subprocess.run(
        [sys.executable, "-c", "from dashboard.cli import main; main()", "ingest",
         str(result.path), "--db", str(db)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == len(events)
    n_feedback = result.feedback_embedded + result.feedback_late
    assert con.execute("SELECT count(*) FROM feedback").fetchone()[0] == n_feedback
    orphans = con.execute(
        "SELECT count(*) FROM feedback f ANTI JOIN events e USING (event_id)"
    ).fetchone()[0]
    assert orphans == 0
