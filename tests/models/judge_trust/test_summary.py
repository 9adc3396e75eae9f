"""Judge trust on a planted warehouse: latest version, majority human labels with ties left
out, κ per week / model equal to statsmodels, disagreements, the corrected rate's direction and
what a verdict-stratified queue does to it."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from ingest.db import connect
from models.judge_trust import data, summary
from models.judge_trust.agreement import confusion
from tests.models.judge_trust.fixtures import NAME, WEEKS, plant


@pytest.fixture
def planted(db_path):
    with connect(db_path) as con:
        truth = plant(con)
    return db_path, truth


def test_trust_of_the_latest_version(planted):
    db, truth = planted
    with connect(db, read_only=True) as con:
        t = summary.trust(con, NAME)
        v1 = summary.trust(con, NAME, "1")
    assert t.version == "2" and v1.version == "1" and t.judged == 600
    # the human label is the majority; the planted double labels by 'bo' alone tie with 'ana'
    # when they disagree and such events get no human label
    lab = set(truth["labelled"])
    assert t.overall.n + t.tied == len(lab)
    table = np.asarray(t.overall.matrix)
    ref = cohens_kappa(table)
    assert t.overall.kappa == pytest.approx(ref.kappa) and t.overall.kappa_lo == pytest.approx(
        ref.kappa_low
    )
    assert sum(a.n for _, a in t.by_week) == t.overall.n
    assert [w for w, _ in t.by_week] == list(WEEKS)
    # the planted leniency on gpt-b: far lower κ there
    models = dict(t.by_model)
    assert models["gpt-a"].kappa > 0.6 > 0.3 > models["gpt-b"].kappa
    assert len(t.by_cluster) == 4
    # disagreements are exactly the off-diagonal of the confusion matrix
    assert t.disagreements.height == t.overall.n - t.overall.agree
    assert (t.disagreements["judge"] != t.disagreements["human"]).all()
    # the judge is lenient: raw rate below the humans', corrected moves up towards it
    c = t.corrected
    assert t.sampling == summary.RANDOM
    assert c.judge_rate < c.human_rate - 0.05
    assert abs(c.value - c.human_rate) < abs(c.judge_rate - c.human_rate)
    assert c.lo <= c.value <= c.hi
    assert t.counts["errors"] == 2 and t.counts["unparsed"] == 1
    assert [w for w, _ in t.corrected_by_week] == list(WEEKS)
    assert [e.judged for _, e in t.corrected_by_week] == [200, 200, 200]
    assert sum(e.labelled for _, e in t.corrected_by_week) == c.labelled
    assert sum(w.n for w in t.weeks) == 600


def test_majority_label_and_ties(db_path):
    with connect(db_path) as con:
        plant(con, n_labelled=60, n_double=60)
        frame = data.judged_events(con, NAME, "2")
        pairs = data.reviewer_pairs(con, NAME)
    multi = frame.filter(pl.col("n_humans") >= 2)
    assert multi.height == 60
    # three reviewers (first 30 items): never a tie; two who disagree: a tie, no label
    three = multi.filter(pl.col("n_humans") == 3)
    assert three.height == 30 and three["human"].null_count() == 0
    two = multi.filter(pl.col("n_humans") == 2)
    ids = two["event_id"].implode()
    disagree = pairs.filter(pl.col("a") != pl.col("b"), pl.col("event_id").is_in(ids))
    assert two["human"].null_count() == disagree.height > 0
    assert pairs.height == 60 and set(pairs["author_a"]) == {"ana"}


def test_week_filter_and_reviewer_kappa(planted):
    db, _ = planted
    with connect(db, read_only=True) as con:
        t = summary.trust(con, NAME, week=WEEKS[1])
        pairs = data.reviewer_pairs(con, NAME)
    assert {w.week for w in t.weeks} == {WEEKS[1]}
    assert t.judged == 200
    _, table = confusion(
        pairs["a"].to_list(), pairs["b"].to_list(), ("fail", "pass")
    )
    with connect(db, read_only=True) as con:
        whole = summary.trust(con, NAME)
    assert whole.reviewers.n == 40
    assert whole.reviewers.kappa == pytest.approx(cohens_kappa(np.asarray(table)).kappa)


def test_verdict_stratified_queue_gets_no_corrected_rate(db_path):
    with connect(db_path) as con:
        plant(con, stratify_by=f"verdict:{NAME}")
        t = summary.trust(con, NAME)
    assert t.sampling == summary.SELECTIVE and t.corrected is None
    assert "not a random sample" in t.sampling_note


def test_no_evaluator_rows(db_path):
    with connect(db_path) as con:
        plant(con, with_evaluator=False)
        assert summary.trust(con, NAME) is None
        assert summary.all_latest(con) == []


def _queue(where: str | None, kind: str = "filter", stratify_by: str | None = None) -> dict:
    source = {} if where is None else {"where": where, "label": "a queue"}
    return {"queue_id": 7, "name": "q7", "source_kind": kind, "source": source,
            "stratify_by": stratify_by}


@pytest.mark.parametrize(
    ("queue", "without", "expected"),
    [
        (_queue(None), False, summary.RANDOM),
        (_queue("status=ok&start=2026-11-02&end=2026-11-08"), False, summary.RANDOM),
        (_queue("status=ok"), True, summary.UNKNOWN),  # some labels without a queue
        (_queue("model=gpt-4o"), False, summary.UNKNOWN),
        (_queue("cluster=3", kind="cluster"), False, summary.UNKNOWN),
        (_queue("", stratify_by="model"), False, summary.UNKNOWN),
        (_queue("feedback=low_score"), False, summary.SELECTIVE),
        (_queue("", stratify_by="verdict:helpful"), False, summary.SELECTIVE),
    ],
)
def test_how_the_labels_were_drawn(queue, without, expected):
    assert summary.sampling([], False)[0] == summary.UNKNOWN  # queues not in the warehouse
    status, note = summary.sampling([queue], without)
    assert status == expected
    if expected != summary.RANDOM:
        assert "random sample" in note


def test_labels_whose_queue_is_missing_are_of_unknown_sampling(db_path):
    with connect(db_path) as con:
        plant(con, n_events=120, n_labelled=60, n_double=0)
        con.execute("DELETE FROM review_queues")
        t = summary.trust(con, NAME)
    assert t.sampling == summary.UNKNOWN and t.corrected is not None
    assert "not in this warehouse" in t.sampling_note or "without a review queue" in t.sampling_note
