"""The weekly review pack as plain data: what changed this week, where, is it real, what was
tried, what to do next.

`models.report.build.build_report(con, week)` assembles one week's report from the other
analyses (feedback trends, clusters, reruns) and the reviewers' notes. The result is a tree of
frozen dataclasses with only plain values in it, so it can be rendered (HTML, Markdown, the
Weekly page), frozen as JSON (models.report.snapshot) and reopened later exactly as it was.

Each section says where its numbers came from (`Report.sources`): a section whose analysis is
missing from this warehouse (e.g. no cluster analysis has run) says so instead of inventing one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import types
import typing
from dataclasses import dataclass
from urllib.parse import quote

from ingest import config
from ingest.errors import ReviewdeckError

FORMAT_VERSION = "weekly-report/1"
DEFAULT_APP_URL = "http://localhost:8501"
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class ReportError(ReviewdeckError):
    """A report cannot be built or reopened as asked (bad week, unknown report id, …)."""


# ---------------------------------------------------------------------------- weeks and links


def parse_week(text: str) -> dt.date:
    """The Monday of an ISO week written like 2026-W46."""
    match = _WEEK.match(text.strip())
    if not match:
        raise ReportError(f"week {text!r} is not an ISO week like 2026-W46")
    try:
        return dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError as exc:
        raise ReportError(f"week {text!r} does not exist: {exc}") from exc


def week_label(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def shift_week(week: str, weeks: int) -> str:
    return week_label(parse_week(week) + dt.timedelta(weeks=weeks))


def week_bounds(week: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the week in UTC."""
    monday = parse_week(week)
    start = dt.datetime.combine(monday, dt.time(), dt.UTC)
    return start, start + dt.timedelta(days=7)


def app_url(seen_at: str | None = None) -> str:
    """Base URL of the running app, for links in reports.

    REVIEWDECK_APP_URL wins (a proxy in front of the app knows better); else `seen_at`, the
    address the app was opened at (the Weekly page passes its own, see `base_of_page_url`);
    else http://localhost:8501, the default of `reviewdeck serve`.
    """
    configured = config.env_str("REVIEWDECK_APP_URL")
    if configured is not None and not configured.startswith(("http://", "https://")):
        raise ReportError(f"REVIEWDECK_APP_URL={configured!r} must start with http:// or https://")
    url = configured
    if url is None and seen_at and seen_at.startswith(("http://", "https://")):
        url = seen_at
    return (url or DEFAULT_APP_URL).rstrip("/")


def base_of_page_url(page_url: str | None, page_path: str) -> str | None:
    """The app's base URL from the URL of one of its pages (query string already dropped).

    'http://host:8600/weekly' on the page 'weekly' gives 'http://host:8600'; a base path the
    server is mounted under ('http://host/rd/weekly') is kept.
    """
    if not page_url:
        return None
    url = page_url.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    suffix = "/" + page_path.strip("/")
    if page_path and url.endswith(suffix):
        url = url[: -len(suffix)]
    return url or None


def event_url(base_url: str, event_id: str) -> str:
    return f"{base_url.rstrip('/')}/events?event={quote(event_id, safe='')}"


def explorer_url(base_url: str, query: str) -> str:
    return f"{base_url.rstrip('/')}/events?{query}"


# ---------------------------------------------------------------------------- the report's data


@dataclass(frozen=True)
class Metric:
    """One headline number this week against the previous week."""

    key: str
    label: str
    unit: str  # 'rate', 'mean', 'ms', 'usd', 'count'
    value: float | None
    n: int
    lo: float | None
    hi: float | None
    prev_value: float | None
    prev_n: int
    p_value: float | None
    # 'better', 'worse', 'no significant change', 'too little data', 'not tested'
    verdict: str
    higher_is_better: bool | None = None
    q_value: float | None = None  # BH across the headline's tested metrics; decides the verdict


@dataclass(frozen=True)
class Example:
    event_id: str
    ts: str
    model: str | None
    input_text: str
    output_text: str
    signal: str  # why it counts as badly rated, e.g. 'thumbs down, helpfulness 0.20'
    url: str


@dataclass(frozen=True)
class SegmentMove:
    """A segment whose metric changed significantly week over week (after BH correction)."""

    key: str  # 'tag=intent:billing', 'model=gpt-4o', …: also what notes attach to
    label: str
    metric: str  # 'thumbs_up_rate' or 'negative_rate'
    metric_label: str
    value: float
    prev_value: float
    n: int
    prev_n: int
    lo: float | None
    hi: float | None
    p_value: float
    q_value: float
    direction: str  # 'regression' or 'improvement'
    impact: float  # |change| × volume this week
    explorer_url: str
    examples: tuple[Example, ...] = ()
    models_now: str = ""  # which models served the segment, e.g. 'gpt-4.1-mini 100%'
    models_before: str = ""
    explains: str = ""  # broader flagged segments whose change this one accounts for


