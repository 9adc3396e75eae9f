"""The sections of the weekly report, each computed from the warehouse in plain SQL.

These are deliberately simple and honest: DuckDB counts, models.stats tests (Wilson intervals,
Fisher's exact test week over week, Welch's t for score means, Benjamini–Hochberg across
segments), a minimum-n guard under which a number gets no verdict. Where a dedicated analysis
exists in the warehouse (clusters from `reviewdeck analyze`), the section reads it; otherwise
it says what it fell back to (`source` strings).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb

from models import stats
from models.filters import LOW_SCORE, NEGATIVE_SQL, EventFilter
from models.report import (
    ClusterItem,
    Example,
    Metric,
    RerunRow,
    SegmentMove,
    event_url,
    explorer_url,
    parse_week,
    shift_week,
    week_bounds,
)

MIN_N = stats.MIN_N  # below this many events (or votes) on either side: "too little data"
TEXT_LIMIT = 400
REFERENCE_WEEKS = 4  # cluster/topic shares: this week against the previous four
# The production traffic the report judges: reruns are reported in their own section.
BASE_SQL = (
    "e.kind = 'llm' AND e.rerun_of IS NULL AND coalesce(e.environment, '') <> 'playground'"
)
# Segment dimensions: fixed identifiers, never from user text.
DIMENSIONS = {
    "tag": "list_contains(e.tags, ?)",
    "model": "e.model = ?",
    "prompt_version": "e.prompt_version = ?",
}
SEGMENT_METRICS = {
    # key: (label, higher_is_better)
    "thumbs_up_rate": ("thumbs-up rate", True),
    "negative_rate": ("negative-signal rate", False),
    "error_rate": ("error rate", False),
}


@dataclass(frozen=True)
class Context:
    con: duckdb.DuckDBPyConnection
    week: str
    prev: str
    base_url: str
    examples: int
    top: int
    level: float
    seed: int


# ---------------------------------------------------------------------------- statistics
# The mathematics lives in models.stats (the trends work): Wilson intervals, Fisher's exact
# test week over week, Welch's t for means, Benjamini–Hochberg, the minimum-n guard.


def wilson(k: int, n: int) -> tuple[float | None, float | None]:
    est = stats.wilson(k, n)
    return est.lo, est.hi


def two_proportion_p(k1: int, n1: int, k0: int, n0: int) -> float | None:
    """p-value of rate k1/n1 against k0/n0, or None under the minimum-n guard."""
    return stats.compare_proportions(k1, n1, k0, n0, min_n=MIN_N).p_value


def bh(p_values: list[float], level: float = stats.DEFAULT_ALPHA) -> list[float]:
    return list(stats.benjamini_hochberg(p_values, alpha=level).q_values)


def _verdict(cmp: stats.Comparison, higher_is_better: bool | None) -> str:
    if cmp.verdict == stats.TOO_LITTLE:
        return "too little data"
    if not cmp.significant or higher_is_better is None:
        return "no significant change"
    return "better" if (cmp.verdict == stats.UP) == higher_is_better else "worse"


def rate_metric(key: str, label: str, k: int, n: int, k0: int, n0: int,
                higher_is_better: bool, level: float) -> Metric:
    est = stats.wilson(k, n)
    cmp = stats.compare_proportions(k, n, k0, n0, alpha=level, min_n=MIN_N)
    return Metric(key, label, "rate", est.value, n, est.lo, est.hi, k0 / n0 if n0 else None,
                  n0, cmp.p_value, _verdict(cmp, higher_is_better), higher_is_better)


def mean_metric(key: str, label: str, cur: tuple, prev: tuple, level: float) -> Metric:
    """A score mean with a t interval and Welch's test against the previous week."""
    n, mean, var = cur
    n0, mean0, var0 = prev
    sd = math.sqrt(var) if var is not None else None
    sd0 = math.sqrt(var0) if var0 is not None else None
    est = stats.mean_t(n, mean, sd)
    cmp = stats.compare_means(n, mean, sd, n0, mean0, sd0, alpha=level, min_n=MIN_N)
    return Metric(key, label, "mean", est.value, n, est.lo, est.hi, mean0, n0, cmp.p_value,
                  _verdict(cmp, True), True)


# ---------------------------------------------------------------------------- sections


def _two_weeks(ctx: Context) -> list[object]:
    start, end = week_bounds(ctx.week)
    prev_start, _ = week_bounds(ctx.prev)
    return [start, prev_start, end]


