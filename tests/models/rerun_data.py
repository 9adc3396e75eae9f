"""Hand-written events for the rerun tests, inserted with plain SQL (no loader needed)."""

from __future__ import annotations

import datetime as dt
import json

T0 = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)


def insert_event(con, event_id: str, question: str, answer: str, *, model: str = "gpt-4o-mini",
                 system: str = "You are a banking assistant.", thumbs: int | None = None,
                 tokens_in: int = 120, tokens_out: int = 40, params: dict | None = None,
                 day: int = 0, tags: list[str] | None = None) -> None:
    messages = [{"role": "system", "content": system},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello, how can I help?"},
                {"role": "user", "content": question}]
    con.execute(
        "INSERT INTO events (event_id, trace_id, ts, kind, model, model_requested, provider,"
        " input_messages, output_messages, input_text, output_text, params, tokens_in,"
        " tokens_out, cost_usd, latency_ms, status, environment, source_format, tags)"
        " VALUES (?, ?, ?, 'llm', ?, ?, 'openai', ?, ?, ?, ?, ?, ?, ?, 0.0001, 900, 'ok',"
        " 'production', 'native', ?)",
        [event_id, "t-" + event_id, T0 + dt.timedelta(days=day, minutes=len(event_id)), model,
         model, json.dumps(messages), json.dumps([{"role": "assistant", "content": answer}]),
         question, answer, json.dumps(params or {"temperature": 0.7, "max_tokens": 300}),
         tokens_in, tokens_out, tags or ["topic:cards"]],
    )
    if thumbs is not None:
        con.execute(
            "INSERT INTO feedback (feedback_id, event_id, name, kind, value, source, ts)"
            " VALUES (?, ?, 'thumbs', 'vote', ?, 'user', ?)",
            ["fb-" + event_id, event_id, float(thumbs), T0])


def insert_many(con, n: int, *, thumbs: int | None = 0, prefix: str = "ev") -> list[str]:
    ids = [f"{prefix}{i:04d}" for i in range(n)]
    for i, eid in enumerate(ids):
        insert_event(con, eid, f"Why was my card {i} declined?", f"Old answer {i}.",
                     thumbs=thumbs)
    return ids
