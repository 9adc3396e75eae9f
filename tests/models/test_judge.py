"""The pairwise judge's pure parts: parsing, order mapping, and its interval by simulation."""

from __future__ import annotations

import random

import pytest
from scipy.stats import binomtest

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


def test_win_rate_interval_coverage_by_simulation():
    rng = random.Random(7)
    true_p, covered, trials = 0.65, 0, 400
    for _ in range(trials):
        outs = [
            pair_outcome(
                str(i), ["rerun", "rerun"] if rng.random() < true_p else ["original", "original"]
            )
            for i in range(60)
        ]
        s = summarize(outs)
        covered += s.win_rate_low <= true_p <= s.win_rate_high
    assert 0.91 <= covered / trials <= 0.99


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
