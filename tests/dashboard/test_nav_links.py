"""The playground's address carries the filter a reviewer came from (dashboard.nav)."""

from __future__ import annotations

import datetime as dt

from dashboard import nav
from models.filters import EventFilter, from_query


def test_playground_link_carries_the_whole_filter():
    flt = EventFilter(
        start=dt.date(2026, 11, 9),
        end=dt.date(2026, 11, 15),
        models=("gpt-4o",),
        tags=("topic:billing",),
        feedback="thumbs_down",
        text="refund",
        status="ok",
    )
    params = nav.playground_params("ev1", flt)
    assert params.pop("event") == ["ev1"]
    assert from_query(params) == flt  # the playground rebuilds exactly this filter


def test_a_filter_of_sidebar_keys_only_still_marks_the_link():
    params = nav.playground_params("ev1", EventFilter(models=("gpt-4o",)))
    assert params == {"event": ["ev1"], "model": ["gpt-4o"], "reruns": ["exclude"]}
    assert next(iter(params)) == "event"  # the address reads ?event=…&…
    assert set(params) - {"event", "model"} <= set(nav.PAGE_FILTER_KEYS)


def test_without_a_filter_only_the_event():
    assert nav.playground_params("ev1") == {"event": ["ev1"]}
