"""Time the Overview and explorer queries on a large warehouse (default 1M events).

Prints, per query, the median of three runs on a fresh read-only connection each (the way the
dashboard runs them on a cache miss), in milliseconds, open included; the first line is the
cost of the open alone. A page with nothing cached costs filter_choices (sidebar) plus its own
query: overview_data for the Overview; count_events plus page_of_events for the explorer.
The goal is sub-second pages at 1M events on a 2-core machine.
Run: python bench/dashboard_queries.py [--events N] [--keep PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.queries import common, explorer, overview  # noqa: E402
from ingest.db import connect  # noqa: E402
from models.filters import EventFilter  # noqa: E402
from tests.e2e.seed import HOSTILE_ID, HOSTILE_TRACE, MODELS, seed  # noqa: E402


def _time(db: Path, fn, *args, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        with connect(db, read_only=True) as con:
            fn(con, *args)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, help="reuse or keep the warehouse at this path")
    args = ap.parse_args()
    db = args.keep or Path(tempfile.mkdtemp()) / "bench.duckdb"
    if not db.exists():
        t0 = time.perf_counter()
        seed(db, n=args.events)
        print(f"seeded {args.events:,} events in {time.perf_counter() - t0:.1f}s -> {db}")
    everything = EventFilter()
    one_model = EventFilter(models=(MODELS[1],), prompt_versions=("v2",))
    cases = [
        ("filter_choices (sidebar)", common.filter_choices),
        ("overview.totals", overview.totals, everything),
        ("overview.totals, model+prompt", overview.totals, one_model),
        ("overview.daily", overview.daily, everything),
        ("overview.daily_by_model", overview.daily_by_model, everything),
        ("overview.overview_data (the page's one query)", overview.overview_data, everything),
        ("overview.models_in_use", overview.models_in_use, everything),
        ("overview.prompts_in_use", overview.prompts_in_use, everything),
        ("explorer.count_events", explorer.count_events, everything),
        ("explorer.count_events, error", explorer.count_events, everything.with_(status="error")),
        (
            "explorer.count_events, thumbs_down",
            explorer.count_events,
            everything.with_(feedback="thumbs_down"),
        ),
        (
            "explorer.count_events, text search",
            explorer.count_events,
            everything.with_(text="question 4242 "),
        ),
        ("explorer.page_of_events, page 1", explorer.page_of_events, everything, 0),
        ("explorer.page_of_events, page 100", explorer.page_of_events, everything, 4950),
        (
            "explorer.page_of_events, thumbs_down p1",
            explorer.page_of_events,
            everything.with_(feedback="thumbs_down"),
            0,
        ),
        ("explorer.event_detail", explorer.event_detail, HOSTILE_ID),
        ("explorer.event_feedback", explorer.event_feedback, HOSTILE_ID, HOSTILE_TRACE),
        ("explorer.reruns_of", explorer.reruns_of, HOSTILE_ID),
    ]
    open_ms = _time(db, lambda con: None)
    print(f"{'open + schema check + close (per cache miss)':48} {open_ms:10.1f}")
    print(f"{'query':48} {'median ms':>10}")
    for name, fn, *fargs in cases:
        ms = _time(db, fn, *fargs)
        print(f"{name:48} {ms:10.1f}")


if __name__ == "__main__":
    main()
