"""One evaluator version's trust report: its rate per week, agreement with humans (overall, per
week, per model, per cluster), disagreements, inter-reviewer κ and the judge-corrected rate.

Pages and the weekly pack read this; it holds no SQL of its own (models.judge_trust.data).

PPI needs the human-labelled events to be a random sample of the judged ones. What the labels'
queues say about how they were drawn decides `sampling`:
- 'random': every label came from a queue drawn at random from a filter that keeps every judged
  event (a date range and status=ok at most), not stratified;
- 'by_verdict': as 'random', but some queues were stratified by this evaluator's own verdict
  (half its fails, half its passes, say), with every item's stratum still the version's verdict.
  The draw then depends on the judge's verdict alone, and the corrected rate, which estimates
  P(fail | judge fail) and P(fail | judge pass) within each verdict and weights them by the
  judge's own fail rate over every judged event, stays valid; the humans-only rate does not (it
  over-counts the judge's fails), so it is not given;
- 'selective': some labels came from a queue stratified by another evaluator's verdict (or on
  strata that are no longer this version's verdicts), or drawn from a filter on feedback (e.g.
  only low scores). A corrected rate from them would be biased, so none is given: the page says
  so and how to get one;
- 'unknown': labels without a queue, or from a cluster / segment / filtered sample. The corrected
  rate is shown with the warning that it holds only if the labelled events are a random sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import duckdb
import polars as pl

from ingest.errors import ReviewdeckError
from models import stats
from models.filters import EventFilter, parse_where
from models.judge_trust import data
from models.judge_trust.agreement import Agreement, agreement
from models.judge_trust.ppi import Corrected, corrected_rate

RANDOM = "random"
BY_VERDICT = "by_verdict"
SELECTIVE = "selective"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class WeekRate:
    week: str
    n: int
    fails: int
    rate: float | None
    lo: float | None
    hi: float | None


@dataclass(frozen=True)
class Trust:
    name: str
    version: str
    kind: str  # 'score' (pass/fail, scores) or 'label'
    judged: int
    weeks: tuple[WeekRate, ...]
    overall: Agreement
    by_week: tuple[tuple[str, Agreement], ...]
    by_model: tuple[tuple[str, Agreement], ...]
    by_cluster: tuple[tuple[str, Agreement], ...]
    disagreements: pl.DataFrame = field(compare=False)
    reviewers: Agreement
    corrected: Corrected | None
    sampling: str
    sampling_note: str
    counts: dict = field(compare=False)
    tied: int = 0  # events whose reviewers tied: no human label
    corrected_by_week: tuple[tuple[str, Corrected], ...] = ()
    # label rubrics: each label's corrected share (the label as the "fail" of one-vs-rest)
    corrected_labels: tuple[tuple[str, Corrected], ...] = ()

    @property
    def sample(self) -> str:
        """Which sample every number rests on, for captions."""
        return (
            f"{version_label(self.name, self.version)}: {self.judged} events scored, "
            f"{self.overall.n} with a human label"
        )


def version_label(name: str, version: str) -> str:
    """'helpful v2' (or 'helpful v2.1' for a version written 'v2.1')."""
    return f"{name} {version}" if version[:1] in ("v", "V") else f"{name} v{version}"


def _queue_filter(q: dict) -> EventFilter | None:
    """The filter a queue was drawn from (models.queue.sources: {"where": query string}), or
    None when its source is no filter reviewdeck can read."""
    source = q.get("source")
    if not isinstance(source, dict):
        return None
    try:
        return parse_where(str(source.get("where") or ""))
    except ReviewdeckError:
        return None


def _is_whole_population(flt: EventFilter) -> bool:
    """A filter that keeps every judged event: a date range at most, and status=ok (evaluators
    score answers; an errored call has none)."""
    status = None if flt.status == "ok" else flt.status
    return flt.with_(start=None, end=None, status=status) == EventFilter()


def _own_verdict_strata(q: dict, evaluator: str | None, strata: dict) -> bool:
    """A queue stratified by this evaluator's verdict, every item's stratum still its verdict."""
    items, mismatched = strata.get(q["queue_id"], (0, 1))
    return (evaluator is not None and q.get("stratify_by") == f"verdict:{evaluator}"
            and items > 0 and mismatched == 0)


def sampling(
    queues: list[dict], labels_without_queue: bool, evaluator: str | None = None,
    strata: dict[int, tuple[int, int]] | None = None,
) -> tuple[str, str]:
    """How the human labels were drawn, and what that means for the corrected rate.

    `strata` is data.verdict_strata for `evaluator`'s version: without it, any verdict-stratified
    queue counts as selective."""
    strata = strata or {}
    filters = {q["queue_id"]: _queue_filter(q) for q in queues}
    own = {q["queue_id"] for q in queues if _own_verdict_strata(q, evaluator, strata)}
    selective = [
        q for q in queues
        if (str(q.get("stratify_by") or "").startswith("verdict") and q["queue_id"] not in own)
        or (filters[q["queue_id"]] is not None and filters[q["queue_id"]].feedback)
        or (isinstance(q.get("source"), dict) and q["source"].get("feedback"))
    ]
    if selective:
        q = selective[0]
        how = (f"stratified by {q['stratify_by']}" if q.get("stratify_by")
               else "drawn from a filter on feedback")
        if q["queue_id"] in strata and q.get("stratify_by") == f"verdict:{evaluator}":
            how += " on verdicts that are not this version's"
        return SELECTIVE, (
            f"Humans labelled a selected sample (queue {q['queue_id']} '{q['name']}' was {how}), "
            "not a random sample of the judged events, so no corrected rate is given: it would "
            "be biased. For one, review a queue drawn at random from all events (no feedback "
            "filter, not stratified by a verdict)."
        )
    other = [
        q for q in queues
        if q.get("source_kind") != "filter"
        or filters[q["queue_id"]] is None
        or not _is_whole_population(filters[q["queue_id"]])
        or (q.get("stratify_by") and q["queue_id"] not in own)
    ]
    if labels_without_queue or other or not queues:
        if labels_without_queue:
            why = "some labels came without a review queue"
        elif other:
            why = (f"queue {other[0]['queue_id']} '{other[0]['name']}' was drawn from a subset "
                   "(a cluster, segment, filter or strata)")
        else:
            why = "the labels' review queues are not in this warehouse"
        return UNKNOWN, (
            f"The corrected rate assumes the labelled events are a random sample of the judged "
            f"ones; {why}, so that is not known here."
        )
    if own:
        return BY_VERDICT, (
            "Humans labelled samples drawn by the judge's own verdict (a stratified queue): the "
            "corrected rate holds, since it weights what people found among the judge's fails "
            "and among its passes by the judge's fail rate over every judged event. The "
            "humans-only rate of such a sample over-represents one verdict, so it is not given."
        )
    return RANDOM, "Humans labelled a random sample of the judged events (PPI's assumption holds)."


def _corrected(events: pl.DataFrame, paired: pl.DataFrame, humans_only: bool) -> Corrected | None:
    """The judge-corrected (PPI) fail rate from the judged events and the paired ones among them;
    without the humans-only rate when the labels were drawn by the judge's verdict."""
    if paired.height < 2:
        return None
    out = _corrected_counts(events, paired)
    if not humans_only:
        out = replace(out, human_rate=None, human_lo=None, human_hi=None)
    return out


