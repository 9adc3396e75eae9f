""""What moved": the segments whose rate changed significantly, ranked by impact.

Segments are each model, each prompt version, each tag, each cluster (when the drift job has
written clusters) and each model × prompt version × tag combination. DuckDB counts every segment
in the current and the reference period in one query; Python tests each segment that has enough
events on both sides (Fisher exact, models.stats) and controls the false-discovery rate with
Benjamini–Hochberg across *all* segments tested, since testing a few hundred segments at 5%
would otherwise flag a dozen by chance every week.

A broad segment often moves only because a smaller one inside it did: when topic:billing gets
worse, prompt version v4 and lang:en, which carry billing's traffic, move too, by less but on
more events, so they rank first by impact. `explain` tests each flagged segment without the
smaller flagged segment inside it (same test); when the rest shows no significant change, the
smaller one accounts for the broad one's move, and both the page and the weekly report say so.

A combination that did not exist in the reference period (a new model or prompt version took
over a tag's traffic) is compared with what its predecessor got: the same tag and prompt version
on the earlier models (a model switch), the same tag and model on the earlier prompt versions
(a prompt change), or the same tag when both are new. That is exactly the question a switch
raises ("is this tag worse on the new model?"), without mixing in traffic that never switched.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from models import stats
from models.filters import EventFilter, where_sql
from models.trends.core import Period, day_start, facts_where, has_clusters, metric

COMBO = "model × prompt version × tag"
# Reference-only levels: what a new combination's traffic got before (not tested themselves).
MODEL_TAG = "model × tag"
PROMPT_TAG = "prompt version × tag"
SAME = "same segment"
NEW_PROMPT = "same model and tag, earlier prompt versions"
NEW_MODEL = "same prompt version and tag, earlier models"
TAG_BEFORE = "same tag, earlier models and prompts"


@dataclass(frozen=True)
class MovedResult:
    table: pl.DataFrame  # one row per segment seen, flagged first, by |impact|
    n_tested: int
    n_too_small: int
    n_flagged: int
    alpha: float
    n_duplicates: int = 0  # combinations holding exactly the events of one of their parts


def segment_counts(
    con: duckdb.DuckDBPyConnection, flt: EventFilter, metric_key: str,
    current: Period, reference: Period,
) -> pl.DataFrame:
    """Per segment and period ('current' / 'reference'): n and x of a rate metric."""
    m = metric(metric_key)
    if m.kind != "rate":
        raise KeyError(f"'what moved' works on rates; {metric_key!r} is a {m.kind}")
    where, params = facts_where(flt)
    cluster_sql = ""
    if has_clusters(con):
        cluster_sql = f"""
            UNION ALL
            SELECT CASE WHEN t.ts >= $cur_lo AND t.ts < $cur_hi THEN 'current'
                    ELSE 'reference' END AS period,
                'cluster', NULL, NULL, NULL, m.cluster_id::BIGINT,
                any_value(coalesce(c.llm_name, c.label, 'cluster ' || m.cluster_id::VARCHAR)),
                count(*) FILTER (WHERE {m.den}), count(*) FILTER (WHERE ({m.num}) AND {m.den})
            FROM trend_facts t JOIN cluster_members m ON m.event_id = t.event_id
            LEFT JOIN clusters c ON c.cluster_id = m.cluster_id
            WHERE {{where}} AND {_IN_PERIODS}
            GROUP BY 1, m.cluster_id
        """
    # Events are first counted per (period, model, prompt version, tag list): a few thousand
    # groups even at 1M events, so unnesting tags and the four groupings after it stay cheap.
    sql = f"""
        WITH base AS (
            SELECT CASE WHEN t.ts >= $cur_lo AND t.ts < $cur_hi THEN 'current'
                    ELSE 'reference' END AS period,
                coalesce(t.model, '(none)') AS model,
                coalesce(t.prompt_version, '(none)') AS prompt_version,
                any_value(t.tags) AS tags,
                count(*) FILTER (WHERE {m.den}) AS n,
                count(*) FILTER (WHERE ({m.num}) AND {m.den}) AS x
            FROM trend_facts t
            WHERE {{where}} AND {_IN_PERIODS} AND {m.den}
            GROUP BY 1, 2, 3, hash(t.tags)
        ),
        tagged AS (
            SELECT period, model, prompt_version, n, x,
                unnest(CASE WHEN len(tags) > 0 THEN tags ELSE ['(no tag)'] END) AS tag
            FROM base
        )
        SELECT period, 'model' AS dims, model, NULL AS prompt_version, NULL AS tag,
            NULL::BIGINT AS cluster_id, NULL AS cluster_label, sum(n) AS n, sum(x) AS x
        FROM base GROUP BY period, model
        UNION ALL
        SELECT period, 'prompt version', NULL, prompt_version, NULL, NULL, NULL, sum(n), sum(x)
        FROM base GROUP BY period, prompt_version
        UNION ALL
        SELECT period, 'tag', NULL, NULL, tag, NULL, NULL, sum(n), sum(x)
        FROM tagged GROUP BY period, tag
        UNION ALL
        SELECT period, '{COMBO}', model, prompt_version, tag, NULL, NULL, sum(n), sum(x)
        FROM tagged GROUP BY period, model, prompt_version, tag
        UNION ALL
        SELECT period, '{MODEL_TAG}', model, NULL, tag, NULL, NULL, sum(n), sum(x)
        FROM tagged WHERE period = 'reference' GROUP BY period, model, tag
        UNION ALL
        SELECT period, '{PROMPT_TAG}', NULL, prompt_version, tag, NULL, NULL, sum(n), sum(x)
        FROM tagged WHERE period = 'reference' GROUP BY period, prompt_version, tag
        {cluster_sql}
    """
    # The shared filter's `?` parameters are inlined as named ones so the SQL can repeat them.
    named = {f"f{i}": v for i, v in enumerate(params)}
    for i in range(len(params)):
        where = where.replace("?", f"$f{i}", 1)
    sql = sql.replace("{where}", where)
    values = {
        "cur_lo": day_start(current.start), "cur_hi": day_start(current.end),
        "ref_lo": day_start(reference.start), "ref_hi": day_start(reference.end), **named,
    }
    return con.sql(sql, params=values).pl().with_columns(
        pl.col("n").cast(pl.Int64), pl.col("x").cast(pl.Int64))


_IN_PERIODS = (
    "((t.ts >= $cur_lo AND t.ts < $cur_hi) OR (t.ts >= $ref_lo AND t.ts < $ref_hi))"
)


_KEY = ["dims", "model", "prompt_version", "tag", "cluster_id"]


def what_moved(
    counts: pl.DataFrame, *, better: str | None = None, alpha: float = stats.DEFAULT_ALPHA,
    min_n: int = stats.MIN_N,
) -> MovedResult:
    """Test every segment, control the FDR across them, rank the flagged ones by impact."""
    helpers = counts.filter(pl.col("dims").is_in([MODEL_TAG, PROMPT_TAG]))
    counts = counts.filter(~pl.col("dims").is_in([MODEL_TAG, PROMPT_TAG]))
    cur = counts.filter(pl.col("period") == "current").drop("period")
    ref = counts.filter(pl.col("period") == "reference").drop("period", "cluster_label")
    joined = cur.join(ref, on=_KEY, how="left", suffix="_ref", nulls_equal=True)
    before: dict[tuple, tuple[int, int]] = {}
    for r in ref.filter(pl.col("dims") == "tag").iter_rows(named=True):
        before[("tag", r["tag"])] = (r["n"], r["x"])
    for r in helpers.iter_rows(named=True):
        key = (MODEL_TAG, r["model"], r["tag"]) if r["dims"] == MODEL_TAG else (
            PROMPT_TAG, r["prompt_version"], r["tag"])
        before[key] = (r["n"], r["x"])
    # A combination is a subset of its model, prompt version and tag; with the same counts in
    # both periods it holds the very same events, and testing it again would only double every
    # flag (true or false). Such duplicates are left out and counted.
    singles = {
        (r["dims"], r["model"] or r["prompt_version"] or r["tag"]): (r["n"], r["n_ref"] or 0)
        for r in joined.filter(pl.col("dims") != COMBO).iter_rows(named=True)
    }
    rows = []
    duplicates = 0
    for r in joined.iter_rows(named=True):
        n1, x1 = int(r["n"]), int(r["x"])
        n0, x0 = int(r["n_ref"] or 0), int(r["x_ref"] or 0)
        if r["dims"] == COMBO and n0 >= min_n and (n1, n0) in (
            singles.get(("model", r["model"])), singles.get(("prompt version",
                                                               r["prompt_version"])),
            singles.get(("tag", r["tag"])),
        ):
            duplicates += 1
            continue
        reference = SAME
        if r["dims"] == COMBO and n0 < min_n and n1 >= min_n:
            n0, x0, reference = _predecessor(r, before, min_n) or (n0, x0, reference)
        cmp = stats.compare_proportions(x1, n1, x0, n0, alpha=alpha, min_n=min_n)
        rows.append({
            **{k: r[k] for k in _KEY}, "cluster_label": r["cluster_label"],
            "n": n1, "x": x1, "rate": x1 / n1 if n1 else None,
            "n_ref": n0, "x_ref": x0, "rate_ref": x0 / n0 if n0 else None,
            "reference": reference, "delta": cmp.delta, "delta_lo": cmp.lo, "delta_hi": cmp.hi,
            "p_value": cmp.p_value, "tested": cmp.p_value is not None,
        })
    tested = [i for i, row in enumerate(rows) if row["tested"]]
    bh = stats.benjamini_hochberg([rows[i]["p_value"] for i in tested], alpha=alpha)
    for row in rows:
        row.update(q_value=None, flagged=False, verdict=stats.TOO_LITTLE)
    for i, q, rejected in zip(tested, bh.q_values, bh.rejected, strict=True):
        row = rows[i]
        row["q_value"] = q
        row["flagged"] = rejected
        direction = stats.UP if row["delta"] > 0 else stats.DOWN
        if not rejected:
            row["verdict"] = stats.NO_CHANGE
        elif better is None:
            row["verdict"] = direction
        else:
            row["verdict"] = "better" if direction == better else "worse"
    for row in rows:
        row["impact"] = row["delta"] * row["n"] if row["delta"] is not None else None
    table = pl.DataFrame(rows, schema=_SCHEMA) if rows else pl.DataFrame(schema=_SCHEMA)
    table = table.with_columns(pl.col("impact").abs().alias("_abs")).sort(
        ["flagged", "tested", "_abs"], descending=[True, True, True], nulls_last=True
    ).drop("_abs")
    return MovedResult(table, len(tested), len(rows) - len(tested), sum(bh.rejected), alpha,
                       duplicates)


def _predecessor(
    r: dict, before: dict[tuple, tuple[int, int]], min_n: int
) -> tuple[int, int, str] | None:
    """What a new model × prompt × tag combination's traffic got in the reference period."""
    model_seen = before.get((MODEL_TAG, r["model"], r["tag"]), (0, 0))[0] >= min_n
    prompt_seen = before.get((PROMPT_TAG, r["prompt_version"], r["tag"]), (0, 0))[0] >= min_n
    if model_seen and not prompt_seen:
        key, label = (MODEL_TAG, r["model"], r["tag"]), NEW_PROMPT
    elif prompt_seen and not model_seen:
        key, label = (PROMPT_TAG, r["prompt_version"], r["tag"]), NEW_MODEL
    else:
        key, label = ("tag", r["tag"]), TAG_BEFORE
    n, x = before.get(key, (0, 0))
    return (int(n), int(x), label) if n >= min_n else None


