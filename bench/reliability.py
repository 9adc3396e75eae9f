"""The reliability trials of tests/reliability, run longer, printing the figures for RELIABILITY.md.

    python bench/reliability.py                      # as many trials as the tests run
    python bench/reliability.py --ingest 20 --analyze 10 --rerun 10 --seed 7

Every trial is the tests' own (same helpers, same checks): SIGKILL a real `reviewdeck ingest`,
`analyze` or batch `rerun` subprocess at a seeded random point, check what a reader sees, run the
command again, check the exact end state. A failed check is counted and printed, not raised, so
one run reports everything. Then the hostile-ingest fuzz file is ingested and counted.
Run it from the repository root (it imports the tests package). Timings on a shared machine are
noisy; the counts are not.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.db import connect  # noqa: E402
from ingest.demo.generate import generate  # noqa: E402
from tests.reliability import test_crash_analyze as ca  # noqa: E402
from tests.reliability import test_crash_rerun as cr  # noqa: E402
from tests.reliability import test_crash_safety as ci  # noqa: E402
from tests.reliability import test_hostile_ingest as hi  # noqa: E402


def _trial(kind: str, results: dict, fn, *args, **kwargs):
    results[kind]["trials"] += 1
    try:
        return fn(*args, **kwargs)
    except AssertionError as exc:
        results[kind]["failed"].append(str(exc).splitlines()[0][:200])
        return None


def ingest_trials(folder: Path, n: int, rng: random.Random, results: dict) -> None:
    logs = []
    for seed in range(3):
        path = folder / f"part{seed}.jsonl"
        generate(path, events=3_000, weeks=4, seed=seed)
        logs.append(path)
    reference = folder / "ingest-reference.duckdb"
    started = time.monotonic()
    ci._run(["ingest", *map(str, logs), "--db", str(reference), "--quiet"])
    duration = time.monotonic() - started
    want = ci._per_file_counts(reference)
    results["ingest"]["records"] = sum(e + f for e, f in want.values())

    def one(i: int) -> None:
        db = folder / f"ingest{i}.duckdb"
        if ca.kill_after(
            ["ingest", *map(str, logs), "--db", str(db), "--quiet"], rng.uniform(0.05, duration)
        ):
            results["ingest"]["kills"] += 1
        if db.exists():
            for name, counts in ci._per_file_counts(db).items():
                assert counts == want[name], ("half a file visible", name)
        ci._run(["ingest", *map(str, logs), "--db", str(db), "--quiet"])
        got = ci._per_file_counts(db)
        results["ingest"]["lost"] += sum(
            max(0, e + f - sum(got.get(name, (0, 0)))) for name, (e, f) in want.items()
        )
        assert got == want, "counts differ after the re-run"
        db.unlink()

    for i in range(n):
        _trial("ingest", results, one, i)


def analyze_trials(folder: Path, n: int, rng: random.Random, results: dict) -> None:
    template = ca.build_template(folder)
    ref = ca.reference_run(template, folder)
    results["analyze"]["records"] = ref.after.n_events
    for i, point in enumerate(ca.kill_points(rng, n, ref)):
        db = folder / f"analyze{i}.duckdb"
        found = _trial("analyze", results, ca.trial, template, db, ref, **point)
        if found:
            outcome, killed = found
            results["analyze"]["kills"] += killed
            results["analyze"].setdefault("outcomes", []).append(outcome)
            with connect(db, read_only=True) as con:
                members = con.execute("SELECT count(*) FROM cluster_members").fetchone()[0]
            results["analyze"]["lost"] += max(0, ref.after.n_events - members)
        db.unlink(missing_ok=True)


def rerun_trials(folder: Path, n: int, rng: random.Random, results: dict) -> None:
    proc, url = cr.start_stub()
    try:
        env = cr.cli_env(url)
        base, base_events = cr.build_base(folder)
        reference = folder / "rerun-reference.duckdb"
        shutil.copyfile(base, reference)
        started = time.monotonic()
        cr.run_cli([*cr.RERUN_ARGS, "--db", str(reference)], env)
        duration = time.monotonic() - started
        results["rerun"]["records"] = cr.SAMPLE
        for i, point in enumerate(cr.kill_points(rng, n, duration)):
            db = folder / f"rerun{i}.duckdb"
            found = _trial("rerun", results, cr.trial, base, base_events, db, env, **point)
            if found is not None:
                seen, killed = found
                results["rerun"]["kills"] += killed
                results["rerun"].setdefault("finished_at_kill", []).append(seen.finished)
                with connect(db, read_only=True) as con:
                    done = con.execute(
                        "SELECT count(*) FROM rerun_items WHERE status = 'done'"
                    ).fetchone()[0]
                results["rerun"]["lost"] += max(0, cr.SAMPLE - done)
            db.unlink(missing_ok=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def fuzz_figures(folder: Path) -> dict:
    from typer.testing import CliRunner

    from dashboard.cli import app

    path, good_ids, bad_line_nos, either, _ = hi._build(folder)
    db = folder / "fuzz.duckdb"
    res = CliRunner().invoke(app, ["ingest", str(path), "--db", str(db), "--json"])
    with connect(db, read_only=True) as con:
        ids = {r[0] for r in con.execute("SELECT event_id FROM events").fetchall()}
        rejected = {r[0] for r in con.execute("SELECT line_no FROM rejects").fetchall()}
    lines = path.read_bytes().count(b"\n")
    return {
        "exit_code": res.exit_code,
        "lines": lines,
        "good": len(good_ids),
        "bad": len(bad_line_nos),
        "rejected": len(rejected),
        "bad_rejected": len(bad_line_nos & rejected),
        "good_lost": len(good_ids - ids),
        "either": len(either),
        "bytes": path.stat().st_size,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ingest", type=int, default=ci.INGEST_TRIALS)
    parser.add_argument("--analyze", type=int, default=ca.ANALYZE_TRIALS)
    parser.add_argument("--rerun", type=int, default=cr.RERUN_TRIALS)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    results = {
        k: {"trials": 0, "kills": 0, "failed": [], "lost": 0, "records": 0}
        for k in ("ingest", "analyze", "rerun")
    }
    timings = {}
    with tempfile.TemporaryDirectory(prefix="reviewdeck-reliability-") as tmp:
        folder = Path(tmp)
        for kind, fn, n in (
            ("ingest", ingest_trials, args.ingest),
            ("analyze", analyze_trials, args.analyze),
            ("rerun", rerun_trials, args.rerun),
        ):
            if n:
                started = time.monotonic()
                (folder / kind).mkdir()
                fn(folder / kind, n, rng, results)
                timings[kind] = time.monotonic() - started
        started = time.monotonic()
        (folder / "fuzz").mkdir()
        fuzz = fuzz_figures(folder / "fuzz")
        timings["fuzz"] = time.monotonic() - started

    print(
        f"{'job':<8} {'trials':>6} {'kills':>6} {'failed':>6} {'records':>8} {'lost':>5} "
        f"{'wall s':>7}"
    )
    for kind, r in results.items():
        print(
            f"{kind:<8} {r['trials']:>6} {r['kills']:>6} {len(r['failed']):>6} "
            f"{r['records']:>8} {r['lost']:>5} {timings.get(kind, 0):>7.1f}"
        )
        for failure in r["failed"]:
            print(f"  FAILED: {failure}")
    if results["analyze"].get("outcomes"):
        outs = results["analyze"]["outcomes"]
        print(
            f"analyze: visible right after the kill: previous run {outs.count('previous')}, "
            f"new run {outs.count('new')}"
        )
    if results["rerun"].get("finished_at_kill"):
        print(
            f"rerun: items finished when killed: {results['rerun']['finished_at_kill']} "
            f"of {cr.SAMPLE}"
        )
    total = sum(r["trials"] for r in results.values())
    kills = sum(r["kills"] for r in results.values())
    print(
        f"total: {total} kill -9 trials ({kills} killed a running process; the others found "
        "it finished), "
        f"{sum(len(r['failed']) for r in results.values())} failed, "
        f"{sum(r['lost'] for r in results.values())} records lost"
    )
    print(
        f"fuzz: {fuzz['lines']} lines ({fuzz['bytes'] / 1e6:.1f} MB): {fuzz['good']} good, "
        f"{fuzz['bad']} bad, {fuzz['either']} may go either way; rejected {fuzz['rejected']} "
        f"({fuzz['bad_rejected']} of the bad ones); good records lost {fuzz['good_lost']}; "
        f"exit code {fuzz['exit_code']} ({timings['fuzz']:.1f} s)"
    )


if __name__ == "__main__":
    main()
