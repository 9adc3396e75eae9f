"""Weekly reports on demo data: the lead lines of every week and how long each report takes.

    python bench/weekly_report.py [--events 50000] [--seed 0] [--analyze] [--keep DIR]

Generates the demo log (ingest/demo/sample.py), ingests it with `reviewdeck ingest`, optionally runs
`reviewdeck analyze` (clusters), then builds the report of every week and prints the planted
truth of that week (from the sidecar), the report's first lines and the time taken; at the end,
the time to freeze one report and render it as HTML. Figures are wall-clock on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

# bench/ingest.py would shadow the ingest package when this runs as `python bench/...`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--end", default="2026-11-22", help="last day of the demo (fixed: stable)")
    ap.add_argument("--analyze", action="store_true", help="run `reviewdeck analyze` first")
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = ap.parse_args()

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


if __name__ == "__main__":
    main()