_SCHEMA = {
    "dims": pl.String, "model": pl.String, "prompt_version": pl.String, "tag": pl.String,
    "cluster_id": pl.Int64, "cluster_label": pl.String, "n": pl.Int64, "x": pl.Int64,
    "rate": pl.Float64, "n_ref": pl.Int64, "x_ref": pl.Int64, "rate_ref": pl.Float64,
    "reference": pl.String, "delta": pl.Float64, "delta_lo": pl.Float64,
    "delta_hi": pl.Float64, "p_value": pl.Float64, "tested": pl.Boolean,
    "q_value": pl.Float64, "flagged": pl.Boolean, "verdict": pl.String, "impact": pl.Float64,
}


def segment_filter(row: dict, base: EventFilter, period: Period) -> EventFilter:
    """The explorer filter for the events behind a segment row in a period."""
    flt = base.with_(start=period.start, end=period.last_day)
    if row.get("model"):
        flt = flt.with_(models=(row["model"],)) if row["model"] != "(none)" else flt
    if row.get("prompt_version") and row["prompt_version"] != "(none)":
        flt = flt.with_(prompt_versions=(row["prompt_version"],))
    if row.get("tag") and row["tag"] != "(no tag)":
        flt = flt.with_(tags=(row["tag"],))
    if row.get("cluster_id") is not None:
        flt = flt.with_(cluster_id=int(row["cluster_id"]))
    return flt


