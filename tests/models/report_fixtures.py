"""A small planted warehouse for the weekly-report tests (until the shared demo generator lands).

Three intent groups with steady quality over eight weeks, then planted truths: in REGRESSION_WEEK
the billing group moves to another model and its thumbs-up rate falls from 0.80 to 0.45; in
NEW_TOPIC_WEEK a new tag appears. QUIET_WEEK has nothing planted.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import polars as pl

WEEKS = [f"2026-W{w:02d}" for w in range(38, 47)]
REGRESSION_WEEK = "2026-W44"
NEW_TOPIC_WEEK = "2026-W46"
QUIET_WEEK = "2026-W42"
GROUPS = ("intent:billing", "intent:shipping", "intent:account")
NEW_TAG = "topic:crypto"


def plant(con: duckdb.DuckDBPyConnection, *, per_group: int = 400, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    events, feedback = [], []
    for week in WEEKS:
        monday = dt.date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
        groups = list(GROUPS) + ([NEW_TAG] if week >= NEW_TOPIC_WEEK else [])
        for group in groups:
            n = per_group if group != NEW_TAG else per_group // 2
            for i in range(n):
                eid = f"{week}-{group}-{i}"
                ts = dt.datetime.combine(monday, dt.time(), dt.UTC) + dt.timedelta(
                    seconds=int(rng.integers(0, 7 * 86400))
                )
                switched = group == "intent:billing" and week >= REGRESSION_WEEK
                model = "gpt-4.1-mini" if switched else "gpt-4o"
                p_up = 0.45 if switched and week == REGRESSION_WEEK else 0.80
                events.append(
                    {
                        "event_id": eid,
                        "ts": ts,
                        "model": model,
                        "prompt_version": "v1",
                        "input_text": f"question {i} about {group}",
                        "output_text": f"answer {i} <script>alert('x')</script>",
                        "tags": [group],
                        "status": "ok",
                        "latency_ms": float(rng.gamma(4, 200)),
                        "cost_usd": 0.001,
                        "environment": "production",
                    }
                )
                if rng.random() < 0.5:
                    up = float(rng.random() < p_up)
                    feedback.append(
                        {
                            "feedback_id": f"fb-{eid}",
                            "event_id": eid,
                            "name": "thumbs",
                            "kind": "vote",
                            "value": up,
                            "source": "user",
                            "ts": ts + dt.timedelta(minutes=5),
                        }
                    )
    insert(con, events, feedback)


def insert(con: duckdb.DuckDBPyConnection, events: list[dict], feedback: list[dict]) -> None:
    """Insert rows as a loader would, derived tables (trend_facts) refreshed after."""
    from ingest.load import derived

    if events:
        frame = pl.DataFrame(events)
        con.register("_ev", frame)
        cols = ", ".join(frame.columns)
        con.execute(f"INSERT INTO events ({cols}, source_format) SELECT {cols}, 'native' FROM _ev")
        con.unregister("_ev")
    if feedback:
        frame = pl.DataFrame(feedback)
        con.register("_fb", frame)
        cols = ", ".join(frame.columns)
        con.execute(f"INSERT INTO feedback ({cols}) SELECT {cols} FROM _fb")
        con.unregister("_fb")
    derived.refresh(con)
