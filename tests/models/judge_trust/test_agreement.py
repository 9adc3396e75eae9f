"""Cohen's κ, its interval and the confusion matrix, against statsmodels' cohens_kappa."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from models.judge_trust.agreement import agreement, confusion, from_table

TABLES = [
    [[20, 5], [10, 15]],
    [[45, 3], [7, 2]],
    [[12, 3, 1], [2, 18, 4], [0, 5, 9]],
    [[1, 0], [0, 1]],
]


@pytest.mark.parametrize("table", TABLES)
def test_kappa_and_interval_equal_statsmodels(table):
    ref = cohens_kappa(np.asarray(table), return_results=True)
    cats = [f"c{i}" for i in range(len(table))]
    got = from_table(cats, table)
    assert got.kappa == pytest.approx(ref.kappa, abs=1e-12)
    assert got.kappa_se == pytest.approx(ref.std_kappa, abs=1e-12)
    assert got.kappa_lo == pytest.approx(ref.kappa_low, abs=1e-12)
    assert got.kappa_hi == pytest.approx(ref.kappa_upp, abs=1e-12)
    assert got.n == int(np.sum(table)) and got.agree == int(np.trace(table))


def test_label_sequences_give_the_confusion_and_kappa_of_their_table():
    a = ["fail", "fail", "pass", "pass", "pass", "fail", "pass", "pass"]
    b = ["fail", "pass", "pass", "pass", "fail", "fail", "pass", "pass"]
    cats, table = confusion(a, b)
    assert cats == ("fail", "pass")
    assert table == [[2, 1], [1, 4]]  # rows: rater a, columns: rater b
    got = agreement(a, b)
    ref = cohens_kappa(np.asarray(table))
    assert got.rate == pytest.approx(6 / 8)
    assert got.kappa == pytest.approx(ref.kappa) and got.kappa_lo == pytest.approx(ref.kappa_low)


def test_one_category_only_leaves_kappa_undefined_not_zero():
    got = agreement(["pass"] * 5, ["pass"] * 5, ("fail", "pass"))
    assert got.rate == 1.0 and got.kappa is None and got.kappa_lo is None
    assert agreement([], []).n == 0


def test_other_levels_use_the_statsmodels_standard_error():
    got = from_table(("a", "b"), TABLES[0], level=0.9)
    ref = cohens_kappa(np.asarray(TABLES[0]))
    assert got.kappa_hi - got.kappa == pytest.approx(1.6448536 * ref.std_kappa, rel=1e-6)
