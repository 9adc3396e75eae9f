"""The sections of the weekly report, each computed from the warehouse in plain SQL.

These are deliberately simple and honest: DuckDB counts, models.stats tests (Wilson intervals,
Fisher's exact test week over week, Welch's t for score means, Benjamini–Hochberg across
segments), a minimum-n guard under which a number gets no verdict. Where a dedicated analysis
exists in the warehouse (clusters from `reviewdeck analyze`), the section reads it; otherwise
it says what it fell back to (`source` strings).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import duckdb

from models import stats
from models.filters import LOW_SCORE, EventFilter
from models.report.model import (
    Example,
    Metric,
    RerunBatchItem,
    RerunRow,
    SegmentMove,
    event_url,
    explorer_url,
    parse_week,
    shift_week,
    week_bounds,
)
from models.rerun.store import LATEST_VERDICT_SQL

MIN_N = stats.MIN_N  # below this many events (or votes) on either side: "too little data"
TEXT_LIMIT = 400
# The production traffic the report judges: reruns are reported in their own section.
BASE_SQL = "e.kind = 'llm' AND e.rerun_of IS NULL AND coalesce(e.environment, '') <> 'playground'"
# models.trends.core rate metrics that judge quality; "what moved" runs on each.
SEGMENT_METRICS = ("thumbs_up", "negative", "error")
EXPLAIN_LIMIT = 6  # flagged segments per metric checked for "explained by a smaller one"


@dataclass(frozen=True)
class Context:
    con: duckdb.DuckDBPyConnection
    flt: EventFilter
    week: str
    prev: str
    base_url: str
    examples: int
    top: int
    level: float
    seed: int
    segment_reference: str = "previous"  # or "baseline": the four weeks before
    # What one report computes once and its sections share (the week's per-event badness):
    # filled on first use, released by `release` when the report is built.
    cache: dict = field(default_factory=dict, compare=False, repr=False)


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


# ---------------------------------------------------------------------------- sections


def production_filter(con: duckdb.DuckDBPyConnection, week: str) -> EventFilter:
    """The traffic the report judges: LLM events, reruns left out (they get their own section).

    The shared filter cannot say "not a rerun", so when the two weeks hold reruns the filter
    lists the other environments instead.
    """
    start, end = week_bounds(week)
    prev_start, _ = week_bounds(shift_week(week, -1))
    rows = con.execute(
        "SELECT DISTINCT environment, rerun_of IS NOT NULL OR environment = 'playground' "
        "FROM events WHERE kind = 'llm' AND ts >= ? AND ts < ?",
        [prev_start, end],
    ).fetchall()
    if not any(is_rerun for _, is_rerun in rows):
        return EventFilter()
    envs = sorted({env for env, is_rerun in rows if not is_rerun and env is not None})
    return EventFilter(environments=tuple(envs) or ("(none)",))


def _periods(ctx: Context) -> list:
    from models.trends import core as trends

    return trends.week_periods(parse_week(ctx.week))


def count_events(ctx: Context) -> int:
    from models.trends.core import facts_where

    start, end = week_bounds(ctx.week)
    where, params = facts_where(ctx.flt)
    return int(
        ctx.con.execute(
            f"SELECT count(*) FROM trend_facts t WHERE {where} AND t.ts >= ? AND t.ts < ?",
            [*params, start, end],
        ).fetchall()[0][0]
    )


def week_event_ids(con: duckdb.DuckDBPyConnection, week: str) -> list[tuple[str, str]]:
    """(event_id, role) of the events a report on `week` counts: this week and the previous."""
    from models.trends.core import facts_where

    start, end = week_bounds(week)
    prev_start, _ = week_bounds(shift_week(week, -1))
    where, params = facts_where(production_filter(con, week))
    return con.execute(
        f"SELECT t.event_id, CASE WHEN t.ts >= ? THEN 'week' ELSE 'previous' END "
        f"FROM trend_facts t WHERE {where} AND t.ts >= ? AND t.ts < ?",
        [start, *params, prev_start, end],
    ).fetchall()


_UNITS = {"latency": "ms", "cost": "usd"}
_VERDICTS = {stats.NO_CHANGE: "no significant change", stats.TOO_LITTLE: "too little data"}


def headline(ctx: Context) -> tuple[list[Metric], str]:
    """The trends headline (models.trends.core) for this week against the previous one."""
    from models.trends import core as trends

    periods = _periods(ctx)
    counts = trends.period_counts(ctx.con, ctx.flt, periods)
    scores = trends.period_scores(ctx.con, ctx.flt, periods)
    rows = trends.headline(counts, scores, alpha=ctx.level, min_n=MIN_N)
    by_period = {r["period"]: r for r in counts.iter_rows(named=True)}
    cur, prev = by_period.get("current", {}), by_period.get("previous", {})
    n, n0 = int(cur.get("events") or 0), int(prev.get("events") or 0)
    # On events that carry no feedback at all, a rate made of feedback is unmeasured, not 0%
    # (the trends page shows the same): no value, no interval, no test.
    silent_now, silent_before = _no_feedback(cur), _no_feedback(prev)
    out = [
        Metric(
            "volume",
            "LLM events",
            "count",
            float(n),
            n,
            None,
            None,
            float(n0),
            n0,
            None,
            "not tested",
        )
    ]
    for r in rows:
        unit = "rate" if r.kind == "rate" else _UNITS.get(r.key, "mean")
        if r.key in trends.FEEDBACK_KEYS and (silent_now or silent_before):
            out.append(_unmeasured(r, unit, silent_now, silent_before))
            continue
        judged = r.better is not None
        verdict = trends.judgement(r.vs_previous, r.better)
        out.append(
            Metric(
                key=r.key,
                label=r.label,
                unit=unit,
                value=r.current.value,
                n=r.current.n,
                lo=r.current.lo,
                hi=r.current.hi,
                prev_value=r.previous.value,
                prev_n=r.previous.n,
                p_value=r.vs_previous.p_value,
                verdict=_VERDICTS.get(verdict, verdict)
                if judged or verdict == stats.TOO_LITTLE
                else "not judged",
                higher_is_better=None if not judged else r.better == trends.BETTER_UP,
            )
        )
    for key, label, col in (
        ("latency_p50", "Latency p50", "latency_p50"),
        ("latency_p95", "Latency p95", "latency_p95"),
        ("cost_total", "Cost", "cost_total"),
    ):
        unit = "usd" if key == "cost_total" else "ms"
        out.append(
            Metric(
                key,
                label,
                unit,
                _f(cur.get(col)),
                n,
                None,
                None,
                _f(prev.get(col)),
                n0,
                None,
                "not tested",
            )
        )
    return _bh_headline(out, ctx.level), (
        "models.trends.core headline over trend_facts, this week vs the previous; verdicts "
        "Benjamini–Hochberg across the judged headline metrics, so a quiet week is not "
        "flagged by chance one metric in twenty"
    )


NO_FEEDBACK = "no feedback logged"
_FEEDBACK_SOURCES = ("fb_user", "fb_reviewer", "fb_judge", "fb_code")


def _no_feedback(period: dict) -> bool:
    """True when a period's events carry no feedback row of any source."""
    return not sum(int(period.get(c) or 0) for c in _FEEDBACK_SOURCES)


