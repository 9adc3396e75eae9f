"""Pairwise LLM judge for reruns: original vs rerun, judged twice with the order swapped.

LLM judges favour whichever answer they read first (position bias). Each pair is therefore
judged twice, once with the original shown first and once with the rerun first, and ties are
allowed. A pair is a win for the rerun only if, over both orders, the judge preferred it more
often than the original; a judge that always picks "the first answer" scores +1 and -1 and the
pair comes out a tie, so the bias cancels instead of deciding the result.

The summary gives win / tie / loss shares with Wilson intervals (statsmodels) and an exact sign
test on the decisive pairs (scipy), so a reviewer sees whether "the new model wins" is more
than noise.

A reply that cannot be read (no 1 / 2 / tie in it) or a judge call that failed is no judgement:
it is stored as `unreadable`, and a pair with an unreadable judgement in either order is left out
of win / tie / loss and their intervals (one order alone would let position bias decide) and
counted apart, so a broken judge shows up as "0 judged, N unreadable", never as a wall of ties.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

DEFAULT_RUBRIC = (
    "Judge which answer better serves the user: correct, complete for the request, faithful to "
    "any context given in the conversation, and clear. Ignore length and style unless they hurt "
    "the user. If neither is clearly better, answer tie."
)

# Rationale prefixes of judgements that could not be used. Rows written before `unreadable` was a
# stored value have preferred='tie' and one of these prefixes; the report reads them as unreadable.
UNREADABLE_PREFIX = "(unreadable judge reply"
JUDGE_ERROR_PREFIX = "(judge error"
UNREADABLE = "unreadable"

_SYSTEM = (
    "You compare two answers to the same conversation. {rubric}\n"
    'Reply with JSON only: {{"preferred": "1" | "2" | "tie", "rationale": "<one or two '
    'sentences>"}}.'
)


@dataclass(frozen=True)
class Choice:
    preferred: str  # '1' | '2' | 'tie' (an unreadable reply keeps 'tie' here and readable=False)
    rationale: str
    readable: bool = True


@dataclass(frozen=True)
class PairOutcome:
    event_id: str
    score: int  # +2..-2: rerun preferred counts +1 per order, original -1, tie 0
    outcome: str  # 'win' | 'tie' | 'loss' (for the rerun), or 'unreadable' (left out)


@dataclass(frozen=True)
class Share:
    count: int
    share: float
    low: float
    high: float


@dataclass(frozen=True)
class JudgeSummary:
    n: int  # pairs judged readably in both orders: win + tie + loss
    win: Share
    tie: Share
    loss: Share
    win_rate_decisive: float | None  # wins / (wins + losses)
    win_rate_low: float | None
    win_rate_high: float | None
    p_value: float | None  # exact two-sided sign test, wins vs losses
    confidence: float
    unreadable_pairs: int = 0  # pairs left out: an unreadable judgement in either order


def transcript(messages: list[dict[str, Any]]) -> str:
    """The conversation as plain text for the judge (roles, tool calls and results kept)."""
    lines: list[str] = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            content = "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        text = "" if content is None else str(content)
        for call in m.get("tool_calls") or []:
            fn = call.get("function", {}) if isinstance(call, dict) else {}
            text += f"\n[tool call {fn.get('name')}({fn.get('arguments')})]"
        lines.append(f"{m.get('role', 'user')}: {text}".rstrip())
    return "\n\n".join(lines)


def judge_messages(conversation: list[dict[str, Any]], first: str, second: str,
                   rubric: str = DEFAULT_RUBRIC) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": _SYSTEM.format(rubric=rubric.strip())},
        {"role": "user", "content": (
            f"<conversation>\n{transcript(conversation)}\n</conversation>\n\n"
            f"<answer 1>\n{first}\n</answer 1>\n\n<answer 2>\n{second}\n</answer 2>\n\n"
            "Which answer is better?")},
    ]


def parse_choice(text: str) -> Choice:
    """Read the judge's reply; JSON first, then a lenient look for 1 / 2 / tie."""
    text = (text or "").strip()
    match = re.search(r"\{.*\}", text, re.S)
    if match:
        try:
            data = json.loads(match.group(0))
            pref = str(data.get("preferred", "")).strip().lower()
            if pref in ("1", "2", "tie"):
                return Choice(pref, str(data.get("rationale", "")).strip())
        except (json.JSONDecodeError, AttributeError):
            pass
    low = text.lower()
    if re.search(r"\btie\b", low):
        return Choice("tie", text[:500])
    found = re.search(r"answer\s*([12])\b|\b([12])\b", low)
    if found:
        return Choice(found.group(1) or found.group(2), text[:500])
    return Choice("tie", f"{UNREADABLE_PREFIX}) {text[:300]}", readable=False)


def preferred_side(choice: Choice, rerun_first: bool) -> str:
    """Map the judge's '1'/'2' back to 'original' / 'rerun' / 'tie' (or 'unreadable')."""
    if not choice.readable:
        return UNREADABLE
    if choice.preferred == "tie":
        return "tie"
    first_is_rerun = rerun_first
    picked_first = choice.preferred == "1"
    return "rerun" if picked_first == first_is_rerun else "original"


def pair_outcome(event_id: str, sides: list[str]) -> PairOutcome:
    """Combine the two order-swapped judgements of one pair."""
    if UNREADABLE in sides:
        return PairOutcome(event_id, 0, UNREADABLE)
    score = sum(1 if s == "rerun" else -1 if s == "original" else 0 for s in sides)
    return PairOutcome(event_id, score, "win" if score > 0 else "loss" if score < 0 else "tie")


def summarize(outcomes: list[PairOutcome], confidence: float = 0.95) -> JudgeSummary:
    from scipy.stats import binomtest
    from statsmodels.stats.proportion import proportion_confint

    unreadable = sum(1 for o in outcomes if o.outcome == UNREADABLE)
    n = len(outcomes) - unreadable
    counts = {k: sum(1 for o in outcomes if o.outcome == k) for k in ("win", "tie", "loss")}

    def share(k: str) -> Share:
        c = counts[k]
        if n == 0:
            return Share(0, 0.0, 0.0, 1.0)
        lo, hi = proportion_confint(c, n, alpha=1 - confidence, method="wilson")
        return Share(c, c / n, float(lo), float(hi))

    decisive = counts["win"] + counts["loss"]
    rate = low = high = p = None
    if decisive:
        test = binomtest(counts["win"], decisive, 0.5)
        ci = test.proportion_ci(confidence_level=confidence, method="wilson")
        rate, low, high, p = counts["win"] / decisive, ci.low, ci.high, test.pvalue
    return JudgeSummary(n, share("win"), share("tie"), share("loss"), rate, low, high, p,
                        confidence, unreadable)
