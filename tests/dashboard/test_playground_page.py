"""The playground page through AppTest, with the real openai SDK talking to the local stub."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ingest.db import connect
from tests.models.rerun_data import insert_event, insert_many
from tests.openai_fixtures import STUB_API_KEY, openai_server  # noqa: F401

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGE = "app_pages/playground.py"
HOSTILE = "<script>alert('x')</script> **bold** answer"


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def page_text(at: AppTest) -> str:
    """Every element's protobuf, i.e. everything the browser would receive."""
    return "\n".join(str(getattr(n, "proto", "")) for n in _walk(at._tree))


def open_page(db: Path, monkeypatch, event: str | None = None) -> AppTest:
    monkeypatch.setenv("REVIEWDECK_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page(PAGE)
    if event:
        at.query_params["event"] = event
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def no_endpoints(monkeypatch, tmp_path):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("REVIEWDECK_SECRETS", str(tmp_path / "absent.toml"))


@pytest.fixture
def stub_endpoint(openai_server, monkeypatch, no_endpoints):  # noqa: F811
    monkeypatch.setenv("REVIEWDECK_ENDPOINT_STUB_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("REVIEWDECK_ENDPOINT_STUB_API_KEY", STUB_API_KEY)
    return openai_server


def test_without_endpoint_the_event_opens_editable_and_says_how(db_path, con, monkeypatch,
                                                                no_endpoints):
    insert_event(con, "e1", "Why was my card declined?", HOSTILE)
    con.close()
    at = open_page(db_path, monkeypatch, "e1")
    assert any("REVIEWDECK_ENDPOINT_" in c.value for c in at.code)
    contents = [t.value for t in at.text_area]
    assert "You are a banking assistant." in contents and "Why was my card declined?" in contents
    assert at.button(key=[b.key for b in at.button if b.key.endswith("_run")][0]).disabled
    # editing works without an endpoint
    area = next(t for t in at.text_area if t.value == "Why was my card declined?")
    area.set_value("Edited question").run()
    assert not at.exception
    assert "Edited question" in [t.value for t in at.text_area]


def test_run_compare_verdict_and_no_key_on_page(db_path, con, monkeypatch, stub_endpoint):
    insert_event(con, "e1", "Why was my card declined?", HOSTILE)
    con.close()
    at = open_page(db_path, monkeypatch, "e1")
    at.text_input(key=[t.key for t in at.text_input if t.key.endswith("_model")][0]).set_value(
        "o3-mini").run()
    assert any("developer" in i.value for i in at.info)  # the adaptation is announced
    at.button(key=[b.key for b in at.button if b.key.endswith("_run")][0]).click().run()
    assert not at.exception, at.exception
    assert stub_endpoint.count("chat") == 1
    with connect(db_path, read_only=True) as c:
        rid, out = c.execute("SELECT event_id, output_text FROM events WHERE rerun_of = 'e1'"
                             ).fetchone()
    codes = [c.value for c in at.code]
    assert out in codes and HOSTILE in codes  # side by side, as text
    assert any(c.startswith("--- original") for c in codes)  # the diff
    assert not at.markdown or all("<script>" not in m.value for m in at.markdown)
    save = next(b for b in at.button if "verdict" in str(b.proto.form_id))
    save.click().run()  # no verdict picked: nothing is saved
    assert any("Pick a verdict" in w.value for w in at.warning)
    with connect(db_path, read_only=True) as c:
        assert c.execute("SELECT count(*) FROM feedback").fetchone()[0] == 0
    at.radio[0].set_value("better")
    next(b for b in at.button if "verdict" in str(b.proto.form_id)).click().run()
    with connect(db_path, read_only=True) as c:
        assert c.execute("SELECT event_id, label, source FROM feedback WHERE name = 'verdict'"
                         ).fetchall() == [(rid, "better", "reviewer")]
    assert STUB_API_KEY not in page_text(at)


def test_samples_are_shown_side_by_side(db_path, con, monkeypatch, stub_endpoint):
    insert_event(con, "e1", "Why?", "Because.")
    con.close()
    at = open_page(db_path, monkeypatch, "e1")
    at.number_input(key=[n.key for n in at.number_input if n.key.endswith("_samples")][0]
                    ).set_value(3).run()
    at.button(key=[b.key for b in at.button if b.key.endswith("_run")][0]).click().run()
    assert not at.exception, at.exception
    assert stub_endpoint.count("chat") == 3
    assert any("last run's 3 samples" in m.value for m in at.markdown)
    assert sum(1 for c in at.caption if c.value.startswith("sample ")) == 3


def test_batch_section_runs_and_reports(db_path, con, monkeypatch, stub_endpoint):
    insert_many(con, 6, thumbs=0)
    con.close()
    stub_endpoint.set_reply("gpt-4o-mini", '{"preferred": "1", "rationale": "first"}')
    at = open_page(db_path, monkeypatch)
    at.segmented_control(key="playground_section").set_value("Batch rerun").run()
    at.text_input(key="playground_batch_model").set_value("gpt-4o").run()
    at.text_input(key="playground_batch_judge").set_value("gpt-4o-mini").run()
    assert not at.exception, at.exception
    assert any(m.label == "Events to rerun" and m.value == "6" for m in at.metric)
    at.button(key="playground_batch_start").click().run()
    assert not at.exception, at.exception
    assert any("done: 6 done" in s.value for s in at.success)
    assert stub_endpoint.count("chat") == 6 * 3
    tie = next(m for m in at.metric if m.label == "Tie (rerun)")
    assert tie.value.startswith("6 ")  # a first-position judge cancels out
    assert STUB_API_KEY not in page_text(at)
    # a pair of the report reopens in the single-event section
    at.selectbox(key="playground_report_open").select("ev0003").run()
    assert not at.exception, at.exception
    assert at.query_params["event"] in ("ev0003", ["ev0003"])
    assert at.segmented_control(key="playground_section").value == "Rerun one event"
    assert "Why was my card 3 declined?" in [t.value for t in at.text_area]


def test_tool_calls_and_results_are_shown_and_replayed(db_path, con, monkeypatch,
                                                       stub_endpoint):
    import json

    messages = [
        {"role": "system", "content": "Use tools."},
        {"role": "user", "content": "What is my balance?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_balance", "arguments": "{\"account\": \"A1\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"balance\": 42}"},
    ]
    con.execute(
        "INSERT INTO events (event_id, ts, kind, model, input_messages, output_text, status,"
        " source_format) VALUES ('t1', now(), 'llm', 'gpt-4o', ?, 'You have 42.', 'ok',"
        " 'native')", [json.dumps(messages)])
    con.close()
    at = open_page(db_path, monkeypatch, "t1")
    areas = {t.label: t.value for t in at.text_area}
    assert "get_balance" in areas["Tool calls (JSON)"]
    assert '{"balance": 42}' in areas.values()
    at.button(key=[b.key for b in at.button if b.key.endswith("_run")][0]).click().run()
    assert not at.exception, at.exception
    sent = stub_endpoint.requests[-1]["body"]["messages"]
    assert sent[2]["tool_calls"][0]["function"]["name"] == "get_balance"
    assert sent[3] == {"role": "tool", "content": '{"balance": 42}', "tool_call_id": "call_1"}
