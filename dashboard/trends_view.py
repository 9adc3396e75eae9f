"""Helpers of the Feedback trends page: its URL-held state and how numbers are written.

Page state (week, comparison, metric, split, significance level, baseline range) lives in the
query string under `trends_*` keys, next to the shared filter, so a link reopens the same view.
Values read from the URL are checked against allow-lists; a bad one falls back to the default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
import streamlit as st

from models import stats
from models.filters import EventFilter
from models.trends import core as trends
from models.trends.core import HeadlineRow, Period
from models.trends.moved import segment_label

ALPHAS = (0.01, 0.05, 0.10)
MAX_LINES = 10  # a chart with more split values than this is unreadable
COMPARES = {"previous": "the previous week", "baseline": "the baseline range"}


def url_choice(key: str, options: Sequence[str], default: str) -> str:
    value = st.query_params.get(key)
    return value if value in options else default


def url_date(key: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(st.query_params.get(key, ""))
    except ValueError:
        return None


def set_url(key: str, value: str | None, default: str | None = None) -> None:
    """Write page state to the URL, leaving defaults out so links stay short."""
    if value is None or value == default:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != value:
        st.query_params[key] = value


def fmt_value(value: float | None, is_rate: bool, key: str = "") -> str:
    if value is None:
        return "–"
    if is_rate:
        return f"{value:.1%}"
    if key == "latency":
        return f"{value:,.0f} ms"
    if key == "cost":
        return f"${value:.4f}"
    return f"{value:.3f}"


def fmt_estimate(est: stats.Estimate, is_rate: bool, key: str = "") -> str:
    if est.value is None:
        return "no data"
    interval = (
        f" [{fmt_value(est.lo, is_rate, key)} – {fmt_value(est.hi, is_rate, key)}]"
        if est.lo is not None
        else ""
    )
    return f"{fmt_value(est.value, is_rate, key)}{interval}, n={est.n:,}"


def fmt_delta(cmp: stats.Comparison, is_rate: bool, key: str = "") -> str | None:
    if cmp.delta is None:
        return None
    if is_rate:
        return f"{cmp.delta * 100:+.1f} pp"
    return f"{cmp.delta:+,.4g}" + (" ms" if key == "latency" else "")


def fmt_verdict(row: HeadlineRow, which: str, min_n: int = stats.MIN_N) -> str:
    cmp = row.vs_previous if which == "previous" else row.vs_baseline
    verdict = row.verdict(which)
    if cmp.verdict == stats.TOO_LITTLE:
        return f"too little data (under {min_n} on a side)"
    return f"{verdict} (p = {cmp.p_value:.3g}, {cmp.test})"


NO_FEEDBACK = "no feedback logged"
NO_FEEDBACK_HELP = (
    "These events carry no feedback at all (no votes, regenerates, edits, corrections or "
    "scores), so the rates made of feedback are unmeasured, not 0%. To measure them, log your "
    "users' feedback with the events (see docs/formats.md), or make your own: `reviewdeck "
    "evaluate` runs the built-in checks (empty or truncated answers, refusals, invalid JSON, bad "
    "tool calls, wrong language) with no setup, and the Review queue page has people label a "
    "sample (docs/evaluators.md, docs/review-queue.md)."
)


def periods_without_feedback(raw: dict[str, dict]) -> frozenset[str]:
    """The periods of the headline's raw aggregates whose events carry no feedback row."""
    sources = ("fb_user", "fb_reviewer", "fb_judge", "fb_code")
    return frozenset(
        p
        for p in ("current", "previous", "baseline")
        if not sum(int(raw.get(p, {}).get(s) or 0) for s in sources)
    )


