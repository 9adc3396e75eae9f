"""models.stats by simulation: interval coverage and the week-over-week test's false positives.

Weeks are simulated with numpy (fixed seeds); since a week's count is discrete, each distinct
count is passed through the function under test once and the result mapped back, so tens of
thousands of simulated weeks cost a few hundred calls.

Wilson's coverage at a single (n, rate) oscillates with the discreteness of the binomial (Brown,
Cai & DasGupta 2001): no 95% interval for a proportion stays within 93.5–96.5% at every point for
n of 20–200. So the per-setting band is asserted where the oscillation has died down (n ≥ 500),
the average over the rate grid is asserted in the band at every n, and every setting must stay
above 91.5% (the lowest simulated here is 92.0%, at n=20 and rate 0.05; exactly 92.5%).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from models import stats

RATES = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
SIZES = (20, 50, 100, 200, 500, 1000, 2000)
WEEKS = 4000  # simulated weeks per (n, rate) setting


def coverage(n: int, rate: float, seed: int) -> float:
    x = np.random.default_rng(seed).binomial(n, rate, size=WEEKS)
    values = np.unique(x)
    covers = {}
    for v in values:
        est = stats.wilson(int(v), n)
        covers[int(v)] = est.lo <= rate <= est.hi
    return float(np.mean([covers[int(v)] for v in x]))


@pytest.fixture(scope="module")
def grid() -> dict[tuple[int, float], float]:
    return {
        (n, p): coverage(n, p, seed=1000 * i + j)
        for i, n in enumerate(SIZES)
        for j, p in enumerate(RATES)
    }


def test_wilson_average_coverage_in_band_at_every_n(grid) -> None:
    for n in SIZES:
        mean_cov = np.mean([grid[(n, p)] for p in RATES])
        assert 0.935 <= mean_cov <= 0.965, (n, mean_cov)


def test_wilson_pointwise_coverage(grid) -> None:
    for (n, p), cov in grid.items():
        assert cov >= 0.915, (n, p, cov)
        if n >= 500:
            assert 0.935 <= cov <= 0.965, (n, p, cov)


@functools.cache
def _p_value(x1: int, n1: int, x0: int, n0: int) -> float:
    cmp = stats.compare_proportions(x1, n1, x0, n0, alpha=0.05)
    assert cmp.p_value is not None
    return cmp.p_value


def exact_size(n: int, rate: float, alpha: float = 0.05, tail: float = 1e-6) -> float:
    """P(flagged) on unchanged weeks, summed over every outcome pair: the simulation's limit.

    Counts whose probability is below `tail` are skipped and their whole mass added as if they
    were flagged, so the figure is an upper bound, free of Monte Carlo noise.
    """
    from scipy import stats as sps

    pmf = sps.binom.pmf(np.arange(n + 1), n, rate)
    keep = np.flatnonzero(pmf >= tail)
    dropped = 1.0 - pmf[keep].sum()
    size = 2 * dropped
    for a in keep:
        for b in keep:
            if _p_value(int(a), n, int(b), n) < alpha:
                size += pmf[a] * pmf[b]
    return float(size)


@pytest.mark.parametrize(
    "n,rate",
    [(30, 0.1), (30, 0.5), (40, 0.2), (60, 0.2), (120, 0.1), (200, 0.5), (300, 0.3)],
)
def test_week_over_week_false_positive_rate_at_most_nominal(n: int, rate: float) -> None:
    assert exact_size(n, rate) <= 0.05


def test_week_over_week_simulated_false_positives_large_n() -> None:
    # 2,000 simulated unchanged week pairs per setting at realistic weekly volumes.
    flagged = []
    for i, (n, rate) in enumerate([(1000, 0.3), (2000, 0.05), (2000, 0.5)]):
        rng = np.random.default_rng(100 + i)
        x1, x0 = rng.binomial(n, rate, size=2000), rng.binomial(n, rate, size=2000)
        flagged += [_p_value(int(a), n, int(b), n) < 0.05 for a, b in zip(x1, x0, strict=True)]
    assert np.mean(flagged) <= 0.05


def test_week_over_week_test_has_power() -> None:
    # The flip side of a conservative test: a real 10-point drop at n=500 is found.
    rng = np.random.default_rng(9)
    x1 = rng.binomial(500, 0.30, size=300)
    x0 = rng.binomial(500, 0.40, size=300)
    power = np.mean([_p_value(int(a), 500, int(b), 500) < 0.05 for a, b in zip(x1, x0,
                                                                          strict=True)])
    assert power > 0.9
