"""Weekly review: the week's report (same content as `reviewdeck report`), reviewers' notes and
action items, and past reports opened exactly as they were frozen, with what changed since."""

import streamlit as st

from dashboard import cache, nav
from dashboard import report_wording_evaluators as ev_words
from dashboard.queries import weekly
from dashboard.report_render import (
    BATCHES_TITLE,
    NO_RERUNS,
    NO_VERDICT,
    RERUNS_TITLE,
    by_segment,
    headline_chart,
    md,
    render_html,
    render_markdown,
    reruns_caption,
    unreadable_warnings,
)
from models.filters import parse_where
from models.report import notes, snapshot
from models.report.model import Report, ReportError, app_url, base_of_page_url, format_value


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _explorer_link(url: str, label: str, key: str) -> None:
    # Report links carry the filter as a query string; the in-app link reuses it.
    query = url.split("?", 1)[1] if "?" in url else ""
    nav.link_to_explorer(parse_where(query), label, key=key)


def _examples(examples) -> None:
    if not examples:
        st.caption("No badly rated example this week.")
    for ex in examples:
        st.page_link(
            nav.page_file(nav.EXPLORER),
            label=f"event {ex.event_id}",
            query_params={"event": ex.event_id},
            icon=":material/open_in_new:",
        )
        st.caption(md(f"{ex.ts} · {ex.model} · {ex.signal}"))
        # st.text, not st.code: the code block's highlighter took ~0.7 s of the browser's time
        # for the 100 blocks of a week's examples (warm load bar 1.5 s, docs/scale.md).
        with st.container(border=True):
            st.text(ex.input_text)
            st.text(ex.output_text)


def _page_address() -> str | None:
    """The app's address as this browser reached it, so the pack's links lead back here."""
    base = base_of_page_url(st.context.url, nav.WEEKLY)
    if base is None and st.context.headers.get("Host"):
        base = f"http://{st.context.headers['Host']}"
    return base


def _reruns_frame(report: Report) -> list[dict]:
    return [
        {
            "model": r.model,
            "reruns": r.reruns,
            "originals": r.originals,
            "errors": r.errors,
            "better": r.better,
            "same": r.same,
            "worse": r.worse,
            NO_VERDICT: r.no_verdict,
        }
        for r in report.reruns
    ]


def _batches_frame(report: Report) -> list[dict]:
    def pct(x: float | None) -> str:
        return "" if x is None else f"{100 * x:.0f}%"

    return [
        {
            "batch": b.batch_id,
            "model": b.model,
            "filter": b.where,
            "events of this week": b.items
            if b.items == b.batch_items
            else f"{b.items} of {b.batch_items}",
            "done": b.done,
            "judged pairs": b.judged,
            "wins": b.wins,
            "ties": b.ties,
            "losses": b.losses,
            "unreadable judgements": b.unreadable,
            "win rate (95% CI)": ""
            if b.win_rate is None
            else f"{pct(b.win_rate)} ({pct(b.win_rate_lo)} – {pct(b.win_rate_hi)})",
            "reviewer verdicts": b.verdicts,
        }
        for b in report.batches
    ]


def _show(report: Report, key: str) -> None:
    """Draw a report: live or frozen, the same way."""
    if report.partial:
        st.warning(md(report.partial_notice), icon=":material/date_range:")
    st.subheader("Summary")
    for line in report.summary:
        if report.quiet:
            st.success(md(line), icon=":material/check_circle:")
        else:
            st.markdown(f"- {md(line)}")

    st.subheader("Headline metrics")
    chart = headline_chart(report)
    if chart is not None:
        st.altair_chart(chart, width="stretch")
    st.dataframe(
        [
            {
                "metric": m.label,
                report.week_title: format_value(m, m.value),
                "95% interval": ""
                if m.lo is None
                else f"{format_value(m, m.lo)} – {format_value(m, m.hi)}",
                "n": m.n,
                report.prev_week: format_value(m, m.prev_value),
                "verdict": m.verdict,
                "p": "" if m.p_value is None else f"{m.p_value:.3g}",
            }
            for m in report.headline
        ],
        hide_index=True,
        key=f"{key}_headline",
    )

    st.subheader("Top regressions and improvements by segment")
    st.caption(
        f"{report.week_title}: {report.segments_tested} segment comparisons tested against "
        f"{report.prev_week}, Benjamini–Hochberg at {report.level:g}."
    )
    if not (report.regressions or report.improvements):
        st.info("No segment changed significantly this week.")
    for title, moves in (
        ("Regressions", report.regressions),
        ("Improvements", report.improvements),
    ):
        for i, group in enumerate(by_segment(moves)):
            first = group[0]
            st.markdown(f"**{title[:-1]}: {md(first.label)}**")
            if first.explains:
                st.caption(md(f"accounts for the change in {first.explains}"))
            if first.models_now:
                st.caption(md(f"models: {first.models_before or 'none'} → {first.models_now}"))
            for s in group:
                st.markdown(
                    md(
                        f"{s.metric_label} {_pct(s.prev_value)} → {_pct(s.value)} "
                        f"(95% CI {_pct(s.lo)} – {_pct(s.hi)}, n={s.n:,}, q={s.q_value:.3g})"
                    )
                )
            _explorer_link(first.explorer_url, "Open these events", key=f"{key}_{title}_{i}_link")
            _examples(first.examples)

    st.subheader("New topics, new and growing clusters, quality drops inside clusters")
    if not report.clusters:
        st.info("No new topic, no new or growing cluster and no quality drop inside a cluster.")
    for i, c in enumerate(report.clusters):
        st.markdown(f"**{md(c.label)}** ({md(c.status)}): {md(c.detail)}")
        _explorer_link(c.explorer_url, "Open these events", key=f"{key}_cluster_{i}_link")
        _examples(c.examples)

    st.subheader(RERUNS_TITLE)
    st.caption(md(reruns_caption(report)))
    if report.reruns:
        st.dataframe(_reruns_frame(report), hide_index=True, key=f"{key}_reruns")
    else:
        st.info(NO_RERUNS)
    if report.batches:
        st.markdown(f"**{BATCHES_TITLE}**")
        for warning in unreadable_warnings(report):
            st.warning(md(warning), icon=":material/warning:")
        st.dataframe(_batches_frame(report), hide_index=True, key=f"{key}_batches")
    _evaluators_section(report)
    st.caption(" · ".join(md(f"{sec}: {src}") for sec, src in report.sources))


