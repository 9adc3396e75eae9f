""" "What moved" on 20 demo seeds: how many segments get flagged where nothing was planted.

    python bench/false_flags.py                       # 20 seeds × 50k events, metric 'negative'
    python bench/false_flags.py --seeds 5 --events 20000 --metric thumbs_up
    python bench/false_flags.py --compare baseline      # each week vs the 4 weeks before

For each seed the demo generator writes a log, the real loader loads it (cached under
bench/out/ff_<events>_<seed>.duckdb), and the page's analysis (dashboard.queries.trends.moved:
every model, prompt version, tag and model × prompt version × tag, Fisher exact per segment,
Benjamini–Hochberg at q = 0.05 across all of them) runs for every week against the week before.

A tested segment is *touched* in a comparison when its events (either week) include traffic a
planted change treats differently between the two weeks, read from the truths sidecar: the
switched group in the switch week and the week after (the switch happens on a Monday morning),
the prompt-change group likewise, the new topic from its launch on (its share grows weekly), and
events inside the error-spike window. Every other tested segment is *null*: nothing was planted
in it, so a flag there is a false flag. Printed: flags on touched segments, false flags on null
segments, the per-test false-flag rate against the nominal 5%, and the share of all flags that
are false (the false-discovery proportion BH bounds at 5% in expectation).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.queries import trends as q  # noqa: E402
from ingest.db import connect  # noqa: E402
from models.filters import EventFilter  # noqa: E402
from models.trends import core as trends  # noqa: E402
from tests.models.demo_flags import classify, touched_segments  # noqa: E402

OUT = REPO / "bench" / "out"
END = dt.date(2026, 11, 15)
ALPHA = 0.05


def build(events: int, seed: int) -> tuple[Path, dict]:
    from ingest.demo.generate import generate, truths_path
    from ingest.load.loader import load_source
    from ingest.load.read import Source

    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"ff_{events}_{seed}.duckdb"
    side = OUT / f"ff_{events}_{seed}.truths.json"
    if db.exists() and side.exists():
        return db, json.loads(side.read_text())
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    log = OUT / f"ff_{events}_{seed}.jsonl"
    res = generate(log, events=events, seed=seed, end_date=END)
    with connect(db):
        pass
    load_source(db, Source(str(log), log))
    side.write_text(json.dumps(res.truths))
    log.unlink()
    truths_path(log).unlink(missing_ok=True)
    return db, res.truths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--metric", default="negative", choices=list(trends.RATES))
    ap.add_argument(
        "--compare",
        default="previous",
        choices=["previous", "baseline"],
        help="the week before, or the 4 weeks before (the page's baseline)",
    )
    args = ap.parse_args()
    total = {
        "tested": 0,
        "null": 0,
        "touched": 0,
        "false": 0,
        "true": 0,
        "analyses": 0,
        "analyses_with_false": 0,
    }
    examples: list[str] = []
    t0 = time.perf_counter()
    for seed in range(args.seeds):
        db, truths = build(args.events, seed)
        cal = truths["calendar"]
        with connect(db, read_only=True) as con:
            for week in range(2, len(cal) + 1):
                monday = dt.date.fromisoformat(cal[week - 1]["start"][:10])
                res = q.moved(con, EventFilter(), args.metric, monday, None, args.compare, ALPHA)
                back = 7 if args.compare == "previous" else 28
                hit = touched_segments(
                    con,
                    truths,
                    week,
                    monday - dt.timedelta(days=back),
                    monday + dt.timedelta(days=7),
                    back // 7,
                )
                false_here = 0
                for r, touched in classify(res, hit):
                    key = (r["dims"], r["model"], r["prompt_version"], r["tag"])
                    total["tested"] += 1
                    total["touched" if touched else "null"] += 1
                    if r["flagged"]:
                        if touched:
                            total["true"] += 1
                        else:
                            total["false"] += 1
                            false_here += 1
                            if len(examples) < 12:
                                examples.append(
                                    f"seed {seed} week {week}: {r['dims']} "
                                    f"{key[1:]} {r['rate_ref']:.3f} -> {r['rate']:.3f} "
                                    f"(n {r['n_ref']} -> {r['n']}, q={r['q_value']:.3f})"
                                )
                total["analyses"] += 1
                total["analyses_with_false"] += bool(false_here)
        print(
            f"seed {seed:2d}: cumulative false flags {total['false']}, "
            f"flags on touched segments {total['true']} ({time.perf_counter() - t0:.0f}s)",
            flush=True,
        )
    n_null = max(total["null"], 1)
    flags = total["true"] + total["false"]
    print()
    print(
        f"metric {args.metric!r}, {args.seeds} seeds × {args.events:,} events, "
        f"{total['analyses']} analyses (each week vs {args.compare}), BH q = {ALPHA}"
    )
    print(
        f"segments tested: {total['tested']:,} ({total['touched']:,} touched by a planted "
        f"change, {total['null']:,} null)"
    )
    print(f"flags on touched segments: {total['true']}")
    print(
        f"false flags (null segments flagged): {total['false']} — "
        f"{total['false'] / n_null:.4f} per null test vs nominal {ALPHA} "
        f"(ratio {total['false'] / n_null / ALPHA:.2f})"
    )
    print(
        f"analyses with at least one false flag: {total['analyses_with_false']} of "
        f"{total['analyses']} ({total['analyses_with_false'] / total['analyses']:.3f})"
    )
    if flags:
        print(
            f"false-discovery proportion: {total['false'] / flags:.3f} (BH bounds its "
            f"expectation by {ALPHA})"
        )
    for line in examples:
        print("  ", line)


if __name__ == "__main__":
    main()
