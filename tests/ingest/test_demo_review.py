"""The demo's planted judge bias and its ready-made review by simulated reviewers.

On the warehouse: the pass/fail judge's rows, the reviewers' labels, the review queue that
`ensure_demo_queue` writes (idempotently), and a judge-corrected fail rate — the difference
estimator, computed here in SQL and numpy — that moves up from the raw judge rate on the
lenient model and stays put on the others. On the draws: the bias and the randomness of the
review sample hold on several seeds.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from ingest.db import connect
from ingest.demo import plan as P
from ingest.demo.feedback import REVIEWERS
from ingest.demo.generate import generate
from ingest.demo.queue import ensure_demo_queue
from ingest.demo.review import LENIENT, MODELS, draw_review
from ingest.demo.sample import sample
from ingest.load.loader import load_source
from ingest.load.read import Source

END = date(2026, 11, 22)
VERDICTS = """
    SELECT f.event_id, e.model, f.value < 0.5 AS fail FROM feedback f JOIN events e USING (event_id)
    WHERE f.name = ? AND f.source = 'llm_judge' AND f.evaluator_version = ?
"""
# The first label of each labelled event (a second reviewer's label is for kappa only).
FIRST_LABELS = """
    SELECT event_id, arg_min(value, ts) < 0.5 AS fail FROM feedback
    WHERE name = ? AND source = 'reviewer' AND kind = 'label' GROUP BY event_id
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("review")
    result = generate(folder / "d.jsonl", events=50_000, seed=3, end_date=END)
    db = folder / "w.duckdb"
    load_source(db, Source(str(result.path), result.path))
    added = ensure_demo_queue(db, result.truths)
    return db, result.truths, added


def test_the_queue_row_and_its_items(demo) -> None:
    db, truths, added = demo
    review = truths["review"]
    assert 400 <= added == len(review["items"]) <= 800
    with connect(db, read_only=True) as con:
        queue = con.execute(
            "SELECT queue_id, name, source_kind, rubric, rubric_kind, reviewers_per_item,"
            " n_requested, failure_tags FROM review_queues"
        ).fetchall()
        items = con.execute(
            "SELECT event_id, reviewers_needed FROM queue_items WHERE queue_id = ?"
            " ORDER BY position", [P.REVIEW_QUEUE_ID]
        ).fetchall()  # fmt: skip
        stray = con.execute(
            "SELECT count(*) FROM feedback f WHERE f.source = 'reviewer' AND f.kind = 'label'"
            " AND (f.queue_id IS DISTINCT FROM ? OR f.event_id NOT IN"
            "      (SELECT event_id FROM queue_items WHERE queue_id = ?))",
            [P.REVIEW_QUEUE_ID, P.REVIEW_QUEUE_ID],
        ).fetchall()[0][0]
        over = con.execute(
            "SELECT count(*) FROM (SELECT i.event_id, i.reviewers_needed, count(f.feedback_id) n"
            " FROM queue_items i LEFT JOIN feedback f ON f.event_id = i.event_id"
            " AND f.source = 'reviewer' AND f.kind = 'label' GROUP BY ALL)"
            " WHERE n > reviewers_needed"
        ).fetchall()[0][0]
    assert queue == [(P.REVIEW_QUEUE_ID, P.REVIEW_QUEUE_NAME, "filter", P.VERDICT_NAME,
                      "pass_fail", 1, len(items), list(P.FAILURE_TAGS))]  # fmt: skip
    assert [list(i) for i in items] == review["items"]
    assert {n for _, n in items} == {1, 2}
    assert stray == 0 and over == 0
    # Run again: nothing added, nothing doubled.
    assert ensure_demo_queue(db, truths) == 0
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM queue_items").fetchall()[0][0] == len(items)
        assert con.execute("SELECT count(*) FROM review_queues").fetchall()[0][0] == 1
        # A queue made later gets a new id, never the demo's.
        nxt = con.execute(
            "SELECT last_value FROM duckdb_sequences() WHERE sequence_name = 'review_queues_seq'"
        ).fetchall()[0][0]
    assert nxt >= P.REVIEW_QUEUE_ID