def _evaluators_section(report: Report) -> None:
    """The pack's "Evaluators and review" section, worded as in the HTML and Markdown."""
    st.subheader(ev_words.EVALUATORS_TITLE)
    st.caption(md(ev_words.section_caption(report)))
    st.markdown("**Review progress**")
    if not report.review:
        st.info(md(ev_words.NO_QUEUES))
    for q in report.review:
        st.markdown(md(ev_words.review_line(q)))
        if q.items:
            st.progress(q.done / q.items, text=f"{q.done} of {q.items} labelled")
    if not report.evaluators:
        st.info(md(ev_words.NO_EVALUATORS))
    for ev in report.evaluators:
        st.markdown(f"**{md(ev_words.evaluator_heading(ev))}**")
        for line in ev_words.evaluator_lines(ev):
            if line == ev.sampling_note:
                st.warning(md(line), icon=":material/warning:")
            else:
                st.markdown(f"- {md(line)}")
        for eid in ev.disagreement_ids:
            st.page_link(
                nav.page_file(nav.EXPLORER),
                label=f"disagreement: event {eid}",
                query_params={"event": eid},
                icon=":material/open_in_new:",
            )
    st.markdown(f"**{ev_words.TAGS_TITLE}**")
    if not report.failure_tags:
        st.caption(md(ev_words.NO_TAGS))
    for t in report.failure_tags:
        st.markdown(f"**{md(t.tag)}**: {t.n} labels on {t.events} events")
        _examples(t.examples)


def _downloads(report: Report, key: str, frozen=None, diff=None) -> None:
    left, right = st.columns(2)
    left.download_button(
        "Download Markdown",
        render_markdown(report, frozen=frozen, diff=diff),
        file_name=f"weekly-{report.week}.md",
        mime="text/markdown",
        key=f"{key}_md",
    )
    html_key = f"{key}_html_ready"
    if right.button("Build the HTML file", key=f"{key}_html_build"):
        st.session_state[html_key] = render_html(report, frozen=frozen, diff=diff)
    if html_key in st.session_state:
        right.download_button(
            "Download HTML",
            st.session_state[html_key],
            file_name=f"weekly-{report.week}.html",
            mime="text/html",
            key=f"{key}_html",
        )


st.title("Weekly review")

choices = weekly.choices_of(*cache.query(weekly.weeks_and_horizon))
weeks = choices.weeks
if not weeks:
    st.info(
        "The warehouse has no LLM events yet. Run `reviewdeck demo` or "
        "`reviewdeck ingest YOUR_LOGS.jsonl` first.",
        icon=":material/inbox:",
    )
    st.stop()
try:
    base_url = app_url(_page_address())
except ReportError as exc:
    st.error(str(exc))
    st.stop()

url_week = st.query_params.get("week")
week = st.selectbox(
    "Week",
    weeks,
    # Opens on the last complete week: a partial one would compare a day or two with a week.
    index=weeks.index(url_week if url_week in weeks else choices.default),
    key="weekly_week",
    format_func=lambda w: f"{w} ({choices.notes[w]})" if w in choices.notes else w,
)
if st.query_params.get("week") != week:
    st.query_params["week"] = week

