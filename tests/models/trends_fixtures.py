"""Hand-written event sets for the trends tests, inserted with plain SQL into a fresh warehouse.

Each call adds `n` events spread over `days` days from `start`, with deterministic shares of
votes, thumbs-up, negative signals and errors (event i gets a signal when (i * 7919) % 1000 falls
under the share × 1000, which spreads signals evenly without randomness).
"""

from __future__ import annotations

import datetime as dt
import itertools

import duckdb

from ingest.load.derived import refresh

_SEQ = itertools.count()


def add_events(
    con: duckdb.DuckDBPyConnection,
    *,
    start: dt.date,
    n: int,
    days: int = 7,
    model: str = "model-a",
    prompt_version: str = "v1",
    tags: tuple[str, ...] = (),
    environment: str = "production",
    negative: float = 0.1,
    votes: float = 0.3,
    up: float = 0.7,
    error: float = 0.0,
    latency_ms: float = 800.0,
    judge: float | None = None,
    users: int = 50,
) -> str:
    """Insert events (and their feedback); returns the id prefix used."""
    prefix = f"b{next(_SEQ)}"
    base = dt.datetime.combine(start, dt.time(), dt.UTC)
    step = days * 86400 / n
    con.execute(
        """
        INSERT INTO events (event_id, ts, kind, model, prompt_version, tags, environment,
            status, user_id, latency_ms, cost_usd, source_format)
        SELECT $p || '-' || i, $base + to_microseconds((i * $step * 1e6)::BIGINT), 'llm',
            $model, $pv, $tags::VARCHAR[], $env,
            CASE WHEN (i * 7919) % 1000 < $err * 1000 THEN 'error' ELSE 'ok' END,
            $p || '-u' || (i % $users), $lat + (i % 7) * 10, 0.001, 'native'
        FROM range($n) r(i)
        """,
        {
            "p": prefix,
            "base": base,
            "step": step,
            "model": model,
            "pv": prompt_version,
            "tags": list(tags),
            "env": environment,
            "err": error,
            "users": users,
            "lat": latency_ms,
            "n": n,
        },
    )
    con.execute(
        """
        INSERT INTO feedback (feedback_id, event_id, name, kind, value, source)
        SELECT $p || '-neg' || i, $p || '-' || i, 'regenerated', 'action', 1, 'user'
        FROM range($n) r(i) WHERE (i * 7919) % 1000 < $neg * 1000
        UNION ALL
        SELECT $p || '-vote' || i, $p || '-' || i, 'thumbs', 'vote',
            CASE WHEN (i * 104729) % 1000 < $up * 1000 THEN 1 ELSE 0 END, 'user'
        FROM range($n) r(i) WHERE (i * 6007) % 1000 < $votes * 1000
        """,
        {"p": prefix, "n": n, "neg": negative, "votes": votes, "up": up},
    )
    if judge is not None:
        con.execute(
            """
            INSERT INTO feedback (feedback_id, event_id, name, kind, value, source)
            SELECT $p || '-j' || i, $p || '-' || i, 'helpfulness', 'score',
                least(1, greatest(0, $j + ((i % 11) - 5) / 20)), 'llm_judge'
            FROM range($n) r(i) WHERE i % 2 = 0
            """,
            {"p": prefix, "n": n, "j": judge},
        )
    refresh(con)
    return prefix
