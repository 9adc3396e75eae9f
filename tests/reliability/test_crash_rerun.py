"""kill -9 a batch `reviewdeck rerun` at random points, then resume it: exactly one rerun each.

The batch runs as a real subprocess against the OpenAI-compatible stub (tests/openai_stub.py,
itself a subprocess on 127.0.0.1 with a small latency), with an LLM judge so every finished item
writes a rerun event, two judgements and its item status together. After each seeded SIGKILL
the warehouse must open read-only and hold no half-finished item (a rerun event without its item
marked done, or the reverse, or judgements without their rerun); running the same command again
must finish the batch with exactly one rerun event per original and nothing duplicated.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest.db import connect
from ingest.demo.generate import generate
from tests.conftest import REPO
from tests.reliability.kill import sigkill_after

CLI = [sys.executable, "-m", "dashboard.cli"]
RERUN_TRIALS = 6
SEED = 20261123
SAMPLE = 80
STUB_KEY = "sk-stub-crash-0123456789"
RERUN_ARGS = [
    "rerun",
    "--model",
    "gpt-4o-mini",
    "--endpoint",
    "stub",
    "--judge",
    "gpt-4o-mini",
    "--sample",
    str(SAMPLE),
    "--seed",
    "3",
    "--concurrency",
    "4",
    "--json",
]


def start_stub(latency: float = 0.05) -> tuple[subprocess.Popen, str]:
    """`python -m tests.openai_stub` on a free port; returns (process, base_url)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.openai_stub",
            "--latency",
            str(latency),
            "--api-key",
            STUB_KEY,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    line = proc.stdout.readline()
    found = re.search(r"listening on (\S+)", line)
    if not found:
        proc.kill()
        raise RuntimeError(f"the stub did not start: {line!r}")
    return proc, found.group(1)


def cli_env(base_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "REVIEWDECK_ENDPOINT_STUB_BASE_URL": base_url,
        "REVIEWDECK_ENDPOINT_STUB_API_KEY": STUB_KEY,
    }


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + args, capture_output=True, text=True, timeout=600, env=env)


def chat_calls(base_url: str) -> int:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/_stub/stats", timeout=5) as r:
        return int(json.load(r)["requests"].get("chat", 0))


