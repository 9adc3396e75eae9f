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


def test_without_endpoint_the_event_opens_editable_and_says_how(
    db_path, con, monkeypatch, no_endpoints
):
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
        "o3-mini"
    ).run()
    assert any("developer" in i.value for i in at.info)  # the adaptation is announced
    at.button(key=[b.key for b in at.button if b.key.endswith("_run")][0]).click().run()
    assert not at.exception, at.exception
    assert stub_endpoint.count("chat") == 1
    with connect(db_path, read_only=True) as c:
        rid, out = c.execute(
            "SELECT event_id, output_text FROM events WHERE rerun_of = 'e1'"
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
        assert c.execute(
            "SELECT event_id, label, source FROM feedback WHERE name = 'verdict'"
        ).fetchall() == [(rid, "better", "reviewer")]
    assert STUB_API_KEY not in page_text(at)


def test_samples_are_shown_side_by_side(db_path, con, monkeypatch, stub_endpoint):
    insert_event(con, "e1", "Why?", "Because.")
    con.close()
    at = open_page(db_path, monkeypatch, "e1")
    at.number_input(
        key=[n.key for n in at.number_input if n.key.endswith("_samples")][0]
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


def test_tool_calls_and_results_are_shown_and_replayed(db_path, con, monkeypatch, stub_endpoint):
    import json

    messages = [
        {"role": "system", "content": "Use tools."},
        {"role": "user", "content": "What is my balance?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_balance", "arguments": '{"account": "A1"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"balance": 42}'},
    ]
    con.execute(
        "INSERT INTO events (event_id, ts, kind, model, input_messages, output_text, status,"
        " source_format) VALUES ('t1', now(), 'llm', 'gpt-4o', ?, 'You have 42.', 'ok',"
        " 'native')",
        [json.dumps(messages)],
    )
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


def _run_with(at: AppTest, model: str) -> AppTest:
    at.text_input(
        key=[t.key for t in at.text_input if (t.key or "").endswith("_model")][0]
    ).set_value(model).run()
    at.button(key=[b.key for b in at.button if (b.key or "").endswith("_run")][0]).click().run()
    assert not at.exception, at.exception
    return at


def _newest_rerun(db: Path) -> tuple[str, str | None, str | None]:
    with connect(db, read_only=True) as c:
        return c.execute(
            "SELECT event_id, output_text, error_message FROM events WHERE rerun_of = 'e1'"
            " ORDER BY ts DESC LIMIT 1"
        ).fetchone()


def test_the_comparison_follows_each_new_run(db_path, con, monkeypatch, stub_endpoint):
    insert_event(con, "e1", "Why was my card declined?", "Old answer.")
    con.close()
    at = open_page(db_path, monkeypatch, "e1")

    def pick():
        return at.selectbox(key=[s.key for s in at.selectbox if (s.key or "").endswith("_pick")][0])

    for model in ("missing-model", "stub-a", "stub-b", "stub-b", "stub-a"):
        _run_with(at, model)
        rid, out, err = _newest_rerun(db_path)
        assert pick().value == rid, model
        codes = [c.value for c in at.code]
        if model == "missing-model":
            # the endpoint's own message at once, not only "1 of 1 runs failed"
            assert any("1 of 1 runs failed" in e.value for e in at.error)
            assert any(err in c and c.startswith("model_not_found: ") for c in codes)
        else:
            assert out in codes and out.startswith(f"[{model}]")
    # the verdict goes on the run on screen, the last one
    at.radio[0].set_value("worse")
    next(b for b in at.button if "verdict" in str(b.proto.form_id)).click().run()
    with connect(db_path, read_only=True) as c:
        assert c.execute("SELECT event_id FROM feedback WHERE name = 'verdict'").fetchall() == [
            (rid,)
        ]


def test_correction_starts_from_the_original_and_saves_only_a_change(
    db_path, con, monkeypatch, stub_endpoint
):
    insert_event(con, "e1", "Why was my card declined?", "Old answer.")
    con.close()
    at = _run_with(open_page(db_path, monkeypatch, "e1"), "stub-a")
    area = at.text_area(
        key=[t.key for t in at.text_area if (t.key or "").endswith("_corrected")][0]
    )
    assert area.value == "Old answer."  # not the model's text

    def save():
        return next(b for b in at.button if "correction" in str(b.proto.form_id))

    save().click().run()
    assert any("no correction saved" in w.value for w in at.warning)
    with connect(db_path, read_only=True) as c:
        assert c.execute("SELECT count(*) FROM feedback").fetchone()[0] == 0
    area = at.text_area(key=area.key)
    area.set_value("Your card was declined because it expired.")
    save().click().run()
    with connect(db_path, read_only=True) as c:
        rows = c.execute(
            "SELECT event_id, correction, source FROM feedback WHERE name = 'correction'"
        ).fetchall()
    assert rows == [("e1", "Your card was declined because it expired.", "reviewer")]


def _batch_tab(at: AppTest) -> AppTest:
    at.segmented_control(key="playground_section").set_value("Batch rerun").run()
    at.text_input(key="playground_batch_model").set_value("gpt-4o").run()
    assert not at.exception, at.exception
    return at


def test_batch_tab_reruns_the_filter_the_link_carried(db_path, con, monkeypatch, stub_endpoint):
    insert_many(con, 5, thumbs=0, prefix="down")
    insert_many(con, 3, thumbs=1, prefix="up")
    con.close()
    monkeypatch.setenv("REVIEWDECK_DB", str(db_path))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page(PAGE)
    at.query_params.update({"event": "up0001", "feedback": "thumbs_up", "text": "card 1"})
    _batch_tab(at.run())
    assert at.selectbox(key="playground_batch_feedback").value == "thumbs_up"
    assert any("feedback=thumbs_up&text=card+1" in c.value for c in at.code)
    assert next(m for m in at.metric if m.label == "Events to rerun").value == "1"
    # a link carrying only the sidebar's filter: taken as it is, no feedback filter added
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page(PAGE)
    at.query_params.update({"event": "up0001", "reruns": "exclude"})
    _batch_tab(at.run())
    assert at.selectbox(key="playground_batch_feedback").value == "(any)"
    assert next(m for m in at.metric if m.label == "Events to rerun").value == "8"
    # opened bare, the page offers the failures
    at = _batch_tab(open_page(db_path, monkeypatch))
    assert at.selectbox(key="playground_batch_feedback").value == "negative"
    assert next(m for m in at.metric if m.label == "Events to rerun").value == "5"


def test_batch_report_shows_unreadable_judgements_apart(db_path, con, monkeypatch, stub_endpoint):
    insert_many(con, 3, thumbs=0)
    con.close()
    stub_endpoint.set_reply("gpt-4o-mini", "I would rather not say.")
    at = _batch_tab(open_page(db_path, monkeypatch))
    at.text_input(key="playground_batch_judge").set_value("gpt-4o-mini").run()
    at.button(key="playground_batch_start").click().run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Win (rerun)"], metrics["Tie (rerun)"], metrics["Loss (rerun)"]) == (
        "0",
        "0",
        "0",
    )
    assert metrics["Unreadable"] == "6"
    assert any("6 judgements were unreadable" in w.value for w in at.warning)
    assert any(c.value == "Reviewer verdicts: no verdict 3" for c in at.caption)