@dataclass(frozen=True)
class ClusterItem:
    cluster_id: str
    label: str
    status: str  # 'new topic' (novelty), 'new', 'growing', 'quality drop'
    share: float | None
    prev_share: float | None
    n: int
    p_value: float | None
    detail: str
    explorer_url: str
    examples: tuple[Example, ...] = ()


@dataclass(frozen=True)
class RerunRow:
    model: str
    reruns: int
    originals: int
    errors: int
    better: int
    same: int
    worse: int
    no_verdict: int  # reruns no reviewer has given a verdict yet (shown as "no verdict")


@dataclass(frozen=True)
class RerunBatchItem:
    """A batch rerun of this week's events, with the LLM judge's paired outcome on them.

    A batch belongs to the weeks of the events it reran; its numbers here count only the items
    whose original event is in this week (`items` of the batch's `batch_items`).
    """

    batch_id: str
    model: str
    where: str
    status: str
    items: int
    done: int
    judged: int
    wins: int
    ties: int
    losses: int
    win_rate: float | None  # wins / (wins + losses)
    win_rate_lo: float | None
    win_rate_hi: float | None
    p_value: float | None  # sign test, wins vs losses
    cost_original_usd: float | None
    cost_rerun_usd: float | None
    verdicts: str  # reviewer verdicts so far, e.g. 'better 3, worse 1'
    unreadable: int = 0  # judgements that could not be read: left out of win/tie/loss
    batch_items: int = 0  # items of the whole batch (over every week it touches)


@dataclass(frozen=True)
class QueueProgress:
    """A review queue open this week: items labelled (by as many reviewers as each needs) of
    its items, and the labels given during the week."""

    queue_id: int
    name: str
    rubric: str
    items: int
    done: int
    labels_this_week: int


@dataclass(frozen=True)
class EvaluatorItem:
    """One evaluator's latest version on this week's events (models.judge_trust): its fail rate,
    its agreement with reviewers and the judge-corrected rate. `sample` says what it rests on."""

    name: str
    version: str
    kind: str  # 'score' or 'label'
    sample: str
    judged: int
    fails: int
    rate: float | None
    rate_lo: float | None
    rate_hi: float | None
    paired: int  # events with a human label
    agreement: float | None
    kappa: float | None
    kappa_lo: float | None
    kappa_hi: float | None
    disagreements: int
    reviewer_pairs: int
    reviewer_kappa: float | None
    labelled: int
    human_rate: float | None
    human_lo: float | None
    human_hi: float | None
    corrected: float | None
    corrected_lo: float | None
    corrected_hi: float | None
    narrower: float | None  # 0.3 = corrected interval 30% narrower than humans-only
    sampling: str  # 'random', 'by_verdict', 'unknown' or 'selective' (models.judge_trust.summary)
    sampling_note: str
    errors: int
    unparsed: int
    cost_usd: float | None
    disagreement_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class TagItem:
    """A failure tag reviewers gave on this week's events, with examples."""

    tag: str
    n: int
    events: int
    examples: tuple[Example, ...] = ()


@dataclass(frozen=True)
class NoteItem:
    note_id: int
    week: str
    target_kind: str
    target_id: str | None
    text: str
    is_action: bool
    owner: str | None
    author: str | None
    created_at: str
    closed: bool
    carried_over: bool  # an open action item written for an earlier week


@dataclass(frozen=True)
class Report:
    week: str
    prev_week: str
    start: str
    end: str
    generated_at: str
    base_url: str
    n_events: int
    quiet: bool
    summary: tuple[str, ...]
    headline: tuple[Metric, ...]
    regressions: tuple[SegmentMove, ...]
    improvements: tuple[SegmentMove, ...]
    segments_tested: int
    clusters: tuple[ClusterItem, ...]
    reruns: tuple[RerunRow, ...]
    notes: tuple[NoteItem, ...]
    sources: tuple[tuple[str, str], ...]  # (section, where its numbers came from)
    level: float = 0.05
    format_version: str = FORMAT_VERSION
    batches: tuple[RerunBatchItem, ...] = ()
    partial: str = ""  # '' for a complete week, else e.g. 'partial: Mon–Tue' (models.trends.weeks)
    review: tuple[QueueProgress, ...] = ()  # the "Evaluators and review" section
    evaluators: tuple[EvaluatorItem, ...] = ()
    failure_tags: tuple[TagItem, ...] = ()

    @property
    def week_title(self) -> str:
        """The week as every number of the report names it: '2026-W49 (partial: Mon–Tue)'."""
        return f"{self.week} ({self.partial})" if self.partial else self.week

    @property
    def partial_notice(self) -> str:
        """What a partial week's reader must know before any number ('' when complete)."""
        if not self.partial:
            return ""
        return (
            f"{self.week_title}: the log does not cover the whole week, so every number of "
            f"{self.week} counts only those days, against the whole of {self.prev_week}. "
            "Volumes are not comparable; rates are, with wider intervals. The last complete "
            f"week is {self.prev_week}."
        )


