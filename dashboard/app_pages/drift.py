"""Drift & clusters: did users start asking something new, or did the model get worse on the same
questions? The map, the cluster table (share change and quality change per cluster), cluster
share over time, and a drill-down to a cluster's events and on to the playground.

Everything shown was computed by `reviewdeck analyze` (clusters, map) or is counting and tests
over it; the page never fits a model.
"""

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import cache, charts_drift, nav
from dashboard.filters_ui import current_filter
from dashboard.queries import drift as q
from models.drift.statistics import Window, default_windows

st.title("Drift & clusters")

if not cache.query(q.has_analysis):
    st.info(
        "No clusters yet. Run `reviewdeck analyze` (or `reviewdeck ingest FILE --analyze`) to "
        "embed and cluster the events; this page then shows the map and the drift table.",
        icon=":material/bubble_chart:",
    )
    st.stop()

flt = current_filter()
run = cache.query(q.last_run)
if run["current_start"] is not None:
    ref_default = Window(run["reference_start"], run["reference_end"])
    cur_default = Window(run["current_start"], run["current_end"])
else:
    ref_default, cur_default = default_windows(dt.datetime.now(dt.UTC).date())

c1, c2, c3 = st.columns([2, 2, 1])
ref_pick = c1.date_input(
    "Reference window", value=(ref_default.start, ref_default.end), key="drift_reference"
)
cur_pick = c2.date_input(
    "Current window", value=(cur_default.start, cur_default.end), key="drift_current"
)
alpha = float(c3.selectbox("Significance", ["0.05", "0.01", "0.1"], key="drift_alpha"))


def _window(pick: object, fallback: Window) -> Window:
    if isinstance(pick, tuple) and len(pick) == 2:
        return Window(pick[0], pick[1])
    if isinstance(pick, tuple) and len(pick) == 1:
        return Window(pick[0], pick[0])
    return fallback


reference = _window(ref_pick, ref_default)
current = _window(cur_pick, cur_default)

report = cache.query(q.drift_report, reference, current, alpha)
o = report.overall
statuses = [c.shift.status for c in report.clusters]
m1, m2, m3, m4 = st.columns(4)
m1.metric(
    "Overall drift",
    "drift" if o.drifted else "no drift",
    help=f"Kernel two-sample test (MMD, {o.method}) on up to 1,000 sampled events per "
    "window, p-value from 200 label permutations. It and the per-cluster tests "
    "each run at half the significance level, so the verdict as a whole keeps it.",
)
m2.metric(
    "p-value (overall)",
    "n/a" if o.p_value != o.p_value else f"{o.p_value:.3g}",
    help=f"{o.n_reference:,} reference vs {o.n_current:,} current events sampled",
)
m3.metric("New / growing clusters", statuses.count("new") + statuses.count("growing"))
m4.metric("Shrinking / vanished", statuses.count("shrinking") + statuses.count("vanished"))
st.caption(
    f"Analysis run #{run['run_id']} ({run['mode']}, {run['n_events']:,} events, "
    f"{run['n_clusters']} clusters, embedder `{run['embedder_id']}`, text: {run['field']}). "
    "Per-cluster share changes: Fisher's exact test, Benjamini-Hochberg across clusters."
)

tab_map, tab_table, tab_time = st.tabs(["Map", "Clusters", "Share over time"])

with tab_map:
    color_by = st.radio("Colour by", list(q.COLOR_BY), horizontal=True, key="drift_color")
    points = cache.query(q.map_points, flt, color_by, reference, current)
    if points.height == 0:
        st.info("No mapped events match the filters in the sidebar; widen them.")
    else:
        st.altair_chart(charts_drift.map_chart(points, color_by), width="stretch")
        st.caption(
            f"{points.height:,} events (a sample stratified by week and cluster, fitted "
            "with UMAP by `reviewdeck analyze`). Hover a point to read its input."
        )

