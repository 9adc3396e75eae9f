"""The shared filters in the sidebar, kept in the URL query string.

The URL is what a reviewer shares: a pasted link or a reload reopens the same view, and every
widget change is written back to the URL at once. Widgets keep their own state between runs, so
the rule for who wins is explicit (see `should_seed`): the URL seeds the widgets when the session
starts and whenever the URL changed under us (a drill-down link, the browser's back button);
otherwise the widgets win and the URL follows them. Pages read the result with
`current_filter()` and never parse the URL themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import streamlit as st

from dashboard import cache
from dashboard.queries import common
from dashboard.safe_text import md_escape
from models.filters import EventFilter, FilterError, from_query

_STATE_KEY = "shared_filter"
# Query-string keys the sidebar owns; pages may add their own keys (e.g. event, split).
SHARED_KEYS = ("start", "end", "model", "prompt_version", "tag", "environment")
# (query key, widget key, EventFilter attribute, label) of the multiselects.
_MULTI = (
    ("model", "filter_models", "models", "Model"),
    ("prompt_version", "filter_prompts", "prompt_versions", "Prompt version"),
    ("tag", "filter_tags", "tags", "Tag"),
    ("environment", "filter_envs", "environments", "Environment"),
)
_DATES = "filter_dates"


def url_part(keys: Iterable[str]) -> dict[str, list[str]]:
    """The URL's query-string pairs for these keys (absent keys left out)."""
    return {k: st.query_params.get_all(k) for k in keys if k in st.query_params}


def should_seed(
    owner: str,
    keys: Iterable[str],
    widget_keys: Iterable[str],
    *,
    empty_url_keeps_state: bool = False,
) -> bool:
    """True when the widgets of `owner` must be (re)set from the URL in this run.

    That is when a widget has no state yet (new session, or the page was left and its widgets
    cleaned up), or when the URL differs from what this owner last wrote (someone followed a
    link). `empty_url_keeps_state` is for the sidebar: a page switch through the menu drops the
    query string, and that must not clear filters the reviewer set.
    """
    if any(k not in st.session_state for k in widget_keys):
        return True
    part = url_part(keys)
    if empty_url_keeps_state and not part:
        return False
    return part != st.session_state.get(f"_url_written_{owner}")


def sync_url(owner: str, keys: Iterable[str], wanted: dict[str, list[str]]) -> None:
    """Make the URL hold exactly `wanted` for these keys, and remember it as written by owner."""
    wanted = {k: v for k, v in wanted.items() if k in keys and v}
    for key in keys:
        if key in wanted:
            if st.query_params.get_all(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]
    st.session_state[f"_url_written_{owner}"] = wanted


def _from_url() -> EventFilter:
    try:
        return from_query(url_part(SHARED_KEYS))
    except FilterError as exc:
        st.sidebar.warning(f"Ignored a filter in the link: {md_escape(exc)}")
        return EventFilter()


def _clear(lo: dt.date | None, hi: dt.date | None) -> None:
    for _, widget, _, _ in _MULTI:
        st.session_state[widget] = []
    if lo is not None:
        st.session_state[_DATES] = (lo, hi)


def _follow_new_data(lo: dt.date | None, hi: dt.date | None) -> None:
    """Keep an open-ended date range open when new days arrive (a dashboard left open all day).

    The widget holds concrete dates; a range that ended on the last day with data must move to
    the new last day after an ingest, not silently become an explicit end date.
    """
    before = st.session_state.get("_filter_bounds")
    st.session_state["_filter_bounds"] = (lo, hi)
    picked = st.session_state.get(_DATES)
    if not before or before == (lo, hi) or lo is None or not picked:
        return
    start, end = picked[0], picked[-1]
    st.session_state[_DATES] = (
        lo if start == before[0] else start,
        hi if end == before[1] else end,
    )


def sidebar_filter() -> EventFilter:
    """Draw the shared filters; called once per run by app.py before the page runs."""
    choices = cache.query(common.filter_choices)
    lo, hi = choices.min_day, choices.max_day
    options = {
        "models": choices.models,
        "prompt_versions": choices.prompt_versions,
        "tags": choices.tags,
        "environments": choices.environments,
    }
    widget_keys = [w for _, w, _, _ in _MULTI] + ([_DATES] if lo is not None else [])
    url_flt = _from_url()
    if should_seed("sidebar", SHARED_KEYS, widget_keys, empty_url_keeps_state=True):
        for _, widget, attr, _ in _MULTI:
            st.session_state[widget] = list(getattr(url_flt, attr))
        if lo is not None:
            st.session_state[_DATES] = (url_flt.start or lo, url_flt.end or hi)

    _follow_new_data(lo, hi)

    st.sidebar.header("Filters")
    flt = EventFilter()
    if lo is not None:
        picked = st.session_state.get(_DATES) or (lo, hi)
        first, last = picked[0], picked[-1]
        picked = st.sidebar.date_input(
            "Date range (UTC)",
            min_value=min(lo, first),
            max_value=max(hi, last),
            key=_DATES,
        )
        # While a range is half picked the widget holds one date: treat it as a single day;
        # a cleared widget means all dates.
        picked = tuple(picked) if isinstance(picked, tuple | list) else (picked,)
        picked = tuple(d for d in picked if d is not None)
        start, end = (picked[0], picked[-1]) if picked else (lo, hi)
        flt = flt.with_(start=None if start == lo else start, end=None if end == hi else end)
    for _, widget, attr, label in _MULTI:
        # Values from a link that the data does not offer stay selectable, so the link's
        # filter is applied exactly rather than silently widened.
        offered = list(dict.fromkeys([*options[attr], *st.session_state.get(widget, [])]))
        picked = st.sidebar.multiselect(label, offered, key=widget)
        flt = flt.with_(**{attr: tuple(picked)})
    st.sidebar.button(
        "Clear filters",
        on_click=_clear,
        args=(lo, hi),
        key="filter_clear",
        icon=":material/filter_alt_off:",
    )

    sync_url("sidebar", SHARED_KEYS, flt.to_query())
    st.session_state[_STATE_KEY] = flt
    return flt


def current_filter() -> EventFilter:
    """The shared filter of this run (date range, model, prompt version, tag, environment)."""
    flt = st.session_state.get(_STATE_KEY)
    return flt if isinstance(flt, EventFilter) else _from_url()
