"""Feedback trends: did quality get better or worse this week, where, and is it real or noise?

Every rate and mean shows its n and 95% interval, a change is called only when its test says
so (with "too little data" under the minimum n), and every number opens the events behind it.
Page state lives in the URL under `trends_*` keys next to the shared filter.
"""

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import cache, charts_trends, nav, queue_links
from dashboard import trends_view as view
from dashboard.filters_ui import current_filter, should_seed, sync_url
from dashboard.queries import trends as q
from dashboard.safe_text import md_escape
from ingest.errors import ReviewdeckError
from ingest.load import derived
from models import stats
from models.trends import core as trends
from models.trends import moved as trends_moved

KEYS = (
    "trends_week",
    "trends_compare",
    "trends_alpha",
    "trends_metric",
    "trends_split",
    "trends_gran",
    "trends_moved",
    "trends_bstart",
    "trends_bend",
)
WIDGETS = tuple(f"{k}_w" for k in KEYS[:7])

st.title("Feedback trends")

if cache.query(q.is_stale):
    # A writer added events without refreshing the trend table (the loader always does), or
    # the warehouse predates it: a short write brings it up to date (migrating first).
    try:
        cache.write(derived.refresh)
    except ReviewdeckError as exc:
        st.error(f"The trend table is behind the events and could not be refreshed: {exc}")
        st.stop()

