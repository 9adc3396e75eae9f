"""Agreement between two raters on the same items: rate, Cohen's κ with its 95% interval, and
the confusion matrix.

κ and its interval are statsmodels' `cohens_kappa` on the confusion table (asymptotic standard
error, normal interval), so what the page shows is what statsmodels says. A table where both
raters used a single category leaves κ undefined (chance agreement is 1): it is reported as
None, never as 0 or 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Below this many paired items κ gets no interval worth showing; pages say "too few".
MIN_PAIRS = 10


@dataclass(frozen=True)
class Agreement:
    """Two raters on n shared items. `matrix[i][j]` counts items rater A put in categories[i]
    and rater B in categories[j] (A = the evaluator, B = the humans, for judge agreement)."""

    n: int
    agree: int
    rate: float | None
    kappa: float | None
    kappa_lo: float | None
    kappa_hi: float | None
    kappa_se: float | None
    categories: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]
    level: float = 0.95

    @property
    def enough(self) -> bool:
        return self.n >= MIN_PAIRS


def confusion(
    a: Sequence[str], b: Sequence[str], categories: Sequence[str] | None = None
) -> tuple[tuple[str, ...], list[list[int]]]:
    """The confusion table of two equal-length label sequences."""
    if len(a) != len(b):
        raise ValueError(f"rater sequences differ in length: {len(a)} and {len(b)}")
    cats = tuple(categories) if categories else tuple(sorted(set(a) | set(b)))
    index = {c: i for i, c in enumerate(cats)}
    table = [[0] * len(cats) for _ in cats]
    for x, y in zip(a, b, strict=True):
        table[index[x]][index[y]] += 1
    return cats, table


def from_table(
    categories: Sequence[str], table: Sequence[Sequence[int]], level: float = 0.95
) -> Agreement:
    """Agreement, κ and its interval from a square confusion table."""
    import numpy as np
    from statsmodels.stats.inter_rater import cohens_kappa

    arr = np.asarray(table, dtype=float)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] != len(categories):
        raise ValueError(f"confusion table must be square over {len(categories)} categories")
    n = int(arr.sum())
    agree = int(np.trace(arr))
    matrix = tuple(tuple(int(v) for v in row) for row in arr)
    cats = tuple(categories)
    if n == 0:
        return Agreement(0, 0, None, None, None, None, None, cats, matrix, level)
    rate = agree / n
    p_chance = float((arr.sum(0) / n) @ (arr.sum(1) / n))
    if p_chance >= 1.0 - 1e-12:
        return Agreement(n, agree, rate, None, None, None, None, cats, matrix, level)
    import warnings

    with warnings.catch_warnings():
        # statsmodels warns on tables whose variance estimate is not finite (tiny or
        # one-sided tables); the interval is then left out below.
        warnings.simplefilter("ignore", RuntimeWarning)
        res = cohens_kappa(arr, return_results=True)
    kappa = float(res.kappa)
    se = float(res.std_kappa) if math.isfinite(res.std_kappa) else None
    lo = hi = None
    if se is not None and abs(level - 0.95) < 1e-12:
        lo, hi = float(res.kappa_low), float(res.kappa_upp)  # statsmodels' own 95% bounds
    elif se is not None:
        from scipy import stats

        half = float(stats.norm.ppf(0.5 + level / 2)) * se
        lo, hi = kappa - half, kappa + half
    return Agreement(n, agree, rate, kappa, lo, hi, se, cats, matrix, level)


def agreement(
    a: Sequence[str],
    b: Sequence[str],
    categories: Sequence[str] | None = None,
    level: float = 0.95,
) -> Agreement:
    """Agreement of two raters' labels on the same items (in the same order)."""
    cats, table = confusion(a, b, categories)
    if not cats:
        return Agreement(0, 0, None, None, None, None, None, (), (), level)
    return from_table(cats, table, level)
