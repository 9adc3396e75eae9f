"""The weekly report as one self-contained HTML file, or as Markdown for docs and chat.

The HTML opens offline: no scripts, no fonts or styles fetched, charts rendered from Altair specs
to PNG by vl-convert and inlined as data: images, and a Content-Security-Policy that forbids
anything else. Every piece of logged or user-written text (inputs, outputs, tags, model names,
notes) goes through `html.escape`, so a `<script>` in a log shows as text.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from string import Template

from dashboard import report_wording_evaluators as ev_words
from models.report.model import Example, Metric, Report, SegmentMove, event_url, format_value
from models.report.snapshot import FrozenReport, ReportDiff

TEMPLATES = Path(__file__).parent / "report_templates"
_VERDICT_CLASS = {"worse": "worse", "better": "better"}


def e(value: object) -> str:
    """Escape anything for HTML text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def _href(url: str) -> str:
    # Links only ever point at the app (http/https); anything else is dropped.
    return e(url) if url.startswith(("http://", "https://")) else "#"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _interval(m: Metric) -> str:
    if m.lo is None or m.hi is None:
        return ""
    return f"{format_value(m, m.lo)} – {format_value(m, m.hi)}"


# ---------------------------------------------------------------------------- shared wording
# One wording for the page, the HTML and the Markdown pack.

RERUNS_TITLE = "Reruns of this week's events"
BATCHES_TITLE = "Batch reruns of this week's events (LLM judge, order-swapped pairs)"
NO_RERUNS = "None of this week's events has been rerun."
NO_VERDICT = "no verdict"  # reruns without a reviewer verdict (key `no_verdict`)


def reruns_caption(report: Report) -> str:
    return (
        f"A rerun counts in the week of the event it reran ({report.week_title} here), "
        "whenever it ran; reruns are left out of the numbers above."
    )


def unreadable_warnings(report: Report) -> list[str]:
    """One warning per batch with unreadable judgements (they are not in win / tie / loss)."""
    return [
        f"Batch {b.batch_id}: {b.unreadable} judge replies could not be read; they are left "
        f"out of win / tie / loss ({b.judged} pairs judged). Check the judge model and its "
        "endpoint before trusting this comparison."
        for b in report.batches
        if b.unreadable
    ]


def _items(b) -> str:
    return f"{b.items}" if b.items == b.batch_items else f"{b.items} of {b.batch_items}"


# ---------------------------------------------------------------------------- charts


def headline_chart(report: Report):
    """Rates this week (with 95% interval) against last week, as an Altair chart (or None)."""
    import altair as alt
    import polars as pl

    rows = []
    for m in report.headline:
        if m.unit != "rate" or m.value is None:
            continue
        rows.append(
            {
                "metric": m.label,
                "week": f"{report.week_title} (95% CI)",
                "value": m.value,
                "lo": m.lo,
                "hi": m.hi,
            }
        )
        if m.prev_value is not None:
            rows.append(
                {
                    "metric": m.label,
                    "week": report.prev_week,
                    "value": m.prev_value,
                    "lo": None,
                    "hi": None,
                }
            )
    if not rows:
        return None
    data = pl.DataFrame(
        rows,
        schema={
            "metric": pl.Utf8,
            "week": pl.Utf8,
            "value": pl.Float64,
            "lo": pl.Float64,
            "hi": pl.Float64,
        },
    )
    # Every row labelled: a fixed step per row, and no label dropped as "overlapping" (Vega's
    # default hides every other label once the theme's font is taller than the band).
    axis = alt.Axis(labelLimit=300, labelOverlap=False, labelPadding=6)
    base = alt.Chart(data).encode(y=alt.Y("metric:N", title=None, axis=axis, sort=None))
    legend = alt.Legend(orient="bottom", title=None, labelLimit=400)
    points = base.mark_point(filled=True, size=80).encode(
        x=alt.X("value:Q", title="rate", axis=alt.Axis(format="%")),
        color=alt.Color("week:N", legend=legend),
    )
    bars = base.mark_rule(strokeWidth=2).encode(x="lo:Q", x2="hi:Q", color=alt.Color("week:N"))
    return (bars + points).properties(width=560, height=alt.Step(30))


