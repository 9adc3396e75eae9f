"""A judge-corrected rate: prediction-powered inference for the mean of a binary outcome.

The judge scores N events; humans label a random subset of n of them. Write Y for the human's
verdict (1 = fail) and f for the judge's. The humans-only estimate uses n labels; the raw judge
rate uses N verdicts but inherits the judge's bias. PPI (Angelopoulos et al., Science 2023)
keeps the N verdicts and removes their bias with the labelled pairs:

    θ̂ = mean_Y − λ·(mean_f(labelled) − mean_f(unlabelled))

which is unbiased (for fixed λ) when the labelled events are a random sample of the judged ones.

The estimate. With a binary Y and f the four (Y, f) cells are the whole law, so the efficient
choice of λ is known in closed form: write q = P(f = 1), a = P(Y = 1 | f = 1) and
b = P(Y = 1 | f = 0); then θ = q·a + (1 − q)·b. The maximum-likelihood estimate takes q̂ from all
N verdicts and â, b̂ from the labelled pairs (the judge's fails and passes that people checked):

    θ̂ = q̂·â + (1 − q̂)·b̂  =  mean_Y − λ·(mean_f(labelled) − mean_f(unlabelled)),
    λ = (â − b̂)·(N − n)/N

i.e. PPI with λ the in-sample regression slope of Y on f (the "difference estimator"; PPI++'s
tuned λ is the same up to O(n/N)). λ is not clipped: a judge whose fails are *less* often real
failures than its passes still informs (λ < 0). Its variance, q·a(1−a)/n + (1−q)·b(1−b)/n +
(a−b)²·q(1−q)/N to first order, never exceeds the humans-only θ(1−θ)/n (the law of total
variance), with equality only when a = b (the judge's verdict says nothing) or n = N.

The interval: a profile-likelihood (likelihood-ratio) interval for θ in the model
{n labelled pairs: multinomial; N − n unlabelled verdicts: binomial(q)}, profiling out q, a and b
(Lagrange conditions solved in closed form — each is a quadratic — and the multiplier found by
bisection, vectorised). Its likelihood has `pseudo` = 0.1 of a pair added to each labelled cell
(and its share to q), which keeps the interval from collapsing when a cell is empty (a judge
that never misses a failure at n = 50). The estimate itself uses the raw counts. Measured over
the bench grid (bench/judge_trust.py, 528 cells, 10,000 replicates each) coverage is
93.1–97.0%, with 4 cells outside 93.5–96.5%, all at n = 50 (2 after a 100,000-replicate
recheck: 93.3% at rate 0.1, accuracy 0.9, no bias); the Wald/PPI++ variants and the
other intervals tried are in docs/judge-trust.md.

Everything works on counts (what SQL aggregates) and is vectorised with numpy, so the bench runs
the same code over millions of simulated samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PSEUDO = 0.1  # pseudo-pair added to each labelled (Y, f) cell in the interval's likelihood
_BISECT = 16  # bisection steps on log |multiplier| (bracket of 1024x: precision ~1e-3 relative)


@dataclass(frozen=True)
class Corrected:
    """A rate three ways: raw judge, humans only (Wilson) and judge-corrected (PPI)."""

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
    lam: float | None  # the effective λ (0: the judge adds nothing; near 1: it is trusted)
    level: float = 0.95

    @property
    def narrower(self) -> float | None:
        """How much narrower the corrected interval is than humans-only: 0.3 = 30% narrower."""
        if None in (self.lo, self.hi, self.human_lo, self.human_hi):
            return None
        human = self.human_hi - self.human_lo
        return None if human <= 0 else 1.0 - (self.hi - self.lo) / human


def _argmax(k, x, m):
    """The p in [0, 1] maximising x·log p + (m − x)·log(1 − p) − k·p: the root in [0, 1] of
    k·p² − (k + m)·p + x = 0 (for m = 0, the end k pushes towards)."""
    s = k + m
    sq = np.sqrt(np.maximum(s * s - 4 * k * x, 0.0))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pos = 2 * x / (s + sq)  # k > 0 (stable form of the smaller root)
        neg = (s - sq) / (2 * k)  # k < 0
        mle = x / np.where(m > 0, m, 1.0)
    r = np.where(k > 0, pos, np.where(k < 0, neg, mle))
    r = np.where(m > 0, r, np.where(k > 0, 0.0, np.where(k < 0, 1.0, 0.5)))
    return np.clip(np.nan_to_num(r, nan=0.0), 0.0, 1.0)


def _loglik(x, m, p):
    from scipy.special import xlogy

    return xlogy(x, p) + xlogy(m - x, 1 - p)


def _profile_counts(c11, c10, c01, c00, fu, nu, level, pseudo):
    from scipy import stats

    m1, m0 = c11 + c01, c10 + c00
    n = m1 + m0
    big_n = n + nu
    f_all = m1 + fu
    q_hat = f_all / np.where(big_n > 0, big_n, 1.0)
    b_hat = np.where(m0 > 0, c10 / np.where(m0 > 0, m0, 1.0), 0.0)
    a_hat = np.where(m1 > 0, c11 / np.where(m1 > 0, m1, 1.0), b_hat)
    b_hat = np.where(m0 > 0, b_hat, a_hat)  # a judge that never passes: θ̂ = mean_Y
    est = q_hat * a_hat + (1 - q_hat) * b_hat
    lam = (a_hat - b_hat) * nu / np.where(big_n > 0, big_n, 1.0)

    # the likelihood of the interval, with `pseudo` of a pair in each labelled cell
    k11, k10 = c11 + pseudo, c10 + pseudo
    k1, k0 = m1 + 2 * pseudo, m0 + 2 * pseudo
    g1, gn = f_all + 2 * pseudo, big_n + 4 * pseudo
    q0 = g1 / gn
    b0 = np.where(k0 > 0, k10 / np.where(k0 > 0, k0, 1.0), b_hat)  # k0 = 0 only if pseudo = 0
    a0 = np.where(k1 > 0, k11 / np.where(k1 > 0, k1, 1.0), b0)
    b0 = np.where(k0 > 0, b0, a0)
    top = _loglik(g1, gn, q0) + _loglik(k11, k1, a0) + _loglik(k10, k0, b0)
    crit = stats.chi2.ppf(level, 1)

    def at(mu):
        """θ and the likelihood-ratio statistic at Lagrange multiplier mu (mu > 0: θ < θ̂)."""
        q = q0
        for _ in range(2):  # q is nearly fixed when N >> n: two sweeps suffice
            a = _argmax(mu * q, k11, k1)
            b = _argmax(mu * (1 - q), k10, k0)
            q = _argmax(mu * (a - b), g1, gn)
        a = _argmax(mu * q, k11, k1)
        b = _argmax(mu * (1 - q), k10, k0)
        lr = 2 * (top - _loglik(g1, gn, q) - _loglik(k11, k1, a) - _loglik(k10, k0, b))
        return q * a + (1 - q) * b, lr

    # bracket the multiplier around its normal-theory value sqrt(crit / var θ̂)
    var = (q0**2 * a0 * (1 - a0) / np.maximum(k1, 1.0)
           + (1 - q0) ** 2 * b0 * (1 - b0) / np.maximum(k0, 1.0)
           + (a0 - b0) ** 2 * q0 * (1 - q0) / gn)
    mu_w = np.sqrt(crit / np.maximum(var, 1e-12))
    ends = []
    for sign in (1.0, -1.0):
        lo_l, hi_l = np.log(mu_w / 16), np.log(mu_w * 64)
        for _ in range(_BISECT):
            mid = (lo_l + hi_l) / 2
            _, lr = at(sign * np.exp(mid))
            past = lr > crit
            hi_l = np.where(past, mid, hi_l)
            lo_l = np.where(past, lo_l, mid)
        th, lr = at(sign * np.exp(hi_l))
        th_end, _ = at(np.full_like(th, sign * 1e15))  # the ratio never reaches crit: the end
        ends.append(np.where(lr > crit, th, th_end))
    lo = np.clip(np.minimum(ends[0], est), 0.0, 1.0)
    hi = np.clip(np.maximum(ends[1], est), 0.0, 1.0)
    return est, lo, hi, lam


def ppi_counts(
    c11, c10, c01, c00, f_unlab, n_unlab, level: float = 0.95, *, clip: bool = True,
    pseudo: float | None = None, skew: bool = True, method: str = "profile",
):
    """Vectorised judge-corrected rate from counts. Labelled pairs: c11 (human fail, judge
    fail), c10 (human fail, judge pass), c01 (human pass, judge fail), c00; unlabelled: f_unlab
    judge fails of n_unlab. Returns (estimate, lo, hi, lambda) arrays (NaN where n < 2).

    method "profile" (the default, see the module docstring) uses `pseudo` (default PSEUDO);
    "ppi++" is the earlier PPI++ t interval (clipped λ, `pseudo` default 0.5 in the variances,
    Johnson skewness correction when `skew`), kept for the bench's comparison.
    """
    c11, c10, c01, c00 = (np.asarray(c, dtype=float) for c in (c11, c10, c01, c00))
    fu = np.asarray(f_unlab, dtype=float)
    nu = np.asarray(n_unlab, dtype=float)
    c11, c10, c01, c00, fu, nu = np.broadcast_arrays(c11, c10, c01, c00, fu, nu)
    n = c11 + c10 + c01 + c00
    ok = n >= 2
    if method == "profile":
        est, lo, hi, lam = _profile_counts(
            c11, c10, c01, c00, fu, nu, level, PSEUDO if pseudo is None else pseudo
        )
    elif method == "ppi++":
        est, lo, hi, lam = _ppipp_counts(
            c11, c10, c01, c00, fu, nu, level, clip, 0.5 if pseudo is None else pseudo, skew
        )
    else:
        raise ValueError(f"method must be 'profile' or 'ppi++', not {method!r}")
    nan = np.full(est.shape, np.nan)
    return (np.where(ok, est, nan), np.where(ok, lo, nan), np.where(ok, hi, nan),
            np.where(ok, lam, nan))


def _ppipp_counts(c11, c10, c01, c00, fu, nu, level, clip, pseudo, skew):
    """PPI++ (λ = cov(Y, f) / ((1 + n/N)·var f), clipped to [0, 1]) with a Student-t interval,
    variances from counts with `pseudo` per cell, Johnson's (1978) skewness correction and the
    Wilson interval when λ = 0. The method before the profile interval (docs/judge-trust.md)."""
    from scipy import stats

    n = c11 + c10 + c01 + c00
    n_safe = np.where(n >= 2, n, 2.0)
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
    return est, lo, hi, lam


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