EXPLAIN_LIMIT = 10  # flagged segments (largest impact first) checked against each other


def segment_label(row: dict) -> str:
    """A segment as the page names it: 'topic:billing', 'model-b × v4 × topic:billing'."""
    if row["dims"] == "cluster":
        return f"cluster: {row['cluster_label']}"
    parts = [row[k] for k in ("model", "prompt_version", "tag") if row.get(k) is not None]
    return " × ".join(parts)


def explained_pairs(
    con: duckdb.DuckDBPyConnection,
    flt: EventFilter,
    metric_key: str,
    rows: list[dict],
    current: Period,
    reference: Period,
    *,
    alpha: float = stats.DEFAULT_ALPHA,
    min_n: int = stats.MIN_N,
) -> dict[int, int]:
    """Which flagged rows a smaller flagged row inside them accounts for: {broad: smaller}.

    Row A is explained by row B (fewer events, same verdict) when A's events without B's,
    tested the same way (Fisher, at `alpha`), show no significant change. The smallest B that
    does is taken: removing a big part of A leaves a rest too small to show anything, so a
    large B "explains" A by lack of power, while a small B only does when A's move really is
    B's. A model × prompt × tag combination whose tag is flagged explains nothing (its tag
    says it). A row already explained does not explain others. One query per pair tried.
    """
    m = metric(metric_key)
    bounds = [
        day_start(current.start),
        day_start(current.end),
        day_start(reference.start),
        day_start(reference.end),
    ]

    def where(row: dict) -> tuple[str, list]:
        return where_sql(segment_filter(row, flt, current).with_(start=None, end=None), "t")

    order = sorted(range(len(rows)), key=lambda i: -rows[i]["n"])
    tags = {r["tag"] for r in rows if r["dims"] == "tag"}
    explainers = [
        j for j in reversed(order) if not (rows[j]["dims"] == COMBO and rows[j]["tag"] in tags)
    ]
    explained: dict[int, int] = {}
    for i in order:
        a = rows[i]
        if a.get("reference") not in (None, SAME):
            continue  # compared with a predecessor: its "rest" has no like-for-like reference
        wa, pa = where(a)
        for j in explainers:
            b = rows[j]
            if j == i or j in explained or b["n"] >= a["n"] or b["verdict"] != a["verdict"]:
                continue
            wb, pb = where(b)
            got = {
                r[0]: r[1:]
                for r in con.execute(
                    f"""
                    SELECT t.ts >= ? AS cur, count(*) FILTER (WHERE {m.den}),
                           count(*) FILTER (WHERE ({m.num}) AND ({m.den}))
                    FROM trend_facts t
                    WHERE ({wa}) AND NOT ({wb})
                      AND ((t.ts >= ? AND t.ts < ?) OR (t.ts >= ? AND t.ts < ?))
                    GROUP BY 1
                    """,
                    [bounds[0], *pa, *pb, *bounds],
                ).fetchall()
            }
            (n1, x1), (n0, x0) = got.get(True, (0, 0)), got.get(False, (0, 0))
            rest = stats.compare_proportions(
                int(x1), int(n1), int(x0), int(n0), alpha=alpha, min_n=min_n
            )
            if not rest.significant:
                explained[i] = j
                break
    return explained


