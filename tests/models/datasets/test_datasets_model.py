"""models.datasets on a real warehouse: each source, frozen after a new ingest, name errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from models.datasets import store
from models.datasets.sources import DatasetError, DatasetSource
from models.filters import FilterError
from tests.models.rerun_data import insert_event, insert_many


def test_from_filter_keeps_the_matching_events_in_time_order(con):
    insert_many(con, 4, thumbs=0)
    insert_many(con, 3, thumbs=1, prefix="up")
    ds = store.create_dataset(con, "downs", DatasetSource("filter", where="feedback=thumbs_down"),
                              created_by="ana", description="week 7 failures")
    assert (ds.n_events, ds.source_kind, ds.created_by) == (4, "filter", "ana")
    assert ds.source == {"where": "feedback=thumbs_down"}
    assert store.event_ids(con, "downs") == ["ev0000", "ev0001", "ev0002", "ev0003"]


def test_from_event_ids_keeps_their_order_and_refuses_unknown_ids(con):
    insert_many(con, 5)
    ds = store.create_dataset(con, "topic", DatasetSource("new_topic", event_ids=(
        "ev0004", "ev0001", "ev0002"), label="refund scams"))
    assert ds.n_events == 3 and ds.source["label"] == "refund scams"
    assert store.event_ids(con, "topic") == ["ev0004", "ev0001", "ev0002"]
    with pytest.raises(DatasetError, match="1 of the given event ids are not in the warehouse: "
                                           "nope"):
        store.create_dataset(con, "bad", DatasetSource("events", event_ids=("ev0001", "nope")))
    assert store.find_dataset(con, "bad") is None


def test_from_queue_and_cluster(con):
    insert_many(con, 6)
    con.execute("INSERT INTO review_queues (name, source_kind, rubric, rubric_kind)"
                " VALUES ('q', 'filter', 'quality', 'pass_fail')")
    con.execute("INSERT INTO queue_items (queue_id, position, event_id) VALUES"
                " (1, 2, 'ev0005'), (1, 1, 'ev0003')")
    con.execute("INSERT INTO cluster_members (event_id, cluster_id) VALUES"
                " ('ev0000', 7), ('ev0002', 7), ('ev0001', 8)")
    assert store.create_dataset(con, "q", DatasetSource("queue", queue_id=1)).n_events == 2
    assert store.event_ids(con, "q") == ["ev0003", "ev0005"]  # the queue's order
    store.create_dataset(con, "c7", DatasetSource("cluster", where="cluster=7"))
    assert store.event_ids(con, "c7") == ["ev0000", "ev0002"]
    with pytest.raises(DatasetError, match="no review queue 9"):
        store.create_dataset(con, "q9", DatasetSource("queue", queue_id=9))
    with pytest.raises(DatasetError, match="needs cluster=N"):
        DatasetSource("cluster", where="model=gpt-4o")


def test_sample_is_seeded_and_a_subset(con):
    insert_many(con, 20)
    a = store.create_dataset(con, "a", DatasetSource("filter", sample_n=5, seed=1))
    b = store.create_dataset(con, "b", DatasetSource("filter", sample_n=5, seed=1))
    c = store.create_dataset(con, "c", DatasetSource("filter", sample_n=5, seed=2))
    ids_a, ids_c = store.event_ids(con, a.name), store.event_ids(con, c.name)
    assert len(ids_a) == 5 and ids_a == store.event_ids(con, b.name)
    assert ids_a != ids_c and set(ids_a) <= {f"ev{i:04d}" for i in range(20)}


def test_frozen_after_a_new_ingest(con, db_path, tmp_path):
    insert_many(con, 3, thumbs=0)
    store.create_dataset(con, "downs", DatasetSource("filter", where="feedback=thumbs_down"))
    con.close()
    # A real ingest adds an event that matches the same filter.
    new = tmp_path / "more.jsonl"
    new.write_text(json.dumps({
        "event_id": "late1", "ts": "2026-11-17T10:00:00Z", "model": "gpt-4o-mini",
        "input_messages": [{"role": "user", "content": "Why was my card declined?"}],
        "output_messages": [{"role": "assistant", "content": "No idea."}],
        "feedback": [{"name": "thumbs", "value": 0}]}) + "\n")
    done = CliRunner().invoke(app, ["ingest", str(new), "--db", str(db_path)])
    assert done.exit_code == 0, done.output
    with connect(db_path) as c:
        matching = store.create_dataset(c, "downs-now", DatasetSource(
            "filter", where="feedback=thumbs_down"))
        assert matching.n_events == 4  # the filter does match the new event ...
        assert store.event_ids(c, "downs") == ["ev0000", "ev0001", "ev0002"]  # ... not frozen
        assert store.get_dataset(c, "downs").n_events == 3


def test_duplicate_and_unknown_names_and_delete(con):
    insert_many(con, 2)
    insert_event(con, "other", "q", "a")
    store.create_dataset(con, "set", DatasetSource("filter"))
    with pytest.raises(DatasetError, match="a dataset named 'set' already exists \\(3 events"):
        store.create_dataset(con, " set ", DatasetSource("events", event_ids=("other",)))
    with pytest.raises(DatasetError, match="no dataset named 'nope'; datasets: set"):
        store.event_ids(con, "nope")
    with pytest.raises(DatasetError, match="needs a name"):
        store.create_dataset(con, "  ", DatasetSource("filter"))
    with pytest.raises(FilterError):
        DatasetSource("filter", where="colour=red")
    with pytest.raises(DatasetError, match="no events match"):
        store.create_dataset(con, "none", DatasetSource("filter", where="model=absent"))
    assert store.delete_dataset(con, "set").n_events == 3
    assert store.list_datasets(con).is_empty()
    assert con.execute("SELECT count(*) FROM dataset_events").fetchall()[0][0] == 0
    with pytest.raises(DatasetError, match="no dataset named 'set'"):
        store.delete_dataset(con, "set")