def headline_table(
    rows: list[HeadlineRow],
    this_week: str = "this week",
    no_feedback: frozenset[str] = frozenset(),
) -> pl.DataFrame:
    """The full headline as a table the page shows (one row per metric).

    `no_feedback` names the periods ('current', 'previous', 'baseline') whose events carry no
    feedback at all: there, the metrics made of feedback say so instead of a number, and no
    comparison involving such a period is made.
    """
    out = []
    for r in rows:
        blank = no_feedback if r.key in trends.FEEDBACK_KEYS else frozenset()
        out.append(
            {
                "metric": r.label,
                this_week: _cell(r, "current", blank),
                "previous week": _cell(r, "previous", blank),
                "vs previous": _versus(r, "previous", blank),
                "baseline": _cell(r, "baseline", blank),
                "vs baseline": _versus(r, "baseline", blank),
            }
        )
    return pl.DataFrame(out)


def _cell(r: HeadlineRow, period: str, blank: frozenset[str]) -> str:
    if period in blank:
        return NO_FEEDBACK
    return fmt_estimate(getattr(r, period), r.kind == "rate", r.key)


def _versus(r: HeadlineRow, period: str, blank: frozenset[str]) -> str:
    if blank & {"current", period}:
        return "–"
    cmp = r.vs_previous if period == "previous" else r.vs_baseline
    return f"{fmt_delta(cmp, r.kind == 'rate', r.key) or '–'} · {fmt_verdict(r, period)}"


def drill_filter(base: EventFilter, key: str, period: Period) -> EventFilter:
    """The explorer filter for the events behind a metric in a period (its numerator's events
    where the metric has a matching feedback or status filter, else all events counted)."""
    flt = base.with_(start=period.start, end=period.last_day)
    try:
        m = trends.metric(key)
    except KeyError:
        return flt
    if m.feedback:
        flt = flt.with_(feedback=m.feedback)
    if m.status:
        flt = flt.with_(status=m.status)
    return flt


def bucket_period(bucket: dt.date, granularity: str) -> Period:
    days = 7 if granularity == "week" else 1
    return Period("bucket", bucket, bucket + dt.timedelta(days=days))


def split_filter(
    flt: EventFilter, split: str, value: str | None, split_id: int | None
) -> EventFilter:
    """Narrow a filter to one split value, where the shared filter can express it."""
    if value is None or value.startswith("("):
        return flt
    if split == "model":
        return flt.with_(models=(value,))
    if split == "prompt_version":
        return flt.with_(prompt_versions=(value,))
    if split == "tag":
        return flt.with_(tags=(value,))
    if split == "environment":
        return flt.with_(environments=(value,))
    if split == "cluster" and split_id is not None:
        return flt.with_(cluster_id=int(split_id))
    return flt  # user segment: the explorer has no such filter; the bucket is still applied


def moved_table(table: pl.DataFrame, this_week: str = "this week") -> pl.DataFrame:
    """The 'what moved' result as the page shows it."""

    rows = []
    for r in table.iter_rows(named=True):
        rows.append(
            {
                "verdict": r["verdict"],
                "segment": segment_label(r),
                # Which smaller flagged segment accounts for this one's move (and vice versa).
                "explained by": r.get("explained_by") or "",
                "accounts for": r.get("accounts_for") or "",
                "kind": r["dims"],
                this_week: None if r["rate"] is None else r["rate"],
                "n": r["n"],
                "reference": r["rate_ref"],
                "n ref": r["n_ref"],
                "compared with": r["reference"],
                "change (pp)": None if r["delta"] is None else r["delta"] * 100,
                "interval (pp)": "–"
                if r["delta_lo"] is None
                else f"{r['delta_lo'] * 100:+.1f} … {r['delta_hi'] * 100:+.1f}",
                "impact (events)": r["impact"],
                "q (BH)": r["q_value"],
            }
        )
    return pl.DataFrame(rows) if rows else pl.DataFrame()


def top_splits(series: pl.DataFrame, k: int) -> tuple[pl.DataFrame, int]:
    """Keep the k split values with the most events (and how many values there were)."""
    if series.is_empty():
        return series, 0
    sizes = (
        series.group_by("split")
        .agg(pl.col("n").sum())
        .sort(["n", "split"], descending=[True, False])
    )
    keep = sizes.head(k)["split"]
    return series.filter(pl.col("split").is_in(keep.implode())), sizes.height
