"""How fast the demo generator writes N events (default 1M): wall and CPU time, rate, peak memory.

    python bench/demo_data.py [--events 1000000] [--keep]

CPU time is printed next to wall time because on a shared machine the wall time mostly measures
the other processes; the load average is printed for the same reason.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

# Run as a script, bench/ is first on sys.path, where bench/ingest.py would shadow the package.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from ingest.demo.generate import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="reviewdeck-bench-"))
    out = folder / "demo.jsonl"
    load_before = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    result = generate(out, events=args.events, seed=0, end_date=date(2026, 11, 22))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    size = out.stat().st_size
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"events          {args.events:,} (+{result.feedback_late:,} late feedback lines)")
    print(f"file            {size / 1e9:.2f} GB  ({size / args.events:,.0f} bytes/event)")
    print(f"wall time       {wall:.1f} s   ({args.events / wall:,.0f} events/s)")
    print(f"CPU time        {cpu:.1f} s   ({args.events / cpu:,.0f} events/s of CPU)")
    print(f"CPU / wall      {cpu / wall:.2f}  (1.0 = had a core to itself)")
    print(f"peak RSS        {peak_mb:,.0f} MB")
    print(f"load average    {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    if args.keep:
        print(f"kept            {out}")
    else:
        out.unlink()
        result.truths_path.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
