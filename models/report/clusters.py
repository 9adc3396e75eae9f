"""The report's cluster section: new topics, new and growing clusters, and quality drops inside
clusters.

From the stored cluster analysis (`reviewdeck analyze`) through the drift work's functions:
`models.drift.report.compute_drift` for the share tests (BH across clusters) and
`models.drift.cluster_quality.quality_change` for thumbs-up, negative-signal and judge-score changes
inside each cluster, this week against the previous four weeks. A warehouse without an analysis
gets tags as stand-in topics (`tag_topics`), and the section's source line says so.
"""

from __future__ import annotations

import datetime as dt

from models.filters import EventFilter
from models.report.model import ClusterItem, explorer_url, parse_week, shift_week, week_bounds
from models.report.sections import (
    BASE_SQL,
    MIN_N,
    Context,
    bh,
    two_proportion_p,
    worst_examples,
)

REFERENCE_WEEKS = 4  # this week against the previous four
NEW_TOPIC = "new topic"
# Tags stand in for clusters only without an analysis; many are small (one intent) and their
# events come in sessions, so a tag must at least double its share to be called growing.
MIN_SHARE_RATIO = 2.0


def clusters(ctx: Context) -> tuple[list[ClusterItem], str]:
    """New topics, new and growing clusters and quality drops inside clusters, this week against the
    previous four weeks, from the stored cluster analysis (models.drift.report,
    models.drift.cluster_quality). Without an analysis, tags stand in for topics (tag_topics)."""
    from models.drift import store as analysis_store
    from models.trends.core import has_clusters

    if not has_clusters(ctx.con) or analysis_store.last_run(ctx.con) is None:
        return tag_topics(ctx)
    return drift_clusters(ctx)


def _windows(ctx: Context):
    from models.drift.statistics import Window

    monday = parse_week(ctx.week)
    reference = Window(monday - dt.timedelta(weeks=REFERENCE_WEEKS), monday - dt.timedelta(days=1))
    return reference, Window(monday, monday + dt.timedelta(days=6))


def drift_clusters(ctx: Context) -> tuple[list[ClusterItem], str]:
    from models.drift import cluster_quality
    from models.drift.report import compute_drift

    reference, current = _windows(ctx)
    drift = compute_drift(ctx.con, reference, current, alpha=ctx.level, seed=ctx.seed)
    week_flt = ctx.flt.with_(start=current.start, end=current.end)
    items = new_topics(ctx, drift, week_flt)
    told = {c.cluster_id for c in items}
    for c in drift.clusters:
        s = c.shift
        if s.status not in ("new", "growing") or str(c.cluster_id) in told:
            continue  # a new topic's own cluster is told once, as the topic
        detail = (
            f"{s.n_current} events ({100 * s.share_current:.1f}% of the week), none in the "
            f"previous {REFERENCE_WEEKS} weeks"
            if s.status == "new"
            else f"share {100 * s.share_reference:.1f}% → {100 * s.share_current:.1f}% "
            f"(q={s.p_adjusted:.3g})"
        )
        if c.keywords:
            detail += f"; keywords: {', '.join(c.keywords[:6])}"
        items.append(
            _cluster_item(
                ctx,
                week_flt,
                c.cluster_id,
                c.label,
                s.status,
                s.share_current,
                s.share_reference,
                s.n_current,
                s.p_adjusted,
                detail,
            )
        )
    labels = {c.cluster_id: c.label for c in drift.clusters}
    changes = cluster_quality.quality_change(ctx.con, reference, current, ctx.flt, alpha=ctx.level)
    for r in changes.iter_rows(named=True):
        drops = []
        for name, q, before, after, worse in (
            (
                "thumbs-up rate",
                r.get("up_q"),
                r.get("up_rate_reference"),
                r.get("up_rate_current"),
                lambda b, a: a < b,
            ),
            (
                "negative-signal rate",
                r.get("negative_q"),
                r.get("negative_rate_reference"),
                r.get("negative_rate_current"),
                lambda b, a: a > b,
            ),
            (
                "judge score",
                r.get("judge_q"),
                r.get("judge_reference"),
                r.get("judge_current"),
                lambda b, a: a < b,
            ),
        ):
            if (
                q is not None
                and q < ctx.level
                and before is not None
                and after is not None
                and worse(before, after)
            ):
                fmt = (
                    (lambda v: f"{v:.2f}")
                    if name == "judge score"
                    else (lambda v: f"{100 * v:.1f}%")
                )
                drops.append(f"{name} {fmt(before)} → {fmt(after)} (q={q:.2g})")
        if not drops:
            continue
        cid = int(r["cluster_id"])
        n = _week_sizes(ctx).get(cid, 0)
        items.append(
            _cluster_item(
                ctx,
                week_flt,
                cid,
                labels.get(cid, f"cluster {cid}"),
                "quality drop",
                None,
                None,
                int(n),
                None,
                "; ".join(drops) + f" against the previous {REFERENCE_WEEKS} weeks",
            )
        )
    order = {NEW_TOPIC: 0, "new": 1, "quality drop": 2, "growing": 3}
    items.sort(key=lambda c: (order[c.status], -c.n))
    overall = drift.overall
    return items[: 2 * ctx.top], (
        f"stored cluster analysis: share tests (BH across clusters) and quality inside "
        f"clusters, this week vs the previous {REFERENCE_WEEKS} weeks; overall embedding drift "
        f"{overall.method} p={overall.p_value:.3g}"
    )