_EVENTS_2W = f"""
    ev AS (
        SELECT e.*, CASE WHEN e.ts >= ? THEN 'cur' ELSE 'prev' END AS wk
        FROM events e WHERE {BASE_SQL} AND e.ts >= ? AND e.ts < ?
    ),
    fb AS (
        SELECT f.event_id,
               arg_max(f.value, coalesce(f.ts, f.ingested_at))
                   FILTER (WHERE f.name = 'thumbs') AS thumbs,
               bool_or({NEGATIVE_SQL}) AS negative,
               bool_or(f.kind IN ('vote', 'correction', 'label') OR f.source = 'reviewer')
                   AS explicit
        FROM feedback f SEMI JOIN ev ON f.event_id = ev.event_id
        GROUP BY f.event_id
    )
"""


def count_events(ctx: Context) -> int:
    start, end = week_bounds(ctx.week)
    return int(ctx.con.execute(
        f"SELECT count(*) FROM events e WHERE {BASE_SQL} AND e.ts >= ? AND e.ts < ?", [start, end]
    ).fetchall()[0][0])


def week_event_ids(con: duckdb.DuckDBPyConnection, week: str) -> list[tuple[str, str]]:
    """(event_id, role) of the events a report on `week` counts: this week and the previous."""
    start, end = week_bounds(week)
    prev_start, _ = week_bounds(shift_week(week, -1))
    return con.execute(
        f"SELECT e.event_id, CASE WHEN e.ts >= ? THEN 'week' ELSE 'previous' END "
        f"FROM events e WHERE {BASE_SQL} AND e.ts >= ? AND e.ts < ?",
        [start, prev_start, end],
    ).fetchall()


def headline(ctx: Context) -> tuple[list[Metric], str]:
    rows = ctx.con.execute(
        f"""
        WITH {_EVENTS_2W}
        SELECT wk, count(*) AS n, count(fb.thumbs) AS n_thumbs, coalesce(sum(fb.thumbs), 0),
               count_if(fb.negative), count_if(fb.explicit), count_if(ev.status = 'error'),
               quantile_cont(ev.latency_ms, 0.5), quantile_cont(ev.latency_ms, 0.95),
               sum(ev.cost_usd)
        FROM ev LEFT JOIN fb USING (event_id) GROUP BY wk
        """,
        _two_weeks(ctx),
    ).fetchall()
    by = {r[0]: r[1:] for r in rows}
    zero = (0, 0, 0, 0, 0, 0, None, None, None)
    cur, prev = by.get("cur", zero), by.get("prev", zero)
    n, nt, up, neg, expl, err = (int(x) for x in cur[:6])
    n0, nt0, up0, neg0, expl0, err0 = (int(x) for x in prev[:6])
    lv = ctx.level
    out = [
        Metric("volume", "LLM events", "count", float(n), n, None, None, float(n0), n0, None,
               "not tested"),
        rate_metric("thumbs_up_rate", "Thumbs-up rate", up, nt, up0, nt0, True, lv),
        rate_metric("negative_rate", "Negative-signal rate", neg, n, neg0, n0, False, lv),
        rate_metric("error_rate", "Error rate", err, n, err0, n0, False, lv),
        rate_metric("coverage", "Feedback coverage", expl, n, expl0, n0, True, lv),
    ]
    # Coverage is reported, not judged: more votes is not better quality.
    out[-1] = _untested(out[-1])
    for key, label, idx in (("latency_p50", "Latency p50", 6), ("latency_p95", "Latency p95", 7)):
        out.append(Metric(key, label, "ms", _f(cur[idx]), n, None, None, _f(prev[idx]), n0, None,
                          "not tested", False))
    out.append(Metric("cost", "Cost", "usd", _f(cur[8]), n, None, None, _f(prev[8]), n0, None,
                      "not tested", False))
    scores = ctx.con.execute(
        f"""
        WITH {_EVENTS_2W}
        SELECT f.name, ev.wk, count(*), avg(f.value), var_samp(f.value)
        FROM feedback f JOIN ev USING (event_id)
        WHERE f.kind = 'score' AND f.value IS NOT NULL
        GROUP BY ALL ORDER BY f.name
        """,
        _two_weeks(ctx),
    ).fetchall()
    by_score: dict[str, dict[str, tuple]] = {}
    for name, wk, cnt, mean, var in scores:
        by_score.setdefault(name, {})[wk] = (int(cnt), mean, var)
    for name, weeks in by_score.items():
        out.append(mean_metric(f"score_{name}", f"Mean {name} score",
                               weeks.get("cur", (0, None, None)),
                               weeks.get("prev", (0, None, None)), lv))
    return _bh_headline(out, lv), (
        "warehouse SQL (report_sections); verdicts Benjamini–Hochberg across the headline's "
        "tested metrics, so a quiet week is not flagged by chance one metric in twenty"
    )


