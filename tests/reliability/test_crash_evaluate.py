"""kill -9 `reviewdeck evaluate` at random points, then resume: every sampled event scored once.

The command runs as a real subprocess: the five built-in checks over every event, then an LLM
judge on a 50% sample, answering from the OpenAI-compatible stub (tests/openai_stub.py, its own
process on 127.0.0.1, 50 ms a call). After each seeded SIGKILL the warehouse must open
read-only and be consistent: no (evaluator, version, event) twice, each scored `evaluations`
row with exactly its `feedback` row and no feedback row without one. Running the same command
again must end with exactly one evaluation per evaluator and sampled event — the sample itself
computed here from the hash, independently of the run — and as many feedback rows as scores.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest.db import connect
from models.evaluators import sampling
from models.evaluators.builtins import BUILTINS
from tests.models.evaluators.evdata import plain
from tests.reliability.kill import sigkill_after
from tests.reliability.test_crash_rerun import CLI, chat_calls, cli_env, run_cli, start_stub

EVALUATE_TRIALS = 5
SEED = 20261202
EVENTS = 300
JUDGE_RATE = 0.5
CONFIG = f"""
[[evaluator]]
name = "helpful"
version = "1"
kind = "llm"
endpoint = "stub"
model = "gpt-4o-mini"
sample_rate = {JUDGE_RATE}
rubric = "Question: {{input}}\\nAnswer: {{output}}\\nIs the answer helpful?"
"""
JUDGE_REPLY = '{"verdict": "pass", "reason": "answers it"}'


@dataclass(frozen=True)
class State:
    evaluations: int
    judged: int  # evaluations of the LLM judge
    feedback: int


def expected(ids: list[str]) -> dict[str, set[str]]:
    # plain events ask for no JSON and make no tool calls: those two checks never read them
    out = {name: set(ids) for name, b in BUILTINS.items() if b.prefilter is None}
    out["helpful"] = set(sampling.sample(ids, "helpful", JUDGE_RATE))
    return out


def check(db: Path) -> State:
    """Read-only, as the dashboard sees it: nothing doubled, nothing half-written."""
    with connect(db, read_only=True) as con:
        n, keys = con.execute("SELECT count(*), count(DISTINCT (evaluator, version, event_id)) "
                              "FROM evaluations").fetchone()
        assert n == keys, "an event evaluated twice by one evaluator version"
        orphans = con.execute(
            "SELECT count(*) FROM feedback f WHERE f.source IN ('code', 'llm_judge') AND NOT "
            "EXISTS (SELECT 1 FROM evaluations v WHERE v.feedback_id = f.feedback_id)"
        ).fetchone()[0]
        assert orphans == 0, "feedback rows without their evaluation"
        unmatched = con.execute(
            "SELECT count(*) FROM evaluations v WHERE v.status = 'scored' AND (SELECT count(*) "
            "FROM feedback f WHERE f.feedback_id = v.feedback_id) <> 1").fetchone()[0]
        assert unmatched == 0, "a score without exactly one feedback row"
        judged = con.execute("SELECT count(*) FROM evaluations WHERE evaluator = 'helpful'"
                             ).fetchone()[0]
        fb = con.execute("SELECT count(*) FROM feedback WHERE source IN ('code', 'llm_judge')"
                         ).fetchone()[0]
        runs = con.execute("SELECT coalesce(sum(n_scored), 0) FROM evaluator_runs").fetchone()[0]
        assert runs == fb, "the runs' counts disagree with the rows they wrote"
    return State(n, judged, fb)


def check_complete(db: Path, ids: list[str]) -> None:
    with connect(db, read_only=True) as con:
        rows = con.execute("SELECT evaluator, event_id FROM evaluations").fetchall()
        scored = con.execute("SELECT count(*) FROM evaluations WHERE status = 'scored'"
                             ).fetchone()[0]
    got: dict[str, set[str]] = {}
    for name, event_id in rows:
        got.setdefault(name, set()).add(event_id)
    assert got == expected(ids), "resume did not end with exactly the sampled events"
    assert check(db).feedback == scored


@pytest.fixture(scope="module")
def stub_env():
    proc, url = start_stub()
    req = urllib.request.Request(url.removesuffix("/v1") + "/_stub/script",
                                 json.dumps({"replies": {"gpt-4o-mini": JUDGE_REPLY}}).encode(),
                                 {"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5).read()
    try:
        yield cli_env(url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def kill_at(args: list[str], env: dict[str, str], *, delay: float, after_calls: int = 0
            ) -> bool:
    base_url = env["REVIEWDECK_ENDPOINT_STUB_BASE_URL"]
    target = chat_calls(base_url) + after_calls
    proc = subprocess.Popen(CLI + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    while after_calls and chat_calls(base_url) < target:
        if proc.poll() is not None:
            return False
        time.sleep(0.01)
    return sigkill_after(proc, delay)


def trial(base: Path, db: Path, args: list[str], env: dict[str, str], ids: list[str], *,
          delay: float, after_calls: int = 0) -> tuple[State, bool]:
    shutil.copyfile(base, db)
    killed = kill_at([*args, "--db", str(db)], env, delay=delay, after_calls=after_calls)
    seen = check(db)
    done = run_cli([*args, "--db", str(db)], env)
    assert done.returncode == 0, done.stdout + done.stderr
    check_complete(db, ids)
    return seen, killed


@pytest.mark.slow
def test_evaluate_killed_at_random_points_then_resumed(tmp_path, stub_env):
    base = tmp_path / "base.duckdb"
    with connect(base):
        pass
    ids = plain(base, EVENTS)
    config = tmp_path / "evaluators.toml"
    config.write_text(CONFIG, encoding="utf-8")
    args = ["evaluate", "--config", str(config), "--concurrency", "4", "--json"]
    reference = tmp_path / "reference.duckdb"
    shutil.copyfile(base, reference)
    started = time.monotonic()
    done = run_cli([*args, "--db", str(reference)], stub_env)
    duration = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    check_complete(reference, ids)
    n_judged = len(expected(ids)["helpful"])

    rng = random.Random(SEED)
    points = [{"delay": rng.uniform(0.1, 0.9) * duration} if i % 2 == 0 else
              {"after_calls": rng.randint(1, n_judged - 1), "delay": rng.uniform(0, 0.3)}
              for i in range(EVALUATE_TRIALS)]
    seen = [trial(base, tmp_path / f"trial{i}.duckdb", args, stub_env, ids, **p)
            for i, p in enumerate(points)]
    print("evaluate kill trials (evaluations, judged before the kill, killed):",
          [(s.evaluations, s.judged, k) for s, k in seen])
    assert sum(k for _, k in seen) >= 3, "most kills should catch the command running"
    # some kills landed inside the judge's part of the run, not only before or after it
    assert any(0 < s.judged < n_judged for s, _ in seen)
