"""A judge-corrected rate: prediction-powered inference (PPI++) for the mean of a binary outcome.

The judge scores N events; humans label a random subset of n of them. Write Y for the human's
verdict (1 = fail) and f for the judge's. The humans-only estimate uses n labels; the raw judge
rate uses N verdicts but inherits the judge's bias. PPI (Angelopoulos et al., Science 2023)
keeps the N verdicts and removes their bias with the labelled pairs:

    θ̂ = mean_Y − λ·(mean_f(labelled) − mean_f(unlabelled))

which is unbiased for any λ when the labelled events are a random sample of the judged ones.
PPI++ (Angelopoulos, Duchi & Zrnic 2023) tunes λ to minimise the variance:
λ = cov(Y, f) / ((1 + n/N)·var(f)), clipped to [0, 1]; λ = 0 is the humans-only mean, λ = 1 the
original PPI. Its variance is λ²·var(f_unlabelled)/N + var(Y − λf)/n.

Small samples: the plain normal interval under-covers at n = 50 (down to 86.9% in
bench/judge_trust.py) when a (human, judge) cell is nearly empty: its variance estimate collapses
towards 0. The interval here (1) uses a Student-t quantile with n − 1 degrees of freedom,
(2) computes the variances (not the estimate) with half a pseudo-pair added to each of the four
(Y, f) cells, an Agresti–Caffo style guard, and (3) moves its centre by Johnson's (1978)
skewness correction. When the tuned λ is 0 the estimate is the humans-only rate and gets the
Wilson interval, as it does when the judge's verdicts never vary. Measured over the bench grid
(528 cells, 10,000 replicates each) coverage is 93.0–98.6%, mean 94.9%, with 21 cells outside
93.5–96.5% (Wilson on the human labels alone: 71 cells): under-coverage where the judge's
disagreements with humans are rare and one-sided at n ≤ 100, over-coverage where the judge is
95% accurate at n = 50. The variants tried are in docs/judge-trust.md.

Everything works on counts (what SQL aggregates) and is vectorised with numpy, so the bench runs
the same code over millions of simulated samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PSEUDO = 0.5  # pseudo-count added to each labelled (Y, f) cell for the variances only


@dataclass(frozen=True)
class Corrected:
    """A rate three ways: raw judge, humans only (Wilson) and judge-corrected (PPI++)."""

    judged: int  # N events the judge scored (labelled ones included)
    labelled: int  # n of them with a human label
    judge_rate: float | None
    judge_lo: float | None
    judge_hi: float | None
    human_rate: float | None
    human_lo: float | None
    human_hi: float | None
    value: float | None  # the corrected rate
    lo: float | None
    hi: float | None
    lam: float | None  # the tuned λ (0: the judge adds nothing; 1: plain PPI)
    level: float = 0.95

    @property
    def narrower(self) -> float | None:
        """How much narrower the corrected interval is than humans-only: 0.3 = 30% narrower."""
        if None in (self.lo, self.hi, self.human_lo, self.human_hi):
            return None
        human = self.human_hi - self.human_lo
        return None if human <= 0 else 1.0 - (self.hi - self.lo) / human


def ppi_counts(
    c11, c10, c01, c00, f_unlab, n_unlab, level: float = 0.95, *, clip: bool = True,
    pseudo: float = PSEUDO, skew: bool = True,
):
    """Vectorised PPI++ from counts. Labelled pairs: c11 (human fail, judge fail), c10 (human
    fail, judge pass), c01 (human pass, judge fail), c00; unlabelled: f_unlab judge fails of
    n_unlab. Returns (estimate, lo, hi, lambda) arrays (NaN where n < 2)."""
    from scipy import stats

    c11, c10, c01, c00 = (np.asarray(c, dtype=float) for c in (c11, c10, c01, c00))
    fu = np.asarray(f_unlab, dtype=float)
    nu = np.asarray(n_unlab, dtype=float)
    n = c11 + c10 + c01 + c00
    ok = n >= 2
    n_safe = np.where(ok, n, 2.0)
    nu_safe = np.where(nu > 0, nu, 1.0)
    m_y = (c11 + c10) / n_safe
    m_f = (c11 + c01) / n_safe
    m_fu = np.where(nu > 0, fu / nu_safe, m_f)

    # Moments for the variances, with the pseudo-pairs (see the module docstring).
    q11, q10, q01, q00 = c11 + pseudo, c10 + pseudo, c01 + pseudo, c00 + pseudo
    nq = q11 + q10 + q01 + q00
    qy, qf = (q11 + q10) / nq, (q11 + q01) / nq
    corr = n_safe / np.maximum(n_safe - 1, 1)
    var_y = qy * (1 - qy) * corr
    var_f = qf * (1 - qf) * corr
    cov = (q11 / nq - qy * qf) * corr
    # var(f) pooled over labelled and unlabelled verdicts (all of the judge's output)
    pf = (c11 + c01 + fu + pseudo * 2) / (n_safe + nu + pseudo * 4)
    var_f_all = pf * (1 - pf)
    with np.errstate(divide="ignore", invalid="ignore"):
        # without unlabelled verdicts the judge adds nothing: λ = 0, humans only
        lam = np.where(nu > 0, cov / ((1 + n_safe / nu_safe) * var_f_all), 0.0)
    lam = np.nan_to_num(lam, nan=0.0)
    # a judge whose verdicts never vary (it never fails, or fails everything) says nothing
    judge_fails = c11 + c01 + fu
    lam = np.where((judge_fails <= 0) | (judge_fails >= n_safe + nu), 0.0, lam)
    if clip:
        lam = np.clip(lam, 0.0, 1.0)
    var_fu = np.where(nu > 1, var_f_all, 0.0)
    est = m_y - lam * (m_f - m_fu)
    var = lam**2 * var_fu / nu_safe + (var_y + lam**2 * var_f - 2 * lam * cov) / n_safe
    se = np.sqrt(np.maximum(var, 0.0))
    q = stats.t.ppf(0.5 + level / 2, np.maximum(n_safe - 1, 1))
    centre = est
    if skew:
        # Johnson's (1978) skewness correction of the t interval: the labelled part of the
        # estimate is a mean of Z = Y − λf, whose third central moment moves the centre by
        # κ3 / (6 V), with κ3 = μ3(Z) / n² and V the estimate's variance.
        vals = (1 - lam, np.ones_like(lam), -lam, np.zeros_like(lam))
        probs = (q11 / nq, q10 / nq, q01 / nq, q00 / nq)
        mean_z = sum(p * v for p, v in zip(probs, vals, strict=True))
        mu3 = sum(p * (v - mean_z) ** 3 for p, v in zip(probs, vals, strict=True))
        with np.errstate(divide="ignore", invalid="ignore"):
            shift = np.where(var > 0, mu3 / n_safe**2 / (6 * var), 0.0)
        centre = centre + np.nan_to_num(shift)
    lo = np.clip(centre - q * se, 0.0, 1.0)
    hi = np.clip(centre + q * se, 0.0, 1.0)
    # λ = 0: the judge carries no information on the humans' verdict (uncorrelated, or worse),
    # and the estimate is the humans-only rate, so it gets the humans-only (Wilson) interval.
    from models.stats import wilson_bounds

    w_lo, w_hi = wilson_bounds(c11 + c10, n_safe, level)
    lo = np.where(lam <= 0, w_lo, lo)
    hi = np.where(lam <= 0, w_hi, hi)
    nan = np.full_like(est, np.nan)
    return (np.where(ok, est, nan), np.where(ok, lo, nan), np.where(ok, hi, nan),
            np.where(ok, lam, nan))


def corrected_rate(
    c11: int, c10: int, c01: int, c00: int, judged_fails: int, judged: int, level: float = 0.95
) -> Corrected:
    """The corrected fail rate of one evaluator from SQL counts.

    `judged` / `judged_fails` count every event the judge scored, the labelled ones included;
    the unlabelled part is what remains once the labelled pairs are taken out.
    """
    from models.stats import wilson

    n = c11 + c10 + c01 + c00
    f_unlab = judged_fails - (c11 + c01)
    n_unlab = judged - n
    if n_unlab < 0 or f_unlab < 0 or f_unlab > n_unlab:
        raise ValueError(
            f"labelled pairs ({n}, judge fails {c11 + c01}) exceed the judged events "
            f"({judged}, fails {judged_fails}): the labelled events must be judged events"
        )
    judge = wilson(judged_fails, judged, level)
    human = wilson(c11 + c10, n, level)
    value = lo = hi = lam = None
    if n >= 2:
        est, lo_a, hi_a, lam_a = ppi_counts(c11, c10, c01, c00, f_unlab, n_unlab, level)
        value, lo, hi, lam = float(est), float(lo_a), float(hi_a), float(lam_a)
    return Corrected(
        judged, n, judge.value, judge.lo, judge.hi, human.value, human.lo, human.hi,
        value, lo, hi, lam, level,
    )
