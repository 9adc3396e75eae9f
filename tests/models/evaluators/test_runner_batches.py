"""A run cut into batches of events (models/evaluators/plan.py), on real warehouse files.

Many small batches score exactly the rows one batch scores (code checks, a sampled code check,
a sampled LLM judge whose rubric shows corrections); the plan's SQL sample is the Python one to
the last bit; the spend cap stops the judges between or within batches with the counts right
while the code checks go on; and `kill -9` near the end of a batch resumes to exactly the
sampled events. Judges answer from the OpenAI-compatible stub (tests/openai_stub.py) through the
real openai SDK; the kill test runs the real CLI as a subprocess.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from ingest.db import connect
from ingest.errors import ConfigError
from ingest.prices import compute_cost
from models.evaluators import config, plan, run, sampling, store
from models.evaluators.llm import estimate_tokens
from models.evaluators.runner import Progress, resolve
from tests.models.evaluators.evdata import event, insert, plain
from tests.openai_fixtures import openai_env, openai_server  # noqa: F401
from tests.openai_stub import OpenAIStub
from tests.reliability.test_crash_evaluate import (  # noqa: F401 - stub_env is a fixture
    CONFIG,
    check,
    check_complete,
    kill_at,
    stub_env,
)
from tests.reliability.test_crash_rerun import run_cli

CHECKS = '''
def long_enough(event):
    return len(event["output_text"] or "") > 50
'''

MIXED = """builtins = true

[[evaluator]]
name = "long_enough"
kind = "code"
function = "batch_checks:long_enough"
sample_rate = 0.5

[[evaluator]]
name = "helpful"
kind = "llm"
endpoint = "stub"
model = "gpt-4o-mini"
sample_rate = 0.5
rubric = "Question: {input}\\nAnswer: {output}\\nA reviewer wrote: {correction}\\nHelpful?"
"""


def judge_only(builtins: str = '["refusal"]') -> str:
    return f"""builtins = {builtins}

