"""The judge-corrected rate: unbiased under a biased judge, interval coverage on a biased cell,
the humans-only rate when the judge carries no information, and the profile-likelihood
interval checked against a direct scipy solution."""

from __future__ import annotations

import numpy as np
import pytest

from models.judge_trust.ppi import corrected_rate, ppi_counts
from models.stats import wilson


def test_biased_judge_is_corrected_and_the_interval_covers():
    # truth 30% fails; the judge misses a third of them (its raw rate is biased low, 20%)
    rng = np.random.default_rng(3)
    probs = [0.2, 0.1, 0.0, 0.7]  # (fail, judge fail), (fail, pass), (pass, fail), (pass, pass)
    reps, n, big_n = 3000, 200, 5000
    c = rng.multinomial(n, probs, size=reps)
    fu = rng.binomial(big_n - n, 0.2, size=reps)
    est, lo, hi, lam = ppi_counts(c[:, 0], c[:, 1], c[:, 2], c[:, 3], fu, big_n - n)
    assert abs(est.mean() - 0.3) < 0.003  # unbiased, while the judge says 0.2
    cover = np.mean((lo <= 0.3) & (0.3 <= hi))
    assert 0.93 <= cover <= 0.97
    hlo, hhi = wilson(60, 200).lo, wilson(60, 200).hi
    assert np.mean(hi - lo) < 0.8 * (hhi - hlo)  # an informative judge narrows it
    # λ = (â − b̂)(N − n)/N: the judge's fails are real 100% of the time, its passes 1/8
    assert np.all((lam >= -1) & (lam <= 1))
    assert abs(np.median(lam) - (1 - 0.125) * (big_n - n) / big_n) < 0.03


def test_uninformative_judge_gives_the_humans_only_rate_and_a_like_interval():
    # judge verdicts independent of the human's (30% fails among its fails and its passes)
    got = corrected_rate(c11=6, c10=24, c01=14, c00=56, judged_fails=600, judged=3000)
    human = wilson(30, 100)
    assert got.lam == pytest.approx(0.0)
    assert got.value == pytest.approx(0.30)
    assert got.lo < 0.30 < got.hi
    assert got.narrower == pytest.approx(0.0, abs=0.05)  # about as wide as humans-only
    assert got.judge_rate == pytest.approx(0.2) and got.human_rate == pytest.approx(0.3)
    assert got.hi - got.lo == pytest.approx(human.hi - human.lo, rel=0.05)


def test_estimate_is_ppi_with_the_effective_lambda():
    c11, c10, c01, c00, fu, nu = 20, 10, 5, 65, 275, 1900
    est, _, _, lam = ppi_counts(c11, c10, c01, c00, fu, nu)
    n = c11 + c10 + c01 + c00
    m_y, m_f = (c11 + c10) / n, (c11 + c01) / n
    assert float(lam) == pytest.approx((20 / 25 - 10 / 75) * nu / (n + nu))
    assert float(est) == pytest.approx(m_y - float(lam) * (m_f - fu / nu))
    assert float(est) == pytest.approx(0.15 * 0.8 + 0.85 * 10 / 75)


def test_constant_judge_gives_the_binomial_likelihood_ratio_interval():
    # a judge that never fails: θ = P(fail | judge pass), the interval is the binomial LR one
    from scipy import optimize, stats
    from scipy.special import xlogy

    x, m = 7, 60
    est, lo, hi, lam = ppi_counts(0, x, 0, m - x, 0, 5000, pseudo=0.0)

    def drop(p):
        ll = lambda t: xlogy(x, t) + xlogy(m - x, 1 - t)  # noqa: E731
        return 2 * (ll(x / m) - ll(p)) - stats.chi2.ppf(0.95, 1)

    want_lo = optimize.brentq(drop, 1e-9, x / m)
    want_hi = optimize.brentq(drop, x / m, 1 - 1e-9)
    assert float(est) == pytest.approx(x / m) and float(lam) == 0.0
    assert float(lo) == pytest.approx(want_lo, rel=2e-3)
    assert float(hi) == pytest.approx(want_hi, rel=2e-3)


def test_two_labelled_arms_and_q_uncertainty_match_a_direct_profile():
    # the full profile over (q, a, b) against scipy's constrained optimiser at the bounds
    from scipy import optimize, stats
    from scipy.special import xlogy

    c11, c10, c01, c00, fu, nu = 12, 4, 3, 31, 80, 250
    _, lo, hi, _ = ppi_counts(c11, c10, c01, c00, fu, nu, pseudo=0.0)
    f1, big_n = c11 + c01 + fu, c11 + c10 + c01 + c00 + nu

    def ll(v):
        q, a, b = v
        return (xlogy(f1, q) + xlogy(big_n - f1, 1 - q) + xlogy(c11, a) + xlogy(c01, 1 - a)
                + xlogy(c10, b) + xlogy(c00, 1 - b))

    top = ll((f1 / big_n, c11 / 15, c10 / 35))
    for theta in (float(lo), float(hi)):
        res = optimize.minimize(
            lambda v: -ll(v), x0=(f1 / big_n, 0.7, 0.15), method="SLSQP",
            bounds=[(1e-6, 1 - 1e-6)] * 3,
            constraints=[{"type": "eq", "fun": lambda v, t=theta: v[0] * v[1]
                          + (1 - v[0]) * v[2] - t}],
        )
        assert 2 * (top + res.fun) == pytest.approx(stats.chi2.ppf(0.95, 1), abs=0.02)


def test_earlier_ppipp_method_is_kept_and_unknown_methods_fail():
    est, lo, hi, lam = ppi_counts(20, 10, 5, 65, 275, 1900, method="ppi++")
    assert 0 <= float(lam) <= 1 and float(lo) < float(est) < float(hi)
    with pytest.raises(ValueError, match="method must be"):
        ppi_counts(20, 10, 5, 65, 275, 1900, method="bootstrap")


def test_labelled_pairs_must_be_among_the_judged_events():
    with pytest.raises(ValueError, match="labelled events must be judged events"):
        corrected_rate(10, 0, 0, 10, judged_fails=5, judged=100)
