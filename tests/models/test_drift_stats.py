"""Drift statistics on tiny known inputs, against scipy/statsmodels, and by simulation."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from models.drift.statistics import (
    Window,
    WindowError,
    cluster_share_tests,
    default_windows,
    mmd_permutation_test,
    parse_window,
)


def _biased_mmd2(x: np.ndarray, y: np.ndarray, bandwidth: float) -> float:
    def k(a, b):
        d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return np.exp(-d / bandwidth)

    return float(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())


def test_mmd_statistic_matches_the_textbook_formula() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 3)), rng.normal(0.5, size=(9, 3))
    z = np.vstack([x, y])
    d = ((z[:, None] - z[None]) ** 2).sum(-1)
    med = np.median(d[np.triu_indices(len(z), 1)])
    res = mmd_permutation_test(x, y, n_permutations=50)
    assert res.statistic == pytest.approx(_biased_mmd2(x, y, med), rel=1e-9)
    assert 1 / 51 <= res.p_value <= 1


def test_false_alarm_rate_on_one_distribution_is_at_most_alpha() -> None:
    """>= 200 null trials: the permutation p-value is uniform, so the rate is ~alpha or less."""
    rng = np.random.default_rng(42)
    trials, alpha = 240, 0.05
    pvals = []
    for t in range(trials):
        z = rng.normal(size=(80, 4))
        res = mmd_permutation_test(z[:40], z[40:], n_permutations=99, seed=t, alpha=alpha)
        pvals.append(res.p_value)
    pvals = np.asarray(pvals)
    rate = float((pvals <= alpha).mean())
    # The observed rate must be consistent with a true rate <= alpha: a one-sided binomial
    # test of "rate > alpha" must not reject (it would at 1% for 21+ alarms out of 240).
    assert (
        sps.binomtest(int((pvals <= alpha).sum()), trials, alpha, alternative="greater").pvalue
        > 0.01
    ), rate
    # And p-values are uniform on (0, 1] (discrete, step 1/100).
    assert sps.kstest(pvals, "uniform").pvalue > 0.01


def test_a_real_shift_is_detected() -> None:
    rng = np.random.default_rng(1)
    hits = 0
    for t in range(20):
        x = rng.normal(size=(60, 4))
        y = rng.normal(size=(60, 4))
        y[:, 0] += 0.9
        hits += mmd_permutation_test(x, y, n_permutations=99, seed=t).drifted
    assert hits >= 17


def test_share_tests_agree_with_fisher_and_benjamini_hochberg() -> None:
    ids, ref, cur = [1, 2, 3, 4], [500, 300, 150, 50], [100, 60, 90, 10]
    out = cluster_share_tests(ids, ref, cur)
    tot_r, tot_c = sum(ref), sum(cur)
    raw = [
        sps.fisher_exact([[r, tot_r - r], [c, tot_c - c]]).pvalue
        for r, c in zip(ref, cur, strict=True)
    ]
    adj = multipletests(raw, method="fdr_bh")[1]
    assert [s.p_value for s in out] == pytest.approx(raw)
    assert [s.p_adjusted for s in out] == pytest.approx(list(adj))
    assert out[2].status == "growing"  # 15% -> 34.6%
    assert out[0].share_reference == pytest.approx(0.5)


def test_statuses_new_vanished_growing_shrinking_stable() -> None:
    ids = [1, 2, 3, 4, 5]
    ref = [500, 300, 0, 200, 0]
    cur = [500, 100, 400, 0, 0]  # cluster 5 absent from both: left out
    out = {s.cluster_id: s.status for s in cluster_share_tests(ids, ref, cur)}
    assert out == {1: "stable", 2: "shrinking", 3: "new", 4: "vanished"}


def test_a_tiny_significant_wobble_is_still_stable() -> None:
    # 30% vs 31.5% on 200k events is "significant" but under the 1.25x practical threshold.
    out = cluster_share_tests([1, 2], [60_000, 140_000], [63_000, 137_000])
    assert out[0].p_adjusted < 0.05
    assert out[0].status == "stable"


def test_windows_parse_and_default_to_latest_week_vs_four_before() -> None:
    assert parse_window("2026-09-01..2026-09-28") == Window(
        dt.date(2026, 9, 1), dt.date(2026, 9, 28)
    )
    assert parse_window("2026-09-01") == Window(dt.date(2026, 9, 1), dt.date(2026, 9, 1))
    for bad in ("2026-09-28..2026-09-01", "last week", "2026-13-01..2026-13-02"):
        with pytest.raises(WindowError):
            parse_window(bad)
    ref, cur = default_windows(dt.date(2026, 11, 19))  # a Thursday
    assert cur == Window(dt.date(2026, 11, 16), dt.date(2026, 11, 22))
    assert ref == Window(dt.date(2026, 10, 19), dt.date(2026, 11, 15))


def test_the_combined_verdict_keeps_its_level_on_unchanged_traffic() -> None:
    """ "Drift found" = overall test or any cluster flagged, each at alpha/2: >= 200 null trials."""
    from models.drift.statistics import drift_verdict

    rng = np.random.default_rng(7)
    trials, alarms = 200, 0
    p = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    for t in range(trials):
        z = rng.normal(size=(60, 3))
        ref = rng.multinomial(600, p)
        cur = rng.multinomial(150, p)
        alarms += drift_verdict(
            z[:30], z[30:], [1, 2, 3, 4, 5], ref, cur, n_permutations=79, seed=t
        ).drifted
    assert sps.binomtest(alarms, trials, 0.05, alternative="greater").pvalue > 0.01, alarms
