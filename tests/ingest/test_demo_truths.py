"""The planted truths are in the demo data, and nothing else moves.

Rates are recomputed from the JSONL file itself (not from the generator's arrays) and tested
with statsmodels/scipy at a fixed seed; the sidecar is checked against the same counts.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from ingest.demo.generate import generate
from ingest.demo.sample import GROUP_INDEX, sample

END = date(2026, 11, 22)


@dataclass
class Demo:
    truths: dict
    events: list[dict]
    week: dict[str, int]  # event_id → week number 1..W
    votes: list[tuple[str, str, float]]  # (ts, topic, value) of thumbs
    judge: list[tuple[str, str, float]]  # (event ts, topic, helpfulness)
    feedback: list[tuple[dict, dict]]  # (event, feedback row), embedded and late


def _week_of(ts: str, calendar: list[dict]) -> int:
    for w in calendar:
        if w["start"][:10] <= ts[:10] < w["end"][:10]:
            return w["week"]
    raise AssertionError(f"{ts} outside the calendar")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    out = tmp_path_factory.mktemp("truths") / "demo.jsonl"
    result = generate(out, events=20_000, weeks=12, seed=0, end_date=END)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    events = [r for r in rows if r.get("type") != "feedback"]
    by_id = {e["event_id"]: e for e in events}
    cal = result.truths["calendar"]
    week = {e["event_id"]: _week_of(e["ts"], cal) for e in events}
    feedback = [(e, f) for e in events for f in e["feedback"]]
    feedback += [(by_id[r["event_id"]], r) for r in rows if r.get("type") == "feedback"]
    votes = [(e["ts"], e["tags"][0], f["value"]) for e, f in feedback if f["name"] == "thumbs"]
    judge = [(e["ts"], e["tags"][0], f["value"]) for e, f in feedback if f["name"] == "helpfulness"]
    return Demo(result.truths, events, week, votes, judge, feedback)


def _split(rows, tag: str, lo: str, mid: str, hi: str = "9999") -> tuple[np.ndarray, np.ndarray]:
    before = np.array([v for ts, t, v in rows if t == tag and lo <= ts < mid])
    after = np.array([v for ts, t, v in rows if t == tag and mid <= ts < hi])
    return before, after


def _assert_drop(before: np.ndarray, after: np.ndarray, p_before: float, p_after: float) -> None:
    """A real change of the planted size: significant, and each side's 99% CI holds its rate."""
    count = [before.sum(), after.sum()]
    _, p = proportions_ztest(count, [len(before), len(after)])
    assert p < 0.001
    for x, planted in ((before, p_before), (after, p_after)):
        lo, hi = proportion_confint(x.sum(), len(x), alpha=0.01, method="wilson")
        assert lo <= planted <= hi


def test_model_switch_lowers_billing_only(demo: Demo) -> None:
    ms = demo.truths["planted"]["model_switch"]
    pc = demo.truths["planted"]["prompt_change"]["ts"]
    switch = ms["ts"]
    assert (ms["week"], ms["affected_tag"]) == (7, "topic:billing")
    assert switch.startswith("2026-10-12T09:00")  # Monday of week 7 (2026-W42)
    for e in demo.events:
        small = e["tags"][0] == "topic:smalltalk"
        expected = "gpt-4o-mini-2024-07-18" if small else (
            ms["to_model"] if e["ts"] >= switch else ms["from_model"])  # fmt: skip
        assert e["model"] == expected
    before, after = _split(demo.votes, "topic:billing", "", switch)
    _assert_drop(
        before, after, ms["expected"]["thumbs_up_before"], ms["expected"]["thumbs_up_after"]
    )
    h_before, h_after = _split(demo.judge, "topic:billing", "", switch)
    assert stats.ttest_ind(h_before, h_after, equal_var=False).pvalue < 0.001
    planted = ms["expected"]["judge_before"] - ms["expected"]["judge_after"]
    assert h_before.mean() - h_after.mean() == pytest.approx(planted, abs=0.06)
    # Other switched groups: same rate under the new model (same prompt version on both sides).
    for tag in ms["unaffected_tags"]:
        b, a = _split(demo.votes, tag, pc, switch)
        _, p = proportions_ztest([b.sum(), a.sum()], [len(b), len(a)])
        assert p > 0.001, tag
    pooled_b = np.concatenate([_split(demo.votes, t, pc, switch)[0] for t in ms["unaffected_tags"]])
    pooled_a = np.concatenate([_split(demo.votes, t, pc, switch)[1] for t in ms["unaffected_tags"]])
    assert abs(pooled_b.mean() - pooled_a.mean()) < 0.05


