"""Assembling one week's report from the analyses (`build_report`) and its opening summary.

Kept apart from models.report.model, which the section modules import for the report's types:
the assembly imports the sections, so the types cannot live here.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from models.judge_trust import data as trust_data
from models.report import clusters as report_clusters
from models.report import evaluators as report_evaluators
from models.report import notes as notes_mod
from models.report import sections
from models.report.model import (
    ClusterItem,
    Metric,
    Report,
    ReportError,
    RerunBatchItem,
    RerunRow,
    SegmentMove,
    app_url,
    format_value,
    parse_week,
    shift_week,
    week_bounds,
    week_label,
)

# ---------------------------------------------------------------------------- assembly


def build_report(
    con: duckdb.DuckDBPyConnection,
    week: str,
    *,
    base_url: str | None = None,
    examples_per_item: int = 3,
    top: int = 5,
    level: float = 0.05,
    seed: int = 0,
    segment_reference: str = "previous",
    now: dt.datetime | None = None,
) -> Report:
    """Assemble the report of one ISO week from the warehouse as it is now.

    A week the log does not cover completely yet (models.trends.weeks) is marked partial
    (`Report.partial`), and every rendering says so next to its numbers.
    """
    week = week_label(parse_week(week))
    base = (base_url or app_url()).rstrip("/")
    prev = shift_week(week, -1)
    flt = sections.production_filter(con, week)
    if segment_reference not in ("previous", "baseline"):
        raise ReportError(f"segment reference {segment_reference!r}: use previous or baseline")
    ctx = sections.Context(
        con, flt, week, prev, base, examples_per_item, top, level, seed, segment_reference
    )

    # One read of the week's feedback for the whole report: the examples' signals and every
    # evaluator's verdicts of the week come from it (models.judge_trust.data.week_feedback).
    with trust_data.week_feedback(con, week) as week_fb:
        ctx.cache["feedback"] = week_fb
        try:
            return _assemble(ctx, now)
        finally:
            sections.release(ctx)


def _assemble(ctx: sections.Context, now: dt.datetime | None) -> Report:
    """The report's sections and summary, on a context whose week feedback is in place."""
    from models.trends import weeks as trend_weeks

    con, week, prev, base, level = ctx.con, ctx.week, ctx.prev, ctx.base_url, ctx.level
    start, end = week_bounds(week)
    headline, headline_src = sections.headline(ctx)
    regressions, improvements, tested, seg_src = sections.segment_moves(ctx)
    clusters, cluster_src = report_clusters.clusters(ctx)
    reruns, rerun_src = sections.reruns(ctx)
    batches = sections.rerun_batches(ctx)
    review, evaluators, tags, eval_src = report_evaluators.section(ctx)
    notes = tuple(notes_mod.notes_for_week(con, week))
    n_events = sections.count_events(ctx)
    cover = trend_weeks.coverage(parse_week(week), trend_weeks.data_horizon(con), now)

    summary = _summary(
        week, prev, n_events, headline, regressions, improvements, clusters, reruns, tested, batches
    )
    quiet = not (
        regressions
        or improvements
        or clusters
        or any(m.verdict in ("better", "worse") and is_quality(m) for m in headline)
        # Unmeasured is not quiet: without feedback nobody can say quality held.
        or any(m.verdict == sections.NO_FEEDBACK for m in headline)
    )
    return Report(
        week=week,
        prev_week=prev,
        start=start.date().isoformat(),
        end=(end - dt.timedelta(days=1)).date().isoformat(),
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        base_url=base,
        n_events=n_events,
        quiet=quiet,
        summary=tuple(summary),
        headline=tuple(headline),
        regressions=tuple(regressions),
        improvements=tuple(improvements),
        segments_tested=tested,
        clusters=tuple(clusters),
        reruns=tuple(reruns),
        notes=notes,
        sources=(
            ("headline", headline_src),
            ("segments", seg_src),
            ("clusters", cluster_src),
            ("reruns", rerun_src),
            ("evaluators and review", eval_src),
        ),
        level=level,
        batches=tuple(batches),
        partial=cover.note,
        review=tuple(review),
        evaluators=tuple(evaluators),
        failure_tags=tuple(tags),
    )


# The headline metrics the summary (and "quiet") speaks of: thumbs-up, negative signals (which
# already count regenerates and heavy edits), errors, and judge/code scores. The others keep
# their verdicts in the table.
SUMMARY_METRICS = ("thumbs_up", "negative", "error")
SCORE_PREFIX = "score:"


