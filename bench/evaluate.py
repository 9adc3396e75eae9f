"""Bench: `reviewdeck evaluate`, as a whole process, on the three bars of issue 14.

1. an LLM evaluator over 1,000 events against an OpenAI-compatible endpoint answering in 200 ms
   (the local stub, tests/openai_stub.py, in its own process on 127.0.0.1), at the default
   concurrency: bar ≤ 30 s; the floor n × latency / concurrency is printed beside it;
2. the built-in checks over 100k demo events (ingest/demo, as `reviewdeck demo-data` makes
   them): bar ≤ 30 s;
3. the same command again with nothing new to score: bar ≤ 2 s.

Each is the command a user types (`python -m dashboard.cli evaluate ... --json`), timed from
spawn to exit. The 100k demo warehouse is built once into bench/out/ and copied for each run.

    python -m bench.evaluate [--llm-events 1000] [--latency 0.2] [--events 100000] [--skip-llm]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.db import connect  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
CLI = [sys.executable, "-m", "dashboard.cli"]
DEFAULT_CONCURRENCY = 16  # models.evaluators.runner.DEFAULT_CONCURRENCY
JUDGE_REPLY = '{"verdict": "pass", "reason": "answers the question"}'
CONFIG = """builtins = false

[[evaluator]]
name = "helpful"
version = "1"
kind = "llm"
endpoint = "stub"
model = "gpt-4o-mini"
rubric = "Question: {input}\\nAnswer: {output}\\nDoes the answer address the question?"
"""


def seed_plain(db: Path, n: int) -> None:
    """n plain logged calls (the OpenAI-logs case): messages and an answer, no feedback."""
    t0 = dt.datetime(2026, 11, 16, tzinfo=dt.UTC)
    rows = []
    for i in range(n):
        msgs = [{"role": "system", "content": "You are a banking assistant."},
                {"role": "user", "content": f"Why was card {i} declined?"}]
        rows.append([f"b{i:05d}", t0 + dt.timedelta(minutes=i), json.dumps(msgs),
                     f"Why was card {i} declined?", f"Card {i} was declined for a low balance."])
    with connect(db) as con:
        con.executemany(
            "INSERT INTO events (event_id, ts, kind, model, input_messages, input_text,"
            " output_text, tokens_in, tokens_out, status, environment, source_format)"
            " VALUES (?, ?, 'llm', 'gpt-4o-mini', ?, ?, ?, 60, 30, 'ok', 'production',"
            " 'native')", rows)


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


CPU: list[float] = []  # user + system seconds of each timed CLI process


def timed(args: list[str], env: dict[str, str] | None = None, cwd: Path = REPO
          ) -> tuple[float, dict]:
    cpu0 = _children_cpu()
    t = time.perf_counter()
    done = subprocess.run(CLI + args, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    CPU.append(_children_cpu() - cpu0)
    if done.returncode not in (0, 1):
        raise SystemExit(f"evaluate failed ({done.returncode}):\n{done.stderr}")
    return elapsed, json.loads(done.stdout)


def llm_bench(n: int, latency: float) -> None:
    stub = subprocess.Popen([sys.executable, "-m", "tests.openai_stub", "--latency",
                             str(latency)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        base_url = stub.stdout.readline().split()[-1]
        req = urllib.request.Request(base_url.replace("/v1", "/_stub/script"),
                                     json.dumps({"replies": {"gpt-4o-mini": JUDGE_REPLY}})
                                     .encode(), {"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "llm.duckdb"
            seed_plain(db, n)
            (Path(tmp) / "evaluators.toml").write_text(CONFIG, encoding="utf-8")
            env = {**os.environ, "REVIEWDECK_ENDPOINT_STUB_BASE_URL": base_url,
                   "REVIEWDECK_ENDPOINT_STUB_API_KEY": "bench",
                   "REVIEWDECK_SECRETS": str(Path(tmp) / "none.toml")}
            elapsed, out = timed(["evaluate", "--db", str(db), "--json"], env, cwd=Path(tmp))
            with urllib.request.urlopen(base_url.replace("/v1", "/_stub/stats")) as resp:
                stats = json.load(resp)
        c = DEFAULT_CONCURRENCY
        floor = n * latency / c
        scored = out["totals"]["scored"]
        verdict = "PASS" if elapsed <= 30 and scored == n else "FAIL"
        print(f"LLM evaluator, {n} events, endpoint latency {latency * 1000:.0f} ms, "
              f"default concurrency {c}")
        print(f"  whole CLI process   {elapsed:6.2f} s   (bar ≤ 30 s: {verdict}); scored {scored}, "
              f"unparsed {out['totals']['unparsed']}, peak in flight {stats['max_in_flight']}")
        print(f"  floor n×lat/conc    {floor:6.2f} s   ratio {elapsed / floor:.2f}; CPU of the "
              f"process {CPU[-1]:.2f} s")
    finally:
        stub.terminate()
        stub.wait(timeout=10)


def demo_base(n: int) -> Path:
    base = OUT / f"evaluate_demo_{n}.duckdb"
    if base.exists():
        return base
    OUT.mkdir(parents=True, exist_ok=True)
    from ingest.demo.generate import generate

    log = OUT / f"evaluate_demo_{n}.jsonl"
    generate(log, events=n, weeks=12, seed=0)
    done = subprocess.run(CLI + ["ingest", str(log), "--db", str(base), "--quiet"],
                          capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    log.unlink()
    Path(str(log) + ".truths.json").unlink(missing_ok=True)
    return base


def builtins_bench(n: int) -> None:
    base = demo_base(n)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.duckdb"
        shutil.copyfile(base, db)
        first, out = timed(["evaluate", "--db", str(db), "--json"], cwd=Path(tmp))
        again, out2 = timed(["evaluate", "--db", str(db), "--json"], cwd=Path(tmp))
        with connect(db, read_only=True) as con:
            events, rows = con.execute("SELECT (SELECT count(*) FROM events WHERE kind='llm'), "
                                       "(SELECT count(*) FROM evaluations)").fetchone()
    t = out["totals"]
    print(f"built-in checks, {n} demo events ({events} LLM calls, 5 checks)")
    print(f"  whole CLI process   {first:6.2f} s   (bar ≤ 30 s: "
          f"{'PASS' if first <= 30 else 'FAIL'}); {rows} evaluations: {t['scored']} scored "
          f"({t['fails']} fails), {t['skipped']} not applicable, {t['errors']} errors")
    print(f"  CPU of the process  {CPU[-2]:6.2f} s   (user + system)")
    print("nothing new (same command again)")
    print(f"  whole CLI process   {again:6.2f} s   (bar ≤ 2 s: "
          f"{'PASS' if again <= 2 and out2['totals']['sampled'] == 0 else 'FAIL'}); "
          f"{out2['totals']['sampled']} to score; CPU {CPU[-1]:.2f} s")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    print(f"  bare interpreter    {time.perf_counter() - t0:6.2f} s; machine load "
          f"{os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--llm-events", type=int, default=1000)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--skip-llm", action="store_true")
    ap.add_argument("--skip-builtins", action="store_true")
    args = ap.parse_args()
    if not args.skip_llm:
        llm_bench(args.llm_events, args.latency)
    if not args.skip_builtins:
        builtins_bench(args.events)


if __name__ == "__main__":
    main()
