"""Secrets out of what leaves the machine: one set of patterns, as DuckDB SQL and as Python.

The loader stores what a log holds; it has no redaction of its own. Most columns are text a
model saw or wrote, but two hold whatever a logging library put in a record: `params` (request
parameters: a client that logs its whole kwargs logs `api_key`) and `raw` (a foreign format's
original record: HTTP headers such as `Authorization`, SDK metadata). `error_message` may quote
a key a provider rejected. Every export scrubs those columns on the way out:

- by key: the string value of any JSON key whose name contains api_key, authorization,
  password, secret, token (access/refresh/auth/bearer/session/id), cookie or private_key
  becomes "[redacted]" (`max_tokens` and `tokens_in` are not matched: the word must be one of
  those compounds);
- by shape, anywhere in those columns: OpenAI/Anthropic keys (`sk-...`), `Bearer ...`, AWS
  access key ids, GitHub and Slack tokens.

The fine-tune file applies the shape patterns to message text too (a key pasted into a chat
should not go to a training vendor). The patterns are RE2 and Python `re` alike.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"

_KEY_WORDS = (
    r"api[_-]?key|apikey|authorization|password|passwd|secret|private[_-]?key|cookie|"
    r"(?:access|refresh|auth|bearer|session|id)[_-]?token|x-api-key"
)
# "key": "value" where the key names a secret; the value is a JSON string (escapes allowed).
KEY_PATTERN = r'(?i)("[^"]*(?:' + _KEY_WORDS + r')[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*"'
KEY_REPLACEMENT = r'\1"' + REDACTED + '"'
SHAPE_PATTERN = (
    r"(?i)\bsk-[a-z0-9_-]{20,}|\bbearer\s+[a-z0-9._~+/-]{16,}=*|\bAKIA[0-9A-Z]{16}\b|"
    r"\bgh[pousr]_[a-z0-9]{30,}|\bxox[abpors]-[a-z0-9-]{10,}"
)
_SHAPE_RE = re.compile(SHAPE_PATTERN)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def json_sql(column: str) -> str:
    """SQL: a JSON column as scrubbed text (VARCHAR, so every reader sees a plain string)."""
    by_key = (
        f"regexp_replace(CAST({column} AS VARCHAR), {_sql_literal(KEY_PATTERN)}, "
        f"{_sql_literal(KEY_REPLACEMENT)}, 'g')"
    )
    return text_sql(by_key)


def text_sql(expr: str) -> str:
    """SQL: a text expression with secret-shaped substrings replaced."""
    return (
        f"regexp_replace({expr}, {_sql_literal(SHAPE_PATTERN)}, {_sql_literal(REDACTED)}, 'g')"
    )


def scrub_text(text: str) -> tuple[str, int]:
    """Python: the text with secret-shaped substrings replaced, and how many were."""
    return _SHAPE_RE.subn(REDACTED, text)
