"""The project's own Langfuse fixtures (tests/data/langfuse, made by tests/data/make_langfuse.py
from what the Langfuse SDK sent): the public API trace export with observations and scores, the
same records in the web app's download shape, and as JSON Lines."""

from __future__ import annotations

import json

import pytest

from ingest.formats import detect_format, read_foreign
from ingest.records import ParsedFile
from tests.conftest import DATA

ANSWER = "It is rainy in Paris, 14°C."


def parse(rel: str) -> ParsedFile:
    path = DATA / rel
    data = path.read_bytes()
    assert detect_format(path, data[:65536]) == "langfuse", rel
    parsed = read_foreign("langfuse", path, data)
    assert parsed.rejects == [], rel
    return parsed


EXPORTS = ["langfuse/trace_export.json", "langfuse/webapp_trace.json", "langfuse/records.jsonl"]


@pytest.mark.parametrize("rel", EXPORTS)
def test_trace_with_observations_and_scores(rel):
    parsed = parse(rel)
    assert parsed.records_read == 11 and len(parsed.events) == 7 and len(parsed.feedback) == 4
    export = json.loads((DATA / "langfuse/trace_export.json").read_text())
    trace_id = export["id"]
    rows = parsed.events
    root = next(e for e in rows if e["parent_id"] is None)
    assert (root["name"], root["kind"], root["output_text"]) == ("weather-agent", "agent", ANSWER)
    assert all(e["parent_id"] == root["event_id"] for e in rows if e is not root)
    assert sorted(e["kind"] for e in rows) == ["agent", "llm", "llm", "llm", "llm", "llm", "tool"]
    for row in rows:  # trace context on every observation
        assert (row["trace_id"], row["user_id"], row["session_id"]) == (
            trace_id, "user-5", "session-5")  # fmt: skip
        assert (row["tags"], row["environment"]) == (["fixtures", "weather"], "fixtures")
    calls = [e for e in rows if e["name"] == "OpenAI-generation"]
    got = [(e["model"], e["tokens_in"], e["tokens_out"], e["input_text"], e["output_text"],
            e["status"]) for e in calls]  # fmt: skip
    assert got == [
        ("gpt-4o-mini-2024-07-18", 18, 24, "Weather in Paris?", None, "ok"),
        ("gpt-4o-mini-2024-07-18", 144, 10, "Weather in Paris?", ANSWER, "ok"),
        ("gpt-4", 9, 5, "Say this is a test", "This is a test.", "ok"),
        ("this-model-does-not-exist", None, None, "Say this is a test", None, "error"),
    ]
    tools, answer, stream, missing = calls
    assert [c["function"]["name"] for c in tools["output_messages"][0]["tool_calls"]] == [
        "get_weather", "get_population"]  # fmt: skip
    assert answer["cost_usd"] == pytest.approx((144 * 0.15 + 10 * 0.60) / 1e6)
    assert answer["cost_source"] == "computed" and answer["tokens_cache_read"] == 0
    # modelParameters come stringified; numbers get their type back, "inf" stays text
    assert answer["params"] == {"temperature": 0.2, "max_tokens": 100, "top_p": 1,
                                "frequency_penalty": 0, "presence_penalty": 0,
                                "service_tier": "default"}  # fmt: skip
    assert stream["params"]["max_tokens"] == "Infinity" and stream["ttft_ms"] > 0
    assert missing["error_message"] == (
        "Error code: 404 - The model `this-model-does-not-exist` does not exist or you do not "
        "have access to it."
    )
    summary = next(e for e in rows if e["name"] == "summarise")
    assert (summary["model"], summary["tokens_in"], summary["tokens_out"]) == ("gpt-4o", 30, 2)
    assert summary["tokens_cache_read"] == 10
    assert (summary["cost_usd"], summary["cost_source"]) == (0.0000825, "provided")
    assert summary["params"] == {"temperature": 0.5, "max_tokens": 20}
    assert (summary["input_text"], summary["output_text"]) == ("Summarise the weather.", "Rainy.")
    fb = {f["feedback_id"]: f for f in parsed.feedback}
    helpful, resolved, tone, correction = (
        fb[f"score-{n}"] for n in ("helpfulness", "resolved", "tone", "correction"))  # fmt: skip
    assert (helpful["event_id"], helpful["trace_id"]) == (answer["event_id"], None)
    assert (helpful["kind"], helpful["value"], helpful["comment"]) == ("score", 0.75, "ok")
    assert (resolved["event_id"], resolved["trace_id"]) == (None, trace_id)
    assert (resolved["kind"], resolved["value"], resolved["label"]) == ("score", 1.0, "True")
    assert (tone["kind"], tone["label"], tone["trace_id"]) == ("label", "polite", trace_id)
    assert (correction["kind"], correction["name"]) == ("correction", "correction")
    assert correction["correction"] == "It is rainy in Paris."
    assert correction["event_id"] == answer["event_id"]
    # share of the observation's output changed (1 - difflib ratio), known where the score is
    # read with its trace; a JSON Lines score is mapped on its own
    changed = correction["value"]
    assert changed == pytest.approx(0.125) if rel.endswith(".json") else changed is None
    assert {f["source"] for f in parsed.feedback} == {"code"}  # source API


def test_export_and_json_lines_give_the_same_rows():
    a, b = parse("langfuse/trace_export.json"), parse("langfuse/records.jsonl")
    strip = sorted((e["event_id"], {k: v for k, v in e.items() if k != "raw"}["name"])
                   for e in a.events)  # fmt: skip
    assert strip == sorted((e["event_id"], e["name"]) for e in b.events)
    assert [f["feedback_id"] for f in a.feedback] == [f["feedback_id"] for f in b.feedback]


def test_web_app_download_reads_as_the_public_api_export():
    # {"trace": {…, "scores", "corrections"}, "observations": […]} with input/output/metadata as
    # JSON text (a plain answer is a JSON string literal) and the correction in "corrections"
    webapp = json.loads((DATA / "langfuse/webapp_trace.json").read_text())
    assert [c["dataType"] for c in webapp["trace"]["corrections"]] == ["CORRECTION"]
    assert len(webapp["trace"]["scores"]) == 3
    answers = [o["output"] for o in webapp["observations"] if o["output"]
               and o["output"].startswith('"')]  # fmt: skip
    assert json.dumps(ANSWER, ensure_ascii=False) in answers
    a, b = parse("langfuse/webapp_trace.json"), parse("langfuse/trace_export.json")
    rows = sorted(({k: v for k, v in e.items() if k != "raw"} for e in a.events),
                  key=lambda e: e["event_id"])  # fmt: skip
    assert rows == sorted(({k: v for k, v in e.items() if k != "raw"} for e in b.events),
                          key=lambda e: e["event_id"])  # fmt: skip
    by_id = {f["feedback_id"]: f for f in b.feedback}
    assert [f == by_id[f["feedback_id"]] for f in a.feedback] == [True] * 4