def _unmeasured(r, unit: str, silent_now: bool, silent_before: bool) -> Metric:
    """A feedback metric where this week or the previous one has no feedback: what can be
    shown is shown, nothing is compared."""
    return Metric(
        key=r.key,
        label=r.label,
        unit=unit,
        value=None if silent_now else r.current.value,
        n=r.current.n,
        lo=None if silent_now else r.current.lo,
        hi=None if silent_now else r.current.hi,
        prev_value=None if silent_before else r.previous.value,
        prev_n=r.previous.n,
        p_value=None,
        verdict=NO_FEEDBACK if silent_now else f"{NO_FEEDBACK} in the previous week",
    )


def _bh_headline(metrics: list[Metric], level: float) -> list[Metric]:
    from dataclasses import replace

    tested = [
        i for i, m in enumerate(metrics) if m.p_value is not None and m.higher_is_better is not None
    ]
    qs = bh([metrics[i].p_value for i in tested], level)
    out = list(metrics)
    for i, q in zip(tested, qs, strict=True):
        m = metrics[i]
        verdict = m.verdict
        if verdict in ("better", "worse") and q >= level:
            verdict = "no significant change"
        out[i] = replace(m, q_value=q, verdict=verdict)
    return out


def _f(x: object) -> float | None:
    return None if x is None else float(x)  # type: ignore[arg-type]