def _bh_headline(metrics: list[Metric], level: float) -> list[Metric]:
    from dataclasses import replace

    tested = [i for i, m in enumerate(metrics) if m.p_value is not None]
    qs = bh([metrics[i].p_value for i in tested], level)
    out = list(metrics)
    for i, q in zip(tested, qs, strict=True):
        m = metrics[i]
        verdict = m.verdict
        if verdict in ("better", "worse") and q >= level:
            verdict = "no significant change"
        out[i] = replace(m, q_value=q, verdict=verdict)
    return out


def _untested(m: Metric) -> Metric:
    from dataclasses import replace

    return replace(m, verdict="not tested", p_value=None, higher_is_better=None)


def _f(x: object) -> float | None:
    return None if x is None else float(x)  # type: ignore[arg-type]


def segment_moves(ctx: Context) -> tuple[list[SegmentMove], list[SegmentMove], int, str]:
    """Segments (tag, model, prompt version) whose rates changed week over week, BH-corrected."""
    rows = ctx.con.execute(
        f"""
        WITH {_EVENTS_2W},
        seg AS (
            SELECT 'tag' AS dim, unnest(tags) AS val, event_id, wk, status FROM ev
            UNION ALL SELECT 'model', model, event_id, wk, status FROM ev WHERE model IS NOT NULL
            UNION ALL SELECT 'prompt_version', prompt_version, event_id, wk, status FROM ev
                WHERE prompt_version IS NOT NULL
        )
        SELECT dim, val,
               count(*) FILTER (WHERE wk = 'cur'), count(*) FILTER (WHERE wk = 'prev'),
               count(fb.thumbs) FILTER (WHERE wk = 'cur'),
               count(fb.thumbs) FILTER (WHERE wk = 'prev'),
               coalesce(sum(fb.thumbs) FILTER (WHERE wk = 'cur'), 0),
               coalesce(sum(fb.thumbs) FILTER (WHERE wk = 'prev'), 0),
               count_if(fb.negative AND wk = 'cur'), count_if(fb.negative AND wk = 'prev'),
               count_if(status = 'error' AND wk = 'cur'),
               count_if(status = 'error' AND wk = 'prev'),
               any_value((SELECT count(*) FROM ev WHERE wk = 'cur')),
               any_value((SELECT count(*) FROM ev WHERE wk = 'prev'))
        FROM seg LEFT JOIN fb USING (event_id)
        WHERE val IS NOT NULL
        GROUP BY dim, val ORDER BY dim, val
        """,
        _two_weeks(ctx),
    ).fetchall()
    tests: list[tuple] = []
    for dim, val, n, n0, nt, nt0, up, up0, neg, neg0, err, err0, total, total0 in rows:
        if n == total and n0 == total0:
            continue  # a segment holding all the traffic is the headline, not a segment
        for metric, k, m, k0, m0 in (
            ("thumbs_up_rate", up, nt, up0, nt0),
            ("negative_rate", neg, n, neg0, n0),
            ("error_rate", err, n, err0, n0),
        ):
            if min(m, m0) < MIN_N:
                continue
            p = two_proportion_p(int(k), int(m), int(k0), int(m0))
            tests.append((dim, val, metric, int(k), int(m), int(k0), int(m0), int(n), p))
    qs = bh([t[-1] for t in tests])
    regressions: list[SegmentMove] = []
    improvements: list[SegmentMove] = []
    start, end = week_bounds(ctx.week)
    for (dim, val, metric, k, m, k0, m0, n, p), q in zip(tests, qs, strict=True):
        if q >= ctx.level:
            continue
        label, higher_is_better = SEGMENT_METRICS[metric]
        value, prev = k / m, k0 / m0
        if value == prev:
            continue
        better = (value > prev) == higher_is_better
        lo, hi = wilson(k, m)
        flt = _segment_filter(dim, val, start.date(), (end.date()))
        move = SegmentMove(
            key=f"{dim}={val}", label=f"{dim.replace('_', ' ')} {val}", metric=metric,
            metric_label=label, value=value, prev_value=prev, n=m, prev_n=m0, lo=lo, hi=hi,
            p_value=p, q_value=q, direction="improvement" if better else "regression",
            impact=abs(value - prev) * n,
            explorer_url=explorer_url(ctx.base_url, flt.to_query_string()),
        )
        (improvements if better else regressions).append(move)
    regressions = sorted(regressions, key=lambda s: -s.impact)[: ctx.top]
    improvements = sorted(improvements, key=lambda s: -s.impact)[: ctx.top]
    regressions = [_with_examples(ctx, s) for s in regressions]
    improvements = [_with_examples(ctx, s) for s in improvements]
    source = "warehouse SQL (report_sections), BH across segments"
    return regressions, improvements, len(tests), source


