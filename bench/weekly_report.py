"""Weekly reports on demo data: the lead lines of every week and how long each report takes.

    python bench/weekly_report.py [--events 50000] [--seed 0] [--analyze] [--keep DIR]
    python bench/weekly_report.py --db WAREHOUSE [--week 2026-W48] [--runs 3] [--profile]

Generates the demo log (ingest/demo/sample.py), ingests it with `reviewdeck ingest`, optionally runs
`reviewdeck analyze` (clusters), then builds the report of every week and prints the planted
truth of that week (from the sidecar), the report's first lines and the time taken; at the end,
the time to freeze one report and render it as HTML. Figures are wall-clock on a shared machine.

With `--db`, it times the report of one week (by default the week the Weekly review page opens
on: the last complete week) on an existing warehouse, opened read-only: the wall time of each
run, then one run through a timed connection (its SQL statement count, SQL time and the slowest
callers) and, with `--profile`, the Python functions that take the time (cProfile). The machine's
load average is printed with every figure. Last, it stores the report beside the warehouse
(`<db>.reports/`, as the page and `reviewdeck warm` do) and times the page's call, now a lookup.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

# bench/ingest.py would shadow the ingest package when this runs as `python bench/...`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for bench.sql_timing


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--end", default="2026-11-22", help="last day of the demo (fixed: stable)")
    ap.add_argument("--analyze", action="store_true", help="run `reviewdeck analyze` first")
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it")
    ap.add_argument("--db", type=Path, help="time one week's report on this existing warehouse")
    ap.add_argument("--week", help="with --db: the ISO week (default: the page's default week)")
    ap.add_argument("--runs", type=int, default=2, help="with --db: timed runs")
    ap.add_argument("--profile", action="store_true", help="with --db: cProfile one run")
    args = ap.parse_args()
    if args.db:
        time_existing(args.db, args.week, args.runs, args.profile)
        return

    from dashboard.report_render import render_html
    from ingest.db import connect
    from ingest.demo.generate import generate
    from models.report import snapshot
    from models.report.build import build_report

    work = args.keep or Path(tempfile.mkdtemp(prefix="weekly-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    log, db = work / "demo.jsonl", work / "warehouse.duckdb"
    if not db.exists():
        t = time.perf_counter()
        demo = generate(
            log, events=args.events, seed=args.seed, end_date=date.fromisoformat(args.end)
        )
        print(f"demo: {demo.events:,} events in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "dashboard.cli", "ingest", str(log), "--db", str(db)],
            check=True,
            capture_output=True,
        )
        print(f"ingest: {time.perf_counter() - t:.1f} s")
        if args.analyze:
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "dashboard.cli", "analyze", "--db", str(db)],
                check=True,
                capture_output=True,
            )
            print(f"analyze: {time.perf_counter() - t:.1f} s")
    truths = json.loads((Path(str(log) + ".truths.json")).read_text())
    planted = {p["iso_week"]: f"{name}: {p['what']}" for name, p in truths["planted"].items()}
    weeks = [c["iso_week"] for c in truths["calendar"]][1:]
    with connect(db, read_only=True) as con:
        for week in weeks:
            t = time.perf_counter()
            report = build_report(con, week, base_url="http://localhost:8501")
            took = time.perf_counter() - t
            print(f"\n{week}  {took:5.2f} s  planted: {planted.get(week, '-')}")
            for line in report.summary[:3]:
                print(f"    {line[:160]}")
    with connect(db) as con:
        t = time.perf_counter()
        frozen = snapshot.generate_and_freeze(con, weeks[-1], base_url="http://localhost:8501")
        freeze_s = time.perf_counter() - t
    t = time.perf_counter()
    html = render_html(frozen.report, frozen=frozen)
    print(
        f"\nfreeze {weeks[-1]}: {freeze_s:.2f} s; render HTML: {time.perf_counter() - t:.2f} s "
        f"({len(html) / 1024:.0f} KiB); folder {work}"
    )


def _load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _caller() -> str:
    import traceback

    for fr in reversed(traceback.extract_stack()[:-2]):
        path = Path(fr.filename).resolve()
        if REPO in path.parents and path.parent.name != "bench":
            return f"{path.relative_to(REPO)}:{fr.name}"
    return "?"


def time_existing(db: Path, week: str | None, runs: int, profile: bool) -> None:
    """The report of one week on an existing warehouse: the build's wall time, SQL statements
    and their callers, optionally the Python profile; then what the page pays once the report
    is stored (by the page or `reviewdeck warm`, models.report.stored): the lookup."""
    import cProfile
    import pstats

    from bench.sql_timing import Timed
    from dashboard.queries.weekly import live_report, week_choices
    from ingest.db import connect
    from models.report import stored
    from models.report.build import build_report

    base = "http://localhost:8501"
    with connect(db, read_only=True) as con:
        t = time.perf_counter()
        choices = week_choices(con)
        print(f"week_choices: {1000 * (time.perf_counter() - t):.0f} ms ({_load()})")
        week = week or choices.default
        n = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
        nf = con.execute("SELECT count(*) FROM feedback").fetchall()[0][0]
        print(f"{db}: {n:,} events, {nf:,} feedback rows; week {week}")
        for i in range(runs):
            t = time.perf_counter()
            report = build_report(con, week, base_url=base)
            print(f"run {i + 1}: build_report {time.perf_counter() - t:.2f} s ({_load()})")
        log: list = []
        t = time.perf_counter()
        build_report(Timed(con, log, _caller, clip=300), week, base_url=base)
        total = time.perf_counter() - t
        sql = sum(e["ms"] for e in log) / 1000
        print(f"timed run: {total:.2f} s, {len(log)} SQL statements, {sql:.2f} s of SQL "
              f"({_load()})")
        callers: dict[str, list] = {}
        for e in log:
            agg = callers.setdefault(e["at"], [0, 0.0])
            agg[0] += 1
            agg[1] += e["ms"]
        print("  SQL by caller (statements, ms):")
        for at, (k, ms) in sorted(callers.items(), key=lambda kv: -kv[1][1])[:10]:
            print(f"    {ms:8.0f} ms  {k:4d}  {at}")
        print("  slowest statements:")
        for e in sorted(log, key=lambda e: -e["ms"])[:5]:
            print(f"    {e['ms']:8.0f} ms  {e['at']}: {e['sql'][:150]}")
        if profile:
            prof = cProfile.Profile()
            prof.enable()
            build_report(con, week, base_url=base)
            prof.disable()
            print("  Python (cumulative):")
            stats = pstats.Stats(prof)
            stats.sort_stats("cumulative").print_stats(r"reviewdeck|models|dashboard", 25)
        t = time.perf_counter()
        _, kept = stored.build_and_store(con, db, week)
        print(f"stored ({'kept' if kept else 'NOT kept'}) in {time.perf_counter() - t:.2f} s")
        looks = []
        for _ in range(max(runs, 3)):
            t = time.perf_counter()
            live_report(con, week, base)  # what the page calls
            looks.append(time.perf_counter() - t)
        print(f"the page's live_report with the report stored: "
              f"{', '.join(f'{1000 * x:.0f}' for x in looks)} ms ({_load()})")
    print(f"report: {len(report.summary)} summary lines, {report.n_events:,} events")


if __name__ == "__main__":
    main()
