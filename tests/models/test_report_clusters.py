"""The report's cluster section on a real (small) cluster analysis: a topic that appears in the
reported week is listed first as a new topic (its cluster not again as a new cluster), and a
quality drop inside a stable cluster shows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from ingest.db import connect
from ingest.load import derived
from models.drift.analyze import AnalyzeOptions, run_analysis
from models.report.build import build_report
from models.report.model import week_label
from tests.models.analyze_data import START, insert_events, insert_votes, make_events

WEEK6 = week_label((START + dt.timedelta(weeks=5)).date())


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    path = tmp_path_factory.mktemp("report_clusters") / "warehouse.duckdb"
    before = make_events(2000, weeks=5, seed=1)
    now = make_events(
        500,
        weeks=1,
        seed=2,
        start=START + dt.timedelta(weeks=5),
        id_prefix="w6-",
        topics={"refund": 1, "password": 1, "shipping": 1, "invoice": 1, "crypto": 1.5},
    )
    events = pl.concat([before, now])
    rng = np.random.default_rng(3)
    # refund answers get much worse in the last week; everything else stays at 85% up
    p_up = np.where(
        events["event_id"].str.starts_with("w6-") & (events["topic"] == "refund"), 0.2, 0.85
    )
    votes = pl.DataFrame(
        {"event_id": events["event_id"], "value": (rng.random(events.height) < p_up).astype(float)}
    )
    with connect(path) as con:
        insert_events(con, events.drop("topic"))
        insert_votes(con, votes)
        derived.refresh(con)
    run_analysis(path, AnalyzeOptions(make_map=False))
    return path, now


def test_new_topic_and_quality_drop_come_from_the_cluster_analysis(analysed):
    path, now = analysed
    with connect(path, read_only=True) as con:
        report = build_report(con, WEEK6, base_url="http://localhost:8501")
    source = dict(report.sources)["clusters"]
    assert source.startswith("stored cluster analysis")
    by_status: dict[str, list] = {}
    for c in report.clusters:
        by_status.setdefault(c.status, []).append(c)
    topic_of = dict(zip(now["event_id"], now["topic"], strict=True))
    # the novelty test names the crypto questions a new topic, first in the section
    topics = by_status.get("new topic", [])
    assert topics and report.clusters[0].status == "new topic", report.clusters
    assert "crypto" in topics[0].label or "bitcoin" in topics[0].label, topics[0]
    assert "novelty test" in topics[0].detail and topics[0].examples
    assert all(topic_of.get(ex.event_id) == "crypto" for ex in topics[0].examples)
    assert any(line.startswith("New topic: ") for line in report.summary)
    appeared = topics + by_status.get("new", []) + by_status.get("growing", [])
    # the clusters holding this week's crypto questions are the ones reported as appearing
    crypto_ids = [e for e, t in topic_of.items() if t == "crypto"]
    with connect(path, read_only=True) as con:
        (home,) = con.execute(
            "SELECT mode(cluster_id) FROM cluster_members WHERE event_id IN "
            "(SELECT unnest(?::VARCHAR[]))",
            [crypto_ids],
        ).fetchall()[0]
    assert str(home) in {c.cluster_id for c in appeared}
    assert [c.cluster_id for c in appeared].count(str(home)) == 1  # told once
    drops = by_status.get("quality drop", [])
    assert drops, report.clusters
    assert any("thumbs-up rate" in c.detail for c in drops)
    refund_ids = [e for e, t in topic_of.items() if t == "refund"]
    with connect(path, read_only=True) as con:
        (refund_home,) = con.execute(
            "SELECT mode(cluster_id) FROM cluster_members WHERE event_id IN "
            "(SELECT unnest(?::VARCHAR[]))",
            [refund_ids],
        ).fetchall()[0]
    assert str(refund_home) in {c.cluster_id for c in drops}
    assert all(c.examples and all("thumbs down" in ex.signal for ex in c.examples) for c in drops)
    assert any("Quality drop cluster" in line for line in report.summary)
    assert drops[0].explorer_url.endswith(f"cluster={drops[0].cluster_id}")