flt = current_filter()
weeks = cache.query(q.weeks, flt)
if not weeks:
    st.info(
        "No events match the filters in the sidebar (or the warehouse is empty). Widen the "
        "date range, clear filters, or run `reviewdeck demo` to load demo data.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

scores = cache.query(q.score_metrics)
metric_keys = list(trends.METRICS) + scores
rate_keys = list(trends.RATES)
splits = cache.query(q.split_options)
week_names = [w.isoformat() for w in weeks]
# The page opens on the last complete week: on a Tuesday the newest week holds a day and a half.
partial = {w.isoformat(): note for w, note in cache.query(q.partial_weeks).items()}
default_week = next((w for w in week_names if w not in partial), week_names[0])

if should_seed("trends", KEYS, WIDGETS):
    st.session_state["trends_week_w"] = view.url_choice("trends_week", week_names, default_week)
    st.session_state["trends_compare_w"] = view.url_choice(
        "trends_compare", list(view.COMPARES), "previous"
    )
    st.session_state["trends_alpha_w"] = view.url_choice(
        "trends_alpha", [str(a) for a in view.ALPHAS], "0.05"
    )
    st.session_state["trends_metric_w"] = view.url_choice("trends_metric", metric_keys, "negative")
    st.session_state["trends_split_w"] = view.url_choice("trends_split", splits, "none")
    st.session_state["trends_gran_w"] = view.url_choice("trends_gran", ["week", "day"], "week")
    st.session_state["trends_moved_w"] = view.url_choice("trends_moved", rate_keys, "negative")

# Options shrink when the shared filter changes; a remembered choice outside them resets.
for widget, options, default in (
    ("trends_week_w", week_names, default_week),
    ("trends_metric_w", metric_keys, "negative"),
    ("trends_split_w", splits, "none"),
):
    if st.session_state.get(widget) not in options:
        st.session_state[widget] = default

c1, c2, c3 = st.columns([2, 2, 1])
week_name = c1.selectbox(
    "Week (Monday, UTC)",
    week_names,
    key="trends_week_w",
    format_func=lambda w: (
        f"Week of {w} ({dt.date.fromisoformat(w).isocalendar()[1]:02d})"
        + (f" — {partial[w]}" if w in partial else "")
    ),
)
compare = c2.radio(
    "Compare with",
    list(view.COMPARES),
    key="trends_compare_w",
    format_func=view.COMPARES.get,
    horizontal=True,
)
alpha = float(
    c3.selectbox(
        "Significance level",
        [str(a) for a in view.ALPHAS],
        key="trends_alpha_w",
        help="A change is called only when its test's p-value is below this.",
    )
)
week = dt.date.fromisoformat(week_name)
default_base = (week - dt.timedelta(days=28), week - dt.timedelta(days=1))
b_lo, b_hi = view.url_date("trends_bstart"), view.url_date("trends_bend")
baseline = (b_lo, b_hi) if b_lo and b_hi and b_lo <= b_hi < week else default_base
if compare == "baseline":
    picked = st.date_input(
        "Baseline range (UTC days, before the week)",
        value=baseline,
        max_value=week - dt.timedelta(days=1),
        key="trends_base_w",
    )
    if isinstance(picked, tuple) and len(picked) == 2:
        baseline = picked
current, previous, base_period = q.periods(week, baseline)
reference = previous if compare == "previous" else base_period

rows, raw = cache.query(q.headline, flt, week, baseline, alpha)
by_key = {r.key: r for r in rows}
cur_raw = raw.get("current", {})
note = partial.get(week_name, "")
# Every number of a partial week says so: the tiles, the tables' "this week" columns, the caption.
this_week = f"this week ({note})" if note else "this week"
# Without any feedback on a period's events, the rates made of feedback are unmeasured, not 0%.
no_feedback = view.periods_without_feedback(raw)
unmeasured = trends.FEEDBACK_KEYS if "current" in no_feedback else frozenset()


def _tile(col, key: str, short: str) -> None:
    row = by_key[key]
    label = f"{short} (partial)" if note else short
    if key in unmeasured:
        col.metric(label, "–", help=view.NO_FEEDBACK_HELP)
        col.caption(f"{view.NO_FEEDBACK}: not measurable")
        return
    if key in trends.FEEDBACK_KEYS and reference.name in no_feedback:
        # Feedback started (or stopped) between the periods: a change would be an artefact.
        col.metric(label, view.fmt_value(row.current.value, row.kind == "rate", key))
        col.caption(f"{view.NO_FEEDBACK} in {view.COMPARES[compare]}: no comparison")
        return
    is_rate = row.kind == "rate"
    cmp = row.vs_previous if compare == "previous" else row.vs_baseline
    colour = "off"
    if cmp.significant and row.better is not None:
        colour = "normal" if row.better == trends.BETTER_UP else "inverse"
    col.metric(
        label,
        view.fmt_value(row.current.value, is_rate, key),
        delta=view.fmt_delta(cmp, is_rate, key),
        delta_color=colour,
        help=f"{view.fmt_estimate(row.current, is_rate, key)} "
        f"({1 - alpha:.0%} interval, this week)",
    )
    col.caption(view.fmt_verdict(row, compare))
    flt_cur = view.drill_filter(flt, key, current)
    narrowed = flt_cur.feedback is not None or flt_cur.status is not None
    count = (row.x_current or 0) if narrowed else row.current.n
    with col:
        nav.link_to_explorer(flt_cur, f"{count:,} events", key=f"trends_link_{key}")


st.subheader(f"Week of {week:%b %d, %Y}{f' ({note})' if note else ''} vs {view.COMPARES[compare]}")
if note:
    st.warning(
        f"This week is {note}: every number below counts only those days, against a whole "
        f"week. Volumes are not comparable; rates are, with wider intervals. The last complete "
        f"week is {default_week}.",
        icon=":material/date_range:",
    )
if unmeasured:
    st.info(
        f"No feedback logged on this week's events. {view.NO_FEEDBACK_HELP}",
        icon=":material/feedback:",
    )
tiles = st.columns(5)
_tile(tiles[0], "thumbs_up", "Thumbs-up rate")
_tile(tiles[1], "negative", "Negative-signal rate")
_tile(tiles[2], "error", "Error rate")
_tile(tiles[3], "coverage", "Feedback coverage")
with tiles[4]:
    events = int(cur_raw.get("events") or 0)
    ref_events = int(raw.get(reference.name, {}).get("events") or 0)
    # A baseline of several weeks is compared per week.
    ref_events = round(ref_events * 7 / max((reference.end - reference.start).days, 1))
    st.metric(
        "Events (partial)" if note else "Events",
        f"{events:,}",
        delta=f"{events - ref_events:+,}",
        delta_color="off",
        help="Change against the previous week, or the baseline's weekly average.",
    )
    p50, p95 = cur_raw.get("latency_p50"), cur_raw.get("latency_p95")
    st.caption(
        f"latency p50 {view.fmt_value(p50, False, 'latency')} · "
        f"p95 {view.fmt_value(p95, False, 'latency')} · "
        f"cost ${cur_raw.get('cost_total') or 0:,.2f}"
    )
    nav.link_to_explorer(
        flt.with_(start=current.start, end=current.last_day),
        "all events of the week",
        key="trends_link_all",
    )
if events < stats.MIN_N:
    st.warning(
        f"Only {events} events this week: intervals are wide and no change is called "
        f"below {stats.MIN_N} per side.",
        icon=":material/warning:",
    )

with st.expander("Every metric, with intervals and tests", expanded=False):
    st.caption(
        f"Rates: Wilson {1 - alpha:.0%} intervals, change tested with Fisher's exact test. "
        "Means: Student-t "
        f"intervals, Welch's t-test. No verdict under {stats.MIN_N} on either side. Select a "
        "row to open its events."
    )
    picked = st.dataframe(
        view.headline_table(rows, this_week, no_feedback),
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="trends_headline_table",
    )
    if picked.selection.rows:
        nav.open_explorer(view.drill_filter(flt, rows[picked.selection.rows[0]].key, current))

# ---- trend chart -------------------------------------------------------------------------
st.subheader("Trend")
c1, c2, c3 = st.columns([2, 2, 1])
metric_key = c1.selectbox(
    "Metric", metric_keys, key="trends_metric_w", format_func=lambda k: trends.metric(k).label
)
split = c2.selectbox(
    "Split by", splits, key="trends_split_w", format_func=lambda k: trends.SPLITS[k][0]
)
gran = c3.radio("Bucket", ["week", "day"], key="trends_gran_w", horizontal=True)
m = trends.metric(metric_key)
series = cache.query(q.series, flt, metric_key, gran, split, alpha)
markers = cache.query(q.markers, flt)
shown_series, n_splits = view.top_splits(series, view.MAX_LINES)
no_feedback_at_all = metric_key in trends.FEEDBACK_KEYS and not cache.query(q.feedback_rows, flt)
if no_feedback_at_all:
    # A flat line at 0% would read as a perfect record.
    st.info(
        f"{m.label}: no feedback logged on any event under these filters. {view.NO_FEEDBACK_HELP}",
        icon=":material/feedback:",
    )
elif series.is_empty():
    st.info("No data for this metric under the filters.")
else:
    if n_splits > view.MAX_LINES:
        st.caption(
            f"Showing the {view.MAX_LINES} largest of {n_splits} values; narrow the "
            "shared filters in the sidebar to see the others."
        )
    series = shown_series
    chart = charts_trends.trend_chart(
        series, markers, metric_label=m.label, is_rate=m.kind == "rate", granularity=gran
    )
    event = st.altair_chart(chart, on_select="rerun", key="trends_chart", width="stretch")
    thin = int(series["thin"].sum())
    st.caption(
        f"Bands and bars: {int((1 - alpha) * 100)}% intervals. "
        + (
            f"{thin} thin buckets (under {stats.MIN_N}) drawn as hollow triangles, no band. "
            if thin
            else ""
        )
        + "Dashed lines: a model or prompt version first appears. Click a point to open "
        "its events."
    )
    points = (event.selection or {}).get(charts_trends.POINT_SELECTION) or []
    if points:
        point = points[0]
        bucket = (
            dt.date.fromisoformat(str(point["bucket"])[:10])
            if isinstance(point.get("bucket"), str)
            else dt.datetime.fromtimestamp(point["bucket"] / 1000, dt.UTC).date()
        )
        match = series.filter((pl.col("bucket") == bucket) & (pl.col("split") == point["split"]))
        split_id = match["split_id"][0] if not match.is_empty() else None
        target = view.split_filter(
            view.drill_filter(flt, metric_key, view.bucket_period(bucket, gran)),
            split,
            point["split"],
            split_id,
        )
        nav.open_explorer(target)

# ---- judge-corrected rates ---------------------------------------------------------------
corrected = cache.query(q.corrected_rates, week)
if not corrected.is_empty():
    st.subheader("Judge-corrected fail rates")
    st.caption(
        "For each pass/fail evaluator (latest version) that scored this week's events: its raw "
        "fail rate, the rate among the events humans labelled (Wilson), and the two combined by "
        "prediction-powered inference (PPI), which stays valid when the judge is biased as "
        "long as the labelled events are a random sample of the judged ones. n = events judged "
        "and labelled this week; the sidebar filters do not apply. See the Evaluators page."
    )
    st.dataframe(
        corrected.drop("note"),
        hide_index=True,
        key="trends_corrected",
        column_config={
            k: st.column_config.NumberColumn(format="percent")
            for k in ("judge fail rate", "humans only", "corrected", "narrower than humans-only")
        },
    )
    for note in corrected.filter(pl.col("sample") != "random")["note"].unique().to_list():
        st.warning(note, icon=":material/warning:")

# ---- what moved --------------------------------------------------------------------------
st.subheader("What moved")
moved_key = st.selectbox(
    "Rate", rate_keys, key="trends_moved_w", format_func=lambda k: trends.metric(k).label
)
res = cache.query(q.moved, flt, moved_key, week, baseline, compare, alpha)
if moved_key not in unmeasured:
    st.caption(
        f"{res.n_tested} segments tested (model, prompt version, tag, cluster, and model × "
        f"prompt version × tag), {res.n_too_small} too small to test (under {stats.MIN_N} "
        f"events on a side), {res.n_duplicates} combinations left out as they hold exactly the "
        f"events of their model, prompt version or tag; {res.n_flagged} flagged with "
        f"Benjamini–Hochberg at q = {alpha:g} across all tests. Ranked by impact = change × "
        "this week's events; a segment another accounts for comes after the others. Select a "
        "row to open its events."
    )
shown = res.table.filter(pl.col("flagged"))
show_all = st.toggle("Show every segment tested", key="trends_moved_all")
if show_all:
    shown = res.table
explaining = shown.filter(pl.col("accounts_for").is_not_null())
if moved_key in unmeasured:
    st.info(
        f"{trends.metric(moved_key).label}: no feedback logged on this week's events, so no "
        "segment can be compared.",
        icon=":material/feedback:",
    )
elif shown.is_empty():
    st.success("No segment changed significantly.", icon=":material/check_circle:")
else:
    for r in explaining.iter_rows(named=True):
        st.caption(
            md_escape(
                f"{trends_moved.segment_label(r)} accounts for the change in "
                f"{r['accounts_for']}: without it, the rest of each shows no significant change "
                "(listed after the others)."
            )
        )
    moved_pick = st.dataframe(
        view.moved_table(shown, this_week),
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="trends_moved_table",
        column_config={
            this_week: st.column_config.NumberColumn(format="percent"),
            "reference": st.column_config.NumberColumn(format="percent"),
            "change (pp)": st.column_config.NumberColumn(format="%+.1f"),
            "impact (events)": st.column_config.NumberColumn(format="%+.0f"),
            "q (BH)": st.column_config.NumberColumn(format="%.2g"),
        },
    )
    if moved_pick.selection.rows:
        row = shown.row(moved_pick.selection.rows[0], named=True)
        nav.open_explorer(
            view.drill_filter(trends_moved.segment_filter(row, flt, current), moved_key, current)
        )
    # A human look at the segments that moved most: a review queue of their week's events.
    for r in shown.head(3).iter_rows(named=True):
        queue_links.link_to_queue(
            "segment", flt=trends_moved.segment_filter(r, flt, current),
            label=trends_moved.segment_label(r),
            text=f"Review a sample of {trends_moved.segment_label(r)} this week",
        )

# ---- new topics as segments ----------------------------------------------------------------
st.subheader("New topics this week")
if st.toggle(
    "Look for new topics in this week",
    key="trends_new_topics",
    help="The Drift page's novelty test of this week against the four weeks before it: "
    "questions in territory those weeks did not cover, grouped and named. It runs the test, "
    "which takes a few seconds on a large warehouse.",
):
    found = cache.query(q.new_topics, week, alpha)
    if found is None:
        st.info("No cluster analysis in this warehouse yet: run `reviewdeck analyze`.",
                icon=":material/bubble_chart:")
    elif found["rows"].is_empty():
        p = found["p_value"]
        st.success("No new topic in " + this_week
                   + ("" if p is None else f" (novelty test p = {p:.3g}, "
                      f"{found['n_current']:,} events sampled)") + ".",
                   icon=":material/check_circle:")
    else:
        st.caption(
            f"Novelty test p = {found['p_value']:.3g} on {found['n_current']:,} sampled events "
            f"of {this_week} ({found['field']} text); each topic's rates are over its events "
            "named new, with 95% Wilson intervals. The same topics are on the Drift page and "
            "in the weekly pack."
        )
        st.dataframe(
            found["rows"], hide_index=True, key="trends_new_topics_table",
            column_config={k: st.column_config.NumberColumn(k, format="percent")
                           for k in ("share of week", "negative rate", "thumbs-up rate")},
        )
        week_flt = flt.with_(start=current.start, end=current.last_day)
        for t in found["links"][:3]:
            c1, c2 = st.columns(2)
            with c1:
                if t["cluster_id"] is not None:
                    nav.link_to_explorer(week_flt.with_(cluster_id=int(t["cluster_id"])),
                                         f"Explorer: {t['label']} (cluster #{t['cluster_id']})")
            with c2:
                queue_links.link_to_queue("new_topic", event_ids=t["event_ids"],
                                          label=f"new topic: {t['label']}",
                                          text=f"Review a sample of {t['label']}")

# ---- implicit signals and corrections ----------------------------------------------------
st.subheader("Implicit signals and corrections")
left, right = st.columns(2)
with left:
    implicit = [
        by_key[k]
        for k in (
            "regenerated",
            "copied",
            "edited",
            "heavy_edit",
            "corrected",
            "edit_size",
            "correction_size",
        )
    ]
    st.dataframe(view.headline_table(implicit, this_week, no_feedback), hide_index=True)
with right:
    sources = pl.DataFrame(
        {
            "source": ["user", "reviewer", "llm_judge", "code"],
            "rows": [
                int(cur_raw.get(f"fb_{s}") or 0) for s in ("user", "reviewer", "judge", "code")
            ],
        }
    )
    total = int(sources["rows"].sum())
    if total:
        st.altair_chart(
            charts_trends.sources_chart(
                sources.with_columns((pl.col("rows") / total).alias("share"))
            ),
            width="stretch",
        )
        st.caption(f"{total:,} feedback rows on this week's events, by who gave them.")
corr = cache.query(q.corrections, flt, week)
if corr.is_empty():
    st.caption("No corrections this week.")
else:
    st.caption("This week's corrections, largest edit first (text shown as text).")
    corr_pick = st.dataframe(
        corr,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="trends_corrections",
        column_config={"size": st.column_config.NumberColumn("size of edit", format="percent")},
    )
    if corr_pick.selection.rows:
        nav.open_explorer(flt, event_id=corr["event_id"][corr_pick.selection.rows[0]])

st.subheader("Reruns of this week's events, and reviewer verdicts")
verdicts = cache.query(q.rerun_verdicts, flt, week)
if verdicts.is_empty():
    st.caption(
        "None of this week's events has been rerun. Reopen a failed event in the Playground "
        "(from the Events page) to try another model; reruns and their verdicts show here."
    )
else:
    totals = verdicts.select(pl.exclude("model").sum()).row(0, named=True)
    st.markdown(
        f"**{totals['reruns']:,} reruns** — verdicts: "
        f"better {totals['better']:,}, same {totals['same']:,}, worse {totals['worse']:,}, "
        f"no verdict {totals['no_verdict']:,}"
    )
    st.dataframe(verdicts, hide_index=True, key="trends_verdicts")
    st.caption(
        "A rerun counts in the week of the event it reran, whenever it ran (as on the Weekly "
        "review page and in its pack); reruns are left out of the rates above. Verdicts are the "
        "reviewers' latest better / same / worse on each rerun."
    )
    nav.link_to_explorer(
        flt.with_(reruns="only", start=None, end=None),
        "Open the reruns in the explorer",
        key="trends_reruns_link",
    )

sync_url(
    "trends",
    KEYS,
    {
        "trends_week": [week_name] if week_name != default_week else [],
        "trends_compare": [compare] if compare != "previous" else [],
        "trends_alpha": [str(alpha)] if alpha != 0.05 else [],
        "trends_metric": [metric_key] if metric_key != "negative" else [],
        "trends_split": [split] if split != "none" else [],
        "trends_gran": [gran] if gran != "week" else [],
        "trends_moved": [moved_key] if moved_key != "negative" else [],
        "trends_bstart": [baseline[0].isoformat()] if baseline != default_base else [],
        "trends_bend": [baseline[1].isoformat()] if baseline != default_base else [],
    },
)
