"""The comparison report of a rerun batch: judge win/tie/loss, deltas, reviewer verdicts.

Read-only: everything comes from the warehouse (the batch's items, the rerun events, the judge's
order-swapped judgements and reviewers' verdict feedback), so the page, the CLI's --json output
and a later reader all see the same numbers.

Unreadable judgements (a reply with no 1 / 2 / tie in it, or a judge call that failed) are
counted apart in `BatchReport.unreadable` and left out of win / tie / loss (models.rerun.judge).
Rows stored before `unreadable` was a value of `preferred` (a 'tie' whose rationale starts with
the unreadable or judge-error prefix) are read the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

from models.rerun import store
from models.rerun.judge import (
    JUDGE_ERROR_PREFIX,
    UNREADABLE,
    UNREADABLE_PREFIX,
    JudgeSummary,
    pair_outcome,
    summarize,
)

if TYPE_CHECKING:
    import polars as pl

# A judgement's side, with rows of older runs (an unreadable reply stored as a 'tie' with a
# marker in its rationale) read as unreadable. Parameters: the two prefixes, then UNREADABLE.
_SIDE_SQL = ("CASE WHEN j.preferred = 'tie' AND (starts_with(coalesce(j.rationale, ''), ?)"
             " OR starts_with(coalesce(j.rationale, ''), ?)) THEN ? ELSE j.preferred END")
_SIDE_PARAMS = [UNREADABLE_PREFIX, JUDGE_ERROR_PREFIX, UNREADABLE]


@dataclass(frozen=True)
class BatchReport:
    batch: store.Batch
    item_status: dict[str, int]  # pending / done / error / failed
    judge: JudgeSummary | None
    pairs: pl.DataFrame | None  # one row per finished item (pairs_frame); None if not asked
    cost_original_usd: float | None
    cost_rerun_usd: float | None
    latency_median_original_ms: float | None
    latency_median_rerun_ms: float | None
    verdicts: dict[str, int]  # latest reviewer verdict per rerun of this batch, by label
    # Judgements that gave no usable answer (unreadable reply or failed judge call); their pairs
    # are left out of `judge` (judge.unreadable_pairs of them).
    unreadable: int
    no_verdict: int = 0  # reruns of this batch (errors included) with no reviewer verdict yet


def pairs_frame(con: duckdb.DuckDBPyConnection, batch_id: str) -> pl.DataFrame:
    import polars as pl

    pairs = con.sql(
        """
        SELECT i.event_id, i.rerun_event_id, i.status, i.error_type,
               o.output_text AS original_output, r.output_text AS rerun_output,
               o.model AS original_model, r.model_requested AS rerun_model,
               o.cost_usd AS original_cost_usd, r.cost_usd AS rerun_cost_usd,
               o.latency_ms AS original_latency_ms, r.latency_ms AS rerun_latency_ms,
               r.error_message,
               (SELECT list({side} ORDER BY j.rerun_first) FROM rerun_judgements j
                 WHERE j.batch_id = i.batch_id AND j.rerun_event_id = i.rerun_event_id)
                 AS judge_preferred,
               (SELECT string_agg(CASE WHEN j.rerun_first THEN 'rerun shown first: '
                                       ELSE 'original shown first: ' END
                                  || {side} || ' — ' || coalesce(j.rationale, ''),
                                  '\n'
                                  ORDER BY j.rerun_first)
                  FROM rerun_judgements j
                 WHERE j.batch_id = i.batch_id AND j.rerun_event_id = i.rerun_event_id)
                 AS judge_rationale,
               (SELECT string_agg(f.label, ', ') FROM feedback f
                 WHERE f.event_id = i.rerun_event_id AND f.name = 'verdict')
                 AS reviewer_verdicts
          FROM rerun_items i
          JOIN events o ON o.event_id = i.event_id
          LEFT JOIN events r ON r.event_id = i.rerun_event_id
         WHERE i.batch_id = ?
         ORDER BY i.event_id
        """.replace("{side}", _SIDE_SQL),
        params=[*_SIDE_PARAMS, *_SIDE_PARAMS, batch_id],
    ).pl()
    if not len(pairs):
        return pairs
    return pairs.with_columns(
        pl.col("judge_preferred").map_elements(
            lambda p: pair_outcome("", list(p)).outcome if p is not None and len(p) else None,
            return_dtype=pl.String).alias("judge_outcome"))


def judged_sides(con: duckdb.DuckDBPyConnection, batch_id: str) -> list[tuple[str, list[str]]]:
    """(original event id, the judge's sides in order original-first, rerun-first) of every
    item with a judgement, as pairs_frame's judge_preferred has them."""
    return con.execute(
        f"""
        SELECT i.event_id, list({_SIDE_SQL} ORDER BY j.rerun_first)
          FROM rerun_items i
          JOIN rerun_judgements j
            ON j.batch_id = i.batch_id AND j.rerun_event_id = i.rerun_event_id
         WHERE i.batch_id = ?
         GROUP BY i.event_id
         ORDER BY i.event_id
        """, [*_SIDE_PARAMS, batch_id]).fetchall()


def batch_report(con: duckdb.DuckDBPyConnection, batch_id: str,
                 confidence: float = 0.95, *, with_pairs: bool = True) -> BatchReport | None:
    """The batch's report; `with_pairs=False` leaves `pairs` None (the CLI prints only the
    totals, and building the frame costs a polars + pyarrow import in a fresh process)."""
    batch = store.get_batch(con, batch_id)
    if batch is None:
        return None
    status = dict(con.execute(
        "SELECT status, count(*) FROM rerun_items WHERE batch_id = ? GROUP BY status",
        [batch_id]).fetchall())
    pairs = pairs_frame(con, batch_id) if with_pairs else None
    outcomes = [pair_outcome(eid, list(sides)) for eid, sides in judged_sides(con, batch_id)]
    totals = con.execute(
        """
        SELECT sum(o.cost_usd), sum(r.cost_usd), median(o.latency_ms), median(r.latency_ms)
          FROM rerun_items i JOIN events o ON o.event_id = i.event_id
          JOIN events r ON r.event_id = i.rerun_event_id
         WHERE i.batch_id = ? AND r.status = 'ok'
        """, [batch_id]).fetchone()
    # Each rerun's latest verdict (store.LATEST_VERDICT_SQL, as the weekly report counts them);
    # reruns without one are `no_verdict`.
    counted = con.execute(
        f"SELECT v.verdict, count(*) FROM rerun_items i LEFT JOIN ({store.LATEST_VERDICT_SQL}) v"
        " ON v.event_id = i.rerun_event_id WHERE i.batch_id = ? AND i.rerun_event_id IS NOT NULL"
        " GROUP BY ALL", [batch_id]).fetchall()
    verdicts = {label: n for label, n in counted if label is not None}
    no_verdict = sum(n for label, n in counted if label is None)
    unreadable = con.execute(
        f"SELECT count(*) FROM rerun_judgements j WHERE j.batch_id = ? AND ({_SIDE_SQL}) = ?",
        [batch_id, *_SIDE_PARAMS, UNREADABLE]).fetchone()[0]
    return BatchReport(batch, status, summarize(outcomes, confidence) if outcomes else None,
                       pairs, totals[0], totals[1], totals[2], totals[3], verdicts, unreadable,
                       no_verdict)


def report_dict(rep: BatchReport) -> dict:
    """The report as plain JSON-able data (for `reviewdeck rerun --json`)."""
    j = rep.judge
    return {
        "batch_id": rep.batch.batch_id, "model": rep.batch.model, "endpoint": rep.batch.endpoint,
        "where": rep.batch.where_text, "status": rep.batch.status, "items": rep.item_status,
        "spent_usd": rep.batch.spent_usd, "estimate_usd": rep.batch.estimate_usd,
        "max_cost_usd": rep.batch.max_cost_usd,
        "cost_original_usd": rep.cost_original_usd, "cost_rerun_usd": rep.cost_rerun_usd,
        "latency_median_original_ms": rep.latency_median_original_ms,
        "latency_median_rerun_ms": rep.latency_median_rerun_ms,
        "judge": None if j is None else {
            "model": rep.batch.judge_model, "pairs": j.n, "confidence": j.confidence,
            "unreadable": rep.unreadable, "pairs_unreadable": j.unreadable_pairs,
            **{k: {"count": s.count, "share": s.share, "low": s.low, "high": s.high}
               for k, s in (("win", j.win), ("tie", j.tie), ("loss", j.loss))},
            "win_rate_decisive": j.win_rate_decisive,
            "win_rate_interval": [j.win_rate_low, j.win_rate_high],
            "sign_test_p": j.p_value},
        "reviewer_verdicts": rep.verdicts,
        "no_verdict": rep.no_verdict,
    }