[[evaluator]]
name = "helpful"
kind = "llm"
endpoint = "stub"
model = "gpt-4o-mini"
rubric = "Question: {{input}}\\nAnswer: {{output}}\\nDoes the answer address the question?"
"""


def by_card(body: dict) -> str:
    """Pass for even card numbers, fail for odd, an answer without a verdict for multiples of 5."""
    n = int(re.search(r"card (\d+)", body["messages"][-1]["content"]).group(1))
    if n % 5 == 0:
        return "Hard to say."
    return json.dumps({"verdict": "pass" if n % 2 == 0 else "fail", "reason": f"card {n}"})


# A little longer than the 60 output tokens the estimate assumes: each call costs a little more
# (~7%) than its estimate, so where the cap stops is known within a call or two.
LONG_REPLY = json.dumps({"verdict": "pass", "reason": "the answer names the reason " * 10})


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "batch_checks.py").write_text(CHECKS, encoding="utf-8")
    monkeypatch.chdir(work)
    monkeypatch.syspath_prepend(str(work))
    return work


def mixed(db: Path, n: int) -> list[str]:
    """n LLM calls that each built-in check has something to say about, and corrections."""
    rows = []
    for i in range(n):
        answer = f"Card {i} was declined because the balance was too low."
        extra: dict = {}
        if i % 6 == 0:
            extra["params"] = {"response_format": {"type": "json_object"}}
            answer = '{"declined": true}' if i % 12 == 0 else "Declined, sorry."
        elif i % 11 == 0:
            answer = "I'm sorry, but I can't help with that."
        elif i % 13 == 0:
            answer = "Votre carte a été refusée parce que le solde de votre compte était trop bas."
        elif i % 17 == 0:
            answer = ""
        rows.append(event(f"m{i:04d}", question=f"Why was card {i} declined at the shop?",
                          answer=answer, **extra))
    insert(db, rows)
    ids = [r["event_id"] for r in rows]
    with connect(db) as con:
        con.executemany(
            "INSERT INTO feedback (feedback_id, event_id, name, kind, source, correction, ts) "
            "VALUES (?, ?, 'correction', 'correction', 'reviewer', ?, ?)",
            [[f"fix{i}", e, f"Say why card {i} was declined.",
              dt.datetime(2026, 11, 20, tzinfo=dt.UTC)] for i, e in enumerate(ids) if i % 4 == 1])
    return ids


def copies(base: Path, *names: str) -> list[Path]:
    out = []
    for name in names:
        shutil.copyfile(base, base.with_name(name))
        out.append(base.with_name(name))
    return out


def rows(db: Path) -> dict[str, list[tuple]]:
    """Everything the evaluators wrote, in a stable order (run ids and times aside)."""
    with connect(db, read_only=True) as con:
        return {
            "evaluations": con.execute(
                "SELECT evaluator, version, event_id, status, feedback_id, value, label, reason, "
                "raw, judge_model, cost_usd FROM evaluations ORDER BY 1, 2, 3").fetchall(),
            "feedback": con.execute(
                "SELECT feedback_id, event_id, name, kind, value, label, source, comment, "
                "author, evaluator_version, judge_model, cost_usd FROM feedback "
                "WHERE source IN ('code', 'llm_judge') ORDER BY 1").fetchall(),
            "runs": con.execute("SELECT n_scored, n_errors, n_unparsed, stopped "
                                "FROM evaluator_runs ORDER BY run_id").fetchall(),
        }


def counts(summary) -> list[dict]:
    return [{k: v for k, v in c.as_dict().items() if k not in ("cost_usd", "estimate_usd")}
            for c in summary.evaluators]


def all_events(db: Path) -> dict:
    """Every event as the runner reads it (all columns, corrections), for estimates by hand."""
    everything = store.Pending(store.TRUE, "-", "-")
    with connect(db, read_only=True) as con:
        return store.load_batch(con, [everything], store.TRUE, 0, 2**62, corrections=True)[1]


def test_many_batches_score_what_one_batch_scores(db_path: Path, team: Path,
                                                  openai_env: OpenAIStub) -> None:  # noqa: F811
    ids = mixed(db_path, 90)
    openai_env.set_reply("gpt-4o-mini", by_card)
    conf = config.parse(MIXED, "mixed.toml")
    one_db, many_db, dry_db = copies(db_path, "one.duckdb", "many.duckdb", "dry.duckdb")

    one = run(one_db, conf)  # the default batch holds all 90 events
    seen: list[Progress] = []
    many = run(many_db, conf, batch_size=7, on_progress=seen.append)
    dry = run(dry_db, conf, batch_size=7, dry_run=True)

    assert one.batches == 1 and many.batches >= 13  # 90 events at most 7 to a batch
    assert one.stopped is None and many.stopped is None
    assert rows(many_db) == rows(one_db)
    assert counts(many) == counts(one) and many.totals == one.totals
    assert many.cost_usd == pytest.approx(one.cost_usd) and many.cost_usd > 0
    # every built-in had work, and the judge's sample is the Python hash's, run independently
    by = {c.name: c for c in many.evaluators}
    assert all(by[n].scored + by[n].skipped > 0 for n in ("invalid_json", "refusal",
                                                           "empty_or_truncated",
                                                           "language_mismatch"))
    assert by["refusal"].fails > 0 and by["invalid_json"].fails > 0
    with connect(many_db, read_only=True) as con:
        judged = {r[0] for r in con.execute(
            "SELECT event_id FROM evaluations WHERE evaluator = 'helpful'").fetchall()}
    assert judged == set(sampling.sample(ids, "helpful", 0.5))
    assert by["helpful"].unparsed > 0 and by["helpful"].fails > 0
    # the progress bar ran over the whole run, not a batch
    assert seen[-1].done == seen[-1].total == many.totals["sampled"]
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    # the dry run plans the same totals, and its estimate (from the prompt's columns only)
    # is the one computed from whole events
    assert {k: dry.totals[k] for k in ("matched", "sampled")} == {
        k: one.totals[k] for k in ("matched", "sampled")}
    assert dry.totals["scored"] == 0 and rows(dry_db)["evaluations"] == []
    spec = next(s for s in conf.evaluators if s.name == "helpful")
    events = all_events(db_path)
    by_hand = sum(compute_cost("gpt-4o-mini", *estimate_tokens(spec, events[e]))
                  for e in judged)
    assert dry.estimate_usd == pytest.approx(by_hand) and one.estimate_usd == pytest.approx(
        by_hand)
    assert any(events[e].correction for e in judged)  # the rubric's {correction} was read


def test_the_plan_cuts_disjoint_batches_of_at_most_the_size(db_path: Path, team: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    mixed(db_path, 60)
    specs = list(resolve(config.parse(MIXED, "m.toml"), None, None).evaluators)
    sc = plan.scope(specs)
    with connect(db_path, read_only=True) as con:
        p = plan.make(con, sc, 5)
        whole = plan.make(con, sc, 10_000)
    assert len(p.batches) >= 12 and len(whole.batches) == 1
    assert all(b.events <= 5 for b in p.batches)
    assert all(a.last < b.first for a, b in zip(p.batches, p.batches[1:], strict=False))
    assert p.sampled == whole.sampled and p.matched == whole.matched
    assert sum(b.events for b in p.batches) == whole.batches[0].events
    # the size comes from the environment when the caller gives none, and must be a number
    monkeypatch.setenv(plan.BATCH_ENV, "5")
    assert plan.batch_size() == 5
    for bad in ("0", "-3", "many", "2.5"):
        monkeypatch.setenv(plan.BATCH_ENV, bad)
        with pytest.raises(ConfigError, match=plan.BATCH_ENV):
            plan.batch_size()
    monkeypatch.delenv(plan.BATCH_ENV)
    assert plan.batch_size() == plan.BATCH_EVENTS


def test_a_batch_size_from_the_environment_is_used(db_path: Path, team: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    plain(db_path, 20)
    monkeypatch.setenv(plan.BATCH_ENV, "6")
    s = run(db_path, config.parse('builtins = ["refusal"]\n', "r.toml"))
    assert s.batches == 4 and s.evaluators[0].scored == 20


def test_the_sql_sample_is_the_python_sample_to_the_last_bit() -> None:
    rng = random.Random(7)
    ids = [f"evt-{rng.getrandbits(64):x}" for _ in range(3000)] + ["é-ünï", "日本", "a\tb"]
    con = duckdb.connect()
    con.execute("CREATE TABLE events AS SELECT unnest(?::VARCHAR[]) AS event_id", [ids])
    for key, rate in (("helpful", 0.1), ("weekly", 0.5), ("x", 0.999), ("y", 1.0), ("z", 0.0)):
        cond, params = sampling.sql(key, rate)
        got = {r[0] for r in con.execute(f"SELECT event_id FROM events e WHERE {cond}",
                                         params).fetchall()}
        assert got == set(sampling.sample(ids, key, rate)), (key, rate)
    # at the edge: a rate exactly at an event's position leaves it out, the next float takes it
    for e in ids[:300]:
        at = sampling.position(e, "edge")
        for rate in (at, math.nextafter(at, 1.0), math.nextafter(at, 0.0)):
            cond, params = sampling.sql("edge", rate)
            got = con.execute(f"SELECT {cond} FROM events e WHERE e.event_id = ?",
                              [*params, e]).fetchone()[0]
            assert got == sampling.in_sample(e, "edge", rate), (e, rate)


def costs(db: Path, spec, ids: list[str]) -> tuple[list[float], list[float]]:
    """Per judged event, in the run's order: what its call cost, and what the cap estimated."""
    with connect(db, read_only=True) as con:
        actual = dict(con.execute("SELECT event_id, cost_usd FROM evaluations "
                                  "WHERE evaluator = 'helpful'").fetchall())
    events = all_events(db)
    est = [compute_cost("gpt-4o-mini", *estimate_tokens(spec, events[e])) for e in ids]
    return [actual[e] for e in ids], est


