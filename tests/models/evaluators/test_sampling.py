"""The deterministic sample: same events every time, raising the rate only adds, groups share."""

from __future__ import annotations

from models.evaluators import sampling

IDS = [f"evt-{i}" for i in range(20_000)]


def test_same_sample_every_time_and_about_the_rate() -> None:
    a = sampling.sample(IDS, "helpful", 0.1)
    assert a == sampling.sample(IDS, "helpful", 0.1)
    assert 1800 < len(a) < 2200  # 0.1 of 20k, ± about 5 sd
    # a different key draws a different sample of the same size
    b = sampling.sample(IDS, "other", 0.1)
    assert len(set(a) & set(b)) < 400


def test_raising_the_rate_keeps_every_sampled_event() -> None:
    low = set(sampling.sample(IDS, "helpful", 0.05))
    high = set(sampling.sample(IDS, "helpful", 0.2))
    assert low < high
    assert set(sampling.sample(IDS, "helpful", 1.0)) == set(IDS)
    assert sampling.sample(IDS, "helpful", 0.0) == []


def test_position_is_pinned() -> None:
    # the sample must not change between versions or machines (sha256 of key NUL id)
    assert sampling.position("evt-1", "helpful") == 0.08486987749519408
    assert sampling.position("evt-2", "helpful") == 0.6533884397519957
    assert sampling.in_sample("evt-1", "helpful", 0.1)
    assert not sampling.in_sample("evt-2", "helpful", 0.6)