live_tab, notes_tab, past_tab = st.tabs(["This week", "Notes & action items", "Past reports"])

with live_tab:
    report = cache.query(weekly.live_report, week, base_url)
    st.caption(
        f"{report.week_title}: {report.start} to {report.end} (UTC), all production traffic "
        "(the sidebar filters do not apply), live: late feedback still changes it. Freeze it "
        "to keep these numbers."
    )
    if st.button("Freeze this report", key="weekly_freeze", icon=":material/ac_unit:"):
        try:
            frozen = cache.write(snapshot.generate_and_freeze, week, base_url=base_url)
        except ReportError as exc:
            st.error(str(exc))
        else:
            st.success(f"Frozen as report #{frozen.report_id}; find it under Past reports.")
    _downloads(report, "weekly_live")
    _show(report, "weekly_live")

with notes_tab:
    st.caption(
        "Notes attach to the week, a segment, a cluster or an event; open action items "
        "carry over to the next weeks until closed."
    )
    st.dataframe(cache.query(weekly.week_notes, week), hide_index=True, key="weekly_notes")
    targets = {"the week": ("week", None)}
    for s in (*report.regressions, *report.improvements):
        targets[f"segment {s.key}"] = ("segment", s.key)
    for c in report.clusters:
        targets[f"cluster {c.cluster_id} ({c.label})"] = ("cluster", c.cluster_id)
    targets["an event (give its id)"] = ("event", None)
    with st.form("weekly_note_form", clear_on_submit=True):
        target = st.selectbox("Attach to", list(targets), key="weekly_note_target")
        event_id = st.text_input("Event id (for an event)", key="weekly_note_event")
        text = st.text_area("Note", key="weekly_note_text")
        is_action = st.checkbox("Action item (stays open until closed)", key="weekly_note_action")
        owner = st.text_input("Owner", key="weekly_note_owner")
        author = st.text_input("Your name", key="weekly_note_author")
        if st.form_submit_button("Add note"):
            kind, target_id = targets[target]
            try:
                cache.write(
                    notes.add_note,
                    week,
                    text,
                    target_kind=kind,
                    target_id=event_id.strip() if kind == "event" else target_id,
                    is_action=is_action,
                    owner=owner,
                    author=author,
                )
            except ReportError as exc:
                st.error(str(exc))
            else:
                st.rerun()
    frame = cache.query(weekly.week_notes, week)
    open_ids = frame.filter(frame["status"] == "open")["id"].to_list()
    if open_ids:
        left, right = st.columns([3, 1])
        to_close = left.selectbox(
            "Open action item",
            open_ids,
            key="weekly_close_pick",
            format_func=lambda i: (
                f"#{i} " + " ".join(frame.filter(frame["id"] == i)["text"][0].split())[:80]
            ),
        )
        if right.button("Close it", key="weekly_close"):
            cache.write(notes.close_note, int(to_close), week=week)
            st.rerun()

with past_tab:
    past = cache.query(weekly.past_reports)
    if past.is_empty():
        st.info(
            "No frozen reports yet: press **Freeze this report** or run "
            "`reviewdeck report --week 2026-W46`."
        )
    else:
        st.dataframe(past, hide_index=True, key="weekly_past")
        ids = past["report_id"].to_list()
        url_report = st.query_params.get("report")
        pick = st.selectbox(
            "Open a frozen report",
            ids,
            index=ids.index(int(url_report))
            if url_report and url_report.isdigit() and int(url_report) in ids
            else 0,
            format_func=lambda i: f"#{i} · {past.filter(past['report_id'] == i)['week'][0]}",
            key="weekly_report_pick",
        )
        frozen = cache.query(weekly.frozen_report, int(pick))
        st.caption(
            f"Frozen report #{frozen.report_id}, stored {frozen.created_at}: the numbers "
            "as they were then, whatever arrived later."
        )
        diff = None
        if st.toggle("Compare with a fresh regeneration", key="weekly_diff"):
            diff = cache.query(weekly.frozen_diff, int(pick), base_url)
            st.subheader("What changed since the meeting")
            st.markdown(
                f"{diff.events_added:,} events arrived since, {diff.events_removed:,} "
                f"are gone, {diff.late_feedback:,} feedback rows on the week's events "
                "were loaded after the freeze."
            )
            if diff.changes:
                st.dataframe(
                    [c.__dict__ for c in diff.changes], hide_index=True, key="weekly_diff_table"
                )
            else:
                st.success("No number of the report changed.")
        _downloads(frozen.report, "weekly_past", frozen=frozen, diff=diff)
        _show(frozen.report, "weekly_past")
        if frozen.report.notes:
            st.subheader("Notes and action items (as frozen)")
            st.dataframe(
                [n.__dict__ for n in frozen.report.notes], hide_index=True, key="weekly_past_notes"
            )
