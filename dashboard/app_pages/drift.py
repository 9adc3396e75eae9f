"""Drift & clusters: did users start asking something new, or did the model get worse on the same
questions? The map, the cluster table (share change and quality change per cluster), cluster
share over time, and a drill-down to a cluster's events and on to the playground.

Everything shown was computed by `reviewdeck analyze` (clusters, map) or is counting and tests
over it; the page never fits a model.
"""

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import cache, charts_drift, dataset_links, nav, queue_links
from dashboard.filters_ui import current_filter, should_seed, sync_url
from dashboard.queries import drift as q
from dashboard.safe_text import md_escape
from models.drift.statistics import Window, WindowError, default_windows, parse_window

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

# The windows live in the URL (?ref=A..B&cur=C..D) so a view can be shared and survives a
# reload; the widgets are seeded from it when it changes (a followed link) or on a new session.
URL_KEYS = ("ref", "cur")
WIDGETS = {"ref": ("drift_reference", ref_default), "cur": ("drift_current", cur_default)}
if should_seed("drift", URL_KEYS, [w for w, _ in WIDGETS.values()]):
    for url_key, (widget, fallback) in WIDGETS.items():
        try:
            w = parse_window(st.query_params.get(url_key) or str(fallback))
        except WindowError:
            st.warning(f"Ignored the {url_key} window in the link; showing the default.")
            w = fallback
        st.session_state[widget] = (w.start, w.end)

c1, c2, c3 = st.columns([2, 2, 1])
ref_pick = c1.date_input("Reference window", key="drift_reference")
cur_pick = c2.date_input("Current window", key="drift_current")
alpha = float(c3.selectbox("Significance", ["0.05", "0.01", "0.1"], key="drift_alpha"))


def _window(pick: object, fallback: Window) -> Window:
    if isinstance(pick, tuple) and len(pick) == 2:
        return Window(pick[0], pick[1])
    if isinstance(pick, tuple) and len(pick) == 1:
        return Window(pick[0], pick[0])
    return fallback


reference = _window(ref_pick, ref_default)
current = _window(cur_pick, cur_default)
sync_url("drift", URL_KEYS, {"ref": [str(reference)], "cur": [str(current)]})

report = cache.query(q.drift_report, reference, current, alpha)
o = report.overall
nov = report.novelty
statuses = [c.shift.status for c in report.clusters]
m0, m1, m2, m3, m4 = st.columns(5)
m0.metric(
    "Drift found",
    "yes" if report.drifted else "no",
    help="Any of the three tests rejects: the novelty test at 70% of the significance level, "
    "the per-cluster share tests at 20% and the overall MMD test at 10%, so the verdict "
    "as a whole keeps the level (at most that share of false alarms on unchanged traffic).",
)
m1.metric(
    "New topics",
    len(report.new_topics),
    help="Groups of current events whose nearest neighbours (among both windows) are mostly "
    "current: territory the reference did not cover. Calibrated by permuting window labels."
    + (
        ""
        if nov is None or nov.p_value != nov.p_value
        else f" Novelty test: {nov.statistic:.0f} events in new territory against "
        f"{nov.expected:.1f} by chance, p = {nov.p_value:.3g} ({nov.n_reference:,} reference"
        f" vs {nov.n_current:,} current events sampled, k = {nov.k})."
    ),
)
m2.metric(
    "Overall drift (MMD)",
    "drift" if o.drifted else "no drift",
    help=f"Kernel two-sample test (MMD, {o.method}) on up to 1,000 sampled events per "
    "window, p-value from 200 label permutations. "
    + ("" if o.p_value != o.p_value else f"p = {o.p_value:.3g}; ")
    + f"{o.n_reference:,} reference vs {o.n_current:,} current events sampled.",
)
m3.metric("New / growing clusters", statuses.count("new") + statuses.count("growing"))
m4.metric("Shrinking / vanished", statuses.count("shrinking") + statuses.count("vanished"))
text_kind = {"input": "inputs", "output": "outputs", "input+output": "inputs and outputs"}
st.caption(
    f"Comparing the {text_kind.get(run['field'], run['field'])} of {current} against "
    f"{reference}. Analysis run #{run['run_id']} ({run['mode']}, {run['n_events']:,} events, "
    f"{run['n_clusters']} clusters, embedder `{run['embedder_id']}`). "
    "Per-cluster share changes: Fisher's exact test, Benjamini-Hochberg across clusters."
)

st.subheader("New topics in the current window")
if not report.new_topics:
    st.info(
        "No new topics: no group of current events sits where the reference window had "
        "nothing"
        + ("" if nov is None or nov.p_value != nov.p_value else f" (novelty p = {nov.p_value:.3g})")
        + ". Growing or shrinking clusters, if any, are in the Clusters tab.",
        icon=":material/check_circle:",
    )
