"""One-event reruns (the playground path): streaming, samples, edits, verdicts, corrections."""

from __future__ import annotations

import json

import pytest

from ingest.db import connect
from ingest.errors import ReviewdeckError
from ingest.prices import compute_cost
from models.rerun import runner as rr
from models.rerun import store
from models.rerun.endpoints import Endpoint
from tests.models.rerun_data import insert_event
from tests.openai_fixtures import STUB_API_KEY, openai_server  # noqa: F401


@pytest.fixture
def ep(openai_server) -> Endpoint:  # noqa: F811
    return Endpoint("stub", openai_server.base_url, api_key=STUB_API_KEY)


def test_streamed_rerun_with_samples(db_path, con, openai_server, ep):  # noqa: F811
    insert_event(con, "e1", "Why was my card declined?", "old answer")
    con.close()
    openai_server.chunk_delay = 0.01
    pieces: dict[int, list[str]] = {}
    runs = rr.rerun_event(
        str(db_path),
        "e1",
        endpoint=ep,
        model="gpt-4o",
        samples=3,
        on_delta=lambda i, p: pieces.setdefault(i, []).append(p),
    )
    assert len(runs) == 3 and len({r.rerun_event_id for r in runs}) == 3
    expected = "[gpt-4o] answer to: Why was my card declined?"
    assert all("".join(pieces[i]) == expected for i in range(3))
    assert all(len(pieces[i]) > 3 for i in range(3))  # really streamed, piece by piece
    r = runs[0].result
    assert r.ttft_ms is not None and r.ttft_ms <= r.latency_ms
    assert runs[0].cost_usd == pytest.approx(compute_cost("gpt-4o", r.tokens_in, r.tokens_out))
    with connect(db_path, read_only=True) as c:
        rows = c.execute(
            "SELECT rerun_of, output_text, tokens_out, ttft_ms, raw FROM events"
            " WHERE rerun_of = 'e1' ORDER BY json_extract(raw, '$.sample_index')"
        ).fetchall()
    assert len(rows) == 3 and all(row[1] == expected and row[2] > 0 for row in rows)
    assert [json.loads(row[4])["sample_index"] for row in rows] == [0, 1, 2]
    # the stream asked for the usage chunk
    assert openai_server.requests[0]["body"]["stream_options"] == {"include_usage": True}


def test_edited_request_and_adaptation_are_what_is_sent_and_stored(db_path, con, openai_server, ep):  # noqa: F811
    insert_event(con, "e1", "q?", "a", params={"temperature": 0.7, "max_tokens": 50})
    con.close()
    edited = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "new q"}]
    runs = rr.rerun_event(
        str(db_path),
        "e1",
        endpoint=ep,
        model="o3-mini",
        messages=edited,
        params={"temperature": 0.2, "max_tokens": 80},
        stream=False,
    )
    sent = openai_server.requests[-1]["body"]
    assert sent["messages"][0] == {"role": "developer", "content": "Be brief."}
    assert "temperature" not in sent and sent["max_completion_tokens"] == 80
    assert any("developer" in c for c in runs[0].changes)
    with connect(db_path, read_only=True) as c:
        msgs, params, raw = c.execute(
            "SELECT input_messages, params, raw FROM events WHERE rerun_of = 'e1'"
        ).fetchone()
    assert json.loads(msgs)[0]["role"] == "developer"
    assert json.loads(params) == {"max_completion_tokens": 80}
    assert json.loads(raw)["edited"] is True and json.loads(raw)["endpoint"] == "stub"


def test_404_shown_and_recorded(db_path, con, openai_server, ep):  # noqa: F811
    insert_event(con, "e1", "q?", "a")
    con.close()
    runs = rr.rerun_event(str(db_path), "e1", endpoint=ep, model="this-model-does-not-exist")
    assert runs[0].result.status == "error" and runs[0].result.http_status == 404
    assert runs[0].result.error_type == "model_not_found"
    with connect(db_path, read_only=True) as c:
        assert c.execute("SELECT error_type FROM events WHERE rerun_of = 'e1'").fetchone() == (
            "model_not_found",
        )


def test_missing_event_is_a_clear_error(db_path, ep):
    with pytest.raises(ReviewdeckError, match="no event"):
        rr.rerun_event(str(db_path), "nope", endpoint=ep, model="gpt-4o")


def test_verdict_and_correction_rows(db_path, con, openai_server, ep):  # noqa: F811
    insert_event(con, "e1", "q?", "The old answer text.")
    con.close()
    run = rr.rerun_event(str(db_path), "e1", endpoint=ep, model="gpt-4o")[0]
    with connect(db_path) as c:
        store.record_verdict(c, run.rerun_event_id, "better", note="cites policy", author="ana")
        with pytest.raises(ReviewdeckError):
            store.record_verdict(c, "e1", "better")  # not a rerun
        with pytest.raises(ReviewdeckError):
            store.record_verdict(c, run.rerun_event_id, "great")
        store.record_correction(c, "e1", "The new answer text.", author="ana")
        rows = c.execute(
            "SELECT event_id, name, kind, source, label, value, correction, comment"
            " FROM feedback ORDER BY name"
        ).fetchall()
    corr, verdict = rows
    assert verdict == (
        run.rerun_event_id,
        "verdict",
        "label",
        "reviewer",
        "better",
        1.0,
        None,
        "cites policy",
    )
    assert corr[:4] == ("e1", "correction", "correction", "reviewer")
    assert corr[6] == "The new answer text." and 0 < corr[5] < 0.5
