"""The checks of `reviewdeck check`, run on one period against the one before.

Each check reuses the analysis the app already shows, so an alert says what a page would say:
- headline: models.trends.core's headline (Fisher's exact test for rates, Welch's t for means,
  minimum-n guard) of the period against the previous one, on production traffic
  (models.report.sections.production_filter, as the weekly pack); only a change its test calls
  significant *and* in the worse direction can fire;
- new topic: models.drift.report.compute_drift's novelty test and its new topics (period against
  the reference weeks before); skipped with a note when no analysis exists;
- evaluators: each evaluator's latest version, fail rate (value < LOW_SCORE) of the period
  against the previous one, Fisher's exact test (models.stats.compare_proportions); only a
  significant rise fires;
- thresholds: the error rate over a share (one-sided exact binomial test that the rate exceeds
  it), the period's total cost or mean cost per event over an amount (a bill is a fact, not an
  estimate: no test, no p-value).

Every tested check's p-value goes into one family, controlled with Benjamini–Hochberg at the
config's alpha (models.stats.benjamini_hochberg): a check fires only when its adjusted test
rejects, so twenty quiet metrics do not raise one alert by chance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import duckdb

from ingest.errors import ReviewdeckError
from ingest.feedback_sql import LATEST_VERSIONS_SQL, LOW_SCORE
from models import stats
from models.alerts.config import AlertConfig
from models.filters import EventFilter

FIRED = "fired"
OK = "ok"
SKIPPED = "skipped"


class CheckInputError(ReviewdeckError):
    """The period asked for cannot be checked (bad week or day, empty warehouse)."""


@dataclass(frozen=True)
class CheckPeriod:
    kind: str  # 'week' or 'day'
    label: str  # 2026-W46 or 2026-11-16
    start: dt.date  # inclusive
    end: dt.date  # exclusive
    previous_label: str
    partial: str = ""  # the week's partial note (models.trends.weeks), '' when complete

    @property
    def length(self) -> dt.timedelta:
        return self.end - self.start

    @property
    def previous_start(self) -> dt.date:
        return self.start - self.length


@dataclass(frozen=True)
class CheckResult:
    check: str  # headline, new_topic, evaluator, error_rate, cost_total, cost_per_event
    key: str  # the metric key, evaluator name@version, ...
    label: str
    status: str  # FIRED, OK or SKIPPED
    n: int | None = None
    n_reference: int | None = None
    value: float | None = None
    reference: float | None = None  # the previous period's value, or the threshold
    delta: float | None = None
    p_value: float | None = None
    q_value: float | None = None  # Benjamini–Hochberg adjusted, over the family
    test: str = "none"
    detail: str = ""
    link: str = ""
    candidate: bool = False  # raw direction is the alerting one (fires if the family agrees)

    @property
    def fired(self) -> bool:
        return self.status == FIRED


def _label(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def resolve_period(
    con: duckdb.DuckDBPyConnection, week: str | None = None, day: str | None = None,
    now: dt.datetime | None = None,
) -> CheckPeriod:
    """The period to check: --week, --day, or the last complete ISO week (as the trends page)."""
    from models.report.model import ReportError, parse_week
    from models.trends import core as trends
    from models.trends import weeks

    if week and day:
        raise CheckInputError("give --week or --day, not both")
    if day:
        try:
            d = dt.date.fromisoformat(day)
        except ValueError:
            raise CheckInputError(f"day {day!r} is not a date like 2026-11-16") from None
        return CheckPeriod("day", d.isoformat(), d, d + dt.timedelta(days=1),
                           (d - dt.timedelta(days=1)).isoformat())
    horizon = weeks.data_horizon(con)
    if week:
        try:
            monday = parse_week(week)
        except ReportError as exc:
            raise CheckInputError(str(exc)) from None
    else:
        monday = weeks.last_complete(trends.weeks_available(con, EventFilter()), horizon, now)
        if monday is None:
            raise CheckInputError("the warehouse holds no events yet: nothing to check")
    cover = weeks.coverage(monday, horizon, now)
    return CheckPeriod("week", _label(monday), monday, monday + dt.timedelta(days=7),
                       _label(monday - dt.timedelta(days=7)), cover.note)


def _production(con: duckdb.DuckDBPyConnection, period: CheckPeriod) -> EventFilter:
    from models.report.sections import production_filter

    return production_filter(con, _label(period.start))


def _periods(period: CheckPeriod):
    from models.trends.core import Period

    return [
        Period("current", period.start, period.end),
        Period("previous", period.previous_start, period.start),
        Period("baseline", period.start - dt.timedelta(days=28), period.start),
    ]


def _range_query(period: CheckPeriod, **extra: object) -> str:
    flt = EventFilter(start=period.start, end=period.end - dt.timedelta(days=1))
    return flt.with_(**extra).to_query_string() if extra else flt.to_query_string()


# ---------------------------------------------------------------------------- the checks


def headline_checks(
    con: duckdb.DuckDBPyConnection, period: CheckPeriod, cfg: AlertConfig, base_url: str,
    counts=None,
) -> list[CheckResult]:
    from models.report.sections import _no_feedback
    from models.trends import core as trends

    flt = _production(con, period)
    ps = _periods(period)
    counts = trends.period_counts(con, flt, ps) if counts is None else counts
    scores = trends.period_scores(con, flt, ps)
    rows = trends.headline(counts, scores, alpha=cfg.alpha, min_n=cfg.headline.min_n)
    by = {r["period"]: r for r in counts.iter_rows(named=True)}
    silent = _no_feedback(by.get("current", {})) or _no_feedback(by.get("previous", {}))
    wanted = set(cfg.headline.metrics)
    link = f"{base_url}/trends?{_range_query(period)}"
    out = []
    for r in rows:
        if r.better is None or (wanted and r.key not in wanted):
            continue
        cmp = r.vs_previous
        common = dict(n=r.current.n, n_reference=r.previous.n, value=r.current.value,
                      reference=r.previous.value, delta=cmp.delta, link=link)
        if r.key in trends.FEEDBACK_KEYS and silent:
            out.append(CheckResult("headline", r.key, r.label, SKIPPED, **common,
                                   detail="no feedback logged in one of the two periods"))
            continue
        if cmp.p_value is None:
            out.append(CheckResult("headline", r.key, r.label, SKIPPED, **common,
                                   detail=f"too little data (fewer than {cfg.headline.min_n} "
                                   "on a side)"))
            continue
        worse = trends.judgement(cmp, r.better) == "worse"
        detail = f"better is {r.better}"
        # With enough events a change of a cent in a thousand is significant; one smaller
        # than min_change of the previous value is not worth waking anyone for.
        small = (cmp.delta is not None and r.previous.value
                 and abs(cmp.delta) < cfg.headline.min_change * abs(r.previous.value))
        if worse and small:
            detail += (f"; the change is under {cfg.headline.min_change:.0%} of the previous "
                       "value (min_change)")
        out.append(CheckResult("headline", r.key, r.label, OK, **common, p_value=cmp.p_value,
                               test=cmp.test, candidate=worse and not small, detail=detail))
    return out


_EVALUATOR_SQL = f"""
WITH latest AS (  -- each evaluator's latest version, as every page counts it; no label rubrics
    SELECT l.name, l.version FROM ({LATEST_VERSIONS_SQL}) l
    WHERE NOT EXISTS (SELECT 1 FROM feedback f WHERE f.name = l.name
                      AND f.evaluator_version = l.version AND f.kind = 'label')
),
verdicts AS (  -- one verdict per event: the evaluator's last row on it
    SELECT f.name, f.evaluator_version AS version, f.event_id,
           arg_max(f.value, coalesce(f.ts, f.ingested_at)) AS value
    FROM feedback f JOIN latest l ON l.name = f.name AND l.version = f.evaluator_version
    WHERE f.source IN ('llm_judge', 'code') AND f.kind = 'score' AND f.value IS NOT NULL
    GROUP BY ALL
)
SELECT v.name, v.version,
    count(*) FILTER (WHERE e.ts >= $lo1) AS n1,
    count(*) FILTER (WHERE e.ts >= $lo1 AND v.value < {LOW_SCORE}) AS x1,
    count(*) FILTER (WHERE e.ts < $lo1) AS n0,
    count(*) FILTER (WHERE e.ts < $lo1 AND v.value < {LOW_SCORE}) AS x0