def _corrected_counts(events: pl.DataFrame, paired: pl.DataFrame) -> Corrected:
    cells = paired.group_by("judge", "human").len()

    def c(j: str, h: str) -> int:
        row = cells.filter((pl.col("judge") == j) & (pl.col("human") == h))
        return int(row["len"][0]) if row.height else 0

    return corrected_rate(
        c("fail", "fail"), c("pass", "fail"), c("fail", "pass"), c("pass", "pass"),
        int((events["judge"] == "fail").sum()), events.height,
    )


def _one_vs_rest(frame: pl.DataFrame, label: str) -> pl.DataFrame:
    """The judge's (and human's) category as 'fail' where it is `label`, else 'pass'."""
    return frame.with_columns(
        pl.when(pl.col(c) == label).then(pl.lit("fail")).otherwise(pl.lit("pass")).alias(c)
        for c in ("judge", "human") if c in frame.columns)


def _label_shares(events: pl.DataFrame, paired: pl.DataFrame, labels: tuple[str, ...],
                  humans_only: bool) -> tuple[tuple[str, Corrected], ...]:
    """A label rubric's corrected share of each label: one label against the rest is a rate
    like a fail rate (Y = the human chose it, f = the judge did), corrected the same way."""
    out = []
    for label in labels:
        est = _corrected(_one_vs_rest(events.select("judge"), label),
                         _one_vs_rest(paired, label), humans_only)
        if est is not None:
            out.append((label, est))
    return tuple(out)


def _agree(frame: pl.DataFrame, categories: tuple[str, ...]) -> Agreement:
    return agreement(frame["judge"].to_list(), frame["human"].to_list(), categories or None)


def _grouped(frame: pl.DataFrame, by: str, cats) -> tuple[tuple[str, Agreement], ...]:
    out = []
    for key in sorted(frame[by].drop_nulls().unique().to_list(), key=str):
        out.append((str(key), _agree(frame.filter(pl.col(by) == key), cats)))
    return tuple(out)


@dataclass(frozen=True)
class WeekCorrected:
    """The corrected rate of one evaluator version in one week, without the rest of the trust
    report (what the trends page needs, at a fraction of its cost)."""

    name: str
    version: str
    judged: int
    paired: int
    corrected: Corrected | None
    sampling: str
    sampling_note: str