def _segment_key(row: dict) -> tuple[str, str]:
    """A stable key (what notes attach to) and a readable label for a 'what moved' row."""
    dims = row["dims"]
    if dims == "cluster":
        label = row.get("cluster_label") or f"cluster {row['cluster_id']}"
        return f"cluster={row['cluster_id']}", f"cluster {label}"
    if dims == "model":
        return f"model={row['model']}", f"model {row['model']}"
    if dims == "prompt version":
        return f"prompt_version={row['prompt_version']}", f"prompt version {row['prompt_version']}"
    if dims == "tag":
        return f"tag={row['tag']}", f"tag {row['tag']}"
    key = f"model={row['model']}&prompt_version={row['prompt_version']}&tag={row['tag']}"
    return key, f"{row['tag']} on {row['model']} · prompt {row['prompt_version']}"


def segment_moves(ctx: Context) -> tuple[list[SegmentMove], list[SegmentMove], int, str]:
    """Flagged segments of "what moved" (models.trends.moved) for the rate metrics that say
    something about quality, this week against the previous one."""
    from models.filters import where_sql
    from models.trends import core as trends
    from models.trends import moved

    periods = _periods(ctx)
    current = periods[0]
    previous = periods[2] if ctx.segment_reference == "baseline" else periods[1]
    tested = 0
    candidates: list[tuple[dict, str]] = []
    for metric_key in SEGMENT_METRICS:
        m = trends.metric(metric_key)
        counts = moved.segment_counts(ctx.con, ctx.flt, metric_key, current, previous)
        result = moved.what_moved(counts, better=m.better, alpha=ctx.level, min_n=MIN_N)
        tested += result.n_tested
        flagged = [r for r in result.table.iter_rows(named=True) if r["flagged"]]
        models = result.table.filter(result.table["dims"] == "model")
        totals = (int(models["n"].sum() or 0), int(models["n_ref"].sum() or 0))
        kept = [r for r, _ in _dedupe(flagged, metric_key, totals)]
        # Only the biggest movers can make the report; checking each pair of them costs a query,
        # so an outage that flags a hundred segments stays a few dozen queries.
        kept = sorted(kept, key=lambda r: -abs(r["impact"] or 0.0))[:EXPLAIN_LIMIT]
        candidates += _explained(ctx, m, kept, current, previous)
    regressions: list[SegmentMove] = []
    improvements: list[SegmentMove] = []
    for row, metric_key in candidates:
        m = trends.metric(metric_key)
        key, label = _segment_key(row)
        flt = moved.segment_filter(row, ctx.flt, current)
        where, params = where_sql(flt)
        mix_where, mix_params = where_sql(flt.with_(start=None, end=None))
        improvement = row["verdict"] == "better"
        move = SegmentMove(
            key=key,
            label=label,
            metric=metric_key,
            metric_label=m.label,
            explains=row.get("_explains", ""),
            value=row["rate"],
            prev_value=row["rate_ref"],
            n=row["n"],
            prev_n=row["n_ref"],
            lo=wilson(row["x"], row["n"])[0],
            hi=wilson(row["x"], row["n"])[1],
            p_value=row["p_value"],
            q_value=row["q_value"],
            direction="improvement" if improvement else "regression",
            impact=abs(row["impact"] or 0.0),
            explorer_url=explorer_url(ctx.base_url, flt.to_query_string()),
        )
        move = _with_examples(ctx, move, (where, params), (mix_where, mix_params))
        (improvements if improvement else regressions).append(move)
    regressions = _top_segments(regressions, ctx.top)
    improvements = _top_segments(improvements, ctx.top)
    return (
        regressions,
        improvements,
        tested,
        (
            "models.trends.moved 'what moved' per metric (thumbs-up, negative signals, errors), "
            "this week vs the previous, Fisher exact tests, Benjamini–Hochberg across all segments "
            "of a metric"
        ),
    )


