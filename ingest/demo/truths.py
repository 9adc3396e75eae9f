"""The sidecar `<out>.truths.json`: what the demo planted, when, how big, and what was drawn.

Tests and benches of every view assert against this file instead of hard-coding dates, so it
states each planted change with exact timestamps, ISO weeks, models, prompt versions and tags,
the planted effect ("expected") and the rates actually present in the file ("observed").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np

from ingest.demo import plan as P
from ingest.demo.lines import LinesResult
from ingest.demo.review import review_truths
from ingest.demo.sample import GROUP_INDEX, GROUP_NAMES, MS_WEEK, Sample
from ingest.demo.text import ALL_GROUPS, BASE_GROUPS


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _rate(up: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    n = int(mask.sum())
    k = int((up & mask).sum())
    return {"n": n, "up": k, "rate": round(k / n, 4) if n else None}


def _mean(x: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    n = int(mask.sum())
    return {"n": n, "mean": round(float(x[mask].mean()), 4) if n else None}


def build_truths(s: Sample, lines: LinesResult, end_date: str) -> dict[str, Any]:
    cal = s.cal

    def rel(dt: datetime) -> int:
        return int(dt.timestamp() * 1000) - s.start_ms

    week = s.ts // MS_WEEK + 1
    votes, judged = lines.vote_kept, lines.judge_kept
    up = s.good  # a vote's value is the latent good/bad of the answer
    ok = ~s.err

    def week_info(w: int) -> dict[str, Any]:
        return {
            "week": w,
            "iso_week": cal.iso_week(w),
            "start": _iso(cal.week_start(w)),
            "end": _iso(cal.week_start(w + 1)),
        }

    # (a) model switch
    sw = rel(cal.model_switch)
    sw_week = cal.week_of(cal.model_switch)
    billing = s.group == GROUP_INDEX[P.SWITCH_GROUP]
    before, after = s.ts < sw, s.ts >= sw
    pc = rel(cal.prompt_change)
    unaffected = {
        g.name: s.group == GROUP_INDEX[g.name]
        for g in BASE_GROUPS
        if g.name not in (P.SWITCH_GROUP, "smalltalk")
    }
    q_before = P.BASE_QUALITY[P.SWITCH_GROUP]
    model_switch = {
        "what": "model switch lowers quality on one intent group only",
        "ts": _iso(cal.model_switch),
        **{k: v for k, v in week_info(sw_week).items() if k in ("week", "iso_week")},
        "provider": P.PROVIDER,
        "from_model": P.MODEL_OLD[1],
        "from_model_requested": P.MODEL_OLD[0],
        "to_model": P.MODEL_NEW[1],
        "to_model_requested": P.MODEL_NEW[0],
        "affected_tag": f"topic:{P.SWITCH_GROUP}",
        "unaffected_tags": [
            f"topic:{g.name}" for g in BASE_GROUPS if g.name not in (P.SWITCH_GROUP, "smalltalk")
        ],
        "not_switched_tags": ["topic:smalltalk"],
        "expected": {
            "thumbs_up_before": q_before,
            "thumbs_up_after": P.SWITCH_QUALITY_AFTER,
            "judge_before": round(P.judge_mean(q_before), 4),
            "judge_after": round(P.judge_mean(P.SWITCH_QUALITY_AFTER), 4),
        },
        "observed": {
            "thumbs_before": _rate(up, votes & billing & before),
            "thumbs_after": _rate(up, votes & billing & after),
            "thumbs_switch_week": _rate(up, votes & billing & (week == sw_week)),
            "thumbs_baseline_weeks": _rate(up, votes & billing & (week < sw_week)),
            "helpfulness_before": _mean(s.helpfulness, judged & billing & before),
            "helpfulness_after": _mean(s.helpfulness, judged & billing & after),
            # Unaffected groups, compared within the same prompt version (v4): the change
            # planted in week 4 must not leak into this comparison.
            "unaffected_by_group": {
                name: {
                    "thumbs_before": _rate(up, votes & grp & (s.ts >= pc) & before),
                    "thumbs_after": _rate(up, votes & grp & after),
                }
                for name, grp in unaffected.items()
            },
        },
    }

    # (b) prompt change
    trouble = s.group == GROUP_INDEX[P.PROMPT_GROUP]
    q_old = P.BASE_QUALITY[P.PROMPT_GROUP]
    prompt_change = {
        "what": "prompt version change improves one intent group only",
        "ts": _iso(cal.prompt_change),
        "week": cal.week_of(cal.prompt_change),
        "iso_week": cal.iso_week(cal.week_of(cal.prompt_change)),
        "prompt_name": P.PROMPT_NAME,
        "from_version": P.PROMPT_OLD,
        "to_version": P.PROMPT_NEW,
        "affected_tag": f"topic:{P.PROMPT_GROUP}",
        "expected": {
            "thumbs_up_before": q_old,
            "thumbs_up_after": P.PROMPT_QUALITY_AFTER,
            "judge_before": round(P.judge_mean(q_old), 4),
            "judge_after": round(P.judge_mean(P.PROMPT_QUALITY_AFTER), 4),
        },
        "observed": {
            "thumbs_before": _rate(up, votes & trouble & (s.ts < pc)),
            "thumbs_after": _rate(up, votes & trouble & (s.ts >= pc)),
            "helpfulness_before": _mean(s.helpfulness, judged & trouble & (s.ts < pc)),
            "helpfulness_after": _mean(s.helpfulness, judged & trouble & (s.ts >= pc)),
            "unaffected_by_group": {
                name: {
                    "thumbs_before": _rate(up, votes & grp & (s.ts < pc)),
                    "thumbs_after": _rate(up, votes & grp & (s.ts >= pc) & (s.ts < sw)),
                }
                for name, grp in unaffected.items()
                if name != P.PROMPT_GROUP
            },
        },
    }

    # (c) new topic
    guard = s.group == GROUP_INDEX[P.NEW_TOPIC_GROUP]
    launch_week = cal.week_of(cal.launch)
    weeks = range(1, cal.weeks + 1)
    per_week = np.bincount(week, minlength=cal.weeks + 2)
    guard_week = np.bincount(week[guard], minlength=cal.weeks + 2)
    guard_group = ALL_GROUPS[GROUP_INDEX[P.NEW_TOPIC_GROUP]]
    new_topic = {
        "what": "new topic (Orbit Guard launch) appears and grows",
        "ts": _iso(cal.launch),
        "week": launch_week,
        "iso_week": cal.iso_week(launch_week),
        "tag": f"topic:{P.NEW_TOPIC_GROUP}",
        "intents": [it.name for it in guard_group.intents],
        "keywords": ["Guard", "siren", "arm", "motion zone", "keypad", "monitoring"],
        "expected_share_by_week": {
            str(w): round(P.new_topic_share(w - launch_week), 4) for w in weeks if w >= launch_week
        },
        "observed": {
            "first_event_ts": _iso(cal.start + timedelta(milliseconds=int(s.ts[guard].min())))
            if guard.any()
            else None,
            "events_by_week": {str(w): int(guard_week[w]) for w in weeks},
            "share_by_week": {
                str(w): round(guard_week[w] / per_week[w], 4) if per_week[w] else None
                for w in weeks
            },
        },
    }

    # (d) error spike
    spike_week = cal.week_of(cal.spike_start)
    err_week = np.bincount(week[s.err], minlength=cal.weeks + 2)
    in_spike = (s.ts >= rel(cal.spike_start)) & (s.ts < rel(cal.spike_end))
    error_spike = {
        "what": "provider degradation: timeouts and rate limits for 30 hours",
        "start": _iso(cal.spike_start),
        "end": _iso(cal.spike_end),
        "week": spike_week,
        "iso_week": cal.iso_week(spike_week),
        "error_types": list(P.SPIKE_ERROR_MIX),
        "expected": {
            "error_rate_in_window": P.SPIKE_ERROR_RATE,
            "baseline_error_rate": P.BASE_ERROR_RATE,
        },
        "observed": {
            "error_rate_in_window": round(float(s.err[in_spike].mean()), 4)
            if in_spike.any()
            else None,
            "error_rate_by_week": {
                str(w): round(err_week[w] / per_week[w], 4) if per_week[w] else None for w in weeks
            },
        },
    }

    review = review_truths(s, lines.review, judged, lines.labels_kept, lines.review_items)

    return {
        "generator": "reviewdeck demo-data",
        "format": "native",
        "seed": s.seed,
        "events": s.n,
        "weeks": cal.weeks,
        "end_date": end_date,
        "start": _iso(cal.start),
        "end": _iso(cal.end),
        "calendar": [week_info(w) for w in weeks],
        "models": [
            {
                "model": P.MODEL_OLD[1],
                "model_requested": P.MODEL_OLD[0],
                "provider": P.PROVIDER,
                "from": _iso(cal.start),
                "to": _iso(cal.model_switch),
                "serves": "all but smalltalk",
            },
            {
                "model": P.MODEL_NEW[1],
                "model_requested": P.MODEL_NEW[0],
                "provider": P.PROVIDER,
                "from": _iso(cal.model_switch),
                "to": _iso(cal.end),
                "serves": "all but smalltalk",
            },
            {
                "model": P.MODEL_SMALL[1],
                "model_requested": P.MODEL_SMALL[0],
                "provider": P.PROVIDER,
                "from": _iso(cal.start),
                "to": _iso(cal.end),
                "serves": "smalltalk",
            },
        ],
        "judge_model": P.JUDGE_MODEL,
        "prompts": [
            {
                "prompt_name": P.PROMPT_NAME,
                "prompt_version": P.PROMPT_OLD,
                "from": _iso(cal.start),
                "to": _iso(cal.prompt_change),
            },
            {
                "prompt_name": P.PROMPT_NAME,
                "prompt_version": P.PROMPT_NEW,
                "from": _iso(cal.prompt_change),
                "to": _iso(cal.end),
            },
            {
                "prompt_name": "orbit-smalltalk",
                "prompt_version": "v1",
                "from": _iso(cal.start),
                "to": _iso(cal.end),
            },
        ],
        "groups": {
            g.name: {
                "tag": f"topic:{g.name}",
                "intents": [it.name for it in g.intents],
                "base_thumbs_up": P.BASE_QUALITY[g.name],
                "base_share": g.share,
            }
            for g in ALL_GROUPS
        },
        "rates": {
            "vote_rate": P.VOTE_RATE,
            "judge_rate": P.JUDGE_RATE,
            "base_error_rate": P.BASE_ERROR_RATE,
            "non_english_rate": P.NON_ENGLISH_RATE,
            "typo_rate": P.TYPO_RATE,
            "copy_rate_bad_good": list(P.COPY_RATE),
            "regen_rate_bad_good": list(P.REGEN_RATE),
            "edit_rate_bad_good": list(P.EDIT_RATE),
            "correction_rate_bad_good": list(P.CORRECTION_RATE),
            "judge_mean_bad_good": list(P.JUDGE_MEAN),
        },
        "planted": {
            "model_switch": model_switch,
            "prompt_change": prompt_change,
            "new_topic": new_topic,
            "error_spike": error_spike,
        },
        # Not under "planted": those are changes in time (each has its week); this holds
        # throughout the data.
        "judge_bias": review["judge_bias"],
        "review": review["review"],
        "observed": {
            "events_by_week": {str(w): int(per_week[w]) for w in weeks},
            "error_rate": round(float(s.err.mean()), 4),
            "vote_coverage": round(float(votes.sum() / max(1, ok.sum())), 4),
            "judge_coverage": round(float(judged.sum() / max(1, ok.sum())), 4),
            "thumbs_up_by_group": {
                name: _rate(up, votes & (s.group == i)) for i, name in enumerate(GROUP_NAMES)
            },
            "weekly_by_group": {
                name: {
                    str(w): {
                        "events_ok": int((ok & grp & (week == w)).sum()),
                        "votes": _rate(up, votes & grp & (week == w)),
                        "negative": int((lines.negative_kept & grp & (week == w)).sum()),
                    }
                    for w in weeks
                }
                for name, grp in ((n, s.group == i) for i, n in enumerate(GROUP_NAMES))
            },
            "feedback_embedded": lines.embedded,
            "feedback_late": lines.late,
        },
    }