def _segment_filter(dim: str, val: str, start, end_excl) -> EventFilter:
    import datetime as dt

    flt = EventFilter(start=start, end=end_excl - dt.timedelta(days=1))
    if dim == "tag":
        return flt.with_(tags=(val,))
    if dim == "model":
        return flt.with_(models=(val,))
    return flt.with_(prompt_versions=(val,))


def _with_examples(ctx: Context, s: SegmentMove) -> SegmentMove:
    from dataclasses import replace

    dim, _, val = s.key.partition("=")
    now, before = model_mix(ctx, DIMENSIONS[dim], [val])
    return replace(s, examples=tuple(worst_examples(ctx, DIMENSIONS[dim], [val])),
                   models_now=now, models_before=before)


def model_mix(ctx: Context, condition: str, params: list[object]) -> tuple[str, str]:
    """Which models served the matching events this week and the previous one ('m 80%, …')."""
    rows = ctx.con.execute(
        f"""
        SELECT e.ts >= ? AS cur, coalesce(e.model, '?') AS model, count(*) AS n
        FROM events e WHERE {BASE_SQL} AND e.ts >= ? AND e.ts < ? AND ({condition})
        GROUP BY ALL ORDER BY cur, n DESC, model
        """,
        [*_two_weeks(ctx), *params],
    ).fetchall()
    out = []
    for week in (True, False):
        part = [(m, n) for cur, m, n in rows if cur == week]
        total = sum(n for _, n in part)
        out.append(", ".join(f"{m} {100 * n / total:.0f}%" for m, n in part[:3]))
    return out[0], out[1]


def worst_examples(ctx: Context, condition: str, params: list[object]) -> list[Example]:
    """The worst-rated events of the week matching `condition`, sampled deterministically.

    Worst = most negative signals (thumbs down, regenerate, heavy edit, error) plus how low its
    lowest judge/code score is; ties (most of them) are broken by a seeded hash, so the sample
    is stable for a seed and not biased to the earliest events.
    """
    start, end = week_bounds(ctx.week)
    rows = ctx.con.execute(
        f"""
        WITH ev AS (
            SELECT e.event_id, e.ts, e.model, e.input_text, e.output_text, e.status, e.error_type
            FROM events e WHERE {BASE_SQL} AND e.ts >= ? AND e.ts < ? AND ({condition})
        ),
        fb AS (
            SELECT f.event_id,
                   count_if(f.name = 'thumbs' AND f.value = 0) AS downs,
                   count_if(f.name = 'regenerated') AS regen,
                   count_if(f.name = 'edited' AND f.value >= 0.5) AS heavy,
                   min(f.value) FILTER (WHERE f.kind = 'score') AS min_score,
                   arg_min(f.name, f.value) FILTER (WHERE f.kind = 'score') AS min_name
            FROM feedback f SEMI JOIN ev ON f.event_id = ev.event_id GROUP BY f.event_id
        ),
        scored AS (
            SELECT ev.*, coalesce(downs, 0) AS downs, coalesce(regen, 0) AS regen,
                   coalesce(heavy, 0) AS heavy, min_score, min_name,
                   coalesce(downs, 0) + coalesce(regen, 0) + coalesce(heavy, 0)
                   + (ev.status = 'error')::INT
                   + CASE WHEN min_score < ? THEN 1 - min_score ELSE 0 END AS badness
            FROM ev LEFT JOIN fb USING (event_id)
        )
        SELECT event_id, ts, model, input_text, output_text, status, error_type,
               downs, regen, heavy, min_score, min_name
        FROM scored WHERE badness > 0
        ORDER BY badness DESC, hash(event_id, ?) LIMIT ?
        """,
        [start, end, *params, LOW_SCORE, ctx.seed, ctx.examples],
    ).fetchall()
    out = []
    for eid, ts, model, inp, outp, status, etype, downs, regen, heavy, min_score, min_name in rows:
        signal = []
        if downs:
            signal.append("thumbs down")
        if regen:
            signal.append("regenerated")
        if heavy:
            signal.append("heavily edited")
        if status == "error":
            signal.append(f"error ({etype})" if etype else "error")
        if min_score is not None and min_score < LOW_SCORE:
            signal.append(f"{min_name} {min_score:.2f}")
        out.append(Example(
            event_id=eid, ts=ts.isoformat(timespec="seconds"), model=model,
            input_text=_clip(inp), output_text=_clip(outp), signal=", ".join(signal),
            url=event_url(ctx.base_url, eid),
        ))
    return out