def test_prompt_change_improves_troubleshooting_only(demo: Demo) -> None:
    pc = demo.truths["planted"]["prompt_change"]
    switch = demo.truths["planted"]["model_switch"]["ts"]
    assert (pc["week"], pc["affected_tag"], pc["to_version"]) == (4, "topic:troubleshooting", "v4")
    for e in demo.events:
        if e["prompt_name"] == "orbit-support":
            assert e["prompt_version"] == ("v4" if e["ts"] >= pc["ts"] else "v3")
        else:
            assert e["tags"][0] == "topic:smalltalk" and e["prompt_version"] == "v1"
    before, after = _split(demo.votes, "topic:troubleshooting", "", pc["ts"])
    planted = pc["expected"]["thumbs_up_before"], pc["expected"]["thumbs_up_after"]
    _assert_drop(1 - before, 1 - after, 1 - planted[0], 1 - planted[1])  # fewer downs
    others = [t for t in demo.truths["planted"]["model_switch"]["unaffected_tags"]
              if t != "topic:troubleshooting"]  # fmt: skip
    b = np.concatenate([_split(demo.votes, t, "", pc["ts"], switch)[0] for t in others])
    a = np.concatenate([_split(demo.votes, t, "", pc["ts"], switch)[1] for t in others])
    _, p = proportions_ztest([b.sum(), a.sum()], [len(b), len(a)])
    assert p > 0.01 and abs(b.mean() - a.mean()) < 0.06


def test_new_topic_appears_in_week_9_and_grows(demo: Demo) -> None:
    nt = demo.truths["planted"]["new_topic"]
    assert (nt["week"], nt["tag"]) == (9, "topic:guard")
    guard = [e for e in demo.events if e["tags"][0] == "topic:guard"]
    assert min(e["ts"] for e in guard) >= nt["ts"]
    before = [e["input_text"] for e in demo.events if e["ts"] < nt["ts"]]
    assert not [t for t in before if "siren" in t.lower() or "guard" in t.lower()]
    weekly = Counter(demo.week[e["event_id"]] for e in demo.events)
    weekly_guard = Counter(demo.week[e["event_id"]] for e in guard)
    share = [weekly_guard[w] / weekly[w] for w in range(9, 13)]
    assert share == sorted(share) and share[0] > 0.02
    assert share[-1] == pytest.approx(nt["expected_share_by_week"]["12"], abs=0.03)
    # The other groups keep their relative shares every week (chi-square homogeneity), counted
    # by session (the unit the topic is drawn for; turns of one session are not independent).
    table = defaultdict(Counter)
    for e in demo.events:
        first_turn = sum(m["role"] == "user" for m in e["input_messages"]) == 1
        if first_turn and e["tags"][0] != "topic:guard":
            table[demo.week[e["event_id"]]][e["tags"][0]] += 1
    topics = sorted(table[1])
    counts = np.array([[table[w][t] for t in topics] for w in range(1, 13)])
    assert stats.chi2_contingency(counts).pvalue > 0.001