def _how_drawn(con: duckdb.DuckDBPyConnection, name: str, version: str,
               paired: pl.DataFrame) -> tuple[str, str, bool]:
    """(sampling status, its note, whether a humans-only rate may be given) for the labels."""
    queues = sorted({q for qs in paired["queues"].drop_nulls() for q in qs})
    without = bool(paired.filter(pl.col("queues").is_null() | (pl.col("queues").list.len() == 0))
                   .height)
    info = data.queue_info(con, queues)
    # a label whose queue row is missing is as unknown as one without a queue
    without = without or len(info) < len(queues)
    strata = data.verdict_strata(con, queues, name, version)
    how, note = sampling(info, without, name, strata)
    # labels drawn by the judge's verdict: no humans-only rate, whatever else the labels are
    humans_only = not any(_own_verdict_strata(q, name, strata) for q in info)
    return how, note, humans_only


def corrected_in_week(
    con: duckdb.DuckDBPyConnection, name: str, version: str, week: str
) -> WeekCorrected:
    """The corrected fail rate of a pass/fail evaluator version over the events of ISO `week`."""
    events = data.judged_events(con, name, version, week)
    paired = events.filter(pl.col("human").is_not_null())
    how, note, humans_only = _how_drawn(con, name, version, paired)
    corrected = None if how == SELECTIVE else _corrected(events, paired, humans_only)
    return WeekCorrected(name, version, events.height, paired.height, corrected, how, note)


def trust(
    con: duckdb.DuckDBPyConnection,
    name: str,
    version: str | None = None,
    *,
    week: str | None = None,
) -> Trust | None:
    """The trust report of evaluator `name` at `version` (default: its latest). With `week`,
    only events of that ISO week count. None when the evaluator has no rows."""
    versions = data.evaluator_versions(con).filter(pl.col("name") == name)
    if versions.height == 0:
        return None
    if version is None:
        version = versions.filter(pl.col("latest"))["version"][0]
    row = versions.filter(pl.col("version") == version)
    if row.height == 0:
        return None
    kind = row["kind"][0]
    events = data.judged_events(con, name, version, week)
    paired = events.filter(pl.col("human").is_not_null())
    cats = ("fail", "pass") if kind == "score" else tuple(
        sorted(set(paired["judge"].drop_nulls()) | set(paired["human"].drop_nulls()))
    )

    weekly = (
        events.group_by("week")
        .agg(pl.len().alias("n"), (pl.col("judge") == "fail").sum().alias("fails"))
        .sort("week")
    )
    weeks = []
    for w, n, fails in weekly.iter_rows():
        est = stats.wilson(int(fails), int(n))
        weeks.append(WeekRate(w, int(n), int(fails), est.value, est.lo, est.hi))

    corrected = None
    how, note, humans_only = _how_drawn(con, name, version, paired)
    by_week_corrected = []
    label_shares: tuple[tuple[str, Corrected], ...] = ()
    # A draw stratified by the judge's labels is not one by a label-vs-rest verdict (its rest
    # mixes labels drawn at different rates), so label shares need labels drawn at random.
    if kind == "label" and how not in (SELECTIVE, BY_VERDICT):
        label_shares = _label_shares(events, paired, cats, humans_only)
    if kind == "score" and how != SELECTIVE:
        corrected = _corrected(events, paired, humans_only)
        for w in weekly["week"].to_list():
            est = _corrected(events.filter(pl.col("week") == w),
                             paired.filter(pl.col("week") == w), humans_only)
            if est is not None:
                by_week_corrected.append((w, est))

    rev = data.reviewer_pairs(con, name)
    if week is not None:
        rev = rev.filter(pl.col("week") == week)
    rev_cats = ("fail", "pass") if kind == "score" else None
    reviewers = agreement(rev["a"].to_list(), rev["b"].to_list(), rev_cats)

    dis = paired.filter(pl.col("judge") != pl.col("human")).select(
        "event_id", "week", "ts", "model", "judge", "human", "n_humans"
    )
    tied = events.filter((pl.col("n_humans") > 0) & pl.col("human").is_null()).height
    return Trust(
        name=name, version=version, kind=kind, judged=events.height, weeks=tuple(weeks),
        overall=_agree(paired, cats),
        by_week=_grouped(paired, "week", cats),
        by_model=_grouped(paired, "model", cats),
        by_cluster=_grouped(paired, "cluster_id", cats),
        disagreements=dis, reviewers=reviewers, corrected=corrected,
        sampling=how, sampling_note=note,
        counts=data.evaluation_counts(con, name, version), tied=tied,
        corrected_by_week=tuple(by_week_corrected), corrected_labels=label_shares,
    )


def all_latest(con: duckdb.DuckDBPyConnection, *, week: str | None = None) -> list[Trust]:
    """The trust report of every evaluator's latest version: those with human labels first
    (their trust is the point), then LLM judges, then code checks, by name within each."""
    versions = data.evaluator_versions(con).filter(pl.col("latest"))
    out = []
    for name, version, source in versions.select("name", "version", "source").iter_rows():
        t = trust(con, name, version, week=week)
        if t is not None:
            out.append((t.overall.n == 0, source != "llm_judge", name, t))
    return [t for *_, t in sorted(out, key=lambda x: x[:3])]
