"""The pack's "Evaluators and review" section: the week's review progress (queue items
labelled of their total), each evaluator's agreement with reviewers and judge-corrected rate on
the week's events (models.judge_trust), and the top failure tags reviewers gave, with examples.

Every evaluator number names the evaluator, its version (the latest) and its sample.
"""

from __future__ import annotations

from models.judge_trust import data as trust_data
from models.judge_trust import summary as trust_summary
from models.report.model import (
    EvaluatorItem,
    Example,
    QueueProgress,
    TagItem,
    event_url,
    week_bounds,
)
from models.report.sections import Context, _clip

SOURCE = (
    "evaluators' feedback rows (latest version each) paired with reviewers' labels on the same "
    "events of this week (majority label, ties left out); Cohen's kappa from statsmodels; "
    "corrected rates by prediction-powered inference (PPI); review progress from review "
    "queues open this week; failure tags from reviewers' labels on this week's events"
)


def _has_tables(ctx: Context) -> bool:
    return bool(
        ctx.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'review_queues'"
        ).fetchall()[0][0]
    )


def review_progress(ctx: Context) -> list[QueueProgress]:
    start, end = week_bounds(ctx.week)
    frame = trust_data.review_progress(ctx.con, start, end)
    return [
        QueueProgress(int(r["queue_id"]), r["name"], r["rubric"], int(r["items"]), int(r["done"]),
                      int(r["labels_this_week"]))
        for r in frame.iter_rows(named=True)
    ]


def evaluator_items(ctx: Context) -> list[EvaluatorItem]:
    out = []
    for t in trust_summary.all_latest(ctx.con, week=ctx.week):
        if t.judged == 0:
            continue
        fails = sum(w.fails for w in t.weeks)
        (week_rate,) = t.weeks or (None,)
        c = t.corrected
        a = t.overall
        out.append(
            EvaluatorItem(
                name=t.name, version=t.version, kind=t.kind, sample=t.sample, judged=t.judged,
                fails=fails,
                rate=week_rate.rate if week_rate and t.kind == "score" else None,
                rate_lo=week_rate.lo if week_rate and t.kind == "score" else None,
                rate_hi=week_rate.hi if week_rate and t.kind == "score" else None,
                paired=a.n, agreement=a.rate, kappa=a.kappa, kappa_lo=a.kappa_lo,
                kappa_hi=a.kappa_hi, disagreements=t.disagreements.height,
                reviewer_pairs=t.reviewers.n, reviewer_kappa=t.reviewers.kappa,
                labelled=c.labelled if c else a.n,
                human_rate=c.human_rate if c else None,
                human_lo=c.human_lo if c else None, human_hi=c.human_hi if c else None,
                corrected=c.value if c else None, corrected_lo=c.lo if c else None,
                corrected_hi=c.hi if c else None, narrower=c.narrower if c else None,
                sampling=t.sampling, sampling_note=t.sampling_note,
                errors=int(t.counts["errors"]), unparsed=int(t.counts["unparsed"]),
                cost_usd=t.counts.get("cost_usd"),
                disagreement_ids=tuple(t.disagreements["event_id"].head(ctx.examples).to_list()),
            )
        )
    return out


def failure_tags(ctx: Context) -> list[TagItem]:
    start, end = week_bounds(ctx.week)
    frame = trust_data.failure_tags(ctx.con, start, end, limit=ctx.top)
    rows = list(frame.iter_rows(named=True))
    wanted = sorted({eid for row in rows for eid in list(row["examples"])[: ctx.examples]})
    # One read of the examples' texts, pruned to the week (every example is an event of it).
    texts = {
        r[0]: r
        for r in ctx.con.execute(
            "SELECT event_id, ts, model, input_text, output_text FROM events "
            "WHERE ts >= ? AND ts < ? AND event_id IN (SELECT unnest(?::VARCHAR[]))",
            [start, end, wanted],
        ).fetchall()
    } if wanted else {}
    out = []
    for row in rows:
        ids = sorted(eid for eid in list(row["examples"])[: ctx.examples] if eid in texts)
        examples = tuple(
            Example(eid, ts.isoformat(timespec="minutes") if ts else "", model, _clip(inp),
                    _clip(outp), f"reviewer tag {row['tag']}", event_url(ctx.base_url, eid))
            for eid, ts, model, inp, outp in (texts[i] for i in ids)
        )
        out.append(TagItem(row["tag"], int(row["n"]), int(row["events"]), examples))
    return out


def section(ctx: Context) -> tuple[list[QueueProgress], list[EvaluatorItem], list[TagItem], str]:
    """The whole section; empty parts where the warehouse predates evaluators and queues."""
    if not _has_tables(ctx):
        return [], [], [], "no evaluator or review tables in this warehouse"
    return review_progress(ctx), evaluator_items(ctx), failure_tags(ctx), SOURCE