def test_error_spike_week_and_stable_errors_elsewhere(demo: Demo) -> None:
    spike = demo.truths["planted"]["error_spike"]
    assert spike["week"] == 10
    total = Counter(demo.week[e["event_id"]] for e in demo.events)
    errors = Counter(demo.week[e["event_id"]] for e in demo.events if e["status"] == "error")
    rate = {w: errors[w] / total[w] for w in range(1, 13)}
    assert max(rate, key=rate.get) == 10
    assert rate[10] > 3 * np.median(list(rate.values()))
    inside = [e for e in demo.events if spike["start"] <= e["ts"] < spike["end"]]
    in_rate = np.mean([e["status"] == "error" for e in inside])
    assert in_rate == pytest.approx(0.20, abs=0.04)
    types = Counter(e["error_type"] for e in inside if e["status"] == "error")
    assert types["timeout"] + types["rate_limit"] > 0.8 * sum(types.values())
    outside = [e for e in demo.events if not spike["start"] <= e["ts"] < spike["end"]]
    by_week = defaultdict(lambda: [0, 0])
    for e in outside:
        by_week[demo.week[e["event_id"]]][e["status"] == "error"] += 1
    counts = np.array([by_week[w] for w in range(1, 13)])
    assert stats.chi2_contingency(counts).pvalue > 0.001
    assert counts[:, 1].sum() / counts.sum() == pytest.approx(0.015, abs=0.004)


def test_base_rates_are_near_targets_and_flat(demo: Demo) -> None:
    events = demo.events
    ok = [e for e in events if e["status"] == "ok"]
    voted = Counter(demo.week[e["event_id"]] for e in ok
                    if any(f["name"] == "thumbs" for f in e["feedback"]))  # fmt: skip
    ok_week = Counter(demo.week[e["event_id"]] for e in ok)
    assert sum(voted.values()) / len(ok) == pytest.approx(0.09, abs=0.01)
    table = np.array([[voted[w], ok_week[w] - voted[w]] for w in range(1, 13)])
    assert stats.chi2_contingency(table).pvalue > 0.001  # vote coverage does not drift
    # Volume: flat across the 12 (complete) weeks.
    weekly = Counter(demo.week[e["event_id"]] for e in events)
    assert stats.chisquare([weekly[w] for w in range(1, 13)]).pvalue > 0.001
    judged = {e["event_id"] for e, f in demo.feedback if f["name"] == "helpfulness"}
    assert len(judged) / len(ok) == pytest.approx(0.10, abs=0.01)
    lang = Counter(e["tags"][3] for e in events)
    assert 1 - lang["lang:en"] / len(events) == pytest.approx(0.04, abs=0.012)
    assert len(lang) == 7
    sessions = Counter(e["session_id"] for e in events)
    multi = sum(n for n in sessions.values() if n > 1) / len(events)
    assert multi == pytest.approx(0.37, abs=0.04)
    intents = {e["tags"][1] for e in events if e["tags"][0] != "topic:guard"}
    topics = {e["tags"][0] for e in events}
    assert len(intents) >= 30 and len(topics) == 9
    assert {e["tags"][2] for e in events} == {"channel:web", "channel:app"}
    models = Counter(e["model"] for e in events)
    assert len(models) == 3
    negatives = Counter(f["name"] for e in ok for f in e["feedback"])
    assert 0.02 < negatives["regenerated"] / len(ok) < 0.08
    assert 0.08 < negatives["copied"] / len(ok) < 0.2


