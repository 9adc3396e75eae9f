"""Every query behind the Feedback trends page at 1M events: p95 per query against the 150 ms bar.

    python bench/queries.py                 # 1M demo events (warehouse cached in bench/out/)
    python bench/queries.py --events 100000 # quick run
    python bench/queries.py --runs 20 --rebuild

The warehouse is built once with the demo generator and the real loader (so `trend_facts` is
what `reviewdeck ingest` leaves) and cached as bench/out/trends_<events>.duckdb. Each query runs
as the page runs it on a cache miss: a fresh read-only connection per call (dashboard.cache
opens one per miss), the query function, and the statistics on its result. Runs alternate
between a few page states (weeks, splits, filters) so no answer is reused. The machine is shared
and has two cores: figures are noisy; rerun when in doubt.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.queries import trends as q  # noqa: E402
from ingest.db import connect  # noqa: E402
from models.filters import EventFilter  # noqa: E402

OUT = REPO / "bench" / "out"
BAR_MS = 150.0
END = dt.date(2026, 11, 15)


def build(events: int, rebuild: bool) -> Path:
    from ingest.demo import generate, truths_path
    from ingest.load_read import Source
    from ingest.loader import load_source

    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"trends_{events}.duckdb"
    if db.exists() and not rebuild:
        return db
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    log = OUT / f"trends_{events}.jsonl"
    t0 = time.perf_counter()
    generate(log, events=events, seed=0, end_date=END)
    t1 = time.perf_counter()
    with connect(db):
        pass
    load_source(db, Source(str(log), log))
    t2 = time.perf_counter()
    print(f"built {db.name}: generate {t1 - t0:.0f}s, ingest {t2 - t1:.0f}s")
    log.unlink()
    truths_path(log).unlink(missing_ok=True)
    return db


def cases(weeks: list[dt.date]) -> dict[str, list[Callable]]:
    """Each page query with a few argument sets, as the page calls them."""
    week_set = weeks[:4]
    filters = [EventFilter(), EventFilter(tags=("topic:billing",)),
               EventFilter(models=("gpt-4.1-mini-2025-04-14",))]

    def rot(fn, variants):
        return [lambda con, v=v: fn(con, *v) for v in variants]

    return {
        "is_stale": rot(q.is_stale, [()]),
        "split_options": rot(q.split_options, [()]),
        "score_metrics": rot(q.score_metrics, [()]),
        "weeks": rot(q.weeks, [(f,) for f in filters]),
        "headline (+stats)": rot(q.headline, [(f, w, None, 0.05) for f in filters
                                              for w in week_set]),
        "series week × model": rot(q.series, [(f, "negative", "week", "model", 0.05)
                                             for f in filters]),
        "series day × tag": rot(q.series, [(f, "thumbs_up", "day", "tag", 0.05)
                                          for f in filters]),
        "series week × user segment": rot(q.series, [(f, "error", "week", "user_segment", 0.05)
                                                    for f in filters]),
        "series week, judge score": rot(q.series, [
            (f, "score:llm_judge:helpfulness", "week", "none", 0.05) for f in filters]),
        "markers": rot(q.markers, [(f,) for f in filters]),
        "what moved (+stats, BH)": rot(q.moved, [(f, "negative", w, None, "previous", 0.05)
                                                 for f in filters[:1] for w in week_set]),
        "what moved vs baseline": rot(q.moved, [(EventFilter(), "thumbs_up", w, None,
                                                 "baseline", 0.05) for w in week_set]),
        "corrections": rot(q.corrections, [(f, w) for f in filters for w in week_set]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    db = build(args.events, args.rebuild)
    with connect(db, read_only=True) as con:
        n = con.execute("SELECT count(*) FROM trend_facts").fetchall()[0][0]
        weeks = q.weeks(con, EventFilter())
    print(f"warehouse {db} — {n:,} events in trend_facts; {args.runs} runs per query, "
          "fresh read-only connection per run")
    print(f"{'query':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  p95/bar")
    worst = 0.0
    for name, variants in cases(weeks).items():
        times = []
        for i in range(args.runs):
            fn = variants[i % len(variants)]
            t0 = time.perf_counter()
            with connect(db, read_only=True) as con:
                fn(con)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        worst = max(worst, p95 / BAR_MS)
        flag = "ok" if p95 <= BAR_MS else "OVER"
        print(f"{name:32} {statistics.median(times):8.1f} {p95:8.1f} {max(times):8.1f}  "
              f"{p95 / BAR_MS:5.2f} {flag}")
    print(f"worst p95 / bar ({BAR_MS:.0f} ms): {worst:.2f}")


if __name__ == "__main__":
    main()