@pytest.mark.parametrize("where", ["between", "within"])
def test_the_cap_stops_the_judge_between_or_within_batches(
        db_path: Path, team: Path, openai_env: OpenAIStub, where: str) -> None:  # noqa: F811
    ids = plain(db_path, 30)
    openai_env.set_reply("gpt-4o-mini", LONG_REPLY)
    conf = config.parse(judge_only(), "j.toml")
    spec = next(s for s in conf.evaluators if s.name == "helpful")
    reference, capped = copies(db_path, "reference.duckdb", "capped.duckdb")
    assert run(reference, conf, batch_size=10).batches == 3
    actual, est = costs(reference, spec, ids)
    assert all(a >= e for a, e in zip(actual, est, strict=True)), "the stub's reply got shorter"
    calls0 = openai_env.count("chat")
    conc = 2
    if where == "between":
        # every call of the first batch passes the check whatever is in flight; the first call
        # of the second comes after the batch's calls are all back, and does not
        cap = sum(actual[:10]) + est[10] / 2
        low = high = 10
    else:
        k = 13  # the 14th call, the second batch's 4th, passes whatever is in flight
        cap = sum(actual[:k]) + est[k]
        low = k + 1
        high = next(j for j in range(30) if sum(est[:j + 1]) > cap)  # cannot pass, ever
        assert 10 < low <= high < 20
    s = run(capped, conf, batch_size=10, max_cost_usd=cap, concurrency=conc)
    by = {c.name: c for c in s.evaluators}
    calls = openai_env.count("chat") - calls0
    assert s.stopped == "max_cost" and s.batches == 3
    assert low <= by["helpful"].scored == calls <= high
    if where == "between":
        assert s.cost_usd == pytest.approx(sum(actual[:10])) and s.cost_usd <= cap
    else:  # the cap counts calls in flight at their estimate, below what these cost
        assert s.cost_usd <= cap + 2 * conc * max(a - e for a, e in zip(actual, est,
                                                                         strict=True))
    assert by["refusal"].scored == 30  # the free checks went through every batch
    with connect(capped, read_only=True) as con:
        judged, spent, stopped = con.execute(
            "SELECT (SELECT count(*) FROM evaluations WHERE evaluator = 'helpful'), cost_usd, "
            "stopped FROM evaluator_runs").fetchone()
        first = [r[0] for r in con.execute(
            "SELECT event_id FROM evaluations WHERE evaluator = 'helpful' ORDER BY 1"
        ).fetchall()]
    assert judged == calls and stopped == "max_cost" and spent == pytest.approx(s.cost_usd)
    assert first == ids[:calls]  # the judge went through the batches in order
    rest = run(capped, conf, batch_size=10)
    after = {c.name: c for c in rest.evaluators}
    assert rest.stopped is None and after["helpful"].scored == 30 - calls
    assert after["refusal"].sampled == 0
    assert rows(capped)["evaluations"] == rows(reference)["evaluations"]


