"""Bench of `reviewdeck analyze` against its bars, on demo data with the default embedder.

    python bench/analyze.py [--events 100000] [--new 1000] [--keep DIR]

Prints, for the same warehouse: a first run from nothing to clusters, map and drift table (bar
<= 90 s), a run after N new events (bar <= 15 s), a run with nothing new (bar <= 5 s, in-process
and as a fresh `reviewdeck analyze` process), and each run's phase timings; for the run after new
events, how many of them went on the map and at what sampling rate (the full run's: the map is a
sample, so it grows by about rate x new events plus the per-stratum floors). Generating and
ingesting the demo data is not timed. The machine is shared: run it on an idle machine for
figures you quote, and quote the command; the CPU seconds of this process (all its threads) are
printed too, as they depend less on what else the machine is doing.
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

# Run as a script, bench/ is first on sys.path, where bench/ingest.py would shadow the package.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from typer.testing import CliRunner  # noqa: E402

from dashboard.cli import app  # noqa: E402
from ingest.db import connect  # noqa: E402
from ingest.demo.generate import generate  # noqa: E402
from models.drift.analyze import AnalyzeOptions, run_analysis  # noqa: E402

BARS = {"first": 90.0, "incremental": 15.0, "nothing_new": 5.0}


def _ingest(log: Path, db: Path) -> None:
    out = CliRunner().invoke(app, ["ingest", str(log), "--db", str(db), "--quiet"])
    if out.exit_code != 0:
        raise SystemExit(f"ingest failed: {out.output}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--new", type=int, default=1_000)
    ap.add_argument("--keep", type=Path, default=None, help="Work in this folder and keep it.")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_analyze_"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench.duckdb"
    end = date(2026, 11, 22)
    print(
        f"generating and ingesting {args.events:,} + {args.new:,} demo events in {folder} "
        "(not timed)",
        flush=True,
    )
    generate(folder / "base.jsonl", events=args.events, weeks=12, seed=0, end_date=end)
    generate(folder / "new.jsonl", events=args.new, weeks=12, seed=1, end_date=end)
    _ingest(folder / "base.jsonl", db)

    figures: dict[str, dict] = {}
    opts = AnalyzeOptions()
    map_rows = 0
    for name, before in (("first", None), ("incremental", "new.jsonl"), ("nothing_new", None)):
        if before:
            _ingest(folder / before, db)
        t, cpu = time.perf_counter(), time.process_time()
        r = run_analysis(db, opts)
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        figures[name] = {
            "seconds": round(wall, 2),
            "cpu_seconds": round(cpu, 2),
            "bar": BARS[name],
            "mode": r.mode,
            "events": r.n_events,
            "new_events": r.n_new_events,
            "embedded": r.n_embedded,
            "clusters": r.n_clusters,
            "map_points": r.n_map_points,
            "phases": r.timings,
        }
        ok = "OK " if wall <= BARS[name] else "OVER"
        print(
            f"[{ok}] {name:<12} {wall:7.2f} s (bar {BARS[name]:.0f} s, {wall / BARS[name]:.2f}"
            f" of it; {cpu:.2f} s CPU)  mode={r.mode} events={r.n_events:,} "
            f"new={r.n_new_events:,} "
            f"embedded={r.n_embedded:,} clusters={r.n_clusters} map={r.n_map_points:,}",
            flush=True,
        )
        print(f"       phases: {json.dumps(r.timings)}", flush=True)
        if name == "incremental":
            with connect(db, read_only=True) as con:
                params = con.execute(
                    "SELECT params FROM analysis_runs ORDER BY run_id DESC LIMIT 1"
                ).fetchall()[0][0]
            rate = json.loads(params).get("map_rate")
            added = r.n_map_points - map_rows
            figures[name]["map_added"] = added
            figures[name]["map_rate"] = rate
            print(
                f"       map: +{added:,} points for {r.n_new_events:,} new events (sampling rate "
                f"{'n/a' if rate is None else f'{rate:.4g}'}; {r.n_map_points:,} in all)",
                flush=True,
            )
        if r.mode != "nothing-new":
            map_rows = r.n_map_points
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "analyze", "--db", str(db)],
        check=True,
        capture_output=True,
    )
    cli = time.perf_counter() - t
    print(
        f"[{'OK ' if cli <= BARS['nothing_new'] else 'OVER'}] nothing_new as a fresh "
        f"`reviewdeck analyze` process: {cli:.2f} s (imports included)"
    )
    figures["nothing_new_cli"] = {"seconds": round(cli, 2), "bar": BARS["nothing_new"]}
    with connect(db, read_only=True) as con:
        row = con.execute(
            "SELECT p_value, drifted, n_reference, n_current FROM drift_overall"
        ).fetchall()[0]
        flagged = con.execute(
            "SELECT status, count(*) FROM drift_clusters GROUP BY 1 ORDER BY 1"
        ).fetchall()
    print(
        f"drift table (latest week vs 4 before): overall p={row[0]:.3g} drifted={row[1]} "
        f"(n {row[2]:,} vs {row[3]:,}); clusters by status: {dict(flagged)}"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