def _explained(ctx: Context, m, rows: list[dict], current, reference) -> list[tuple[dict, str]]:
    """Drop a flagged segment whose change a smaller flagged segment inside it explains
    (models.trends.moved.explained_pairs, the same rule as the trends page): "prompt version v4
    got worse" is no news when topic:billing (served by v4) got worse and v4 without billing did
    not change; billing then says it accounts for v4."""
    from models.trends import moved

    pairs = moved.explained_pairs(
        ctx.con, ctx.flt, m.key, rows, current, reference, alpha=ctx.level, min_n=MIN_N
    )
    for broad, small in pairs.items():
        b = rows[small]
        _, label = _segment_key(rows[broad])
        b["_explains"] = ", ".join(x for x in (b.get("_explains", ""), label) if x)
    return [(r, m.key) for k, r in enumerate(rows) if k not in pairs]


def _dedupe(rows: list[dict], metric_key: str, totals: tuple[int, int]) -> list[tuple[dict, str]]:
    """Drop flagged rows that repeat another's claim: a segment holding all the traffic (that
    is the headline), the same traffic under another name (identical counts), or a model ×
    prompt × tag combination whose tag is itself flagged."""
    seen: set[tuple] = set()
    tags = {r["tag"] for r in rows if r["dims"] == "tag"}
    out = []
    for r in rows:
        counts = (r["n"], r["x"], r["n_ref"], r["x_ref"])
        if (r["n"], r["n_ref"]) == totals or counts in seen:
            continue
        if r["dims"] == "model × prompt version × tag" and r["tag"] in tags:
            continue
        seen.add(counts)
        out.append((r, metric_key))
    return out


def _top_segments(moves: list[SegmentMove], top: int) -> list[SegmentMove]:
    """The `top` segments with the largest impact, all their flagged metrics kept together."""
    best: dict[str, float] = {}
    for s in moves:
        best[s.key] = max(best.get(s.key, 0.0), s.impact)
    keep = sorted(best, key=lambda k: -best[k])[:top]
    rank = {k: i for i, k in enumerate(keep)}
    return sorted((s for s in moves if s.key in rank), key=lambda s: (rank[s.key], -s.impact))


def _with_examples(ctx: Context, s: SegmentMove, where: tuple, mix_where: tuple) -> SegmentMove:
    from dataclasses import replace

    now, before = model_mix(ctx, *mix_where)
    return replace(
        s, examples=tuple(worst_examples(ctx, *where)), models_now=now, models_before=before
    )


def model_mix(ctx: Context, condition: str, params: list[object]) -> tuple[str, str]:
    """Which models served the matching events this week and the previous one ('m 80%, …')."""
    start, end = week_bounds(ctx.week)
    prev_start, _ = week_bounds(ctx.prev)
    rows = ctx.con.execute(
        f"""
        SELECT e.ts >= ? AS cur, coalesce(e.model, '?') AS model, count(*) AS n
        FROM events e WHERE ({condition}) AND e.ts >= ? AND e.ts < ?
        GROUP BY ALL ORDER BY cur, n DESC, model
        """,
        [start, *params, prev_start, end],
    ).fetchall()
    out = []
    for week in (True, False):
        part = [(m, n) for cur, m, n in rows if cur == week]
        total = sum(n for _, n in part)
        out.append(", ".join(f"{m} {100 * n / total:.0f}%" for m, n in part[:3]))
    return out[0], out[1]