@dataclass(frozen=True)
class NumberRow:
    """One number of a report, flattened for freezing and for "what changed"."""

    key: str
    label: str
    value: float | None
    n: int | None = None
    lo: float | None = None
    hi: float | None = None


def report_numbers(report: Report) -> list[NumberRow]:
    from models.judge_trust.summary import version_label

    rows = [NumberRow("events/n", "LLM events this week", float(report.n_events))]
    for m in report.headline:
        rows.append(NumberRow(f"headline/{m.key}", m.label, m.value, m.n, m.lo, m.hi))
    for s in (*report.regressions, *report.improvements):
        rows.append(
            NumberRow(
                f"segment/{s.key}/{s.metric}",
                f"{s.label}: {s.metric_label}",
                s.value,
                s.n,
                s.lo,
                s.hi,
            )
        )
    for c in report.clusters:
        rows.append(
            NumberRow(f"cluster/{c.cluster_id}/{c.status}", f"{c.label} ({c.status})", c.share, c.n)
        )
    for b in report.batches:
        for field in ("done", "wins", "ties", "losses", "unreadable"):
            rows.append(
                NumberRow(
                    f"batch/{b.batch_id}/{field}",
                    f"batch {b.batch_id}: {field}",
                    float(getattr(b, field)),
                )
            )
    for q in report.review:
        for field in ("items", "done", "labels_this_week"):
            rows.append(
                NumberRow(f"review/{q.queue_id}/{field}", f"queue {q.name}: {field}",
                          float(getattr(q, field)))
            )
    for ev in report.evaluators:
        key = f"evaluator/{ev.name}@{ev.version}"
        who = version_label(ev.name, ev.version)
        rows.append(NumberRow(f"{key}/fail_rate", f"{who}: fail rate", ev.rate, ev.judged,
                              ev.rate_lo, ev.rate_hi))
        rows.append(NumberRow(f"{key}/kappa", f"{who}: Cohen's kappa vs reviewers", ev.kappa,
                              ev.paired, ev.kappa_lo, ev.kappa_hi))
        rows.append(NumberRow(f"{key}/agreement", f"{who}: agreement with reviewers",
                              ev.agreement, ev.paired))
        if ev.corrected is not None:
            rows.append(NumberRow(f"{key}/corrected_fail_rate", f"{who}: judge-corrected fail rate",
                                  ev.corrected, ev.labelled, ev.corrected_lo, ev.corrected_hi))
            rows.append(NumberRow(f"{key}/human_fail_rate", f"{who}: humans-only fail rate",
                                  ev.human_rate, ev.labelled, ev.human_lo, ev.human_hi))
    for t in report.failure_tags:
        rows.append(NumberRow(f"tag/{t.tag}", f"failure tag {t.tag}", float(t.n), t.events))
    for r in report.reruns:
        for field in ("reruns", "better", "same", "worse", "errors", "no_verdict"):
            rows.append(
                NumberRow(
                    f"reruns/{r.model}/{field}",
                    f"reruns with {r.model}: {field}",
                    float(getattr(r, field)),
                )
            )
    return rows


# ---------------------------------------------------------------------------- JSON round trip


def to_dict(report: Report) -> dict:
    return dataclasses.asdict(report)


def from_dict(data: dict) -> Report:
    """Rebuild a Report from `to_dict` output (as stored in a frozen snapshot)."""
    return _decode(Report, data)


# Fields renamed since reports were first frozen: old snapshots still reopen with their value.
_RENAMED = {"RerunRow": {"unjudged": "no_verdict"}}


def _decode(tp: typing.Any, value: typing.Any) -> typing.Any:
    if value is None:
        return None
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        known = {f.name for f in dataclasses.fields(tp)}
        renamed = _RENAMED.get(tp.__name__, {})
        value = {renamed.get(k, k): v for k, v in value.items()}
        return tp(**{k: _decode(hints[k], v) for k, v in value.items() if k in known})
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode(inner[0], value)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in value)
        return tuple(_decode(a, v) for a, v in zip(args, value, strict=True))
    if tp is float:
        return float(value)
    return value


def format_value(m: Metric, value: float | None) -> str:
    """A metric's value as the report prints it, in its unit."""
    if value is None:
        return "n/a"
    if m.unit == "rate":
        return "n/a" if value is None else f"{100 * value:.1f}%"
    if m.unit == "usd":
        return f"${value:,.2f}" if abs(value) >= 1 else f"${value:.4f}"
    if m.unit == "ms":
        return f"{value:,.0f} ms"
    if m.unit == "count":
        return f"{value:,.0f}"
    return f"{value:.3f}"
