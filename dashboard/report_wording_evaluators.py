"""One wording for the pack's "Evaluators and review" section, shared by the Weekly page, the
HTML and the Markdown renderings (dashboard/report_render.py). Plain text only: each renderer
escapes it for its medium, since evaluator names, queue names and tags are user text.
"""

from __future__ import annotations

from models.judge_trust.summary import version_label
from models.report.model import EvaluatorItem, QueueProgress, Report

EVALUATORS_TITLE = "Evaluators and review"
NO_QUEUES = "No review queue was open this week (`reviewdeck queue create` makes one)."
NO_EVALUATORS = (
    "No evaluator scored this week's events. Run `reviewdeck evaluate` to score them with the "
    "built-in checks or your LLM judges."
)
NO_TAGS = "Reviewers gave no failure tag on this week's events."
TAGS_TITLE = "Top failure tags from reviewers"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _ci(lo: float | None, hi: float | None) -> str:
    return "" if lo is None or hi is None else f" (95% {_pct(lo)}–{_pct(hi)})"


def review_line(q: QueueProgress) -> str:
    return (
        f"Queue {q.queue_id} “{q.name}” (rubric {q.rubric}): {q.done} of {q.items} items "
        f"labelled; {q.labels_this_week} labels given this week."
    )


def evaluator_heading(ev: EvaluatorItem) -> str:
    return f"{version_label(ev.name, ev.version)} (latest version)"


def evaluator_lines(ev: EvaluatorItem) -> list[str]:
    """What the pack says of one evaluator on the week's events, each line naming its sample."""
    who = version_label(ev.name, ev.version)
    lines = []
    if ev.kind == "score":
        lines.append(
            f"{who} failed {ev.fails} of {ev.judged} events scored this week: fail rate "
            f"{_pct(ev.rate)}{_ci(ev.rate_lo, ev.rate_hi)}."
        )
    else:
        lines.append(f"{who} labelled {ev.judged} events this week.")
    if ev.paired:
        kappa = "n/a" if ev.kappa is None else f"{ev.kappa:.2f}"
        kci = ("" if ev.kappa_lo is None else f" (95% {ev.kappa_lo:.2f} to {ev.kappa_hi:.2f})")
        lines.append(
            f"Agreement with reviewers on the {ev.paired} of them with a human label: "
            f"{_pct(ev.agreement)}, Cohen's κ {kappa}{kci}; {ev.disagreements} disagreements."
        )
    else:
        lines.append(f"No reviewer labelled {who}'s rubric on this week's events: agreement "
                     "unmeasured.")
    if ev.corrected is not None:
        narrower = ""
        if ev.narrower is not None:
            word = "narrower" if ev.narrower >= 0 else "wider"
            narrower = f" The corrected interval is {abs(ev.narrower):.0%} {word} than humans-only."
        lines.append(
            f"Judge-corrected fail rate (prediction-powered inference, {ev.judged} verdicts and "
            f"{ev.labelled} human labels): {_pct(ev.corrected)}"
            f"{_ci(ev.corrected_lo, ev.corrected_hi)}; humans only "
            f"{_pct(ev.human_rate)}{_ci(ev.human_lo, ev.human_hi)}; raw judge {_pct(ev.rate)}."
            + narrower
        )
    if ev.sampling != "random" and ev.paired:
        lines.append(ev.sampling_note)
    if ev.reviewer_pairs:
        rk = "n/a" if ev.reviewer_kappa is None else f"{ev.reviewer_kappa:.2f}"
        lines.append(f"Between reviewers: κ {rk} on {ev.reviewer_pairs} double-labelled events.")
    cost = "" if ev.cost_usd is None else f"; cost ${ev.cost_usd:,.4f}"
    lines.append(f"{ev.errors} errors and {ev.unparsed} unparsed answers (whole version){cost}.")
    return lines


def section_caption(report: Report) -> str:
    return (
        f"Events of {report.week_title}; each evaluator's latest version against the human "
        "label (majority of reviewers, ties left out). The corrected rate holds when reviewers "
        "labelled a random sample of the judged events."
    )