FROM verdicts v JOIN events e USING (event_id)
WHERE e.ts >= $lo0 AND e.ts < $hi1
GROUP BY ALL ORDER BY v.name
"""


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def evaluator_checks(
    con: duckdb.DuckDBPyConnection, period: CheckPeriod, cfg: AlertConfig, base_url: str,
) -> list[CheckResult]:
    rows = con.execute(_EVALUATOR_SQL, {
        "lo0": _start(period.previous_start), "lo1": _start(period.start),
        "hi1": _start(period.end),
    }).fetchall()
    wanted = set(cfg.evaluators.names)
    out = []
    for name, version, n1, x1, n0, x0 in rows:
        if wanted and name not in wanted:
            continue
        cmp = stats.compare_proportions(int(x1), int(n1), int(x0), int(n0), alpha=cfg.alpha,
                                        min_n=cfg.evaluators.min_n)
        common = dict(n=int(n1), n_reference=int(n0), value=x1 / n1 if n1 else None,
                      reference=x0 / n0 if n0 else None, delta=cmp.delta,
                      link=f"{base_url}/evaluators")
        label = f"{name} fail rate (version {version})"
        if cmp.p_value is None:
            out.append(CheckResult("evaluator", f"{name}@{version}", label, SKIPPED, **common,
                                   detail=f"too little data (fewer than "
                                   f"{cfg.evaluators.min_n} verdicts on a side)"))
            continue
        out.append(CheckResult("evaluator", f"{name}@{version}", label, OK, **common,
                               p_value=cmp.p_value, test=cmp.test,
                               candidate=cmp.verdict == stats.UP,
                               detail=f"{int(x1)} fails of {int(n1)} vs {int(x0)} of {int(n0)}"))
    missing = wanted - {r[0] for r in rows}
    for name in sorted(missing):
        out.append(CheckResult("evaluator", name, f"{name} fail rate", SKIPPED,
                               detail="no score verdicts of this evaluator in the two periods"))
    return out


def threshold_checks(
    con: duckdb.DuckDBPyConnection, period: CheckPeriod, cfg: AlertConfig, base_url: str,
    counts=None,
) -> list[CheckResult]:
    from scipy import stats as sps

    from models.trends import core as trends

    th = cfg.thresholds
    if th.error_rate is None and th.cost_total_usd is None and th.cost_per_event_usd is None:
        return []
    if counts is None:
        counts = trends.period_counts(con, _production(con, period), _periods(period))
    cur = {r["period"]: r for r in counts.iter_rows(named=True)}.get("current", {})
    events = int(cur.get("events") or 0)
    out = []
    if th.error_rate is not None:
        x, n = int(cur.get("error_x") or 0), int(cur.get("error_n") or 0)
        link = f"{base_url}/events?{_range_query(period, status='error')}"
        common = dict(n=n, value=x / n if n else None, reference=th.error_rate, link=link)
        if n < th.min_n:
            out.append(CheckResult("error_rate", "error", "Error rate over threshold", SKIPPED,
                                   **common, detail=f"too little data ({n} < {th.min_n} events)"))
        else:
            p = float(sps.binomtest(x, n, th.error_rate, alternative="greater").pvalue)
            out.append(CheckResult(
                "error_rate", "error", "Error rate over threshold", OK, **common,
                delta=x / n - th.error_rate, p_value=p, test="binomial (one-sided)",
                candidate=x / n > th.error_rate, detail=f"{x} errors of {n} events"))
    if th.cost_total_usd is not None:
        total = float(cur.get("cost_total") or 0.0)
        out.append(CheckResult(
            "cost_total", "cost_total", "Total cost over budget",
            FIRED if total > th.cost_total_usd else OK, n=events, value=total,
            reference=th.cost_total_usd, delta=total - th.cost_total_usd,
            link=f"{base_url}/trends?{_range_query(period)}",
            detail="a bill, not an estimate: compared as is"))
    if th.cost_per_event_usd is not None:
        mean = cur.get("cost_mean")
        n_cost = int(cur.get("cost_n") or 0)
        over = mean is not None and float(mean) > th.cost_per_event_usd
        out.append(CheckResult(
            "cost_per_event", "cost_per_event", "Cost per event over threshold",
            FIRED if over else (OK if mean is not None else SKIPPED), n=n_cost,
            value=None if mean is None else float(mean), reference=th.cost_per_event_usd,
            delta=None if mean is None else float(mean) - th.cost_per_event_usd,
            link=f"{base_url}/trends?{_range_query(period)}",
            detail="mean cost of the events that report one, compared as is"
            if mean is not None else "no event reports a cost"))
    return out


def new_topic_checks(
    con: duckdb.DuckDBPyConnection, period: CheckPeriod, cfg: AlertConfig, base_url: str,
) -> list[CheckResult]:
    from models.drift import statistics as drf
    from models.drift.report import NoAnalysis, compute_drift

    weeks = cfg.new_topic.reference_weeks
    ref = drf.Window(period.start - dt.timedelta(days=7 * weeks),
                     period.start - dt.timedelta(days=1))
    cur = drf.Window(period.start, period.end - dt.timedelta(days=1))
    link = f"{base_url}/drift?ref={ref}&cur={cur}"
    try:
        report = compute_drift(con, ref, cur, reference_weeks=weeks)
    except NoAnalysis as exc:
        return [CheckResult("new_topic", "new_topic", "New topic", SKIPPED, detail=str(exc),
                            link=link)]
    nov = report.novelty
    if nov is None or nov.p_value != nov.p_value:  # NaN: a window too small to test
        return [CheckResult("new_topic", "new_topic", "New topic", SKIPPED, link=link,
                            n=report.n_current_events,
                            detail="too few analysed events in one of the windows")]
    topics = [t for t in report.new_topics if t.n_events >= cfg.new_topic.min_events]
    names = "; ".join(f"{t.label} (~{t.estimated_events} events)" for t in topics)
    return [CheckResult(
        "new_topic", "new_topic", "New topic", OK, n=nov.n_current, n_reference=nov.n_reference,
        value=float(nov.statistic), reference=float(nov.expected), p_value=float(nov.p_value),
        test=nov.method, candidate=bool(topics), link=link,
        detail=names or "no new topic",
    )]


# ---------------------------------------------------------------------------- the family


def control_family(results: list[CheckResult], alpha: float) -> list[CheckResult]:
    """Benjamini–Hochberg over every tested check; a candidate fires only when it rejects."""
    tested = [i for i, r in enumerate(results) if r.p_value is not None and r.status == OK]
    bh = stats.benjamini_hochberg([results[i].p_value for i in tested], alpha=alpha)
    out = list(results)
    for i, rejected, q in zip(tested, bh.rejected, bh.q_values, strict=True):
        r = results[i]
        out[i] = replace(r, q_value=q, status=FIRED if rejected and r.candidate else OK)
    return out


@dataclass(frozen=True)
class CheckRun:
    period: CheckPeriod
    results: tuple[CheckResult, ...]
    alpha: float
    n_tests: int
    config: str
    base_url: str

    @property
    def fired(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.fired)


def run_checks(
    con: duckdb.DuckDBPyConnection, cfg: AlertConfig, period: CheckPeriod, base_url: str,
) -> CheckRun:
    """Every enabled check on `period`, the family controlled."""
    from models.trends import core as trends

    counts = trends.period_counts(con, _production(con, period), _periods(period))
    results: list[CheckResult] = []
    if cfg.headline.enabled:
        results += headline_checks(con, period, cfg, base_url, counts)
    if cfg.new_topic.enabled:
        results += new_topic_checks(con, period, cfg, base_url)
    if cfg.evaluators.enabled:
        results += evaluator_checks(con, period, cfg, base_url)
    results += threshold_checks(con, period, cfg, base_url, counts)
    results = control_family(results, cfg.alpha)
    n_tests = sum(1 for r in results if r.q_value is not None)
    return CheckRun(period, tuple(results), cfg.alpha, n_tests, cfg.source, base_url)
