"""Small hand-written events for the evaluator tests, inserted into a real warehouse file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from ingest.db import connect

T0 = dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC)


def event(event_id: str, question: str = "Why was my card declined yesterday at the shop?",
          answer: str | None = "Your card was declined because the balance was too low.",
          **extra: Any) -> dict[str, Any]:
    row = {"event_id": event_id, "kind": "llm", "model": "gpt-4o-mini", "status": "ok",
           "input_messages": [{"role": "system", "content": "You are a bank's assistant."},
                              {"role": "user", "content": question}],
           "input_text": question, "output_text": answer,
           "output_messages": [{"role": "assistant", "content": answer}]}
    row.update(extra)
    return row


def insert(db: Path, rows: list[dict[str, Any]]) -> None:
    cols = ("event_id", "ts", "kind", "model", "input_messages", "output_messages",
            "input_text", "output_text", "params", "tokens_in", "tokens_out", "status",
            "raw", "environment", "source_format")
    values = []
    for i, r in enumerate(rows):
        r = {"ts": T0 + dt.timedelta(minutes=i), "environment": "production",
             "source_format": "native", "tokens_in": 50, "tokens_out": 20, **r}
        values.append([json.dumps(r[c]) if c in ("input_messages", "output_messages",
                                                 "params", "raw") and r.get(c) is not None
                       else r.get(c) for c in cols])
    with connect(db) as con:
        con.executemany(f"INSERT INTO events ({', '.join(cols)}) VALUES "
                        f"({', '.join('?' * len(cols))})", values)


def plain(db: Path, n: int, prefix: str = "e") -> list[str]:
    ids = [f"{prefix}{i:04d}" for i in range(n)]
    insert(db, [event(e, question=f"Why was card {i} declined at the shop today?",
                      answer=f"Card {i} was declined because the balance was too low.")
                for i, e in enumerate(ids)])
    return ids
