"""The events list's query (dashboard.queries.explorer.page_of_events) on a large warehouse: p95
against the 150 ms bar, beside the feedback lookup it replaced, in the same run.

    python bench/explorer.py --db WAREHOUSE          # e.g. the one bench/scale.py --keep leaves
    python bench/explorer.py --db WAREHOUSE --runs 40

Each run opens its own read-only connection, as a page run does, and alternates between page
states (the first pages of the default list, a model filter, an error filter), so no answer is
reused. "before" is the lookup the list made until migration 008: the page's ids looked up in
the whole `feedback` table (`event_id IN (...)`, no index, nothing to prune by); "now" reads the
names from `trend_facts`, pruned by the page's time range. Both return the same names (checked
on every run). The warehouse must be at migration 008: open it once with a writer
(`reviewdeck ingest` of anything, or `python -c "from ingest.db import connect; connect(DB)"`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(REPO))

from bench.queries import _p95  # noqa: E402
from dashboard.queries.explorer import PAGE_SIZE, _where, page_of_events  # noqa: E402
from ingest.db import connect  # noqa: E402
from models.filters import EventFilter  # noqa: E402

BAR_MS = 150.0


def _states(db: Path) -> list[tuple[EventFilter, int]]:
    with connect(db, read_only=True) as con:
        model = con.execute(
            "SELECT model FROM events WHERE model IS NOT NULL GROUP BY model ORDER BY count(*) DESC"
            " LIMIT 1"
        ).fetchall()
    flt = EventFilter()
    states = [(flt, 0), (flt, 50), (flt, 500), (EventFilter(status="error"), 0)]
    if model:
        states.append((EventFilter(models=(model[0][0],)), 0))
    return states


def _before(con, flt: EventFilter, offset: int) -> dict[str, str | None]:
    """The list as page_of_events built it before migration 008 (git show 864349e:
    dashboard/queries/explorer.py): the page's ids, then their names from `feedback`."""
    where, params = _where(con, flt)
    ids = con.execute(
        f"SELECT e.event_id, e.ts FROM events e WHERE {where}"
        " ORDER BY e.ts DESC, e.event_id LIMIT ? OFFSET ?",
        [*params, PAGE_SIZE, int(offset)],
    ).fetchall()
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    rows = con.execute(
        f"""
        WITH page AS (
            SELECT e.event_id, e.ts, e.kind, e.model, e.prompt_version, e.status,
                   left(e.input_text, 200) AS input, left(e.output_text, 200) AS output,
                   e.tokens_in, e.tokens_out, e.cost_usd, e.latency_ms, e.rerun_of
            FROM events e
            WHERE e.ts BETWEEN ? AND ? AND e.event_id IN ({marks})
        ),
        fb AS (
            SELECT f.event_id, string_agg(DISTINCT f.name, ', ' ORDER BY f.name) AS feedback
            FROM feedback f WHERE f.event_id IN ({marks})
            GROUP BY f.event_id
        )
        SELECT page.event_id, fb.feedback
        FROM page LEFT JOIN fb USING (event_id)
        ORDER BY page.ts DESC, page.event_id
        """,
        [min(r[1] for r in ids), max(r[1] for r in ids), *[r[0] for r in ids],
         *[r[0] for r in ids]],
    ).fetchall()
    return dict(rows)


def _now(con, flt: EventFilter, offset: int) -> dict[str, str | None]:
    page = page_of_events(con, flt, offset=offset)
    return dict(zip(page["event_id"].to_list(), page["feedback"].to_list(), strict=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    with connect(args.db, read_only=True) as con:
        has = con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'trend_facts'"
            " AND column_name = 'feedback_names'"
        ).fetchall()[0][0]
        n_events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
        n_feedback = con.execute("SELECT count(*) FROM feedback").fetchall()[0][0]
    if not has:
        sys.exit(f"{args.db}: no trend_facts.feedback_names yet (migration 008); open it once "
                 "with a writer first")
    states = _states(args.db)
    print(f"{args.db}: {n_events:,} events, {n_feedback:,} feedback rows; {args.runs} runs "
          f"over {len(states)} page states, a fresh read-only connection each")
    times: dict[str, list[float]] = {"before": [], "now": []}
    for i in range(args.runs + 1):  # the first round is untimed: imports, first touch
        flt, offset = states[i % len(states)]
        got = {}
        for name, fn in (("before", _before), ("now", _now)):
            with connect(args.db, read_only=True) as con:
                t0 = time.perf_counter()
                got[name] = fn(con, flt, offset)
                ms = (time.perf_counter() - t0) * 1000
            if i:
                times[name].append(ms)
        if got["before"] != got["now"]:
            sys.exit(f"the two lookups disagree on {flt.to_query()} offset {offset}")
    for name, label in (("before", "feedback IN lookup (before 008)"),
                        ("now", "trend_facts, pruned by time (now)")):
        p95 = _p95(times[name])
        verdict = "ok" if p95 <= BAR_MS else f"MISSED x{p95 / BAR_MS:.1f}"
        print(f"  page_of_events, {label:34} p95 {p95:7.1f} ms  median "
              f"{sorted(times[name])[len(times[name]) // 2]:7.1f} ms  (bar {BAR_MS:.0f} ms: "
              f"{verdict})")
    print(f"  ratio now / before (p95): {_p95(times['now']) / _p95(times['before']):.2f}")


if __name__ == "__main__":
    main()
