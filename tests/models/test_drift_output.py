"""Output drift: the same questions, but in the last week one model starts refusing. An analysis
of the answers (`--field output`) finds the refusals as a new topic; one of the questions finds
nothing new, because the questions did not change."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from ingest.db import connect
from models.drift import store
from models.drift.analyze import AnalyzeOptions, run_analysis
from models.drift.report import compute_drift
from models.drift.statistics import Window
from tests.models.analyze_data import START, insert_events, make_events

ANSWERS = {
    "refund": "your refund for the order is on its way, it takes five working days",
    "password": "use the reset link we just emailed you to choose a new password",
    "shipping": "your parcel left the warehouse and the tracking number is in the email",
    "invoice": "the invoice is in your account under billing, as a pdf you can download",
}
REFUSAL = "I'm sorry, but I can't help with that request. Please contact a human agent."


@pytest.fixture(scope="module")
def switched(tmp_path_factory: pytest.TempPathFactory):
    frame = make_events(1500, seed=3, weeks=6, models=("model-a", "model-b"))
    last_week = START + dt.timedelta(weeks=5)
    frame = frame.with_columns(
        pl.col("topic").replace_strict(ANSWERS).alias("output_text")
    ).with_columns(
        pl.when((pl.col("ts") >= last_week) & (pl.col("model") == "model-b"))
        .then(pl.lit(REFUSAL)).otherwise(pl.col("output_text")).alias("output_text")
    )
    path = tmp_path_factory.mktemp("output_drift") / "w.duckdb"
    with connect(path) as con:
        insert_events(con, frame)
    refused = set(frame.filter(pl.col("output_text") == REFUSAL)["event_id"])
    windows = (Window(START.date(), (last_week - dt.timedelta(days=1)).date()),
               Window(last_week.date(), (last_week + dt.timedelta(days=6)).date()))
    return path, refused, windows


def _topics(path, windows):
    with connect(path, read_only=True) as con:
        return compute_drift(con, *windows), store.last_run(con)["field"]


def test_output_drift_finds_the_new_refusals(switched):
    path, refused, windows = switched
    run_analysis(path, AnalyzeOptions(k=4, make_map=False, embed_dim=24, field="output"))
    report, field = _topics(path, windows)
    assert field == "output" and report.drifted
    top = report.new_topics[0]
    named = set(top.event_ids)
    assert len(named & refused) / len(named) >= 0.9  # the events named new are the refusals
    assert any("sorry" in e or "can't help" in e for e in top.examples)


def test_the_same_week_on_inputs_has_no_new_topic(switched):
    path, _, windows = switched
    run_analysis(path, AnalyzeOptions(k=4, make_map=False, embed_dim=24, field="input"))
    report, field = _topics(path, windows)
    assert field == "input" and report.new_topics == []