@pytest.mark.slow
def test_kill_near_the_end_of_a_batch_then_resume(tmp_path: Path, stub_env) -> None:  # noqa: F811
    base = tmp_path / "base.duckdb"
    with connect(base):
        pass
    ids = plain(base, 300)
    conf_path = tmp_path / "evaluators.toml"
    conf_path.write_text(CONFIG, encoding="utf-8")
    env = {**stub_env, plan.BATCH_ENV: "40"}
    args = ["evaluate", "--config", str(conf_path), "--concurrency", "4", "--json"]
    specs = list(resolve(conf_path, None, None).evaluators)
    with connect(base, read_only=True) as con:
        p = plan.make(con, plan.scope(specs), 40)
    assert len(p.batches) == 8
    ends = []  # judge calls made by the end of each batch
    for b in p.batches:
        ends.append((ends[-1] if ends else 0) + b.per_spec["helpful"])
    killed = 0
    for i, (batch, delay) in enumerate([(1, 0.0), (1, 0.15), (4, 0.05), (6, 0.3)]):
        db = tmp_path / f"trial{i}.duckdb"
        shutil.copyfile(base, db)
        killed += kill_at([*args, "--db", str(db)], env, delay=delay,
                          after_calls=ends[batch - 1])
        check(db)  # readable, consistent: nothing doubled or half-written
        done = run_cli([*args, "--db", str(db)], env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["stopped"] is None
        check_complete(db, ids)
    assert killed >= 3, "most kills should catch the command running"
