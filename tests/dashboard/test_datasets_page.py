"""The Datasets page through AppTest: made from a link, opened with its events and the rerun
batches run on it, and the explorer filtered to a dataset."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from dashboard.cli import app as reviewdeck
from ingest.db import connect
from models.datasets import store
from models.datasets.sources import DatasetSource
from models.filters import EventFilter, where_sql
from tests.models.queue.queue_data import insert_events
from tests.openai_fixtures import openai_env, openai_server  # noqa: F401

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def open_page(db: Path, monkeypatch, page: str = "app_pages/datasets.py", **params) -> AppTest:
    monkeypatch.setenv("REVIEWDECK_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page(page)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_bare_page_without_datasets_says_how_to_make_one(db_path, con, monkeypatch):
    insert_events(con, 6)
    con.close()
    at = open_page(db_path, monkeypatch)
    assert any("No datasets yet" in i.value for i in at.info)


def test_a_link_makes_a_dataset_from_its_filter(db_path, con, monkeypatch):
    insert_events(con, 30)
    con.close()
    at = open_page(db_path, monkeypatch, source="filter", model="model-b")
    assert any("10 events match now" in c.value for c in at.caption)
    at.text_input(key="datasets_new_name").set_value("b-calls")
    at.text_input(key="datasets_new_by").set_value("ana")
    at.number_input(key="datasets_new_sample").set_value(4)
    next(b for b in at.button if b.label == "Create dataset").click()
    at.run()
    assert not at.exception, at.exception
    with connect(db_path, read_only=True) as c:
        ds = store.get_dataset(c, "b-calls")
        ids = store.event_ids(c, "b-calls")
        models = {r[0] for r in c.execute(
            "SELECT model FROM events WHERE event_id IN (SELECT unnest(?))", [ids]).fetchall()}
    assert ds.n_events == 4 and ds.created_by == "ana" and models == {"model-b"}
    assert ds.source == {"where": "model=model-b", "sample_n": 4, "seed": 0}
    # the page now shows it: its URL, its size, its events in order
    assert at.query_params["dataset"] == "b-calls"
    assert "source" not in at.query_params  # the link is spent; the sidebar keeps its model
    assert any(m.value == "4" for m in at.metric)
    events = next(d.value for d in at.dataframe if "position" in d.value.columns)
    assert list(events["event_id"]) == ids


def test_a_dataset_shows_the_rerun_batches_run_on_it(
        db_path, con, monkeypatch, openai_env, tmp_path):  # noqa: F811
    monkeypatch.setenv("REVIEWDECK_SECRETS", str(tmp_path / "none.toml"))
    insert_events(con, 12)
    with_judge = DatasetSource("events", event_ids=("q0003", "q0001", "q0007"))
    store.create_dataset(con, "regress", with_judge)
    con.close()
    openai_env.set_reply("judge-model", '{"preferred": "2", "rationale": "second"}')
    done = CliRunner().invoke(reviewdeck, [
        "rerun", "--dataset", "regress", "--endpoint", "stub", "--judge", "judge-model",
        "--model", "gpt-4o", "--db", str(db_path), "--json"])
    assert done.exit_code == 0, done.output
    batch = json.loads(done.output)["batch_id"]
    at = open_page(db_path, monkeypatch, dataset="regress")
    runs = next(d.value for d in at.dataframe if "wins" in d.value.columns)
    assert list(runs["batch"]) == [batch] and list(runs["model"]) == ["gpt-4o"]
    # the stub judge always answers "2": a win in one order, a loss in the other: a tie
    assert (runs["wins"][0], runs["ties"][0], runs["losses"][0]) == (0, 3, 0)
    events = next(d.value for d in at.dataframe if "position" in d.value.columns)
    assert list(events["event_id"]) == ["q0003", "q0001", "q0007"]
    assert any("reviewdeck rerun --dataset regress" in c.value for c in at.code)


def test_the_explorer_filters_to_a_dataset(db_path, con, monkeypatch):
    insert_events(con, 20)
    store.create_dataset(con, "pair", DatasetSource("events", event_ids=("q0002", "q0011")))
    where, params = where_sql(EventFilter(dataset="pair"))
    assert sorted(r[0] for r in con.execute(
        f"SELECT event_id FROM events e WHERE {where}", params).fetchall()) == ["q0002", "q0011"]
    where, params = where_sql(EventFilter(dataset="no-such"))
    assert con.execute(f"SELECT count(*) FROM events e WHERE {where}", params).fetchone()[0] == 0
    con.close()
    at = open_page(db_path, monkeypatch, page="app_pages/events.py", dataset="pair")
    assert at.selectbox(key="events_dataset").value == "pair"
    assert any("2 events match" in c.value for c in at.caption)


def test_a_pages_queries_share_a_connection_without_blocking_each_other(db_path, monkeypatch):
    # one query leaving a one-row result unfetched (fetchone) must not break the next, and
    # every query sees UTC, on the shared connection's cursors too
    import os
    import time

    from dashboard import cache

    monkeypatch.setenv("REVIEWDECK_DB", str(db_path))
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        with cache.shared_connection():
            first = cache._cached.__wrapped__(
                "tests.dashboard.test_datasets_page:_half_read", str(db_path), (), (), ())
            zone = cache._cached.__wrapped__(
                "tests.dashboard.test_datasets_page:_zone", str(db_path), (), (), ())
    finally:
        os.environ.pop("TZ", None)
        time.tzset()
    assert first == 1 and zone == "UTC"


def _half_read(con):
    return con.execute("SELECT 1 UNION ALL SELECT 2 ORDER BY 1").fetchone()[0]


def _zone(con):
    return con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0]
