"""The demo's calendar and its planted truths: when each change happens and how big it is.

Kept apart from the generator so tests, benches and docs read one definition of what was
planted. Week numbers are for the default 12 weeks and scale with `--weeks`; every date is
derived from the end date, so a fixed `end_date` gives a fixed calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ingest.errors import ConfigError

MIN_WEEKS = 4
MAX_WEEKS = 104

# Baseline thumbs-up probability per intent group (the latent "answer was good" rate).
BASE_QUALITY: dict[str, float] = {
    "billing": 0.80,
    "plans": 0.78,
    "setup": 0.76,
    "troubleshooting": 0.60,
    "integrations": 0.72,
    "account": 0.82,
    "orders": 0.79,
    "smalltalk": 0.86,
    "guard": 0.70,
}

MODEL_OLD = ("gpt-4o", "gpt-4o-2024-08-06")  # (requested, returned)
MODEL_NEW = ("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14")
MODEL_SMALL = ("gpt-4o-mini", "gpt-4o-mini-2024-07-18")  # the router sends small talk here
JUDGE_MODEL = "gpt-4.1-2025-04-14"
PROVIDER = "openai"

# USD per 1M tokens (input, output); same figures as ingest/prices.csv.
PRICES: dict[str, tuple[float, float]] = {
    MODEL_OLD[1]: (2.50, 10.00),
    MODEL_NEW[1]: (0.40, 1.60),
    MODEL_SMALL[1]: (0.15, 0.60),
}
# Latency model per returned model: (median time to first token ms, median ms per output token).
LATENCY: dict[str, tuple[float, float]] = {
    MODEL_OLD[1]: (520.0, 14.0),
    MODEL_NEW[1]: (380.0, 8.0),
    MODEL_SMALL[1]: (300.0, 6.5),
}

# (a) model switch: the billing group loses quality under the new model, nothing else moves.
SWITCH_GROUP = "billing"
SWITCH_QUALITY_AFTER = 0.52
# (b) prompt change orbit-support v3 -> v4 improves troubleshooting, nothing else moves.
PROMPT_NAME = "orbit-support"
PROMPT_OLD, PROMPT_NEW = "v3", "v4"
PROMPT_GROUP = "troubleshooting"
PROMPT_QUALITY_AFTER = 0.82
# (c) new topic: Orbit Guard launch; share of traffic per week since launch (1st, 2nd, ...).
NEW_TOPIC_GROUP = "guard"
NEW_TOPIC_SHARE_STEP = 0.04
NEW_TOPIC_SHARE_MAX = 0.20
# (d) error spike: provider degradation for 30 hours.
BASE_ERROR_RATE = 0.015
SPIKE_ERROR_RATE = 0.20
BASE_ERROR_MIX = {
    "timeout": 0.30,
    "rate_limit": 0.20,
    "server_error": 0.30,
    "context_length_exceeded": 0.07,
    "content_filter": 0.13,
}
SPIKE_ERROR_MIX = {"timeout": 0.55, "rate_limit": 0.35, "server_error": 0.10}

# Feedback rates (on ok events).
VOTE_RATE = 0.09
JUDGE_RATE = 0.10
JUDGE_LATE_SHARE = 0.30  # judged events whose scores arrive as separate, late lines
COPY_RATE = (0.04, 0.20)  # (bad answer, good answer)
REGEN_RATE = (0.18, 0.02)
EDIT_RATE = (0.08, 0.025)
HEAVY_EDIT_SHARE_BAD = 0.70
CORRECTION_RATE = (0.04, 0.002)
REVIEWER_SHARE = 0.60  # corrections by reviewers (late lines); the rest by users (embedded)
JUDGE_MEAN = (0.33, 0.83)  # mean judge score of a (bad, good) answer: Beta(2,4) and Beta(8,1.6)
CODE_CHECK_FAIL = (0.08, 0.02)
# (e) judge bias: a pass/fail judge, accurate in general but lenient on one model, and a
# ready-made review of a random sample of the judged events by simulated reviewers. Drawn from
# a stream of its own (ingest/demo/review.py), so every draw above is unchanged.
VERDICT_NAME = "resolves_issue"  # the rubric: does the answer resolve the customer's issue?
VERDICT_VERSION = "1"
VERDICT_FALSE_FAIL = 0.06  # good answers the judge fails
VERDICT_CATCH = 0.88  # bad answers the judge fails ...
VERDICT_LENIENT_MODEL = MODEL_NEW[1]
VERDICT_CATCH_LENIENT = 0.35  # ... except on this model, where it passes most of them
VERDICT_COST_USD = (0.0007, 0.0016)  # per judge call
REVIEW_RATE = 0.12  # of judged events, each drawn independently: a random sample
REVIEW_DOUBLE = 0.20  # of reviewed items, labelled by a second reviewer (inter-rater kappa)
REVIEW_ACCURACY = 0.95  # a simulated reviewer's label matches the truth
REVIEW_DELAY_DAYS = (1.0, 6.0)  # after the judge run
REVIEW_QUEUE_ID = 1
REVIEW_QUEUE_NAME = "Demo weekly sample (simulated reviewers)"
FAILURE_TAGS = ("hallucination", "incomplete", "wrong policy", "ignored context", "off-topic",
                "formatting")  # fmt: skip
SEED_SALT_REVIEW = 14  # the review stream is default_rng([seed, 14])
NON_ENGLISH_RATE = 0.04
TYPO_RATE = 0.08
TURNS_P = (0.80, 0.14, 0.06)  # sessions of 1, 2, 3 turns
WEEKDAY_VOLUME = (1.0, 1.02, 1.0, 0.98, 0.95, 0.70, 0.65)  # Monday..Sunday


@dataclass(frozen=True)
class Calendar:
    weeks: int
    start: datetime  # Monday 00:00 UTC of week 1
    end: datetime  # exclusive: midnight after end_date
    prompt_change: datetime  # (b)
    model_switch: datetime  # (a)
    launch: datetime  # (c)
    spike_start: datetime  # (d)
    spike_end: datetime

    def week_of(self, ts: datetime) -> int:
        return (ts - self.start).days // 7 + 1

    def week_start(self, week: int) -> datetime:
        return self.start + timedelta(weeks=week - 1)

    def iso_week(self, week: int) -> str:
        y, w, _ = self.week_start(week).isocalendar()
        return f"{y}-W{w:02d}"


def scaled_week(week_at_12: int, weeks: int) -> int:
    """Place a change planted at `week_at_12` of 12 proportionally in a run of `weeks`."""
    return max(2, min(weeks - 1, round(week_at_12 * weeks / 12)))


def calendar(weeks: int, end_date: date | None) -> Calendar:
    if not MIN_WEEKS <= weeks <= MAX_WEEKS:
        raise ConfigError(f"--weeks must be between {MIN_WEEKS} and {MAX_WEEKS}, got {weeks}")
    end_date = end_date or datetime.now(UTC).date()
    monday = end_date - timedelta(days=end_date.weekday())
    start = datetime.combine(monday - timedelta(weeks=weeks - 1), time(0), UTC)
    end = datetime.combine(end_date + timedelta(days=1), time(0), UTC)

    def at(week_at_12: int, weekday: int, hour: int) -> datetime:
        week = scaled_week(week_at_12, weeks)
        return start + timedelta(weeks=week - 1, days=weekday, hours=hour)

    spike_start = at(10, 2, 13)  # Wednesday 13:00
    return Calendar(
        weeks=weeks,
        start=start,
        end=end,
        prompt_change=at(4, 0, 10),  # Monday 10:00
        model_switch=at(7, 0, 9),  # Monday 09:00
        launch=at(9, 1, 8),  # Tuesday 08:00
        spike_start=spike_start,
        spike_end=spike_start + timedelta(hours=30),
    )


def new_topic_share(weeks_since_launch: int) -> float:
    return min(NEW_TOPIC_SHARE_MAX, NEW_TOPIC_SHARE_STEP * (weeks_since_launch + 1))


def quality(group: str, new_model: bool, new_prompt: bool) -> float:
    """Planted probability that an answer is good (= thumbs up when voted)."""
    if group == SWITCH_GROUP and new_model:
        return SWITCH_QUALITY_AFTER
    if group == PROMPT_GROUP and new_prompt:
        return PROMPT_QUALITY_AFTER
    return BASE_QUALITY[group]


def judge_mean(q: float) -> float:
    """Expected judge score for a planted quality q."""
    return q * JUDGE_MEAN[1] + (1 - q) * JUDGE_MEAN[0]