def _week_sizes(ctx: Context) -> dict[int, int]:
    """Every cluster's members among the week's events, in one query (once per report)."""
    if "cluster_sizes" not in ctx.cache:
        rows = ctx.con.execute(
            "SELECT m.cluster_id, count(*) FROM cluster_members m "
            "WHERE m.event_id IN (SELECT event_id FROM events e WHERE e.ts >= ? AND e.ts < ?) "
            "GROUP BY m.cluster_id",
            list(week_bounds(ctx.week)),
        ).fetchall()
        ctx.cache["cluster_sizes"] = {int(c): int(n) for c, n in rows}
    return ctx.cache["cluster_sizes"]


def new_topics(ctx: Context, drift, week_flt: EventFilter) -> list[ClusterItem]:
    """The week's new topics (models.drift's novelty test: events in territory the previous
    weeks did not cover), each with its size, keywords, quality and worst examples."""
    out = []
    for t in drift.new_topics:
        q = t.quality
        detail = (
            f"about {t.estimated_events:,} events ({100 * t.share:.1f}% of the week) in "
            f"territory the previous {REFERENCE_WEEKS} weeks did not cover (novelty test "
            f"p={drift.novelty.p_value:.3g})"
        )
        if t.keywords:
            detail += f"; keywords: {', '.join(t.keywords[:6])}"
        if q.get("negative_rate") is not None and q.get("n"):
            detail += f"; negative signals on {100 * q['negative_rate']:.0f}% of {q['n']}"
        flt = week_flt if t.cluster_id is None else week_flt.with_(cluster_id=int(t.cluster_id))
        out.append(ClusterItem(
            cluster_id=str(t.cluster_id) if t.cluster_id is not None else f"topic-{t.topic_id}",
            label=t.label,
            status=NEW_TOPIC,
            share=t.share,
            prev_share=None,
            n=t.estimated_events,
            p_value=drift.novelty.p_value,
            detail=detail,
            explorer_url=explorer_url(ctx.base_url, flt.to_query_string()),
            examples=tuple(worst_examples(
                ctx, "e.event_id IN (SELECT unnest(?::VARCHAR[]))", [list(t.event_ids)])),
        ))
    return out


def _cluster_item(
    ctx: Context,
    week_flt: EventFilter,
    cluster_id: int,
    label: str,
    status: str,
    share: float | None,
    prev_share: float | None,
    n: int,
    q: float | None,
    detail: str,
) -> ClusterItem:
    from models.filters import where_sql

    flt = week_flt.with_(cluster_id=int(cluster_id))
    where, params = where_sql(flt)
    return ClusterItem(
        cluster_id=str(cluster_id),
        label=label,
        status=status,
        share=share,
        prev_share=prev_share,
        n=n,
        p_value=q,
        detail=detail,
        explorer_url=explorer_url(ctx.base_url, flt.to_query_string()),
        examples=tuple(worst_examples(ctx, where, params)),
    )