def explain(
    con: duckdb.DuckDBPyConnection,
    flt: EventFilter,
    metric_key: str,
    result: MovedResult,
    current: Period,
    reference: Period,
    *,
    limit: int = EXPLAIN_LIMIT,
) -> MovedResult:
    """The result with `explained_by` / `accounts_for` columns (segment labels), and flagged
    segments a smaller one accounts for ranked after the flagged ones nobody explains."""
    table = result.table
    flagged = [r for r in table.iter_rows(named=True) if r["flagged"]]
    top = sorted(range(len(flagged)), key=lambda i: -abs(flagged[i]["impact"] or 0.0))[:limit]
    rows = [flagged[i] for i in top]
    pairs = explained_pairs(
        con, flt, metric_key, rows, current, reference, alpha=result.alpha
    )
    by: dict[int, str] = {}
    accounts: dict[int, list[str]] = {}
    for broad, small in pairs.items():
        # Chains name their end: v1 explained by lang:en, itself explained by topic:billing,
        # reads "topic:billing accounts for v1" (each step showed no change in what it left).
        while small in pairs:
            small = pairs[small]
        by[top[broad]] = segment_label(rows[small])
        accounts.setdefault(top[small], []).append(segment_label(rows[broad]))
    n_flagged = len(flagged)
    explained_by = [by.get(i) for i in range(n_flagged)] + [None] * (table.height - n_flagged)
    accounts_for = [", ".join(accounts.get(i, [])) or None for i in range(n_flagged)] + [None] * (
        table.height - n_flagged
    )
    # The table comes flagged first; the flagged rows keep their order among themselves.
    table = (
        table.with_columns(
            pl.Series("explained_by", explained_by, dtype=pl.String),
            pl.Series("accounts_for", accounts_for, dtype=pl.String),
        )
        .with_row_index("_i")
        .with_columns((pl.col("flagged") & pl.col("explained_by").is_not_null()).alias("_later"))
        .sort(["flagged", "_later", "_i"], descending=[True, False, False])
        .drop("_i", "_later")
    )
    return MovedResult(
        table, result.n_tested, result.n_too_small, result.n_flagged, result.alpha,
        result.n_duplicates,
    )