def _clip(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def clusters(ctx: Context) -> tuple[list[ClusterItem], str]:
    """New and growing topics this week against the previous four weeks.

    Until a cluster analysis is stored in the warehouse this falls back to tags as topics
    (a tag never seen in the reference weeks is 'new'; a tag whose share grew significantly,
    BH-corrected, is 'growing').
    """
    start, end = week_bounds(ctx.week)
    ref_start, _ = week_bounds(shift_week(ctx.week, -REFERENCE_WEEKS))
    rows = ctx.con.execute(
        f"""
        WITH ev AS (
            SELECT e.tags, e.ts >= ? AS cur FROM events e
            WHERE {BASE_SQL} AND e.ts >= ? AND e.ts < ?
        ),
        tot AS (SELECT count_if(cur) AS n, count_if(NOT cur) AS n0 FROM ev),
        t AS (
            SELECT unnest(tags) AS tag, cur FROM ev
        )
        SELECT tag, count_if(cur), count_if(NOT cur), any_value(tot.n), any_value(tot.n0)
        FROM t, tot WHERE tag IS NOT NULL GROUP BY tag ORDER BY tag
        """,
        [start, ref_start, end],
    ).fetchall()
    tests, items = [], []
    for tag, k, k0, n, n0 in rows:
        k, k0, n, n0 = int(k), int(k0), int(n), int(n0)
        if k < MIN_N or n0 < MIN_N:
            continue
        if k0 == 0:
            items.append((tag, "new", k, k0, n, n0, None))
            continue
        if k / n > k0 / n0:
            tests.append((tag, k, k0, n, n0, two_proportion_p(k, n, k0, n0)))
    for (tag, k, k0, n, n0, _p), q in zip(tests, bh([t[-1] for t in tests]), strict=True):
        if q < ctx.level:
            items.append((tag, "growing", k, k0, n, n0, q))
    out = []
    for tag, status, k, k0, n, n0, q in items:
        share, prev = k / n, (k0 / n0 if n0 else None)
        detail = (f"{k} events ({100 * share:.1f}% of the week), none in the previous "
                  f"{REFERENCE_WEEKS} weeks" if status == "new" else
                  f"share {100 * prev:.1f}% → {100 * share:.1f}% (q={q:.3g})")
        flt = EventFilter(start=start.date(), end=parse_week(ctx.week) + _days(6), tags=(tag,))
        out.append(ClusterItem(
            cluster_id=f"tag:{tag}", label=tag, status=status, share=share, prev_share=prev, n=k,
            p_value=q, detail=detail,
            explorer_url=explorer_url(ctx.base_url, flt.to_query_string()),
            examples=tuple(worst_examples(ctx, DIMENSIONS["tag"], [tag])),
        ))
    out.sort(key=lambda c: (c.status != "new", -c.n))
    return out[: ctx.top], (
        f"tags as topics (no cluster analysis used): this week vs the previous "
        f"{REFERENCE_WEEKS} weeks, BH across tags"
    )


def _days(n: int):
    import datetime as dt

    return dt.timedelta(days=n)


def reruns(ctx: Context) -> tuple[list[RerunRow], str]:
    start, end = week_bounds(ctx.week)
    rows = ctx.con.execute(
        """
        WITH v AS (
            SELECT event_id, arg_max(label, coalesce(ts, ingested_at)) AS label
            FROM feedback WHERE name = 'verdict' GROUP BY event_id
        )
        SELECT coalesce(r.model, r.model_requested, '?') AS model, count(*),
               count(DISTINCT r.rerun_of), count_if(r.status = 'error'),
               count_if(v.label = 'better'), count_if(v.label = 'same'),
               count_if(v.label = 'worse'), count_if(v.label IS NULL)
        FROM events r LEFT JOIN v USING (event_id)
        WHERE r.rerun_of IS NOT NULL AND r.ts >= ? AND r.ts < ?
        GROUP BY 1 ORDER BY 2 DESC, 1
        """,
        [start, end],
    ).fetchall()
    return [RerunRow(*(r[0],), *(int(x) for x in r[1:])) for r in rows], (
        "rerun events (rerun_of set) of the week and their latest reviewer verdicts"
    )
