"""Overview: how much traffic, which models and prompt versions, how many errors, what it cost."""

import streamlit as st

from dashboard import cache, charts, nav
from dashboard.filters_ui import current_filter
from dashboard.queries import common, overview


def _compact(n: int) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n:,}"


st.title("Overview")

if cache.query(common.filter_choices).min_day is None:
    st.info(
        "The warehouse has no LLM events yet. Run `reviewdeck demo` to load a realistic demo "
        "log, or `reviewdeck ingest YOUR_LOGS.jsonl` to load your own.",
        icon=":material/inbox:",
    )
    st.stop()

flt = current_filter()
data = cache.query(overview.overview_data, flt)
tot = data.totals
if tot.events == 0:
    st.info(
        "No events match the filters in the sidebar. Widen the date range or press "
        "**Clear filters**.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

st.caption(f"{tot.first_ts:%Y-%m-%d %H:%M} – {tot.last_ts:%Y-%m-%d %H:%M} UTC · LLM calls")
c1, c2, c3, c4, c5 = st.columns(5)
c1.metric("Events", f"{tot.events:,}")
c2.metric("Error rate", f"{tot.error_rate:.2%}", help=f"{tot.errors:,} of {tot.events:,} events")
c3.metric("Cost", f"${tot.cost_usd:,.2f}")
c4.metric(
    "Tokens",
    _compact(tot.tokens_in + tot.tokens_out),
    help=f"{tot.tokens_in:,} in, {tot.tokens_out:,} out",
)
c5.metric(
    "Latency p50",
    "–" if tot.latency_p50_ms is None else f"{tot.latency_p50_ms / 1000:.2f} s",
    help=None if tot.latency_p95_ms is None else f"p95 {tot.latency_p95_ms / 1000:.2f} s",
)
if tot.errors:
    nav.link_to_explorer(
        flt.with_(status="error"),
        f"Open the {tot.errors:,} errors in the explorer",
        key="overview_errors_link",
    )

left, right = st.columns(2)
with left:
    st.subheader("Volume per day")
    st.altair_chart(charts.volume_by_model(data.daily_by_model), width="stretch")
with right:
    st.subheader("Error rate per day")
    st.altair_chart(charts.error_rate(data.daily), width="stretch")

st.subheader("Cost per day")
st.altair_chart(charts.cost_per_day(data.daily), width="stretch")

_in_use_columns = {
    "events": st.column_config.NumberColumn("events", format="localized"),
    "share": st.column_config.ProgressColumn("share", format="percent", min_value=0, max_value=1),
    "error_rate": st.column_config.NumberColumn("error rate", format="percent"),
    "cost_usd": st.column_config.NumberColumn("cost", format="dollar"),
    "latency_p50_ms": st.column_config.NumberColumn("latency p50 (ms)", format="%.0f"),
    "first_seen": st.column_config.DatetimeColumn("first seen", format="YYYY-MM-DD HH:mm"),
    "last_seen": st.column_config.DatetimeColumn("last seen", format="YYYY-MM-DD HH:mm"),
}
st.subheader("Models in use")
st.dataframe(
    data.models,
    hide_index=True,
    column_config=_in_use_columns,
    key="overview_models",
)
st.subheader("Prompt versions in use")
st.dataframe(
    data.prompts,
    hide_index=True,
    column_config=_in_use_columns,
    key="overview_prompts",
)
