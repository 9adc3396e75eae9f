"""The pairwise judge's pure parts: parsing, order mapping, and its interval by simulation."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy.stats import binom, binomtest

from models.rerun.judge import (
    Choice,
    pair_outcome,
    parse_choice,
    preferred_side,
    summarize,
    transcript,
)


@pytest.mark.parametrize(
    "text, pref",
    [
        ('{"preferred": "2", "rationale": "x"}', "2"),
        ('Sure! ```json\n{"preferred": "tie", "rationale": "same"}\n```', "tie"),
        ("Answer 1 is better because...", "1"),
        ("It's a tie.", "tie"),
        ("I cannot decide", "tie"),
    ],
)
def test_parse_choice(text, pref):
    assert parse_choice(text).preferred == pref


def test_order_mapping_cancels_first_position_bias():
    first = Choice("1", "")
    sides = [preferred_side(first, rerun_first=False), preferred_side(first, rerun_first=True)]
    assert sides == ["original", "rerun"]
    assert pair_outcome("e", sides).outcome == "tie"
    second = Choice("2", "")
    assert (
        pair_outcome("e", [preferred_side(second, False), preferred_side(second, True)]).outcome
        == "tie"
    )
    assert pair_outcome("e", ["rerun", "tie"]).outcome == "win"
    assert pair_outcome("e", ["original", "original"]).outcome == "loss"


def test_summary_matches_scipy():
    outcomes = [
        pair_outcome(str(i), s)
        for i, s in enumerate(
            [["rerun", "rerun"]] * 14 + [["original", "original"]] * 5 + [["tie", "tie"]] * 6
        )
    ]
    s = summarize(outcomes)
    assert (s.n, s.win.count, s.loss.count, s.tie.count) == (25, 14, 5, 6)
    ref = binomtest(14, 19, 0.5)
    assert s.p_value == pytest.approx(ref.pvalue)
    assert s.win.low < 14 / 25 < s.win.high


# The win rate's interval by simulation, on a grid of judge outcomes: win/tie/loss mixes (no ties,
# tie-heavy, lopsided, even) and batch sizes. The true win rate is wins / (wins + losses).
MIXES = ((0.65, 0.0, 0.35), (0.5, 0.2, 0.3), (0.3, 0.5, 0.2), (0.8, 0.1, 0.1), (0.45, 0.1, 0.45))
PAIRS = (20, 60, 200)
TRIALS = 1200  # simulated batches per setting
# Sized with scipy.stats.binom: a 95% interval misses Binomial(1200, 0.05) times, and more than
# binom.ppf(0.999, 1200, 0.05) = 85 misses happens 0.07% of the time; an interval with twice the
# nominal miss rate (10%) stays at or under 85 misses with probability binom.cdf(85, 1200, 0.10)
# = 0.03%, so it fails every setting. Both figures are recomputed below.
MAX_MISSES = int(binom.ppf(0.999, TRIALS, 0.05))
WIN = pair_outcome("w", ["rerun", "rerun"])
LOSS = pair_outcome("l", ["original", "original"])
TIE = pair_outcome("t", ["rerun", "original"])  # the two orders disagree: a tie


def test_coverage_simulation_is_sized_to_fail_an_interval_at_twice_the_miss_rate():
    assert MAX_MISSES == 85
    assert binom.sf(MAX_MISSES, TRIALS, 0.05) < 1e-3
    assert binom.cdf(MAX_MISSES, TRIALS, 0.10) < 1e-3
    assert (WIN.outcome, LOSS.outcome, TIE.outcome) == ("win", "loss", "tie")


@functools.cache
def _interval(wins: int, losses: int, ties: int) -> tuple[float | None, float | None]:
    s = summarize([WIN] * wins + [LOSS] * losses + [TIE] * ties)
    assert (s.win.count, s.loss.count, s.tie.count) == (wins, losses, ties)
    return s.win_rate_low, s.win_rate_high


@pytest.mark.parametrize("n", PAIRS)
@pytest.mark.parametrize("mix", MIXES, ids=lambda m: "w{}-t{}-l{}".format(*m))
def test_win_rate_interval_coverage_by_simulation(n, mix):
    win, tie, loss = mix
    true_rate = win / (win + loss)
    rng = np.random.default_rng([n, *(round(100 * p) for p in mix)])
    counts = rng.multinomial(n, [win, loss, tie], size=TRIALS)
    misses = 0
    for w, lo_, t in counts:
        low, high = _interval(int(w), int(lo_), int(t))
        # A batch with no decisive pair has no win rate: it says nothing, so it counts as a miss.
        misses += low is None or not (low <= true_rate <= high)
    assert misses <= MAX_MISSES, (n, mix, 1 - misses / TRIALS)
    # Not uselessly wide either: a [0, 1] interval would never miss.
    assert misses >= 0.005 * TRIALS, (n, mix, 1 - misses / TRIALS)


def test_transcript_keeps_tool_calls():
    text = transcript(
        [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "content": "balance 10", "tool_call_id": "c1"},
        ]
    )
    assert "lookup" in text and "balance 10" in text
