"""A small known warehouse for queue tests: events over three models, a judge's verdicts."""

from __future__ import annotations

import json

MODELS = ("model-a", "model-b", "model-c")
JUDGE = "helpful"


def insert_events(con, n: int, *, judged_fail_every: int = 5) -> list[str]:
    """`n` events `q0000`.. over three models; the judge `helpful` scores every even event, a
    fail (0.0) on every `judged_fail_every`-th even one, else a pass (1.0)."""
    messages = json.dumps([
        {"role": "system", "content": "You are a support bot."},
        {"role": "user", "content": "Where is my parcel?"},
    ])
    con.execute(
        """
        INSERT INTO events (event_id, trace_id, ts, kind, model, input_messages, output_messages,
                            input_text, output_text, status, source_format)
        SELECT printf('q%04d', i), printf('t%04d', i),
               '2026-11-02'::TIMESTAMPTZ + to_hours(i), 'llm', ?[1 + i % 3], ?::JSON,
               json_array(json_object('role', 'assistant', 'content', printf('answer %d', i))),
               printf('question %d', i), printf('answer %d', i), 'ok', 'native'
        FROM range(?) t(i)
        """,
        [list(MODELS), messages, n],
    )
    con.execute(
        """
        INSERT INTO feedback (feedback_id, event_id, name, kind, value, label, source, author,
                              evaluator_version, ts)
        SELECT printf('j%04d', i), printf('q%04d', i), ?, 'score',
               CASE WHEN (i // 2) % ? = 0 THEN 0.0 ELSE 1.0 END,
               CASE WHEN (i // 2) % ? = 0 THEN 'fail' ELSE 'pass' END, 'llm_judge',
               'judge-model', '1', '2026-11-20'::TIMESTAMPTZ
        FROM range(?) t(i) WHERE i % 2 = 0
        """,
        [JUDGE, judged_fail_every, judged_fail_every, n],
    )
    from ingest.load import derived

    derived.refresh(con)
    return [f"q{i:04d}" for i in range(n)]
