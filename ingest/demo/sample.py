"""Realistic demo data: a native JSONL log of a support assistant, with planted truths.

Every view needs data that shows it working, and tests need to know what the data contains. So
the generator plants four changes (ingest/demo/plan.py) on top of base rates that never move,
and writes what it planted, with the rates it actually drew, to a sidecar JSON next to the log.

Every random choice is drawn here, in bulk, with numpy from one seeded generator, in a fixed
order: the same seed gives the same bytes. ingest/demo/lines.py then only assembles texts and
JSON lines from these columns, and ingest/demo/truths.py summarises them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from ingest.demo import plan as P
from ingest.demo.text import ALL_GROUPS, ERRORS
from ingest.errors import ConfigError

MS_DAY = 86_400_000
MS_WEEK = 7 * MS_DAY
GROUP_NAMES: list[str] = [g.name for g in ALL_GROUPS]
GROUP_INDEX: dict[str, int] = {name: i for i, name in enumerate(GROUP_NAMES)}
ERROR_TYPES: list[str] = list(ERRORS)
# Traffic by hour of day (UTC): quiet nights, busy afternoons and evenings.
HOURLY = np.array(
    [2, 1.5, 1, 1, 1, 1.5, 3, 5, 7, 8, 8.5, 8.5, 8.5, 8.5, 9, 9, 9, 9.5, 10, 10, 9, 7, 5, 3]
)


@dataclass(frozen=True)
class Sample:
    """Every random draw of one demo run, one numpy array per column (events in session order)."""

    cal: P.Calendar
    seed: int
    start_ms: int  # epoch ms of cal.start; every *_ms column is relative to it
    n: int
    ts: np.ndarray  # event start, ms
    sess: np.ndarray
    turn: np.ndarray  # 0 for the first turn of a session
    last: np.ndarray  # the last turn of its session
    group: np.ndarray  # index into ALL_GROUPS
    intent: np.ndarray  # index into the group's intents
    foreign: np.ndarray
    user: np.ndarray
    new_model: np.ndarray
    new_prompt: np.ndarray
    quality: np.ndarray  # planted probability of a good answer
    good: np.ndarray
    err: np.ndarray
    err_type: np.ndarray  # index into ERROR_TYPES
    text_bits: np.ndarray  # one uint63 per event: slot values (5 bits each)
    style_bits: np.ndarray  # one uint63 per event: template, opener, closer, affixes, typo
    typo: np.ndarray
    ttft_noise: np.ndarray
    tok_noise: np.ndarray
    err_latency: np.ndarray
    vote: np.ndarray
    copied: np.ndarray
    regen: np.ndarray
    edited: np.ndarray
    edit_value: np.ndarray
    correction: np.ndarray
    reviewer: np.ndarray  # correction by a reviewer (late line) rather than the user
    correction_value: np.ndarray
    judged: np.ndarray
    judge_late: np.ndarray
    helpfulness: np.ndarray
    correctness: np.ndarray
    check_pass: np.ndarray
    delay_ms: np.ndarray  # (n, 6): vote, copy, regen, edit, user correction, reviewer correction
    judge_ms: np.ndarray  # absolute (relative) time of the nightly judge run


def _split(u: np.ndarray, good: np.ndarray, rates: tuple[float, float]) -> np.ndarray:
    """u < rate, with one rate for bad answers and another for good ones."""
    return u < np.where(good, rates[1], rates[0])


def _choose_errors(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    keys = list(mix)
    p = np.array([mix[k] for k in keys])
    codes = np.array([ERROR_TYPES.index(k) for k in keys])
    return codes[rng.choice(len(keys), n, p=p / p.sum())]


def sample(events: int, weeks: int, seed: int, end_date: date | None) -> Sample:
    """Draw every random column of a demo run."""
    if events < 1:
        raise ConfigError(f"--events must be at least 1, got {events}")
    cal = P.calendar(weeks, end_date)
    rng = np.random.default_rng(seed)
    start_ms = int(cal.start.timestamp() * 1000)

    def rel(dt) -> int:
        return int(dt.timestamp() * 1000) - start_ms

    # Sessions of 1-3 turns; start times follow weekday and hour-of-day volume.
    turns = rng.choice(3, events, p=P.TURNS_P) + 1
    cs = np.cumsum(turns)
    n_sess = int(np.searchsorted(cs, events) + 1)
    turns = turns[:n_sess].copy()
    turns[-1] -= int(cs[n_sess - 1]) - events
    cs = np.cumsum(turns)
    n_days = (cal.end - cal.start).days
    day_w = np.array([P.WEEKDAY_VOLUME[d % 7] for d in range(n_days)])
    day = rng.choice(n_days, n_sess, p=day_w / day_w.sum())
    hour = rng.choice(24, n_sess, p=HOURLY / HOURLY.sum())
    # Sessions start before 23:50 so their later turns stay inside the last day.
    sec = np.minimum(hour * 3600 + rng.integers(0, 3600, n_sess), 86_400 - 601)
    sess_ms = day.astype(np.int64) * MS_DAY + sec * 1000 + rng.integers(0, 1000, n_sess)

    # Group and intent per session; the new topic takes a growing share after its launch.
    launch = rel(cal.launch)
    share = np.where(
        sess_ms >= launch,
        np.minimum(
            P.NEW_TOPIC_SHARE_MAX,
            P.NEW_TOPIC_SHARE_STEP * (sess_ms // MS_WEEK - launch // MS_WEEK + 1),
        ),
        0.0,
    )
    base_p = np.array([g.share for g in ALL_GROUPS])
    group = rng.choice(len(ALL_GROUPS), n_sess, p=base_p / base_p.sum())
    group = np.where(rng.random(n_sess) < share, GROUP_INDEX[P.NEW_TOPIC_GROUP], group)
    u_intent = rng.random(n_sess)
    intent = np.zeros(n_sess, dtype=np.int64)
    for gi, g in enumerate(ALL_GROUPS):
        w = np.cumsum([it.weight for it in g.intents])
        mask = group == gi
        intent[mask] = np.searchsorted(w / w[-1], u_intent[mask], side="right")
    # Only single-turn sessions are in another language; ~63% of events are single-turn.
    foreign = (turns == 1) & (rng.random(n_sess) < P.NON_ENGLISH_RATE / 0.63)
    n_users = max(50, events // 6)
    user = (n_users * rng.random(n_sess) ** 1.6).astype(np.int64)

    # Events, in session order (the turns of a session are adjacent).
    sess = np.repeat(np.arange(n_sess), turns)
    first = np.repeat(cs - turns, turns)
    turn = np.arange(events) - first
    gap = np.where(turn > 0, rng.integers(40_000, 300_000, events), 0)
    cum = np.cumsum(gap)
    ts = np.repeat(sess_ms, turns) + cum - cum[first]
    g_ev = group[sess]
    new_model = (ts >= rel(cal.model_switch)) & (g_ev != GROUP_INDEX["smalltalk"])
    new_prompt = ts >= rel(cal.prompt_change)
    q_by = {
        (m, p): np.array([P.quality(name, m, p) for name in GROUP_NAMES])[g_ev]
        for m in (False, True)
        for p in (False, True)
    }
    quality = np.where(
        new_model,
        np.where(new_prompt, q_by[True, True], q_by[True, False]),
        np.where(new_prompt, q_by[False, True], q_by[False, False]),
    )
    good = rng.random(events) < quality
    in_spike = (ts >= rel(cal.spike_start)) & (ts < rel(cal.spike_end))
    err = rng.random(events) < np.where(in_spike, P.SPIKE_ERROR_RATE, P.BASE_ERROR_RATE)
    err_type = np.where(
        in_spike,
        _choose_errors(rng, P.SPIKE_ERROR_MIX, events),
        _choose_errors(rng, P.BASE_ERROR_MIX, events),
    )
    ok = ~err

    text_bits = rng.integers(0, 2**63, events, dtype=np.int64)
    style_bits = rng.integers(0, 2**63, events, dtype=np.int64)
    typo = rng.random(events) < P.TYPO_RATE
    ttft_noise = rng.lognormal(0.0, 0.35, events)
    tok_noise = rng.lognormal(0.0, 0.20, events) * np.where(
        rng.random(events) < 0.02, rng.uniform(2, 5, events), 1.0
    )
    err_latency = rng.uniform(0.0, 1.0, events)

    # Feedback: only answered (ok) events get any.
    vote = ok & (rng.random(events) < P.VOTE_RATE)
    copied = ok & _split(rng.random(events), good, P.COPY_RATE)
    regen = ok & _split(rng.random(events), good, P.REGEN_RATE)
    edited = ok & _split(rng.random(events), good, P.EDIT_RATE)
    heavy = ~good & (rng.random(events) < P.HEAVY_EDIT_SHARE_BAD)
    edit_value = np.where(
        heavy,
        rng.uniform(0.5, 0.95, events),
        np.where(good, rng.uniform(0.03, 0.35, events), rng.uniform(0.1, 0.45, events)),
    )
    correction = ok & _split(rng.random(events), good, P.CORRECTION_RATE)
    reviewer = rng.random(events) < P.REVIEWER_SHARE
    correction_value = rng.uniform(0.2, 0.8, events)
    judged = ok & (rng.random(events) < P.JUDGE_RATE)
    judge_late = rng.random(events) < P.JUDGE_LATE_SHARE
    helpfulness = np.where(good, rng.beta(8, 1.6, events), rng.beta(2, 4, events))
    correctness = np.where(good, rng.beta(8, 1.6, events), rng.beta(2, 4, events))
    check_pass = ~_split(rng.random(events), good, P.CODE_CHECK_FAIL)
    delay_ms = np.stack(
        [
            rng.lognormal(np.log(90_000), 0.8, events),  # vote
            rng.lognormal(np.log(40_000), 0.7, events),  # copy
            rng.lognormal(np.log(15_000), 0.5, events),  # regenerate
            rng.lognormal(np.log(60_000), 0.6, events),  # edit
            rng.lognormal(np.log(300_000), 0.5, events),  # user correction
            rng.uniform(1, 5, events) * MS_DAY,  # reviewer correction
        ],
        axis=1,
    ).astype(np.int64)
    # The judge runs nightly at 02:00 UTC on the previous day's sample.
    judge_ms = (ts // MS_DAY + 1) * MS_DAY + 2 * 3_600_000 + rng.integers(0, 7_200_000, events)

    return Sample(
        cal=cal,
        seed=seed,
        start_ms=start_ms,
        n=events,
        ts=ts,
        sess=sess,
        turn=turn,
        last=np.append(sess[1:] != sess[:-1], True),
        group=g_ev,
        intent=intent[sess],
        foreign=foreign[sess],
        user=user[sess],
        new_model=new_model,
        new_prompt=new_prompt,
        quality=quality,
        good=good,
        err=err,
        err_type=err_type,
        text_bits=text_bits,
        style_bits=style_bits,
        typo=typo,
        ttft_noise=ttft_noise,
        tok_noise=tok_noise,
        err_latency=err_latency,
        vote=vote,
        copied=copied,
        regen=regen,
        edited=edited,
        edit_value=edit_value,
        correction=correction,
        reviewer=reviewer,
        correction_value=correction_value,
        judged=judged,
        judge_late=judge_late,
        helpfulness=helpfulness,
        correctness=correctness,
        check_pass=check_pass,
        delay_ms=delay_ms,
        judge_ms=judge_ms,
    )
