"""What an evaluator returned, as one normal form, and how it becomes a feedback row's values.

A code evaluator may return (docs/evaluators.md):
- `True` / `False` -> pass / fail (value 1.0 / 0.0, label 'pass' / 'fail');
- a number in 0..1 -> a score (value as given, label NULL);
- a string -> a label (kind 'label', value NULL);
- `None` -> the check does not apply to this event (recorded as 'skipped', no feedback row);
- any of these with a reason: a tuple `(result, reason)` or a dict
  `{"pass" | "score" | "label": ..., "reason": "..."}`.
Anything else is an error, recorded for that event with its message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


class BadResult(ValueError):
    """An evaluator returned something that is not a pass/fail, score or label."""


@dataclass(frozen=True)
class Verdict:
    kind: str  # 'score' | 'label'
    value: float | None
    label: str | None
    reason: str | None = None


def passed(ok: bool, reason: str | None = None) -> Verdict:
    return Verdict("score", 1.0 if ok else 0.0, "pass" if ok else "fail", reason)


def score_1_5(score: int, reason: str | None = None) -> Verdict:
    return Verdict("score", (score - 1) / 4, str(score), reason)


def _one(result: Any, reason: str | None) -> Verdict | None:
    if result is None:
        return None
    if isinstance(result, bool):
        return passed(result, reason)
    if isinstance(result, int | float):
        value = float(result)
        if math.isnan(value) or not 0.0 <= value <= 1.0:
            raise BadResult(f"a score must be a number in 0..1, got {result!r}")
        return Verdict("score", value, None, reason)
    if isinstance(result, str):
        if not result.strip():
            raise BadResult("a label must be a non-empty string")
        return Verdict("label", None, result.strip()[:200], reason)
    raise BadResult(f"cannot use a {type(result).__name__} as a result: return True/False, "
                    "a score in 0..1, a label string or None, optionally with a reason")


def normalise(returned: Any) -> Verdict | None:
    """A code evaluator's return value in normal form (see the module docstring)."""
    if isinstance(returned, Verdict):
        return returned
    reason = None
    if isinstance(returned, tuple):
        if len(returned) != 2:
            raise BadResult(f"a tuple result must be (result, reason), got {len(returned)} items")
        returned, reason = returned
    elif isinstance(returned, dict):
        keys = [k for k in ("pass", "score", "label") if k in returned]
        if len(keys) != 1:
            raise BadResult("a dict result needs exactly one of 'pass', 'score', 'label' "
                            f"(got keys {sorted(returned)})")
        reason = returned.get("reason")
        returned = returned[keys[0]]
        if keys[0] == "pass" and not isinstance(returned, bool):
            raise BadResult(f"'pass' must be true or false, got {returned!r}")
    if reason is not None and not isinstance(reason, str):
        reason = str(reason)
    return _one(returned, reason[:2000] if reason else None)
