"""The trends page's drill-down filters and table shaping (dashboard/trends_view.py)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard import trends_view as view
from models import stats
from models.filters import EventFilter, where_sql
from models.trends.core import HeadlineRow, Period

WEEK = Period("current", dt.date(2026, 10, 12), dt.date(2026, 10, 19))


def test_drill_filter_opens_the_numerator_events_of_the_week() -> None:
    base = EventFilter(models=("m",))
    neg = view.drill_filter(base, "negative", WEEK)
    assert (neg.start, neg.end) == (dt.date(2026, 10, 12), dt.date(2026, 10, 18))
    assert neg.feedback == "negative" and neg.models == ("m",)
    assert view.drill_filter(base, "error", WEEK).status == "error"
    assert view.drill_filter(base, "latency", WEEK).feedback is None
    judge = view.drill_filter(base, "score:llm_judge:helpfulness", WEEK)
    assert judge.feedback == "low_score"
    where_sql(neg)  # still a valid filter


def test_chart_point_filters_follow_the_split() -> None:
    base = EventFilter()
    day = view.bucket_period(dt.date(2026, 10, 14), "day")
    assert (day.start, day.last_day) == (dt.date(2026, 10, 14), dt.date(2026, 10, 14))
    assert view.bucket_period(dt.date(2026, 10, 12), "week").last_day == dt.date(2026, 10, 18)
    assert view.split_filter(base, "model", "gpt", None).models == ("gpt",)
    assert view.split_filter(base, "prompt_version", "v4", None).prompt_versions == ("v4",)
    assert view.split_filter(base, "tag", "topic:billing", None).tags == ("topic:billing",)
    assert view.split_filter(base, "environment", "prod", None).environments == ("prod",)
    assert view.split_filter(base, "cluster", "refunds", 7).cluster_id == 7
    assert view.split_filter(base, "tag", "(no tag)", None) == base
    assert view.split_filter(base, "user_segment", "new user", None) == base


def test_headline_table_says_too_little_data_and_formats_rates() -> None:
    est = stats.wilson(3, 10)
    cmp = stats.compare_proportions(3, 10, 1, 10)
    row = HeadlineRow(
        "negative", "Negative-signal rate", "rate", est, est, est, cmp, cmp, "down", 3
    )
    table = view.headline_table([row])
    assert table["this week"][0].startswith("30.0% [") and table["this week"][0].endswith("n=10")
    assert "too little data" in table["vs previous"][0]
    assert view.fmt_delta(cmp, True) == "+20.0 pp"


def test_moved_table_names_segments() -> None:
    frame = pl.DataFrame(
        {
            "dims": ["tag", "model × prompt version × tag", "cluster"],
            "model": [None, "m", None],
            "prompt_version": [None, "v4", None],
            "tag": ["topic:a", "topic:a", None],
            "cluster_label": [None, None, "refunds"],
            "verdict": ["worse"] * 3,
            "rate": [0.2] * 3,
            "n": [100] * 3,
            "rate_ref": [0.1] * 3,
            "n_ref": [100] * 3,
            "reference": ["same segment"] * 3,
            "delta": [0.1] * 3,
            "delta_lo": [0.01] * 3,
            "delta_hi": [0.2] * 3,
            "impact": [10.0] * 3,
            "q_value": [0.01] * 3,
        }
    )
    out = view.moved_table(frame)
    assert out["segment"].to_list() == ["topic:a", "m × v4 × topic:a", "cluster: refunds"]
    assert out["interval (pp)"][0] == "+1.0 … +20.0"


def test_top_splits_keeps_the_largest() -> None:
    series = pl.DataFrame(
        {"bucket": [1, 1, 1, 2], "split": ["a", "b", "c", "a"], "n": [5, 50, 20, 5]}
    )
    kept, total = view.top_splits(series, 2)
    assert total == 3 and set(kept["split"]) == {"b", "c"}
    assert view.top_splits(series.head(0), 2)[1] == 0
