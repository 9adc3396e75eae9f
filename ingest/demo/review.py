"""The demo's planted judge bias and its ready-made human review, drawn apart from the rest.

A pass/fail judge (`plan.VERDICT_NAME`) scores every judged event: it fails most bad answers and
few good ones, except on one model (`plan.VERDICT_LENIENT_MODEL`), whose bad answers it mostly
passes. Simulated reviewers (ingest/demo/feedback.py REVIEWERS) then label a random sample of
the judged events on the same rubric, close to the truth, some items twice, with failure tags.
So the judge's raw fail rate on the lenient model is clearly below the truth, and a
judge-corrected rate (the judge on every judged event, corrected by the humans' labels on the
random sample) moves it back up.

Every draw here comes from a generator of its own, `default_rng([seed, SEED_SALT_REVIEW])`,
after the whole of ingest/demo/sample.py has drawn: adding this changed none of the demo's
other random columns. `review_truths` summarises what was drawn for the sidecar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.demo import plan as P
from ingest.demo.sample import GROUP_INDEX, MS_DAY, Sample

MODELS = (P.MODEL_OLD, P.MODEL_NEW, P.MODEL_SMALL)  # index 0, 1, 2 in the model column
LENIENT = [m[1] for m in MODELS].index(P.VERDICT_LENIENT_MODEL)


def model_column(s: Sample) -> np.ndarray:
    """Index into MODELS of the model that answered each event."""
    return np.where(s.group == GROUP_INDEX["smalltalk"], 2, np.where(s.new_model, 1, 0))


@dataclass(frozen=True)
class Review:
    """The judge's verdicts and the reviewers' labels, one entry (or row of two) per event."""

    model: np.ndarray  # index into MODELS
    verdict_pass: np.ndarray  # the judge's verdict (used on judged events)
    verdict_cost: np.ndarray  # USD of the judge call
    reviewed: np.ndarray  # in the review sample (a random subset of the judged events)
    double: np.ndarray  # labelled by two reviewers
    reviewer: np.ndarray  # (n, 2) indices into REVIEWERS, the two differ
    label_pass: np.ndarray  # (n, 2) each reviewer's label
    tag_bits: np.ndarray  # (n, 2) failure tags of a fail label: bits of a random number
    review_ms: np.ndarray  # (n, 2) when each label was given (relative ms)


def draw_review(s: Sample, n_reviewers: int) -> Review:
    rng = np.random.default_rng([s.seed, P.SEED_SALT_REVIEW])
    n = s.n
    model = model_column(s)
    catch = np.where(model == LENIENT, P.VERDICT_CATCH_LENIENT, P.VERDICT_CATCH)
    verdict_pass = rng.random(n) < np.where(s.good, 1 - P.VERDICT_FALSE_FAIL, 1 - catch)
    verdict_cost = np.round(rng.uniform(*P.VERDICT_COST_USD, n), 6)
    reviewed = s.judged & (rng.random(n) < P.REVIEW_RATE)
    double = reviewed & (rng.random(n) < P.REVIEW_DOUBLE)
    first = rng.integers(0, n_reviewers, n)
    second = (first + rng.integers(1, n_reviewers, n)) % n_reviewers
    correct = rng.random((n, 2)) < P.REVIEW_ACCURACY
    label_pass = correct == s.good[:, None]
    tag_bits = rng.integers(0, 2**62, (n, 2), dtype=np.int64)
    lo, hi = P.REVIEW_DELAY_DAYS
    first_ms = s.judge_ms + (rng.uniform(lo, hi, n) * MS_DAY).astype(np.int64)
    # The second label comes after the first, so a written second label implies a first.
    second_ms = first_ms + (rng.uniform(0.2, 2.0, n) * MS_DAY).astype(np.int64)
    review_ms = np.stack([first_ms, second_ms], axis=1)
    return Review(
        model=model,
        verdict_pass=verdict_pass,
        verdict_cost=verdict_cost,
        reviewed=reviewed,
        double=double,
        reviewer=np.stack([first, second], axis=1),
        label_pass=label_pass,
        tag_bits=tag_bits,
        review_ms=review_ms,
    )


def failure_tags(bits: int) -> list[str]:
    """One failure tag, or two for a quarter of the fail labels."""
    tags = P.FAILURE_TAGS
    first = tags[bits % len(tags)]
    if (bits >> 8) % 4:
        return [first]
    second = tags[(bits >> 16) % len(tags)]
    return [first] if second == first else [first, second]


def _fail_rate(fail: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    n = int(mask.sum())
    k = int((fail & mask).sum())
    return {"n": n, "fail": k, "rate": round(k / n, 4) if n else None}


def review_truths(
    s: Sample,
    rv: Review,
    verdict_kept: np.ndarray,
    labels_kept: np.ndarray,
    items: list[tuple[str, int]],
) -> dict[str, Any]:
    """The sidecar's `planted.judge_bias` and `review` sections.

    `verdict_kept`: judged events whose verdict was written; `labels_kept` (n, 2): labels
    written (a label due after the end of the data is not); `items`: the queue's
    (event_id, reviewers_needed) in position order.
    """
    bad = ~s.good
    judge_fail = ~rv.verdict_pass
    by_model: dict[str, Any] = {}
    for m, (_, returned) in enumerate(MODELS):
        here = verdict_kept & (rv.model == m)
        by_model[returned] = {
            "true_fail": _fail_rate(bad, here),
            "judge_fail": _fail_rate(judge_fail, here),
            "judge_catch": _fail_rate(judge_fail, here & bad),  # bad answers it failed
            "judge_false_fail": _fail_rate(judge_fail, here & s.good),
            "accuracy": round(float((judge_fail == bad)[here].mean()), 4) if here.any() else None,
        }
    judge_bias = {
        "what": "the pass/fail judge is too lenient on one model: it passes most of its bad "
        "answers, so its raw fail rate there is below the truth",
        "evaluator": P.VERDICT_NAME,
        "evaluator_version": P.VERDICT_VERSION,
        "judge_model": P.JUDGE_MODEL,
        "lenient_model": P.VERDICT_LENIENT_MODEL,
        "truth": "a fail is a latently bad answer (the thumbs-down of a vote)",
        "expected": {
            "catch_rate": P.VERDICT_CATCH,
            "catch_rate_lenient": P.VERDICT_CATCH_LENIENT,
            "false_fail_rate": P.VERDICT_FALSE_FAIL,
        },
        "observed": {
            "judged": int(verdict_kept.sum()),
            "accuracy": round(float((judge_fail == bad)[verdict_kept].mean()), 4)
            if verdict_kept.any()
            else None,
            "by_model": by_model,
        },
    }
    labelled = labels_kept.any(axis=1)
    human_fail = ~rv.label_pass[:, 0]  # the first reviewer's label
    review_by_model = {
        returned: {
            "labelled": int((labelled & (rv.model == m)).sum()),
            "human_fail": _fail_rate(human_fail, labelled & (rv.model == m)),
            "judge_fail_on_sample": _fail_rate(judge_fail, labelled & (rv.model == m)),
            "true_fail_on_sample": _fail_rate(bad, labelled & (rv.model == m)),
        }
        for m, (_, returned) in enumerate(MODELS)
    }
    both = labels_kept.all(axis=1)
    correct = (rv.label_pass == s.good[:, None])[labels_kept]
    review = {
        "what": "a ready-made review of a random sample of the judged events by simulated "
        "reviewers, on the judge's rubric",
        "queue": {
            "queue_id": P.REVIEW_QUEUE_ID,
            "name": P.REVIEW_QUEUE_NAME,
            "rubric": P.VERDICT_NAME,
            "rubric_kind": "pass_fail",
            "source_kind": "filter",
            "sample": f"each judged event with probability {P.REVIEW_RATE}",
            "failure_tags": list(P.FAILURE_TAGS),
            "n_items": len(items),
        },
        "expected": {
            "review_rate": P.REVIEW_RATE,
            "double_rate": P.REVIEW_DOUBLE,
            "reviewer_accuracy": P.REVIEW_ACCURACY,
        },
        "observed": {
            "items": len(items),
            "items_labelled": int(labelled.sum()),
            "items_double_labelled": int(both.sum()),
            "labels": int(labels_kept.sum()),
            "reviewer_accuracy": round(float(correct.mean()), 4) if correct.size else None,
            "by_model": review_by_model,
        },
        "items": [[eid, needed] for eid, needed in items],
    }
    return {"judge_bias": judge_bias, "review": review}
