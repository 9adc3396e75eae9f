"""The shared filters in the sidebar, kept in the URL query string.

The filter read from the URL is the source of truth: a pasted link or a reload reopens the same
view, and any widget change is written back to the URL at once. Pages read the result with
`current_filter()` and never parse the URL themselves.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import cache
from dashboard.queries import common
from models.filters import EventFilter, FilterError, from_query

_STATE_KEY = "shared_filter"
# Query-string keys the sidebar owns; pages may add their own keys (e.g. event, split).
SHARED_KEYS = ("start", "end", "model", "prompt_version", "tag", "environment")


def _from_url() -> EventFilter:
    pairs = {k: st.query_params.get_all(k) for k in SHARED_KEYS if k in st.query_params}
    try:
        return from_query(pairs)
    except FilterError as exc:
        st.sidebar.warning(f"Ignored a filter in the link: {exc}")
        return EventFilter()


def _write_url(flt: EventFilter) -> None:
    wanted = {k: v for k, v in flt.to_query().items() if k in SHARED_KEYS}
    for key in SHARED_KEYS:
        if key in wanted:
            if st.query_params.get_all(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]


def sidebar_filter() -> EventFilter:
    """Draw the shared filters; called once per run by app.py before the page runs."""
    url_flt = _from_url()
    choices = cache.query(common.filter_choices)
    lo, hi = choices.min_day, choices.max_day
    st.sidebar.header("Filters")
    if lo is None:
        flt = url_flt
    else:
        default = (url_flt.start or lo, url_flt.end or hi)
        picked = st.sidebar.date_input(
            "Date range (UTC)", value=default, min_value=min(lo, default[0]),
            max_value=max(hi, default[1]), key="filter_dates",
        )
        start, end = (picked + (picked[0],))[:2] if isinstance(picked, tuple) else (picked, picked)
        flt = url_flt.with_(
            start=None if start == lo else start,
            end=None if end == hi else end,
        )
    flt = flt.with_(
        models=tuple(st.sidebar.multiselect(
            "Model", choices.models, default=[m for m in url_flt.models if m in choices.models]
            , key="filter_models")),
        prompt_versions=tuple(st.sidebar.multiselect(
            "Prompt version", choices.prompt_versions,
            default=[p for p in url_flt.prompt_versions if p in choices.prompt_versions],
            key="filter_prompts")),
        tags=tuple(st.sidebar.multiselect(
            "Tag", choices.tags, default=[t for t in url_flt.tags if t in choices.tags],
            key="filter_tags")),
        environments=tuple(st.sidebar.multiselect(
            "Environment", choices.environments,
            default=[e for e in url_flt.environments if e in choices.environments],
            key="filter_envs")),
    )
    _write_url(flt)
    st.session_state[_STATE_KEY] = flt
    return flt


def current_filter() -> EventFilter:
    """The shared filter of this run (date range, model, prompt version, tag, environment)."""
    flt = st.session_state.get(_STATE_KEY)
    return flt if isinstance(flt, EventFilter) else _from_url()


def date_bounds() -> tuple[dt.date | None, dt.date | None]:
    choices = cache.query(common.filter_choices)
    return choices.min_day, choices.max_day