def _badness_table(ctx: Context) -> str:
    """A temporary table of the week's production events that have any bad signal, with their
    signals and `badness`, computed once per report: one pass over the week's events and only
    their feedback (every worst_examples call of the report then selects from it, instead of
    grouping the feedback of the whole history once per call)."""
    name = ctx.cache.get("badness")
    if name is not None:
        return name
    name = f"report_badness_{uuid.uuid4().hex}"
    start, end = week_bounds(ctx.week)
    # The week's feedback when build_report has read it (it holds every row of these events).
    feedback = ctx.cache.get("feedback", "feedback")
    # The bad events' own columns come along (a sixth of the week's events at 2M), so each
    # call filters this small table on its condition (over `e`) without reading `events`.
    ctx.con.execute(
        f"""
        CREATE TEMP TABLE {name} AS
        WITH ev AS (
            SELECT e.event_id, e.status FROM events e
            WHERE {BASE_SQL} AND e.ts >= ? AND e.ts < ?
        ),
        fb AS (
            SELECT f.event_id,
                   coalesce(count_if(f.name = 'thumbs' AND f.value = 0), 0) AS downs,
                   coalesce(count_if(f.name = 'regenerated'), 0) AS regen,
                   coalesce(count_if(f.name = 'edited' AND f.value >= 0.5), 0) AS heavy,
                   min(f.value) FILTER (WHERE f.kind = 'score') AS min_score,
                   arg_min(f.name, f.value) FILTER (WHERE f.kind = 'score') AS min_name
            FROM {feedback} f SEMI JOIN ev ON f.event_id = ev.event_id GROUP BY f.event_id
        ),
        scored AS (
            SELECT ev.event_id, coalesce(downs, 0) AS downs, coalesce(regen, 0) AS regen,
                   coalesce(heavy, 0) AS heavy, min_score, min_name,
                   coalesce(downs, 0) + coalesce(regen, 0) + coalesce(heavy, 0)
                   + (ev.status = 'error')::INT
                   + CASE WHEN min_score < ? THEN 1 - min_score ELSE 0 END AS badness
            FROM ev LEFT JOIN fb USING (event_id)
        )
        SELECT e.*, s.downs AS _rd_downs, s.regen AS _rd_regen, s.heavy AS _rd_heavy,
               s.min_score AS _rd_min_score, s.min_name AS _rd_min_name,
               s.badness AS _rd_badness
        FROM events e JOIN scored s ON s.event_id = e.event_id
        WHERE s.badness > 0 AND e.ts >= ? AND e.ts < ?
        """,
        [start, end, LOW_SCORE, start, end],
    )
    ctx.cache["badness"] = name
    return name


def release(ctx: Context) -> None:
    """Drop what the report computed once (its temporary tables)."""
    name = ctx.cache.pop("badness", None)
    if name is not None:
        try:
            ctx.con.execute(f"DROP TABLE IF EXISTS {name}")
        except duckdb.Error:
            pass  # an aborted transaction: the table goes with it or with the connection