def kill_at(
    args: list[str], env: dict[str, str], *, delay: float = 0.0, after_calls: int = 0
) -> bool:
    """Start the CLI; SIGKILL it once the stub has answered `after_calls` more chat calls and
    `delay` more seconds have passed. True if it was still running then."""
    base_url = env["REVIEWDECK_ENDPOINT_STUB_BASE_URL"]
    target = chat_calls(base_url) + after_calls
    proc = subprocess.Popen(
        CLI + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    while after_calls and chat_calls(base_url) < target:
        if proc.poll() is not None:
            return False
        time.sleep(0.01)
    return sigkill_after(proc, delay)


@dataclass(frozen=True)
class BatchState:
    n_items: int  # 0 when the batch was never planned
    finished: int  # items done (or a permanent API error) with their rerun event
    rerun_events: int
    judgements: int
    events: int  # all rows of `events`


def check_batch(db: Path, base_events: int) -> BatchState:
    """Read-only, as the dashboard sees it: every finished item is whole, nothing is doubled."""
    with connect(db, read_only=True) as con:
        batches = con.execute("SELECT batch_id, n_items FROM rerun_batches").fetchall()
        events = con.execute("SELECT count(*) FROM events").fetchone()[0]
        reruns = con.execute(
            "SELECT event_id, rerun_of, json_extract_string(raw, '$.batch_id') FROM events "
            "WHERE rerun_of IS NOT NULL"
        ).fetchall()
        assert events == base_events + len(reruns), "events other than reruns changed"
        if not batches:
            assert reruns == [], "rerun events without their batch"
            return BatchState(0, 0, 0, 0, events)
        assert len(batches) == 1
        batch_id, n_items = batches[0]
        items = con.execute(
            "SELECT event_id, status, rerun_event_id FROM rerun_items WHERE batch_id = ?",
            [batch_id],
        ).fetchall()
        assert len(items) == n_items == SAMPLE, "the batch's items were half planned"
        originals = [r[1] for r in reruns]
        assert len(originals) == len(set(originals)), "an original with two rerun events"
        assert all(r[2] == batch_id for r in reruns)
        finished = {e: rid for e, status, rid in items if status in ("done", "error")}
        assert {r[1]: r[0] for r in reruns} == finished, (
            "rerun events and finished items disagree: a half-written item"
        )
        judged = con.execute(
            "SELECT rerun_event_id, count(*), count(DISTINCT rerun_first) FROM rerun_judgements "
            "WHERE batch_id = ? GROUP BY 1",
            [batch_id],
        ).fetchall()
        ok = {r[0] for r in reruns} - {rid for e, status, rid in items if status == "error"}
        # A run interrupted in flight may leave done items unjudged (the resume judges them,
        # checked by the final state in trial()); judgements without their rerun never.
        assert {r[0] for r in judged} <= ok, "judgements without their rerun"
        assert all(n == 2 and orders == 2 for _, n, orders in judged), judged
        spent, item_cost = con.execute(
            "SELECT b.spent_usd, (SELECT coalesce(sum(coalesce(cost_usd, 0) + "
            "coalesce(judge_cost_usd, 0)), 0) FROM rerun_items i WHERE i.batch_id = b.batch_id) "
            "FROM rerun_batches b WHERE batch_id = ?",
            [batch_id],
        ).fetchone()
        assert spent == pytest.approx(item_cost), "the batch's spend and its items' disagree"
        return BatchState(n_items, len(finished), len(reruns), sum(n for _, n, _ in judged), events)


def build_base(folder: Path, events: int = 800) -> tuple[Path, int]:
    log = folder / "events.jsonl"
    generate(log, events=events, weeks=4, seed=1)
    db = folder / "base.duckdb"
    done = subprocess.run(
        CLI + ["ingest", str(log), "--db", str(db), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    with connect(db, read_only=True) as con:
        return db, con.execute("SELECT count(*) FROM events").fetchone()[0]


def trial(
    base: Path,
    base_events: int,
    db: Path,
    env: dict[str, str],
    *,
    delay: float = 0.0,
    after_calls: int = 0,
) -> tuple[BatchState, bool]:
    """Kill the batch (see kill_at), check, resume, check; returns the state after the kill
    and whether the process was still running when killed."""
    shutil.copyfile(base, db)
    killed = kill_at([*RERUN_ARGS, "--db", str(db)], env, delay=delay, after_calls=after_calls)
    seen = check_batch(db, base_events)
    done = run_cli([*RERUN_ARGS, "--db", str(db)], env)
    assert done.returncode == 0, done.stdout + done.stderr
    final = check_batch(db, base_events)
    assert final == BatchState(SAMPLE, SAMPLE, SAMPLE, 2 * SAMPLE, base_events + SAMPLE)
    return seen, killed


def kill_points(rng: random.Random, n: int, duration: float) -> list[dict[str, float]]:
    """Every third kill at a random time of the whole command (start-up and planning
    included); the others after a random number of model calls (a rerun and two judge calls
    per item) plus up to half a second, so they land inside the batch however slow the box."""
    return [
        {"delay": rng.uniform(0.05, 1.0) * duration}
        if i % 3 == 0
        else {"after_calls": rng.randint(1, 3 * SAMPLE - 1), "delay": rng.uniform(0, 0.5)}
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def stub_env() -> Iterator[dict[str, str]]:
    proc, url = start_stub()
    try:
        yield cli_env(url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_rerun_batch_killed_at_random_points_then_resumed(tmp_path, stub_env):
    base, base_events = build_base(tmp_path)
    reference = tmp_path / "reference.duckdb"
    shutil.copyfile(base, reference)
    started = time.monotonic()
    done = run_cli([*RERUN_ARGS, "--db", str(reference)], stub_env)
    duration = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert check_batch(reference, base_events).finished == SAMPLE

    rng = random.Random(SEED)
    seen = []
    for n, point in enumerate(kill_points(rng, RERUN_TRIALS, duration)):
        seen.append(trial(base, base_events, tmp_path / f"trial{n}.duckdb", stub_env, **point))
    print(
        "rerun kill trials (items finished before the kill, killed):",
        [(s.finished, killed) for s, killed in seen],
    )
    # The kills landed across the batch, not all before it started or after it ended.
    assert any(0 < s.finished < SAMPLE for s, _ in seen)
