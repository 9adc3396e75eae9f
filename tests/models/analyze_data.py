"""Small hand-made event sets for the analysis tests, written straight into the warehouse with SQL.

Topics are built from a few templates and slot words, so a test knows which topic each event
belongs to; `insert_events` uses plain INSERTs so the tests do not depend on the loader.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

TOPICS: dict[str, tuple[list[str], list[str]]] = {
    "refund": (
        ["how do i get a refund for {x}", "i want my money back for {x}",
         "refund request for {x} please", "can you refund the {x} i bought"],
        ["my order", "the jacket", "a late delivery", "the subscription", "two shirts"],
    ),
    "password": (
        ["i forgot my password for {x}", "reset password on {x}",
         "cannot log in to {x} after password change", "password reset link for {x} expired"],
        ["the app", "my account", "the website", "the mobile site", "my profile"],
    ),
    "shipping": (
        ["where is my parcel going to {x}", "track shipping to {x}",
         "delivery to {x} is late", "how long does shipping to {x} take"],
        ["berlin", "my office", "canada", "the pickup point", "my neighbour"],
    ),
    "invoice": (
        ["send me an invoice for {x}", "vat invoice needed for {x}",
         "download the invoice of {x}", "invoice address wrong on {x}"],
        ["march", "order 1234", "my company", "last month", "the annual plan"],
    ),
    "crypto": (  # the "new topic" used for planted drift
        ["can i pay with crypto bitcoin for {x}", "do you accept crypto wallets for {x}",
         "crypto ethereum payment failed for {x}", "pay in crypto usdt for {x}"],
        ["the premium plan", "gift cards", "my order", "shipping fees", "the renewal"],
    ),
}
START = dt.datetime(2026, 9, 7, tzinfo=dt.UTC)  # a Monday


def make_events(
    n: int,
    *,
    seed: int = 0,
    weeks: int = 6,
    topics: dict[str, float] | None = None,
    start: dt.datetime = START,
    models: tuple[str, ...] = ("model-a",),
    id_prefix: str = "ev",
) -> pl.DataFrame:
    """n events spread evenly over `weeks` weeks; topic mix from `topics` (name -> weight)."""
    rng = np.random.default_rng(seed)
    mix = topics or {"refund": 1, "password": 1, "shipping": 1, "invoice": 1}
    names = list(mix)
    p = np.asarray([mix[t] for t in names], dtype=float)
    p /= p.sum()
    rows = []
    for i in range(n):
        topic = names[rng.choice(len(names), p=p)]
        templates, slots = TOPICS[topic]
        text = templates[rng.integers(len(templates))].format(x=slots[rng.integers(len(slots))])
        ts = start + dt.timedelta(seconds=float(rng.uniform(0, weeks * 7 * 86400)))
        rows.append({
            "event_id": f"{id_prefix}{i:06d}", "ts": ts, "input_text": text,
            "output_text": f"answer about {topic}", "model": models[rng.integers(len(models))],
            "topic": topic,
        })
    return pl.DataFrame(rows).sort("ts")


def insert_events(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> None:
    con.register("incoming", frame)
    cols = set(frame.columns)
    status = "incoming.status" if "status" in cols else "'ok'"
    cost = "incoming.cost_usd" if "cost_usd" in cols else "0.001"
    latency = "incoming.latency_ms" if "latency_ms" in cols else "800.0"
    con.execute(
        "INSERT INTO events (event_id, ts, kind, model, input_text, output_text, status, "
        f"cost_usd, latency_ms, source_format) SELECT event_id, ts, 'llm', model, input_text, "
        f"output_text, {status}, {cost}, {latency}, 'native' FROM incoming"
    )
    con.unregister("incoming")


def insert_votes(con: duckdb.DuckDBPyConnection, votes: pl.DataFrame) -> None:
    """votes: event_id, value (1 up / 0 down)."""
    con.register("incoming_votes", votes)
    con.execute(
        "INSERT INTO feedback (feedback_id, event_id, name, kind, value, source, ts) "
        "SELECT 'fb-' || event_id, event_id, 'thumbs', 'vote', value, 'user', now() "
        "FROM incoming_votes"
    )
    con.unregister("incoming_votes")


def copy_warehouse(src: Path, tmp_path: Path, name: str = "copy.duckdb") -> Path:
    """A copy of an analysed warehouse in `tmp_path`, so a test can write to it and the
    module's analysed original stays as it was."""
    dst = tmp_path / name
    shutil.copy(src, dst)
    return dst