def tag_topics(ctx: Context) -> tuple[list[ClusterItem], str]:
    """Tags as topics: a tag never seen in the reference weeks is 'new'; a tag whose share
    grew significantly (BH across tags) is 'growing'."""
    start, end = week_bounds(ctx.week)
    ref_start, _ = week_bounds(shift_week(ctx.week, -REFERENCE_WEEKS))
    rows = ctx.con.execute(
        f"""
        WITH ev AS (
            SELECT e.tags, e.ts >= ? AS cur FROM events e
            WHERE {BASE_SQL} AND e.ts >= ? AND e.ts < ?
        ),
        tot AS (
            SELECT coalesce(count_if(cur), 0) AS n, coalesce(count_if(NOT cur), 0) AS n0
            FROM ev
        ),
        t AS (
            SELECT unnest(tags) AS tag, cur FROM ev
        )
        SELECT tag, count_if(cur), count_if(NOT cur), any_value(tot.n), any_value(tot.n0)
        FROM t, tot WHERE tag IS NOT NULL GROUP BY tag ORDER BY tag
        """,
        [start, ref_start, end],
    ).fetchall()
    history = ctx.con.execute(
        f"SELECT count(DISTINCT date_trunc('week', e.ts)) FROM events e "
        f"WHERE {BASE_SQL} AND e.ts >= ? AND e.ts < ?",
        [ref_start, start],
    ).fetchall()[0][0]
    source = (
        f"tags as topics (no cluster analysis in the warehouse): this week vs the previous "
        f"{REFERENCE_WEEKS} weeks, BH across tags, growing = share at least doubled"
    )
    if history < 2:
        return [], source + f"; skipped: only {history} week(s) of history before this week"
    tests, items = [], []
    for tag, k, k0, n, n0 in rows:
        k, k0, n, n0 = int(k), int(k0), int(n), int(n0)
        if k < MIN_N or n0 < MIN_N:
            continue
        if k0 == 0:
            items.append((tag, "new", k, k0, n, n0, None))
            continue
        # a share must also grow by a meaningful ratio, not only significantly
        if k / n >= MIN_SHARE_RATIO * k0 / n0:
            tests.append((tag, k, k0, n, n0, two_proportion_p(k, n, k0, n0)))
    for (tag, k, k0, n, n0, _p), q in zip(tests, bh([t[-1] for t in tests]), strict=True):
        if q < ctx.level:
            items.append((tag, "growing", k, k0, n, n0, q))
    items = _drop_nested(ctx, sorted(items, key=lambda i: (i[1] != "new", -i[2])))
    out = []
    for tag, status, k, k0, n, n0, q in items:
        share, prev = k / n, (k0 / n0 if n0 else None)
        detail = (
            f"{k} events ({100 * share:.1f}% of the week), none in the previous "
            f"{REFERENCE_WEEKS} weeks"
            if status == "new"
            else f"share {100 * prev:.1f}% → {100 * share:.1f}% (q={q:.3g})"
        )
        flt = EventFilter(start=start.date(), end=(end - dt.timedelta(days=1)).date(), tags=(tag,))
        out.append(
            ClusterItem(
                cluster_id=f"tag:{tag}",
                label=tag,
                status=status,
                share=share,
                prev_share=prev,
                n=k,
                p_value=q,
                detail=detail,
                explorer_url=explorer_url(ctx.base_url, flt.to_query_string()),
                examples=tuple(worst_examples(ctx, "list_contains(e.tags, ?)", [tag])),
            )
        )
    out.sort(key=lambda c: (c.status != "new", -c.n))
    return out[: ctx.top], source


def _drop_nested(ctx: Context, items: list[tuple]) -> list[tuple]:
    """Keep a tag only if most of its events this week are not already under a kept tag
    (an intent inside a topic tells the same story twice)."""
    if len(items) < 2:
        return items
    start, end = week_bounds(ctx.week)
    rows = ctx.con.execute(
        f"SELECT e.tags FROM events e WHERE {BASE_SQL} AND e.ts >= ? AND e.ts < ? "
        "AND list_has_any(e.tags, ?::VARCHAR[])",
        [start, end, [i[0] for i in items]],
    ).fetchall()
    kept: list[tuple] = []
    for item in items:
        tag = item[0]
        with_tag = [set(r[0]) for r in rows if tag in r[0]]
        covered = sum(1 for tags in with_tag if any(k[0] in tags for k in kept))
        if not with_tag or covered < 0.9 * len(with_tag):
            kept.append(item)
    return kept
