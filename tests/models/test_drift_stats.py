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


# Null-rate simulations: NULL_TRIALS trials, pass iff alarms <= MAX_ALARMS. Sized with scipy's
# binomial so that a detector at the nominal 5% passes with probability >= 99% and one at twice
# the rate (10%) passes with probability < 5% (it fails the test): 440 trials, at most 33
# alarms: P(pass | 5%) = 0.991, P(pass | 10%) = 0.043. `test_null_sizes_tell_5_from_10_percent`
# checks these numbers, so changing the constants cannot silently weaken the tests.
NULL_TRIALS, MAX_ALARMS, NOMINAL = 440, 33, 0.05


def test_null_sizes_tell_5_from_10_percent() -> None:
    assert sps.binom.cdf(MAX_ALARMS, NULL_TRIALS, NOMINAL) >= 0.99
    assert sps.binom.cdf(MAX_ALARMS, NULL_TRIALS, 2 * NOMINAL) < 0.05


def test_false_alarm_rate_on_one_distribution_is_at_most_alpha() -> None:
    """NULL_TRIALS null trials: the permutation p-value is uniform, so the rate is ~alpha."""
    rng = np.random.default_rng(42)
    pvals = []
    for t in range(NULL_TRIALS):
        z = rng.normal(size=(60, 4))
        res = mmd_permutation_test(z[:30], z[30:], n_permutations=39, seed=t, alpha=NOMINAL)
        pvals.append(res.p_value)
    pvals = np.asarray(pvals)
    # 39 permutations: p takes the values k/40, so p <= 0.05 is exactly "k <= 2", an exact
    # level-5% test (a cheaper statistic per trial, not a looser one).
    alarms = int((pvals <= NOMINAL).sum())
    assert alarms <= MAX_ALARMS, alarms
    # And p-values are uniform on (0, 1] (discrete, step 1/40).
    assert sps.kstest(pvals, "uniform").pvalue > 0.001


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
    """ "Drift found" = novelty, overall test or any cluster flagged (0.7, 0.1, 0.2 of alpha)."""
    from models.drift.statistics import drift_verdict

    rng = np.random.default_rng(7)
    alarms = 0
    p = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    for t in range(NULL_TRIALS):
        z = rng.normal(size=(60, 3))
        ref = rng.multinomial(600, p)
        cur = rng.multinomial(150, p)
        alarms += drift_verdict(
            z[:30], z[30:], [1, 2, 3, 4, 5], ref, cur, n_permutations=79, seed=t
        ).drifted
    assert alarms <= MAX_ALARMS, alarms