def test_latency_and_cost_follow_models_and_length(demo: Demo) -> None:
    ok = [e for e in demo.events if e["status"] == "ok"]
    lat = defaultdict(list)
    cost = defaultdict(list)
    for e in ok:
        lat[e["model"]].append(e["latency_ms"])
        cost[e["model"]].append(e["cost_usd"] / (e["tokens_in"] + e["tokens_out"]))
    med = {m: np.median(v) for m, v in lat.items()}
    assert med["gpt-4o-2024-08-06"] > med["gpt-4.1-mini-2025-04-14"] > med["gpt-4o-mini-2024-07-18"]
    assert np.median(cost["gpt-4o-2024-08-06"]) > 5 * np.median(cost["gpt-4.1-mini-2025-04-14"])
    big = [e for e in ok if e["model"] == "gpt-4o-2024-08-06"]
    rho = stats.spearmanr([e["tokens_out"] for e in big], [e["latency_ms"] for e in big])
    assert rho.statistic > 0.3  # longer answers take longer
    timeouts = [e["latency_ms"] for e in demo.events if e.get("error_type") == "timeout"]
    assert timeouts and min(timeouts) >= 30_000


def test_sidecar_counts_match_the_file(demo: Demo) -> None:
    t = demo.truths
    ms, pc = t["planted"]["model_switch"], t["planted"]["prompt_change"]
    before, after = _split(demo.votes, "topic:billing", "", ms["ts"])
    assert ms["observed"]["thumbs_before"] == {
        "n": len(before), "up": int(before.sum()), "rate": round(before.mean(), 4)}  # fmt: skip
    assert ms["observed"]["thumbs_after"]["n"] == len(after)
    assert ms["observed"]["thumbs_after"]["up"] == int(after.sum())
    h_before, _ = _split(demo.judge, "topic:billing", "", ms["ts"])
    assert ms["observed"]["helpfulness_before"]["n"] == len(h_before)
    assert ms["observed"]["helpfulness_before"]["mean"] == pytest.approx(h_before.mean(), abs=1e-3)
    b, a = _split(demo.votes, "topic:troubleshooting", "", pc["ts"])
    assert (pc["observed"]["thumbs_before"]["n"], pc["observed"]["thumbs_after"]["n"]) == (
        len(b), len(a))  # fmt: skip
    weekly = Counter(demo.week.values())
    assert t["observed"]["events_by_week"] == {str(w): weekly[w] for w in range(1, 13)}
    guard = Counter(demo.week[e["event_id"]] for e in demo.events if e["tags"][0] == "topic:guard")
    assert t["planted"]["new_topic"]["observed"]["events_by_week"] == {
        str(w): guard[w] for w in range(1, 13)}  # fmt: skip
    assert [c["iso_week"] for c in t["calendar"]][6] == ms["iso_week"] == "2026-W42"
    # Negative signal per group and week (docs/schema.md: down vote, regeneration, heavy edit).
    negative = Counter()
    for e in demo.events:
        if any(
            (f["name"] == "thumbs" and f["value"] == 0.0)
            or f["name"] == "regenerated"
            or (f["name"] == "edited" and f["value"] >= 0.5)
            for f in e["feedback"]
        ):
            negative[e["tags"][0][6:], demo.week[e["event_id"]]] += 1
    weekly = t["observed"]["weekly_by_group"]
    assert {(g, int(w)): c["negative"] for g, ws in weekly.items() for w, c in ws.items()} == {
        (g, w): negative[g, w] for g in weekly for w in range(1, 13)
    }
    assert sum(c["votes"]["n"] for ws in weekly.values() for c in ws.values()) == len(demo.votes)


def test_default_size_makes_the_switch_significant_in_one_week() -> None:
    """At the default 50k events, week 7 alone differs from weeks 1-6 for billing (p < 0.01),
    for at least 90% of seeds (a simulation over the generator's own draws)."""
    significant = 0
    seeds = range(20)
    for seed in seeds:
        s = sample(50_000, 12, seed, END)
        week = s.ts // (7 * 86_400_000) + 1
        billing = s.vote & (s.group == GROUP_INDEX["billing"])
        w7, base = billing & (week == 7), billing & (week < 7)
        _, p = proportions_ztest([s.good[w7].sum(), s.good[base].sum()], [w7.sum(), base.sum()])
        significant += p < 0.01
    assert significant >= 0.9 * len(seeds)
