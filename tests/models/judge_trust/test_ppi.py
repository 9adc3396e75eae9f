"""The judge-corrected rate (PPI++): unbiased under a biased judge, interval coverage on a
biased cell, humans-only (Wilson) when the judge carries no information."""

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
    assert np.all((lam >= 0) & (lam <= 1))


def test_uninformative_judge_gives_the_humans_only_rate_and_interval():
    # judge verdicts independent of the human's: λ clips to 0
    got = corrected_rate(c11=5, c10=25, c01=15, c00=55, judged_fails=600, judged=3000)
    human = wilson(30, 100)
    assert got.lam == 0.0
    assert got.value == pytest.approx(0.30)
    assert (got.lo, got.hi) == pytest.approx((human.lo, human.hi))
    assert got.judge_rate == pytest.approx(0.2) and got.human_rate == pytest.approx(0.3)
    assert got.narrower == pytest.approx(0.0)


def test_labelled_pairs_must_be_among_the_judged_events():
    with pytest.raises(ValueError, match="labelled events must be judged events"):
        corrected_rate(10, 0, 0, 10, judged_fails=5, judged=100)