def test_reviewers_agree_with_each_other(demo) -> None:
    db, _, _ = demo
    with connect(db, read_only=True) as con:
        pairs = con.execute(
            "SELECT list(value ORDER BY ts), list(DISTINCT author) FROM feedback"
            " WHERE source = 'reviewer' AND kind = 'label' GROUP BY event_id HAVING count(*) = 2"
        ).fetchall()
        authors = {a for (a,) in con.execute(
            "SELECT DISTINCT author FROM feedback WHERE source = 'reviewer' AND kind = 'label'"
        ).fetchall()}  # fmt: skip
    assert len(pairs) >= 60
    assert all(len(who) == 2 for _, who in pairs)  # two different reviewers
    assert authors == set(REVIEWERS)
    table = np.zeros((2, 2))
    for (a, b), _ in pairs:
        table[int(a), int(b)] += 1
    kappa = cohens_kappa(table).kappa
    assert 0.45 < kappa < 0.95  # two ~95%-accurate raters on a ~75/25 split: ~0.75 expected


def _difference_estimates(db) -> dict[str, tuple[float, float, float, int]]:
    """Per model: (raw judge fail rate, judge-corrected rate, its standard error, n labelled).

    corrected = raw + mean over the labelled random sample of (human fail - judge fail)."""
    with connect(db, read_only=True) as con:
        judged = con.sql(VERDICTS, params=[P.VERDICT_NAME, P.VERDICT_VERSION]).pl()
        labels = con.sql(FIRST_LABELS, params=[P.VERDICT_NAME]).pl()
    both = judged.join(labels, on="event_id", suffix="_human")
    out = {}
    for model in judged["model"].unique().to_list():
        raw = judged.filter(judged["model"] == model)["fail"].cast(float).to_numpy()
        pair = both.filter(both["model"] == model)
        diff = pair["fail_human"].cast(float).to_numpy() - pair["fail"].cast(float).to_numpy()
        se = np.sqrt(raw.var(ddof=1) / len(raw) + diff.var(ddof=1) / len(diff))
        out[model] = (raw.mean(), raw.mean() + diff.mean(), se, len(diff))
    return out


def test_judge_corrected_rate_moves_up_on_the_lenient_model_only(demo) -> None:
    db, truths, _ = demo
    bias = truths["judge_bias"]["observed"]["by_model"]
    est = _difference_estimates(db)
    lenient = P.VERDICT_LENIENT_MODEL
    raw, corrected, se, n = est[lenient]
    true_rate = bias[lenient]["true_fail"]["rate"]
    assert raw == pytest.approx(bias[lenient]["judge_fail"]["rate"], abs=1e-4)
    assert n >= 150
    assert true_rate - raw > 0.08  # the planted leniency
    assert corrected - raw > 2 * se and corrected - raw > 0.06  # the right direction
    assert abs(corrected - true_rate) < abs(raw - true_rate)
    other = MODELS[0][1]  # the model the judge is not lenient on (smalltalk's is small)
    raw_o, corrected_o, se_o, _ = est[other]
    assert abs(corrected_o - raw_o) < max(0.05, 2.5 * se_o)


def test_judge_bias_and_random_review_on_several_seeds() -> None:
    """On the draws alone (no texts): each seed's judge misses the lenient model's failures
    and a difference estimate on the review sample recovers them; the review sample has the
    judged events' model mix (it is random among them)."""
    for seed in range(6):
        s = sample(50_000, 12, seed, END)
        rv = draw_review(s, len(REVIEWERS))
        judged = s.judged
        fail, judge_fail = ~s.good, ~rv.verdict_pass
        human_fail = ~rv.label_pass[:, 0]
        for m in range(3):
            here = judged & (rv.model == m)
            lab = rv.reviewed & (rv.model == m)
            raw = judge_fail[here].mean()
            corrected = raw + (human_fail[lab].astype(float) - judge_fail[lab]).mean()
            if m == LENIENT:
                assert fail[here].mean() - raw > 0.08, seed
                assert corrected - raw > 0.05, seed
            elif m == 0:
                assert abs(fail[here].mean() - raw) < 0.04, seed
        share_judged = np.bincount(rv.model[judged], minlength=3) / judged.sum()
        share_review = np.bincount(rv.model[rv.reviewed], minlength=3) / rv.reviewed.sum()
        assert np.abs(share_judged - share_review).max() < 0.06, seed
        assert 400 <= rv.reviewed.sum() <= 800, seed
        accuracy = (rv.label_pass[rv.reviewed] == s.good[rv.reviewed, None]).mean()
        assert 0.92 < accuracy < 0.98, seed
