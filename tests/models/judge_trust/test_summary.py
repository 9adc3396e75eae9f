"""Judge trust on a planted warehouse: latest version, majority human labels with ties left
out, κ per week / model equal to statsmodels, disagreements, the corrected rate's direction and
what a verdict-stratified queue does to it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from ingest.db import connect
from models.judge_trust import data, summary
from models.judge_trust.agreement import confusion
from tests.models.judge_trust.fixtures import NAME, WEEKS, plant

APP = Path(__file__).resolve().parents[3] / "dashboard" / "app.py"


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


def test_queue_stratified_by_the_judges_own_verdict_keeps_the_corrected_rate(db_path):
    with connect(db_path) as con:
        truth = plant(con, stratify_by=f"verdict:{NAME}", strata_of="2", n_labelled=200,
                      n_double=0)
        t = summary.trust(con, NAME)
        random_draw = summary.trust(con, NAME, "2")
    assert t.sampling == summary.BY_VERDICT == random_draw.sampling
    assert "stratified" in t.sampling_note
    c = t.corrected
    # half the labels are judge fails, against ~20% of the judged events: the raw share of
    # human fails among the labels is far off, so no humans-only rate is given ...
    labelled = np.isin(truth["ids"], truth["labelled"])
    assert truth["judge"][labelled].mean() == pytest.approx(0.5)
    assert c.human_rate is None and c.human_lo is None and c.narrower is None
    # ... while the corrected rate is the stratified estimate: P(fail | verdict) from the labels,
    # weighted by the judge's fail rate over every judged event
    q = truth["judge"].mean()
    a = truth["truth"][labelled & truth["judge"]].mean()
    b = truth["truth"][labelled & ~truth["judge"]].mean()
    assert c.value == pytest.approx(q * a + (1 - q) * b)
    assert c.lo <= truth["truth"].mean() <= c.hi
    assert all(e.human_rate is None for _, e in t.corrected_by_week)


def test_strata_of_another_version_are_selective(db_path):
    with connect(db_path) as con:
        plant(con, stratify_by=f"verdict:{NAME}", strata_of="1")  # drawn on v1, latest is v2
        t = summary.trust(con, NAME)
    assert t.sampling == summary.SELECTIVE and t.corrected is None
    assert "not this version's" in t.sampling_note


def test_corrected_interval_covers_under_verdict_stratified_draws():
    # equal numbers of the judge's fails and passes labelled (what a verdict-stratified queue
    # draws) instead of a random sample: â and b̂ are still unbiased within each verdict, so the
    # interval keeps its coverage (at 100 labels the rarest cell is sparse, as with random draws:
    # docs/judge-trust.md)
    from models.judge_trust.ppi import ppi_counts

    rng = np.random.default_rng(3)
    reps, big_n, n = 4000, 10_000, 200
    covered = []
    for rate, q, a in ((0.1, 0.08, 0.7), (0.3, 0.25, 0.8), (0.5, 0.55, 0.85)):
        b = (rate - q * a) / (1 - q)  # P(fail | judge pass) that makes the true rate `rate`
        fails = rng.binomial(big_n, q, size=reps)
        m1 = np.minimum(n // 2, fails)
        m0 = n - m1
        c11 = rng.binomial(m1, a)
        c10 = rng.binomial(m0, b)
        est, lo, hi, _ = ppi_counts(c11, c10, m1 - c11, m0 - c10, fails - m1, big_n - n)
        assert abs(est.mean() - rate) < 0.01
        covered.append(np.mean((lo <= rate) & (rate <= hi)))
    assert all(0.93 <= c <= 0.97 for c in covered), covered


@pytest.mark.parametrize("strata_of", [None, "2", "1"])
def test_corrected_in_week_is_the_trust_reports_figure(db_path, strata_of):
    with connect(db_path) as con:
        plant(con, stratify_by=None if strata_of is None else f"verdict:{NAME}",
              strata_of=strata_of, n_double=0)
        for week in WEEKS:
            full = summary.trust(con, NAME, "2", week=week)
            quick = summary.corrected_in_week(con, NAME, "2", week)
            assert (quick.judged, quick.paired) == (full.judged, full.overall.n)
            assert (quick.sampling, quick.sampling_note) == (full.sampling, full.sampling_note)
            assert quick.corrected == full.corrected
    assert (quick.corrected is None) == (strata_of == "1")


def test_no_evaluator_rows(db_path):
    with connect(db_path) as con:
        plant(con, with_evaluator=False)
        assert summary.trust(con, NAME) is None
        assert summary.all_latest(con) == []


def _queue(where: str | None, kind: str = "filter", stratify_by: str | None = None,
           strata: tuple[int, int] | None = None) -> dict:
    source = {} if where is None else {"where": where, "label": "a queue"}
    return {"queue_id": 7, "name": "q7", "source_kind": kind, "source": source,
            "stratify_by": stratify_by, "strata": strata}


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
        # stratified by the evaluator's own verdict, with strata that are its verdicts
        (_queue("", stratify_by="verdict:helpful", strata=(50, 0)), False, summary.BY_VERDICT),
        (_queue("", stratify_by="verdict:helpful", strata=(50, 3)), False, summary.SELECTIVE),
        (_queue("", stratify_by="verdict:other", strata=(50, 0)), False, summary.SELECTIVE),
        (_queue("model=gpt-4o", stratify_by="verdict:helpful", strata=(50, 0)), False,
         summary.UNKNOWN),
    ],
)
def test_how_the_labels_were_drawn(queue, without, expected):
    assert summary.sampling([], False)[0] == summary.UNKNOWN  # queues not in the warehouse
    strata = {} if queue["strata"] is None else {7: queue["strata"]}
    status, note = summary.sampling([queue], without, "helpful", strata)
    assert status == expected
    if expected not in (summary.RANDOM, summary.BY_VERDICT):
        assert "random sample" in note


def test_labels_whose_queue_is_missing_are_of_unknown_sampling(db_path):
    with connect(db_path) as con:
        plant(con, n_events=120, n_labelled=60, n_double=0)
        con.execute("DELETE FROM review_queues")
        t = summary.trust(con, NAME)
    assert t.sampling == summary.UNKNOWN and t.corrected is not None
    assert "not in this warehouse" in t.sampling_note or "without a review queue" in t.sampling_note


def test_pages_and_trust_reports_agree_on_the_latest_version(db_path):
    from ingest.feedback_sql import CURRENT_VERSION_SQL

    def latest(con):
        pages = {r[0] for r in con.execute(
            f"SELECT DISTINCT f.evaluator_version FROM feedback f WHERE f.name = ? "
            f"AND f.evaluator_version IS NOT NULL AND {CURRENT_VERSION_SQL}", [NAME]).fetchall()}
        trust = set(data.evaluator_versions(con).filter(pl.col("latest"))["version"])
        return pages, trust

    with connect(db_path) as con:
        plant(con, n_events=60, n_labelled=20, n_double=0)
        assert latest(con) == ({"2"}, {"2"})  # v2's rows were written last
        # a tie on the time written: the higher version, on both sides
        con.execute("UPDATE feedback SET ingested_at = TIMESTAMPTZ '2026-11-27 00:00:00+00' "
                    "WHERE evaluator_version IS NOT NULL")
        con.execute("UPDATE feedback SET evaluator_version = '3' WHERE evaluator_version = '1'")
        assert latest(con) == ({"3"}, {"3"})


def test_label_rubric_gets_a_corrected_share_per_label(db_path, monkeypatch):
    import datetime as dt
    import json

    from models.judge_trust.ppi import corrected_rate
    from tests.models.judge_trust.fixtures import MONDAY, insert_rows

    rng = np.random.default_rng(4)
    n, labels = 900, ("billing", "bug", "other")
    truth = rng.choice(labels, size=n, p=[0.3, 0.3, 0.4])
    # the judge calls half of the real bugs "other": it under-counts bugs
    judge = np.where((truth == "bug") & (rng.random(n) < 0.5), "other", truth)
    ids = [f"lb{i:04d}" for i in range(n)]
    at = MONDAY + dt.timedelta(days=1)
    events = [{"event_id": e, "ts": MONDAY + dt.timedelta(hours=i % 150), "model": "m",
               "input_text": "q", "output_text": "a"} for i, e in enumerate(ids)]

    def row(fid, eid, label, source, author, queue=None):
        return {"feedback_id": fid, "event_id": eid, "name": "topic", "kind": "label",
                "value": None, "label": label, "source": source, "author": author, "ts": at,
                "ingested_at": at, "evaluator_version": "1" if source != "reviewer" else None,
                "cost_usd": None, "queue_id": queue, "tags": None}

    feedback = [row(f"j-{e}", e, str(judge[i]), "llm_judge", "judge") for i, e in enumerate(ids)]
    picked = rng.choice(n, size=300, replace=False)
    feedback += [row(f"r-{ids[i]}", ids[i], str(truth[i]), "reviewer", "ana", 1) for i in picked]
    with connect(db_path) as con:
        insert_rows(con, events, feedback)
        con.execute("INSERT INTO review_queues (queue_id, name, source_kind, source, rubric, "
                    "rubric_kind, labels, n_requested, reviewers_per_item, created_at) VALUES "
                    "(1, 'random', 'filter', ?, 'topic', 'labels', ?, 300, 1, ?)",
                    [json.dumps({}), list(labels), MONDAY])
        con.executemany("INSERT INTO queue_items (queue_id, position, event_id) VALUES (1, ?, ?)",
                        [[k, ids[i]] for k, i in enumerate(picked)])
        t = summary.trust(con, "topic")
    assert t.kind == "label" and t.sampling == summary.RANDOM and t.corrected is None
    shares = dict(t.corrected_labels)
    assert set(shares) == set(labels)
    lab = np.isin(np.arange(n), picked)
    for label, est in shares.items():
        y, f = truth == label, judge == label
        ref = corrected_rate(int((y & f & lab).sum()), int((y & ~f & lab).sum()),
                             int((~y & f & lab).sum()), int((~y & ~f & lab).sum()),
                             int(f.sum()), n)
        assert est == ref
    bug = shares["bug"]
    true_bug = float((truth == "bug").mean())
    assert bug.judge_rate < true_bug - 0.1  # the raw judge under-counts bugs ...
    assert abs(bug.value - true_bug) < abs(bug.judge_rate - true_bug)  # ... corrected, less
    assert bug.lo <= true_bug <= bug.hi
    # the Evaluators page shows the shares (the only evaluator here opens first)
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("REVIEWDECK_DB", str(db_path))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page("app_pages/evaluators.py")
    at.run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "corrected_lo" in d.value.columns
                 and "label" in d.value.columns)
    assert dict(zip(table["label"], table["corrected"], strict=True))["bug"] == \
        pytest.approx(bug.value)


def test_a_weeks_judged_events_are_the_weeks_rows_of_all(planted):
    db, _ = planted
    with connect(db, read_only=True) as con:
        whole = data.judged_events(con, NAME, "2")
        for week in WEEKS:
            bounded = data.judged_events(con, NAME, "2", week)
            assert bounded.height > 0
            assert bounded.equals(whole.filter(pl.col("week") == week))