table = cache.query(q.cluster_table, reference, current, alpha, flt)
labels = dict(zip(table["cluster_id"].to_list(), table["label"].to_list(), strict=True))
with tab_table:
    sort_by = st.radio(
        "Sort by", ["drift", "quality drop", "size now"], horizontal=True, key="drift_sort"
    )
    if sort_by == "drift":
        table = table.sort(
            [pl.col("status") == "stable", "share_p_adj", pl.col("share_change").abs()],
            descending=[False, False, True],
            nulls_last=True,
        )
    elif sort_by == "quality drop":
        table = table.sort("quality_drop", descending=True, nulls_last=True)
    else:
        table = table.sort("n_current", descending=True)
    shown = table.select(
        "cluster_id",
        "label",
        "status",
        "share_reference",
        "share_current",
        "share_p_adj",
        "n_reference",
        "n_current",
        "up_rate_reference",
        "up_rate_current",
        "quality_drop",
        "up_q",
        "negative_rate_reference",
        "negative_rate_current",
        "judge_reference",
        "judge_current",
        "keywords",
        "example",
    ).with_columns(
        (pl.col(c) * 100).round(1)
        for c in (
            "share_reference",
            "share_current",
            "up_rate_reference",
            "up_rate_current",
            "quality_drop",
            "negative_rate_reference",
            "negative_rate_current",
        )
    )
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        key="drift_table",
        column_config={
            "cluster_id": "Cluster",
            "label": "Label",
            "status": "Status",
            "share_reference": st.column_config.NumberColumn("Share ref %"),
            "share_current": st.column_config.NumberColumn("Share now %"),
            "share_p_adj": st.column_config.NumberColumn("Share p (BH)", format="%.3g"),
            "up_rate_reference": st.column_config.NumberColumn("Thumbs-up ref %"),
            "up_rate_current": st.column_config.NumberColumn("Thumbs-up now %"),
            "quality_drop": st.column_config.NumberColumn(
                "Quality drop (pts)", help="Fall in thumbs-up rate, reference → current"
            ),
            "up_q": st.column_config.NumberColumn("Drop p (BH)", format="%.3g"),
            "negative_rate_reference": st.column_config.NumberColumn("Negative ref %"),
            "negative_rate_current": st.column_config.NumberColumn("Negative now %"),
            "judge_reference": st.column_config.NumberColumn("Judge ref", format="%.2f"),
            "judge_current": st.column_config.NumberColumn("Judge now", format="%.2f"),
        },
    )
    st.caption(
        "Rates with few votes are noisy: the drop's p-value is Fisher's exact test "
        "(no verdict under 30 votes a side), adjusted across clusters."
    )

with tab_time:
    shares = cache.query(q.share_over_time, flt)
    flagged = table.filter(pl.col("status") != "stable")["cluster_id"].to_list()[:8]
    picked = st.multiselect(
        "Clusters",
        table["cluster_id"].to_list(),
        default=flagged or table["cluster_id"].to_list()[:5],
        key="drift_share_clusters",
        format_func=lambda c: f"#{c} {labels.get(c)}",
    )
    st.altair_chart(charts_drift.share_chart(shares, picked), width="stretch")

st.subheader("Cluster drill-down")
cluster_id = st.selectbox(
    "Cluster", list(labels), key="drift_cluster", format_func=lambda c: f"#{c} {labels[c]}"
)
detail = cache.query(q.cluster_detail, cluster_id)
row = table.filter(pl.col("cluster_id") == cluster_id).row(0, named=True)
d1, d2 = st.columns([3, 2])
with d1:
    st.markdown(
        f"**Status:** {row['status']} · **share** {row['share_reference']:.1%} → "
        f"{row['share_current']:.1%} (n {row['n_reference']:,} → {row['n_current']:,})"
    )
    st.text("Keywords: " + ", ".join(detail["keywords"] or []))
    st.markdown("**Most representative inputs**")
    for example in detail["examples"] or []:
        st.text(example)
with d2:
    by_model = cache.query(q.cluster_quality_by_model, cluster_id, flt, reference, current)
    if by_model.filter(pl.col("n_votes") > 0).height:
        st.markdown("**Thumbs-up rate per model and window**")
        st.altair_chart(charts_drift.model_quality_chart(by_model), width="stretch")
    st.dataframe(
        by_model.select(
            "window",
            "model",
            "n",
            "n_votes",
            "up_rate",
            "up_lo",
            "up_hi",
            "negative_rate",
            "judge_mean",
            "error_rate",
            "cost_mean",
            "latency_mean",
        ),
        hide_index=True,
        width="stretch",
    )

nav.link_to_explorer(
    flt.with_(cluster_id=cluster_id), f"Open all events of cluster #{cluster_id} in the explorer"
)
events = cache.query(q.cluster_events, cluster_id, flt)
picked_events = st.dataframe(
    events,
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="drift_events",
)
rows = picked_events.selection.rows if picked_events is not None else []
if rows:
    event_id = events["event_id"][rows[0]]
    b1, b2 = st.columns(2)
    if b1.button("Open event", key="drift_open_event"):
        nav.open_explorer(flt.with_(cluster_id=cluster_id), event_id)
    if b2.button("Reopen in playground", key="drift_open_playground"):
        nav.open_playground(event_id)
else:
    st.caption("Select an event row to open it or reopen it in the playground.")