for topic in report.new_topics:
    with st.container(border=True):
        qual = topic.quality
        st.markdown(
            f"**New topic {topic.topic_id}: {md_escape(topic.label)}** · "
            f"{topic.n_events:,} sampled events ({topic.share:.1%} of the sampled window, "
            f"~{topic.estimated_events:,} events) · mostly in cluster #{topic.cluster_id} "
            f"({topic.cluster_share:.0%} of its events)"
        )
        st.text("Keywords: " + ", ".join(topic.keywords))
        t1, t2 = st.columns([3, 2])
        with t1:
            for example in topic.examples:
                st.text(example)
        with t2:
            up = qual.get("up_rate")
            neg = qual.get("negative_rate")
            judge = qual.get("judge_mean")
            st.text(
                f"Thumbs-up: {'n/a' if up is None else f'{up:.0%}'} of {qual['n_votes']} "
                f"vote{'' if qual['n_votes'] == 1 else 's'}"
                + ("" if up is None else f" (95% {qual['up_lo']:.0%}–{qual['up_hi']:.0%})")
                + f"\nNegative signals: {'n/a' if neg is None else f'{neg:.0%}'} of "
                f"{qual['n']} events\nJudge score: "
                + ("no judge scores" if judge is None else f"{judge:.2f} ({qual['n_judged']})")
            )
        l1, l2, l3 = st.columns(3)
        with l3:
            queue_links.link_to_queue(
                "new_topic", event_ids=topic.event_ids,
                label=f"new topic {topic.topic_id}: {topic.label}",
                text="Review a sample of this new topic",
            )
            dataset_links.link_to_dataset(
                "new_topic", event_ids=topic.event_ids,
                label=f"new topic {topic.topic_id}: {topic.label}",
                text="Save this new topic as a dataset",
            )
        with l1:
            if topic.cluster_id is not None:
                nav.link_to_explorer(
                    flt.with_(cluster_id=topic.cluster_id, start=current.start, end=current.end),
                    f"Explorer: cluster #{topic.cluster_id} in the current window",
                )
        with l2:
            st.page_link(
                nav.page_file(nav.PLAYGROUND),
                label="Reopen its most typical event in the playground",
                icon=":material/science:",
                query_params=nav.playground_params(
                    topic.event_ids[0],  # ordered most typical first
                    flt.with_(cluster_id=topic.cluster_id) if topic.cluster_id is not None else flt,
                ),
            )
        # A toggle, not an expander: an expander mounts its table even while closed, and ten
        # of them cost the browser more than the rest of the page (warm load bar 1.5 s).
        if st.toggle(
            f"Show all {topic.n_events:,} events named new", key=f"drift_topic_{topic.topic_id}"
        ):
            st.dataframe(
                cache.query(q.events_by_id, tuple(topic.event_ids)),
                hide_index=True,
                width="stretch",
                key=f"drift_topic_{topic.topic_id}_events",
            )

tab_map, tab_table, tab_time = st.tabs(["Map", "Clusters", "Share over time"])

with tab_map:
    color_by = st.radio("Colour by", list(q.COLOR_BY), horizontal=True, key="drift_color")
    points = cache.query(q.map_points, flt, color_by, reference, current)
    # The map holds a sample of the events (models/drift/projection.py), so a narrow filter can
    # match events of which none is on it: say so rather than suggest there are none.
    if points.height == 0:
        st.info(
            "No event that matches the filters in the sidebar is on the map, which holds a "
            "sample of the events (stratified by week and cluster, at least 20 of each); widen "
            "the filters, or use the Clusters tab and the drill-down, which count every event."
        )
    else:
        st.altair_chart(charts_drift.map_chart(points, color_by), width="stretch")
        st.caption(
            f"{points.height:,} events (a sample stratified by week and cluster, fitted "
            "with UMAP by `reviewdeck analyze`; events analysed since are sampled at the same "
            "rate and placed beside their nearest fitted neighbours). Events without a point "
            "still count in the cluster table and share over time. Hover a point to read its "
            "input."
        )

table = q.cluster_table(report, cache.query(q.quality_by_cluster, reference, current, alpha, flt))
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

in_window = flt.with_(
    cluster_id=cluster_id,
    start=max(current.start, flt.start) if flt.start else current.start,
    end=min(current.end, flt.end) if flt.end else current.end,
)
nav.link_to_explorer(
    in_window, f"Open the events of cluster #{cluster_id} in the current window in the explorer"
)
nav.link_to_explorer(
    flt.with_(cluster_id=cluster_id), f"Open all events of cluster #{cluster_id} in the explorer"
)
queue_links.link_to_queue(
    "cluster", flt=in_window, label=f"cluster #{cluster_id}",
    text=f"Review a sample of cluster #{cluster_id} in the current window",
)
dataset_links.link_to_dataset(
    "cluster", flt=in_window, label=f"cluster-{cluster_id}",
    text=f"Save cluster #{cluster_id} in the current window as a dataset",
)
st.caption(f"Latest events of cluster #{cluster_id} in the current window ({current}).")
events = cache.query(q.cluster_events, cluster_id, in_window)
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
