"""models.stats against independent reference implementations and published values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from models import stats


@pytest.mark.parametrize("x,n", [(0, 20), (3, 20), (17, 20), (20, 20), (41, 400), (1234, 2000)])
def test_wilson_matches_scipy_binomtest(x: int, n: int) -> None:
    ref = sps.binomtest(x, n).proportion_ci(confidence_level=0.95, method="wilson")
    est = stats.wilson(x, n)
    assert est.n == n and est.value == pytest.approx(x / n)
    assert est.lo == pytest.approx(ref.low, abs=1e-9)
    assert est.hi == pytest.approx(ref.high, abs=1e-9)


def test_wilson_empty_has_no_value() -> None:
    est = stats.wilson(0, 0)
    assert est.value is None and est.lo is None


def test_mean_t_matches_scipy_ttest_interval() -> None:
    rng = np.random.default_rng(1)
    data = rng.beta(2, 5, size=57)
    ref = sps.ttest_1samp(data, 0).confidence_interval(0.95)
    est = stats.mean_t(len(data), float(data.mean()), float(data.std(ddof=1)))
    assert est.lo == pytest.approx(ref.low) and est.hi == pytest.approx(ref.high)


def test_mean_bootstrap_brackets_the_mean_and_is_seeded() -> None:
    data = np.random.default_rng(2).exponential(1.0, size=80)
    a = stats.mean_bootstrap(data, seed=5)
    b = stats.mean_bootstrap(data, seed=5)
    assert a == b
    assert a.lo < a.value < a.hi
    # BCa of a right-skewed mean leans right of the symmetric t interval.
    t = stats.mean_t(len(data), float(data.mean()), float(data.std(ddof=1)))
    assert a.hi - a.value > a.value - a.lo
    assert abs((a.hi - a.lo) - (t.hi - t.lo)) < 0.5 * (t.hi - t.lo)


def test_newcombe_interval_matches_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, method 10: 56/70 vs 48/80.
    cmp = stats.compare_proportions(56, 70, 48, 80)
    assert cmp.delta == pytest.approx(0.2)
    assert cmp.lo == pytest.approx(0.0524, abs=5e-4)
    assert cmp.hi == pytest.approx(0.3339, abs=5e-4)
    assert cmp.test == "fisher"
    ref = sps.fisher_exact([[56, 14], [48, 32]]).pvalue
    assert cmp.p_value == pytest.approx(ref)
    assert cmp.verdict == stats.UP


def test_large_n_uses_fisher_and_matches_scipy() -> None:
    cmp = stats.compare_proportions(130, 1000, 100, 1000)
    ref = sps.fisher_exact([[130, 870], [100, 900]]).pvalue
    assert cmp.test == "fisher" and cmp.p_value == pytest.approx(ref)
    assert cmp.verdict == stats.UP
    down = stats.compare_proportions(100, 1000, 130, 1000)
    assert down.verdict == stats.DOWN and down.p_value == pytest.approx(ref)


def test_min_n_guard_gives_no_verdict() -> None:
    cmp = stats.compare_proportions(10, 12, 1, 500)
    assert cmp.verdict == stats.TOO_LITTLE and cmp.p_value is None
    assert cmp.delta == pytest.approx(10 / 12 - 1 / 500)
    assert not cmp.significant
    assert stats.compare_means(5, 1.0, 0.1, 100, 0.0, 0.1).verdict == stats.TOO_LITTLE


def test_welch_matches_scipy_on_raw_values() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.6, 0.2, 120), rng.normal(0.55, 0.3, 90)
    ref = sps.ttest_ind(a, b, equal_var=False)
    cmp = stats.compare_means(
        len(a), a.mean(), a.std(ddof=1), len(b), b.mean(), b.std(ddof=1)
    )
    assert cmp.p_value == pytest.approx(ref.pvalue)
    ci = ref.confidence_interval(0.95)
    assert cmp.lo == pytest.approx(ci.low) and cmp.hi == pytest.approx(ci.high)


def test_benjamini_hochberg_matches_scipy() -> None:
    p = np.random.default_rng(4).uniform(0, 0.08, size=25)
    res = stats.benjamini_hochberg(p, alpha=0.05)
    q_ref = sps.false_discovery_control(p, method="bh")
    assert np.allclose(res.q_values, q_ref)
    assert res.rejected == tuple(bool(q <= 0.05) for q in q_ref)
    assert res.n_tests == 25
    assert stats.benjamini_hochberg([]).n_tests == 0


def test_vectorised_bounds_match_scalar_functions() -> None:
    xs, ns = [0, 3, 40, 5], [20, 20, 400, 0]
    lo, hi = stats.wilson_bounds(xs, ns)
    for i, (x, n) in enumerate(zip(xs, ns, strict=True)):
        est = stats.wilson(x, n)
        if n == 0:
            assert np.isnan(lo[i]) and np.isnan(hi[i])
        else:
            assert lo[i] == pytest.approx(est.lo) and hi[i] == pytest.approx(est.hi)
    lo, hi = stats.t_bounds([10, 1, 200], [0.5, 0.2, 0.7], [0.1, None, 0.3])
    est = stats.mean_t(10, 0.5, 0.1)
    assert lo[0] == pytest.approx(est.lo) and hi[0] == pytest.approx(est.hi)
    assert np.isnan(lo[1])
    assert lo[2] == pytest.approx(stats.mean_t(200, 0.7, 0.3).lo)
