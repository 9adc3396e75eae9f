"""The Review queue page through AppTest: make a queue from a link, label blind, see the reveal."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ingest.db import connect
from models.queue import build
from models.queue.sources import QueueSource
from tests.models.queue.queue_data import JUDGE, insert_events

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGE = "app_pages/queue.py"
HOSTILE = "<script>window.x=1</script> **bold**"


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def page_text(at: AppTest) -> str:
    return "\n".join(str(getattr(n, "proto", "")) for n in _walk(at._tree))


def open_page(db: Path, monkeypatch, **params: str) -> AppTest:
    monkeypatch.setenv("REVIEWDECK_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page(PAGE)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_a_link_makes_a_queue_from_its_filter(db_path, con, monkeypatch):
    insert_events(con, 30)
    con.close()
    at = open_page(db_path, monkeypatch, source="filter", model="model-b", reviewer="ana")
    assert "filter · model=model-b" in page_text(at)
    at.text_input(key="queue_new_name").set_value("b check")
    at.number_input(key="queue_new_n").set_value(4)
    at.selectbox(key="queue_new_stratify").set_value(f"verdict:{JUDGE}")
    at.button[0].click()  # the form's submit button
    at.run()
    assert not at.exception, at.exception
    with connect(db_path, read_only=True) as c:
        rows = c.execute(
            "SELECT q.name, q.rubric, q.stratify_by, count(*), bool_and(e.model = 'model-b')"
            " FROM review_queues q JOIN queue_items i USING (queue_id)"
            " JOIN events e USING (event_id) GROUP BY ALL"
        ).fetchall()
    assert rows == [("b check", JUDGE, f"verdict:{JUDGE}", 4, True)]
    assert "Queue 1 created: 4 items" in page_text(at)
    assert at.query_params["queue"] in ("1", ["1"])


def test_blind_review_reveals_the_judge_after_answering(db_path, con, monkeypatch):
    insert_events(con, 6)
    con.execute(
        "UPDATE events SET output_text = ?, output_messages = NULL WHERE event_id = 'q0000'",
        [HOSTILE],
    )
    qid = build.create_queue(con, build.QueueSpec(
        name="all", source=QueueSource("new_topic", event_ids=("q0000",)), rubric=JUDGE, n=5,
    )).queue_id
    con.close()
    at = open_page(db_path, monkeypatch, queue=str(qid), reviewer="ana")
    text = page_text(at)
    assert "Left for you" in text and "q0000" in text
    assert HOSTILE in text  # shown as text (a code block), not rendered
    assert "llm_judge" not in text  # blind: the judge's verdict is not on the page yet
    fail = _button(at, "Fail")
    assert fail.proto.shortcut.lower() == "f" and _button(at, "Pass").proto.shortcut.lower() == "p"
    at.multiselect(key=next(m.key for m in at.multiselect)).set_value(["hallucination"])
    fail.click()
    at.run()
    assert not at.exception, at.exception
    text = page_text(at)
    assert "Your answer: fail" in text and "llm_judge" in text
    assert _button(at, "Next").proto.shortcut.lower() == "n"
    with connect(db_path, read_only=True) as c:
        got = c.execute("SELECT label, value, tags, author, queue_id FROM feedback"
                        " WHERE source = 'reviewer'").fetchall()
    assert got == [("fail", 0.0, ["hallucination"], "ana", qid)]
    _button(at, "Next").click()
    at.run()
    assert "Nothing left for you in this queue" in page_text(at)


def test_without_a_name_the_page_asks_for_one(db_path, con, monkeypatch):
    insert_events(con, 3)
    build.create_queue(con, build.QueueSpec(name="x", source=QueueSource("filter"), n=2))
    con.close()
    at = open_page(db_path, monkeypatch)
    assert "Type your name above to start reviewing" in page_text(at)
    assert not [b for b in at.button if b.label in ("Pass", "Fail")]