def segments_chart(moves: list[SegmentMove]):
    """Each significant segment move as previous week → this week."""
    import altair as alt
    import polars as pl

    if not moves:
        return None
    rows = []
    for s in moves:
        name = f"{s.label} · {s.metric_label}"
        rows.append(
            {
                "segment": name,
                "when": "previous week",
                "value": s.prev_value,
                "direction": s.direction,
            }
        )
        rows.append(
            {"segment": name, "when": "this week", "value": s.value, "direction": s.direction}
        )
    data = pl.DataFrame(rows)
    base = alt.Chart(data).encode(
        y=alt.Y(
            "segment:N",
            title=None,
            sort=None,
            axis=alt.Axis(labelLimit=360, labelOverlap=False, labelPadding=6),
        )
    )
    line = base.mark_line(color="#9aa3b5").encode(x="value:Q", detail="segment:N")
    dots = base.mark_point(filled=True, size=80).encode(
        x=alt.X("value:Q", title="rate", axis=alt.Axis(format="%")),
        color=alt.Color(
            "when:N",
            title=None,
            scale=alt.Scale(domain=["previous week", "this week"], range=["#9aa3b5", "#1f5fbf"]),
            legend=alt.Legend(orient="bottom", labelLimit=300),
        ),
        shape=alt.Shape("direction:N", title=None, legend=alt.Legend(orient="bottom")),
    )
    return (line + dots).properties(width=480, height=alt.Step(30))


def chart_img(chart, alt_text: str) -> str:
    """An Altair chart as an inline PNG data: image (images cannot run scripts).

    PNG, not SVG: an SVG's text is laid out by vl-convert with its fonts but drawn by the
    reader's browser with whatever "sans-serif" is there, so wider fonts clipped the labels and
    the legend at the image's edge. A PNG carries its text as drawn; it is rendered at twice
    the size and shown at half, so it stays sharp on high-density screens.
    """
    if chart is None:
        return ""
    import struct

    import vl_convert as vlc

    png = vlc.vegalite_to_png(chart.to_json(), scale=PNG_SCALE)
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<img class="chart" alt="{e(alt_text)}" width="{width // PNG_SCALE}" '
        f'height="{height // PNG_SCALE}" src="data:image/png;base64,{data}">'
    )


PNG_SCALE = 2


# ---------------------------------------------------------------------------- HTML


def render_html(
    report: Report,
    *,
    frozen: FrozenReport | None = None,
    diff: ReportDiff | None = None,
    charts: bool = True,
) -> str:
    parts: list[str] = [f"<h1>Weekly review {e(report.week)}</h1>"]
    parts.append(
        f'<p class="meta">{e(report.week_title)}: {e(report.start)} to {e(report.end)} (UTC) · '
        "compared with "
        f"{e(report.prev_week)} · {report.n_events:,} LLM events · generated "
        f"{e(report.generated_at)}</p>"
    )
    if frozen is not None:
        parts.append(
            f'<p class="frozen">Frozen report #{frozen.report_id}, stored {e(frozen.created_at)}'
            f"{' by ' + e(frozen.created_by) if frozen.created_by else ''}: these are the numbers"
            " as they were then, whatever arrived later.</p>"
        )
    if report.partial:
        parts.append(f'<p class="partial">{e(report.partial_notice)}</p>')
    cls = "quiet" if report.quiet else ""
    parts.append(f'<h2>Summary</h2><ul class="summary {cls}">')
    parts += [f"<li>{e(line)}</li>" for line in report.summary]
    parts.append("</ul>")
    if diff is not None:
        parts.append(_diff_html(diff))
    parts.append(_headline_html(report, charts))
    parts.append(_segments_html(report, charts))
    parts.append(_clusters_html(report))
    parts.append(_reruns_html(report))
    parts.append(_evaluators_html(report))
    parts.append(_notes_html(report))
    parts.append('<h2>Where the numbers come from</h2><ul class="meta">')
    parts += [f"<li><b>{e(sec)}</b>: {e(src)}</li>" for sec, src in report.sources]
    parts.append(
        f"<li>Significance level {report.level:g}; no verdict under the minimum sample size."
        "</li></ul>"
    )
    template = Template((TEMPLATES / "report.html").read_text(encoding="utf-8"))
    return template.substitute(
        title=e(f"Weekly review {report.week}"),
        body="\n".join(parts),
        format_version=e(report.format_version),
    )