def worst_examples(ctx: Context, condition: str, params: list[object]) -> list[Example]:
    """The worst-rated events of the week matching `condition`, sampled deterministically.

    Worst = most negative signals (thumbs down, regenerate, heavy edit, error) plus how low its
    lowest judge/code score is; ties (most of them) are broken by a seeded hash, so the sample
    is stable for a seed and not biased to the earliest events. The signals come from the
    report's one pass over the week (`_badness_table`).
    """
    bad = _badness_table(ctx)
    rows = ctx.con.execute(
        f"""
        SELECT e.event_id, e.ts, e.model, e.input_text, e.output_text, e.status, e.error_type,
               e._rd_downs, e._rd_regen, e._rd_heavy, e._rd_min_score, e._rd_min_name
        FROM {bad} e WHERE ({condition})
        ORDER BY e._rd_badness DESC, hash(e.event_id, ?) LIMIT ?
        """,
        [*params, ctx.seed, ctx.examples],
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
        out.append(
            Example(
                event_id=eid,
                ts=ts.isoformat(timespec="seconds"),
                model=model,
                input_text=_clip(inp),
                output_text=_clip(outp),
                signal=", ".join(signal),
                url=event_url(ctx.base_url, eid),
            )
        )
    return out


def _clip(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


# A rerun belongs to its original event's week, on every page and in the pack: rerunning W44's
# failures in W49 is evidence about W44. `o` is the original event of a rerun `r`.
RERUN_OF_WEEK_SQL = "r.rerun_of IS NOT NULL AND o.ts >= ? AND o.ts < ?"


def reruns(ctx: Context) -> tuple[list[RerunRow], str]:
    start, end = week_bounds(ctx.week)
    rows = ctx.con.execute(
        f"""
        WITH v AS ({LATEST_VERDICT_SQL})
        SELECT coalesce(r.model, r.model_requested, '?') AS model, count(*),
               count(DISTINCT r.rerun_of), coalesce(count_if(r.status = 'error'), 0),
               coalesce(count_if(v.verdict = 'better'), 0),
               coalesce(count_if(v.verdict = 'same'), 0),
               coalesce(count_if(v.verdict = 'worse'), 0),
               coalesce(count_if(v.verdict IS NULL), 0)
        FROM events r JOIN events o ON o.event_id = r.rerun_of
        LEFT JOIN v ON v.event_id = r.event_id
        WHERE {RERUN_OF_WEEK_SQL}
        GROUP BY 1 ORDER BY 2 DESC, 1
        """,
        [start, end],
    ).fetchall()
    return [RerunRow(*(r[0],), *(int(x) for x in r[1:])) for r in rows], (
        "reruns of this week's events (rerun_of set, whenever they ran) and their latest "
        "reviewer verdicts"
    )


def rerun_batches(ctx: Context) -> list[RerunBatchItem]:
    """Batch reruns of this week's events (models.rerun.report), with the judge's outcome on
    the items whose original event is in this week."""
    from models.rerun.judge import UNREADABLE, pair_outcome, summarize
    from models.rerun.report import batch_report

    exists = ctx.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'rerun_batches'"
    ).fetchall()[0][0]
    if not exists:
        return []
    start, end = week_bounds(ctx.week)
    rows = ctx.con.execute(
        """
        SELECT i.batch_id, list(i.event_id) FROM rerun_items i
        JOIN events o ON o.event_id = i.event_id
        JOIN rerun_batches b ON b.batch_id = i.batch_id
        WHERE o.ts >= ? AND o.ts < ?
        GROUP BY i.batch_id ORDER BY min(b.created_at), i.batch_id
        """,
        [start, end],
    ).fetchall()
    out = []
    for batch_id, event_ids in rows:
        rep = batch_report(ctx.con, batch_id)
        if rep is None:
            continue
        # The judge's outcome on this week's items only, counted as models.rerun.report does.
        pairs = rep.pairs.filter(rep.pairs["event_id"].is_in(list(event_ids)))
        judged = [
            (eid, list(prefs))
            for eid, prefs in zip(pairs["event_id"], pairs["judge_preferred"], strict=True)
            if prefs is not None and len(prefs)
        ]
        outcomes = [pair_outcome(eid, prefs) for eid, prefs in judged]
        j = summarize(outcomes) if outcomes else None
        done = int((pairs["status"] == "done").sum())
        out.append(
            RerunBatchItem(
                batch_id=batch_id,
                model=rep.batch.model,
                where=rep.batch.where_text or "",
                status=rep.batch.status,
                items=len(event_ids),
                done=done,
                judged=j.n if j else 0,
                wins=j.win.count if j else 0,
                ties=j.tie.count if j else 0,
                losses=j.loss.count if j else 0,
                win_rate=j.win_rate_decisive if j else None,
                win_rate_lo=j.win_rate_low if j else None,
                win_rate_hi=j.win_rate_high if j else None,
                p_value=j.p_value if j else None,
                cost_original_usd=rep.cost_original_usd,
                cost_rerun_usd=rep.cost_rerun_usd,
                verdicts=", ".join(f"{k} {v}" for k, v in sorted(rep.verdicts.items())),
                unreadable=sum(side == UNREADABLE for _, prefs in judged for side in prefs),
                batch_items=int(rep.batch.n_items or 0),
            )
        )
    return out
