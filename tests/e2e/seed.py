"""A small, known warehouse for page tests, written with plain SQL (no loader needed).

`seed(path)` fills a migrated warehouse with `n` LLM events over 14 days (2026-11-01..14, UTC),
spread over three models and two prompt versions in a fixed pattern, so tests can compute the
expected numbers with SQL of their own. It also adds one hand-written hostile event (HTML and
script in its messages) with event-level and trace-level feedback and one rerun.
"""

from __future__ import annotations

import json
from pathlib import Path

from ingest.db import connect

FIRST_DAY = "2026-11-01"
DAYS = 14
MODELS = ("gpt-4o-2024-08-06", "gpt-4.1-mini", "claude-sonnet-4")
HOSTILE_ID = "evt-hostile"
HOSTILE_TRACE = "trace-hostile"
HOSTILE_RERUN_ID = "evt-hostile-rerun"
SCRIPT = "<script>window.__xss = 1</script>"
IMG = '<img src=x onerror="window.__xss = 2">'
HOSTILE_INPUT = f"Why was I charged twice? {SCRIPT} {IMG} [click](javascript:alert(1))"
HOSTILE_OUTPUT = f"Sorry about that! <b>bold?</b> {SCRIPT}"


def seed(path: str | Path, n: int = 600) -> Path:
    """Write `n` events (plus the hostile one and its rerun) into the warehouse at `path`."""
    path = Path(path)
    with connect(path) as con:
        con.execute(
            """
            INSERT INTO events (event_id, trace_id, ts, ts_end, kind, provider, model,
                model_requested, prompt_name, prompt_version, input_messages, output_messages,
                input_text, output_text, params, tokens_in, tokens_out, cost_usd, latency_ms,
                status, error_type, error_message, user_id, session_id, tags, environment,
                source_format)
            SELECT printf('evt-%05d', i), printf('trace-%05d', i),
                   ?::TIMESTAMPTZ + to_minutes((i * 1440 * ? // ?)::BIGINT),
                   ?::TIMESTAMPTZ + to_minutes((i * 1440 * ? // ?)::BIGINT) + INTERVAL 2 SECOND,
                   'llm', 'openai', ?[1 + i % 3], ?[1 + i % 3], 'support',
                   CASE WHEN i % 2 = 0 THEN 'v1' ELSE 'v2' END,
                   json_array(json_object('role', 'system', 'content', 'You help customers.'),
                              json_object('role', 'user', 'content', printf('question %d', i))),
                   json_array(json_object('role', 'assistant', 'content', printf('answer %d', i))),
                   printf('question %d about billing', i), printf('answer %d', i),
                   json_object('temperature', 0.2), 100 + i % 50, 40 + i % 30,
                   0.001 * (1 + i % 3), 500 + 10 * (i % 100),
                   CASE WHEN i % 20 = 0 THEN 'error' ELSE 'ok' END,
                   CASE WHEN i % 20 = 0 THEN 'timeout' END,
                   CASE WHEN i % 20 = 0 THEN 'request timed out' END,
                   printf('user-%d', i % 25), printf('sess-%d', i % 60),
                   [CASE WHEN i % 4 = 0 THEN 'topic:refunds' ELSE 'topic:billing' END],
                   'production', 'native'
            FROM range(?) t(i)
            """,
            [FIRST_DAY, DAYS, n, FIRST_DAY, DAYS, n, list(MODELS), list(MODELS), n],
        )
        # Thumbs on every 7th event: down when i % 3 == 0, else up.
        con.execute(
            """
            INSERT INTO feedback (feedback_id, event_id, name, kind, value, source, author, ts)
            SELECT printf('fb-%05d', i), printf('evt-%05d', i), 'thumbs', 'vote',
                   CASE WHEN i % 3 = 0 THEN 0 ELSE 1 END, 'user', printf('user-%d', i % 25),
                   ?::TIMESTAMPTZ + to_minutes((i * 1440 * ? // ?)::BIGINT) + INTERVAL 1 MINUTE
            FROM range(?) t(i) WHERE i % 7 = 0
            """,
            [FIRST_DAY, DAYS, n, n],
        )
        _hostile(con)
    return path


def _hostile(con) -> None:
    messages_in = [
        {"role": "system", "content": "You help. <style>body{display:none}</style>"},
        {"role": "user", "content": HOSTILE_INPUT},
    ]
    messages_out = [{"role": "assistant", "content": HOSTILE_OUTPUT}]
    row = (
        "2026-11-10 12:00:00+00",
        "gpt-4o-2024-08-06",
        json.dumps(messages_in),
        json.dumps(messages_out),
        HOSTILE_INPUT,
        HOSTILE_OUTPUT,
    )
    con.execute(
        """
        INSERT INTO events (event_id, trace_id, ts, kind, provider, model, prompt_name,
            prompt_version, input_messages, output_messages, input_text, output_text, params,
            tokens_in, tokens_out, cost_usd, latency_ms, status, tags, environment, source_format)
        VALUES (?, ?, ?::TIMESTAMPTZ, 'llm', 'openai', ?, 'support', 'v2', ?, ?, ?, ?,
                '{"temperature": 0.7, "max_tokens": 256}', 321, 123, 0.0042, 1234.5, 'ok',
                ['topic:billing'], 'production', 'native')
        """,
        [HOSTILE_ID, HOSTILE_TRACE, *row],
    )
    con.execute(
        """
        INSERT INTO events (event_id, trace_id, ts, kind, provider, model, input_messages,
            output_messages, input_text, output_text, tokens_in, tokens_out, cost_usd,
            latency_ms, status, environment, rerun_of, source_format)
        VALUES (?, 'trace-rerun', '2026-11-14 09:00:00+00', 'llm', 'openai', 'gpt-4.1-mini',
                ?, '[{"role": "assistant", "content": "A better answer"}]', ?,
                'A better answer', 300, 50, 0.0003, 800, 'ok', 'playground', ?, 'playground')
        """,
        [HOSTILE_RERUN_ID, json.dumps(messages_in), HOSTILE_INPUT, HOSTILE_ID],
    )
    con.execute(
        """
        INSERT INTO feedback (feedback_id, event_id, trace_id, name, kind, value, label, source,
                              comment, correction, author, ts)
        VALUES ('fb-h1', ?, NULL, 'thumbs', 'vote', 0, NULL, 'user', NULL, NULL, 'user-1',
                '2026-11-10 12:05:00+00'),
               ('fb-h2', ?, NULL, 'correction', 'correction', 0.6, NULL, 'reviewer',
                'charged twice <b>really</b>', 'Refund issued <script>x()</script>', 'ana',
                '2026-11-11 08:00:00+00'),
               ('fb-h3', NULL, ?, 'helpfulness', 'score', 0.25, NULL, 'llm_judge',
                'trace-level judge rationale', NULL, 'judge-model', '2026-11-12 08:00:00+00'),
               ('fb-h4', ?, NULL, 'verdict', 'label', NULL, 'better', 'reviewer', NULL, NULL,
                'ana', '2026-11-14 09:05:00+00')
        """,
        [HOSTILE_ID, HOSTILE_ID, HOSTILE_TRACE, HOSTILE_RERUN_ID],
    )