def _headline_html(report: Report, charts: bool) -> str:
    rows = []
    for m in report.headline:
        verdict = m.verdict
        rows.append(
            f"<tr><td>{e(m.label)}</td><td class='num'>{e(format_value(m, m.value))}</td>"
            f"<td class='num muted'>{e(_interval(m))}</td><td class='num'>{m.n:,}</td>"
            f"<td class='num'>{e(format_value(m, m.prev_value))}</td>"
            f"<td class='{_VERDICT_CLASS.get(verdict, 'muted')}'>{e(verdict)}</td>"
            f"<td class='num muted'>{'' if m.p_value is None else f'{m.p_value:.3g}'}</td></tr>"
        )
    chart = chart_img(headline_chart(report), "headline rates with intervals") if charts else ""
    return (
        "<h2>Headline metrics</h2>"
        + chart
        + f"<table><tr><th>metric</th><th>{e(report.week_title)}</th><th>95% interval</th>"
        "<th>n</th>"
        f"<th>{e(report.prev_week)}</th><th>verdict</th><th>p</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _examples_html(examples: tuple[Example, ...]) -> str:
    if not examples:
        return "<p class='muted'>No badly rated example this week.</p>"
    out = []
    for ex in examples:
        out.append(
            f"<div class='example'><a href='{_href(ex.url)}'>event {e(ex.event_id)}</a> "
            f"<span class='muted'>{e(ex.ts)} · {e(ex.model)} · {e(ex.signal)}</span>"
            f"<pre>{e(ex.input_text)}</pre><pre>{e(ex.output_text)}</pre></div>"
        )
    return "".join(out)


def _segments_html(report: Report, charts: bool) -> str:
    parts = ["<h2>Top regressions and improvements by segment</h2>"]
    moves = [*report.regressions, *report.improvements]
    parts.append(
        f"<p class='meta'>{report.segments_tested} segment comparisons tested against "
        f"{e(report.prev_week)}, Benjamini–Hochberg at {report.level:g}.</p>"
    )
    if not moves:
        parts.append("<p>No segment changed significantly this week.</p>")
        return "".join(parts)
    if charts:
        parts.append(chart_img(segments_chart(moves), "segment changes"))
    for title, group in (
        ("Regressions", report.regressions),
        ("Improvements", report.improvements),
    ):
        if not group:
            continue
        parts.append(f"<h3>{title}</h3>")
        for moves_of_segment in by_segment(group):
            first = moves_of_segment[0]
            cls = "worse" if first.direction == "regression" else "better"
            parts.append(
                f"<p><a href='{_href(first.explorer_url)}'><b>{e(first.label)}</b></a>"
                f"{_models_html(first)}"
                + (
                    f" <span class='muted'>— accounts for the change in {e(first.explains)}</span>"
                    if first.explains
                    else ""
                )
                + "</p><ul>"
            )
            for s in moves_of_segment:
                parts.append(
                    f"<li>{e(s.metric_label)} <span class='{cls}'>{_pct(s.prev_value)} → "
                    f"{_pct(s.value)}</span> (95% CI {_pct(s.lo)} – {_pct(s.hi)}, n={s.n:,} vs "
                    f"{s.prev_n:,}, q={s.q_value:.3g})</li>"
                )
            parts.append("</ul>")
            parts.append(_examples_html(first.examples))
    return "".join(parts)


def by_segment(moves: tuple[SegmentMove, ...] | list[SegmentMove]) -> list[list[SegmentMove]]:
    """Moves grouped by segment (their metrics together), in the order they came."""
    groups: dict[str, list[SegmentMove]] = {}
    for s in moves:
        groups.setdefault(s.key, []).append(s)
    return list(groups.values())


def _models_html(s: SegmentMove) -> str:
    if not s.models_now:
        return ""
    if s.models_now == s.models_before:
        return f" <span class='muted'>(models: {e(s.models_now)})</span>"
    return (
        f" <span class='muted'>(models: {e(s.models_before or 'none')} → {e(s.models_now)})</span>"
    )


def _clusters_html(report: Report) -> str:
    parts = ["<h2>New topics, new and growing clusters, quality drops inside clusters</h2>"]
    if not report.clusters:
        parts.append("<p>No new topic, no new or growing cluster and no quality drop inside a "
                     "cluster.</p>")
        return "".join(parts)
    for c in report.clusters:
        parts.append(
            f"<h3><a href='{_href(c.explorer_url)}'>{e(c.label)}</a> "
            f"<span class='muted'>({e(c.status)})</span></h3><p>{e(c.detail)}</p>"
        )
        parts.append(_examples_html(c.examples))
    return "".join(parts)


def _batches_html(report: Report) -> str:
    if not report.batches:
        return ""
    parts = [f"<h3>{e(BATCHES_TITLE)}</h3>"]
    parts += [f"<p class='warn'>{e(w)}</p>" for w in unreadable_warnings(report)]
    parts.append(
        "<table><tr><th>batch</th><th>model</th>"
        "<th>events of this week</th><th>done</th><th>judge: win / tie / loss</th>"
        "<th>unreadable judgements</th>"
        "<th>win rate (95% CI)</th><th>cost before → after (whole batch)</th>"
        "<th>reviewer verdicts</th></tr>"
    )
    for b in report.batches:
        rate = (
            ""
            if b.win_rate is None
            else (f"{_pct(b.win_rate)} ({_pct(b.win_rate_lo)} – {_pct(b.win_rate_hi)})")
        )
        cost = (
            ""
            if b.cost_original_usd is None or b.cost_rerun_usd is None
            else (f"${b.cost_original_usd:.4f} → ${b.cost_rerun_usd:.4f}")
        )
        parts.append(
            f"<tr><td>{e(b.batch_id)}<br><span class='muted'>{e(b.where)}</span></td>"
            f"<td>{e(b.model)}</td><td class='num'>{e(_items(b))}</td><td class='num'>{b.done}</td>"
            f"<td class='num'>{b.wins} / {b.ties} / {b.losses}</td>"
            f"<td class='num{' worse' if b.unreadable else ''}'>{b.unreadable}</td>"
            f"<td class='num'>{e(rate)}</td>"
            f"<td class='num'>{e(cost)}</td><td>{e(b.verdicts)}</td></tr>"
        )
    parts.append("</table>")
    return "".join(parts)


def _reruns_html(report: Report) -> str:
    parts = [f"<h2>{e(RERUNS_TITLE)}</h2><p class='meta'>{e(reruns_caption(report))}</p>"]
    if not report.reruns:
        parts.append(f"<p>{e(NO_RERUNS)}</p>")
        return "".join(parts) + _batches_html(report)
    parts.append(
        "<table><tr><th>model</th><th>reruns</th><th>originals</th><th>errors</th>"
        f"<th>better</th><th>same</th><th>worse</th><th>{NO_VERDICT}</th></tr>"
    )
    for r in report.reruns:
        parts.append(
            f"<tr><td>{e(r.model)}</td><td class='num'>{r.reruns}</td>"
            f"<td class='num'>{r.originals}</td><td class='num'>{r.errors}</td>"
            f"<td class='num better'>{r.better}</td><td class='num'>{r.same}</td>"
            f"<td class='num worse'>{r.worse}</td><td class='num muted'>{r.no_verdict}</td></tr>"
        )
    parts.append("</table>")
    return "".join(parts) + _batches_html(report)


def _evaluators_html(report: Report) -> str:
    parts = [f"<h2>{e(ev_words.EVALUATORS_TITLE)}</h2>",
             f"<p class='meta'>{e(ev_words.section_caption(report))}</p><h3>Review progress</h3>"]
    if not report.review:
        parts.append(f"<p class='muted'>{e(ev_words.NO_QUEUES)}</p>")
    parts += [f"<p>{e(ev_words.review_line(q))}</p>" for q in report.review]
    if not report.evaluators:
        parts.append(f"<p class='muted'>{e(ev_words.NO_EVALUATORS)}</p>")
    for ev in report.evaluators:
        parts.append(f"<h3>{e(ev_words.evaluator_heading(ev))}</h3><ul>")
        parts += [f"<li>{e(line)}</li>" for line in ev_words.evaluator_lines(ev)]
        parts.append("</ul>")
        if ev.disagreement_ids:
            links = ", ".join(
                f"<a href='{_href(event_url(report.base_url, i))}'>{e(i)}</a>"
                for i in ev.disagreement_ids
            )
            parts.append(f"<p class='meta'>Disagreements to open: {links}</p>")
    parts.append(f"<h3>{e(ev_words.TAGS_TITLE)}</h3>")
    if not report.failure_tags:
        parts.append(f"<p class='muted'>{e(ev_words.NO_TAGS)}</p>")
    for t in report.failure_tags:
        parts.append(f"<h4>{e(t.tag)} <span class='muted'>({t.n} labels, {t.events} events)"
                     "</span></h4>")
        parts.append(_examples_html(t.examples))
    return "".join(parts)


def _notes_html(report: Report) -> str:
    parts = ["<h2>Notes and action items</h2>"]
    if not report.notes:
        parts.append("<p class='muted'>No notes or action items for this week.</p>")
        return "".join(parts)
    parts.append("<ul>")
    for n in report.notes:
        tag = ""
        if n.is_action:
            tag = "[closed] " if n.closed else "[open action] "
        where = n.target_kind if n.target_kind == "week" else f"{n.target_kind} {n.target_id}"
        extra = []
        if n.owner:
            extra.append(f"owner {n.owner}")
        if n.carried_over:
            extra.append(f"carried over from {n.week}")
        if n.author:
            extra.append(f"by {n.author}")
        parts.append(
            f"<li><b>{e(tag)}</b>{e(n.text)} <span class='muted'>({e(where)}"
            f"{'; ' + e('; '.join(extra)) if extra else ''})</span></li>"
        )
    parts.append("</ul>")
    return "".join(parts)


def _diff_html(diff: ReportDiff) -> str:
    parts = [f"<h2>What changed since the meeting (frozen {e(diff.frozen_at)})</h2>"]
    parts.append(
        f"<p>{diff.events_added:,} events arrived since, {diff.events_removed:,} are gone, "
        f"{diff.late_feedback:,} feedback rows on the week's events were loaded after the "
        "freeze.</p>"
    )
    if not diff.changes:
        parts.append("<p>No number of the report changed.</p>")
        return "".join(parts)
    parts.append(
        "<table><tr><th>number</th><th>frozen</th><th>now</th><th>n frozen</th>"
        "<th>n now</th><th></th></tr>"
    )
    for c in diff.changes:
        parts.append(
            f"<tr class='diff-changed'><td>{e(c.label)}</td><td class='num'>{_num(c.before)}</td>"
            f"<td class='num'>{_num(c.after)}</td><td class='num'>{e(c.n_before or '')}</td>"
            f"<td class='num'>{e(c.n_after or '')}</td><td>{e(c.change)}</td></tr>"
        )
    parts.append("</table>")
    return "".join(parts)


def _num(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.4g}" if abs(x) < 1000 else f"{x:,.0f}"


# ---------------------------------------------------------------------------- Markdown

# Backslash escapes (CommonMark allows one before any ASCII punctuation): `<`, `>` and `&` are
# escaped like the rest, so a tag or an entity in a log is inert and still reads as itself. HTML
# entities would be inert too, but a reader sees "&gt;" wherever the Markdown is shown as text.
# `$` is escaped for renderers (Streamlit among them) that read it as LaTeX.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~<>&$])")


def md(value: object) -> str:
    """Logged text made inert in Markdown: one line, Markdown punctuation backslash-escaped."""
    text = " ".join(("" if value is None else str(value)).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_markdown(
    report: Report, *, frozen: FrozenReport | None = None, diff: ReportDiff | None = None
) -> str:
    out = [f"# Weekly review {report.week}", ""]
    out.append(
        f"{report.week_title}: {report.start} to {report.end} (UTC) · "
        f"compared with {report.prev_week} · "
        f"{report.n_events:,} LLM events · generated {report.generated_at}"
    )
    if report.partial:
        out += ["", f"> **{md(report.partial_notice)}**"]
    if frozen is not None:
        out += [
            "",
            f"> Frozen report #{frozen.report_id}, stored {frozen.created_at}: the "
            "numbers as they were then.",
        ]
    out += ["", "## Summary", ""]
    out += [f"- {md(line)}" for line in report.summary]
    if diff is not None:
        out += [
            "",
            "## What changed since the meeting",
            "",
            f"{diff.events_added:,} events arrived since, {diff.events_removed:,} gone, "
            f"{diff.late_feedback:,} late feedback rows.",
            "",
        ]
        if diff.changes:
            out += ["| number | frozen | now | |", "|---|---:|---:|---|"]
            out += [
                f"| {md(c.label)} | {_num(c.before)} | {_num(c.after)} | {c.change} |"
                for c in diff.changes
            ]
        else:
            out.append("No number of the report changed.")
    out += [
        "",
        "## Headline metrics",
        "",
        f"| metric | {report.week_title} | 95% interval | n | {report.prev_week} | verdict |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for m in report.headline:
        out.append(
            f"| {md(m.label)} | {format_value(m, m.value)} | {_interval(m)} | {m.n:,} | "
            f"{format_value(m, m.prev_value)} | {m.verdict} |"
        )
    out += [
        "",
        "## Top regressions and improvements by segment",
        "",
        f"{report.segments_tested} segment comparisons tested (Benjamini–Hochberg at "
        f"{report.level:g}).",
    ]
    if not (report.regressions or report.improvements):
        out += ["", "No segment changed significantly this week."]
    for group in (*by_segment(report.regressions), *by_segment(report.improvements)):
        first = group[0]
        out += [
            "",
            f"### {first.direction.capitalize()}: [{md(first.label)}]({first.explorer_url})",
            "",
        ]
        if first.models_now:
            out += [f"Models: {md(first.models_before or 'none')} → {md(first.models_now)}", ""]
        if first.explains:
            out += [f"Accounts for the change in {md(first.explains)}.", ""]
        out += [
            f"- {md(s.metric_label)} {_pct(s.prev_value)} → {_pct(s.value)} (95% CI "
            f"{_pct(s.lo)} – {_pct(s.hi)}, n={s.n:,}, q={s.q_value:.3g})"
            for s in group
        ]
        out += ["", "Worst-rated examples:", ""]
        out += _md_examples(first.examples)
    out += ["", "## New topics, new and growing clusters, quality drops inside clusters", ""]
    if not report.clusters:
        out.append("No new topic, no new or growing cluster and no quality drop inside a cluster.")
    for c in report.clusters:
        out += [f"### [{md(c.label)}]({c.explorer_url}) ({c.status})", "", md(c.detail), ""]
        out += _md_examples(c.examples)
    out += ["", f"## {RERUNS_TITLE}", "", md(reruns_caption(report)), ""]
    if not report.reruns:
        out.append(NO_RERUNS)
    else:
        out += [
            f"| model | reruns | originals | errors | better | same | worse | {NO_VERDICT} |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        out += [
            f"| {md(r.model)} | {r.reruns} | {r.originals} | {r.errors} | {r.better} | "
            f"{r.same} | {r.worse} | {r.no_verdict} |"
            for r in report.reruns
        ]
    if report.batches:
        out += ["", f"{BATCHES_TITLE}:", ""]
        out += [f"> **Warning:** {md(w)}" for w in unreadable_warnings(report)]
        out += [
            "",
            "| batch | model | filter | done / events of this week | win / tie / loss "
            "| unreadable judgements | win rate (95% CI) |",
            "|---|---|---|---:|---:|---:|---:|",
        ]
        out += [
            f"| {md(b.batch_id)} | {md(b.model)} | {md(b.where)} | {b.done} / {md(_items(b))} | "
            f"{b.wins} / {b.ties} / {b.losses} | {b.unreadable} | "
            + (
                ""
                if b.win_rate is None
                else f"{_pct(b.win_rate)} ({_pct(b.win_rate_lo)} – {_pct(b.win_rate_hi)})"
            )
            + " |"
            for b in report.batches
        ]
    out += ["", f"## {ev_words.EVALUATORS_TITLE}", "", md(ev_words.section_caption(report)), ""]
    out += ["### Review progress", ""]
    out += [md(ev_words.NO_QUEUES)] if not report.review else []
    out += [f"- {md(ev_words.review_line(q))}" for q in report.review]
    if not report.evaluators:
        out += ["", md(ev_words.NO_EVALUATORS)]
    for ev in report.evaluators:
        out += ["", f"### {md(ev_words.evaluator_heading(ev))}", ""]
        out += [f"- {md(line)}" for line in ev_words.evaluator_lines(ev)]
        if ev.disagreement_ids:
            out.append("- Disagreements to open: " + ", ".join(
                f"[{md(i)}]({event_url(report.base_url, i)})" for i in ev.disagreement_ids))
    out += ["", f"### {ev_words.TAGS_TITLE}", ""]
    if not report.failure_tags:
        out.append(md(ev_words.NO_TAGS))
    for t in report.failure_tags:
        out += [f"- **{md(t.tag)}**: {t.n} labels on {t.events} events", ""]
        out += ["  " + line for line in _md_examples(t.examples)]
    out += ["", "## Notes and action items", ""]
    if not report.notes:
        out.append("No notes or action items for this week.")
    for n in report.notes:
        box = ("[x] " if n.closed else "[ ] ") if n.is_action else ""
        where = n.target_kind if n.target_kind == "week" else f"{n.target_kind} {n.target_id}"
        carried = f"; carried over from {n.week}" if n.carried_over else ""
        owner = f"; owner {n.owner}" if n.owner else ""
        out.append(f"- {box}{md(n.text)} ({md(where + owner + carried)})")
    out += ["", "## Where the numbers come from", ""]
    out += [f"- **{sec}**: {md(src)}" for sec, src in report.sources]
    return "\n".join(out) + "\n"


def _md_examples(examples: tuple[Example, ...]) -> list[str]:
    if not examples:
        return ["No badly rated example this week."]
    return [
        f"- [event {md(ex.event_id)}]({ex.url}) · {md(ex.model)} · {md(ex.signal)}: "
        f"“{md(ex.input_text)}” → “{md(ex.output_text)}”"
        for ex in examples
    ]