def is_quality(m: Metric) -> bool:
    return m.higher_is_better is not None and (
        m.key in SUMMARY_METRICS or m.key.startswith(SCORE_PREFIX)
    )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _summary(
    week: str,
    prev: str,
    n_events: int,
    headline: list[Metric],
    regressions: list[SegmentMove],
    improvements: list[SegmentMove],
    clusters: list[ClusterItem],
    reruns: list[RerunRow],
    tested: int,
    batches: list[RerunBatchItem] = (),
) -> list[str]:
    """The report's opening lines, most important first: regressions lead."""
    lines: list[str] = []
    if n_events == 0:
        lines.append(f"No LLM events were logged in {week}.")
    # A segment leads when its change stands out from the headline's (a model switch on one
    # topic); when every segment moved alike (an outage), the headline says it best.
    worse = {m.key: m for m in headline if m.verdict == "worse" and is_quality(m)}

    def localized(s: SegmentMove) -> bool:
        h = worse.get(s.metric)
        if h is None or h.value is None or h.prev_value is None:
            return True
        return abs(s.value - s.prev_value) >= 2 * abs(h.value - h.prev_value)

    local_keys = {s.key for s in regressions if localized(s)}
    lines += _moves_lines("Regression", [s for s in regressions if s.key in local_keys])
    for m in worse.values():
        lines.append(
            f"{m.label} got worse: {format_value(m, m.prev_value)} → {format_value(m, m.value)}."
        )
    lines += _moves_lines("Regression", [s for s in regressions if s.key not in local_keys])
    for c in clusters:
        kind = "New topic" if c.status == "new topic" else f"{c.status.capitalize()} cluster"
        lines.append(f"{kind}: {c.label} — {c.detail}.")
    for m in headline:
        if m.verdict == "better" and is_quality(m):
            lines.append(
                f"{m.label} improved: {format_value(m, m.prev_value)} → {format_value(m, m.value)}."
            )
    lines += _moves_lines("Improvement", improvements)
    unmeasured = [m.label for m in headline if m.verdict == sections.NO_FEEDBACK]
    if n_events and unmeasured:
        lines.append(
            f"No feedback logged on this week's events: {len(unmeasured)} feedback metrics "
            f"({', '.join(unmeasured[:3])}{', …' if len(unmeasured) > 3 else ''}) are unmeasured, "
            "not 0%. Log user feedback with the events to measure them."
        )
    if n_events and not lines:
        lines.append(
            f"A quiet week: no headline metric, segment or cluster changed significantly "
            f"against {prev} ({tested} segment comparisons tested, {n_events} events)."
        )
    n_reruns = sum(r.reruns for r in reruns)
    if n_reruns:
        better = sum(r.better for r in reruns)
        worse = sum(r.worse for r in reruns)
        lines.append(
            f"{n_reruns} reruns of this week's events; reviewers judged {better} better, "
            f"{worse} worse."
        )
    for b in batches:
        unreadable = (
            f" {b.unreadable} judgements could not be read and are left out of win / tie / loss."
            if b.unreadable
            else ""
        )
        if b.judged:
            lines.append(
                f"Batch rerun with {b.model} ({b.where or 'all'}): judge says {b.wins} wins, "
                f"{b.ties} ties, {b.losses} losses of {b.judged} pairs"
                + (
                    f", win rate {_pct(b.win_rate)} ({_pct(b.win_rate_lo)}–{_pct(b.win_rate_hi)})."
                    if b.win_rate is not None
                    else "."
                )
                + unreadable
            )
        elif b.unreadable:
            lines.append(
                f"Batch rerun with {b.model} ({b.where or 'all'}): no pair could be judged; "
                f"{b.unreadable} judgements could not be read (0 wins, 0 ties, 0 losses)."
            )
    return lines


def _moves_lines(kind: str, moves: list[SegmentMove], limit: int = 3) -> list[str]:
    """One line per segment (its metrics together), biggest impact first."""
    by_key: dict[str, list[SegmentMove]] = {}
    for s in moves:
        by_key.setdefault(s.key, []).append(s)
    lines = []
    for group in list(by_key.values())[:limit]:
        changes = ", ".join(
            f"{s.metric_label} {_pct(s.prev_value)} → {_pct(s.value)} (n={s.n}, q={s.q_value:.2g})"
            for s in group
        )
        served = ""
        if _model_names(group[0].models_now) != _model_names(group[0].models_before):
            served = f" Models: {group[0].models_before or 'none'} → {group[0].models_now}."
        explains = (
            f" It accounts for the change in {group[0].explains}." if group[0].explains else ""
        )
        lines.append(f"{kind} in {group[0].label}: {changes}.{served}{explains}")
    return lines


def _model_names(mix: str) -> set[str]:
    return {part.rsplit(" ", 1)[0] for part in mix.split(", ") if part}
