"""models.rerun.runner planning from an explicit list of event ids (a dataset's)."""

from __future__ import annotations

import pytest

from ingest.db import connect
from ingest.errors import ReviewdeckError
from models.filters import parse_where
from models.rerun import runner as rr
from tests.models.rerun_data import insert_many


def test_plan_from_event_ids_covers_exactly_those_with_messages(db_path, con):
    insert_many(con, 5)
    con.execute("INSERT INTO events (event_id, ts, kind, status, source_format) VALUES"
                " ('bare', now(), 'llm', 'ok', 'native')")  # nothing to replay
    con.close()
    ids = ("ev0003", "bare", "ev0000")
    opts = rr.BatchOptions(model="gpt-4o", event_ids=ids, dataset="d1")
    plan = rr.plan_batch(str(db_path), parse_where(""), "stub", opts)
    assert (plan.n_items, plan.n_pending) == (2, 2)
    with connect(db_path) as c:
        items = sorted(r[0] for r in c.execute(
            "SELECT event_id FROM rerun_items WHERE batch_id = ?", [plan.batch_id]).fetchall())
        assert items == ["ev0000", "ev0003"]
        assert c.execute("SELECT dataset, where_text FROM rerun_batches").fetchall() == [
            ("d1", "dataset=d1")]
        # A plan killed before the dataset was recorded gets it on the next plan of the batch.
        c.execute("UPDATE rerun_batches SET dataset = NULL")
    again = rr.plan_batch(str(db_path), parse_where(""), "stub", opts)
    assert again.resumed and again.batch_id == plan.batch_id
    with connect(db_path, read_only=True) as c:
        assert c.execute("SELECT dataset FROM rerun_batches").fetchall() == [("d1",)]
    # Another list of ids under the same name is another batch; the filter's batch id is kept.
    other = rr.batch_id_for(parse_where(""), "stub", rr.BatchOptions(
        model="gpt-4o", event_ids=("ev0003",), dataset="d1"))
    assert other != plan.batch_id
    assert rr.batch_id_for(parse_where(""), "stub", rr.BatchOptions(model="gpt-4o")) \
        not in (other, plan.batch_id)
    with pytest.raises(ReviewdeckError, match="none of the 1 events of dataset 'd2'"):
        rr.plan_batch(str(db_path), parse_where(""), "stub", rr.BatchOptions(
            model="gpt-4o", event_ids=("bare",), dataset="d2"))
