"""Secrets kept out of the warehouse and of what leaves it: one set of patterns, as DuckDB SQL
and as Python.

Most columns are text a model saw or wrote, but two hold whatever a logging library put in a
record: `params` (request parameters: a client that logs its whole kwargs logs `api_key`) and
`raw` (a foreign format's original record: HTTP headers such as `Authorization`, SDK metadata).
`error_message` may quote a key a provider rejected, and a rejected line is kept as it was read.
The loader scrubs those columns as it inserts them (ingest/load/loader.py), and every export
scrubs them again on the way out (models/export), so a warehouse loaded before this existed
does not leak either:

- by key: the string value of any JSON key whose name contains api_key, authorization,
  password, secret, token (access/refresh/auth/bearer/session/id), cookie or private_key
  becomes "[redacted]" (`max_tokens` and `tokens_in` are not matched: the word must be one of
  those compounds), also inside JSON kept as a string in the record (OpenInference's
  `llm.invocation_parameters`);
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
# The same pair one level down: JSON kept as a string inside JSON, as OpenInference keeps
# `llm.invocation_parameters` ({\"api_key\": \"...\"} in the raw span). The value runs to the
# first \" that does not end an inner escape (an inner \\ or \" is four or three characters).
_ESCAPED_VALUE = r'(?:[^"\\]|\\[^"\\]|\\\\(?:\\"|\\\\|[^"\\]|\\[^"\\]))*'
ESCAPED_KEY_PATTERN = (r'(?i)(\\"[^"\\]*(?:' + _KEY_WORDS + r')[^"\\]*\\"\s*:\s*)\\"'
                       + _ESCAPED_VALUE + r'\\"')
ESCAPED_KEY_REPLACEMENT = r'\1\\"' + REDACTED + r'\\"'
SHAPE_PATTERN = (
    r"(?i)\bsk-[a-z0-9_-]{20,}|\bbearer\s+[a-z0-9._~+/-]{16,}=*|\bAKIA[0-9A-Z]{16}\b|"
    r"\bgh[pousr]_[a-z0-9]{30,}|\bxox[abpors]-[a-z0-9-]{10,}"
)
_SHAPE_RE = re.compile(SHAPE_PATTERN)


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Lowercase substrings at least one of which is in any text the two patterns above can change:
# the loader replaces only in values that hold one. `contains` scans ~30x faster than RE2 runs
# the replacements, and a raw OTel span is a few kB, 20,000 of them a second (ingest/secrets.py
# tests check that the guard never changes a result). Not `token` or `key` alone: every GenAI
# span has `input_tokens`, and OTLP's attribute lists have "key".
CUES = (
    "api_key", "api-key", "apikey", "private_key", "private-key", "privatekey", "auth", "passw",
    "secret", "cookie", "bearer", "access_token", "access-token", "accesstoken",
    "refresh_token", "refresh-token", "refreshtoken", "session_token", "session-token",
    "sessiontoken", "id_token", "id-token", "idtoken", "sk-", "akia", "ghp_", "gho_", "ghu_",
    "ghs_", "ghr_", "xox",
)  # fmt: skip


def json_sql(column: str, *, guarded: bool = False) -> str:
    """SQL: a JSON column as scrubbed text (VARCHAR, so every reader sees a plain string).
    `guarded`: replace only in values that hold one of CUES (same result, faster)."""
    text = f"CAST({column} AS VARCHAR)"
    by_key = by_key_sql(text)
    if not guarded:
        return text_sql(by_key)
    return (
        f"CASE WHEN {' OR '.join(f'contains(lower({text}), {sql_literal(c)})' for c in CUES)} "
        f"THEN {text_sql(by_key)} ELSE {text} END"
    )


def by_key_sql(expr: str) -> str:
    """SQL: JSON text with the values of secret-named keys replaced, at the top level and in
    JSON kept as a string inside it."""
    once = (f"regexp_replace({expr}, {sql_literal(KEY_PATTERN)}, "
            f"{sql_literal(KEY_REPLACEMENT)}, 'g')")
    return (f"regexp_replace({once}, {sql_literal(ESCAPED_KEY_PATTERN)}, "
            f"{sql_literal(ESCAPED_KEY_REPLACEMENT)}, 'g')")


def text_sql(expr: str) -> str:
    """SQL: a text expression with secret-shaped substrings replaced."""
    return (
        f"regexp_replace({expr}, {sql_literal(SHAPE_PATTERN)}, {sql_literal(REDACTED)}, 'g')"
    )


def scrub_text(text: str) -> tuple[str, int]:
    """Python: the text with secret-shaped substrings replaced, and how many were."""
    return _SHAPE_RE.subn(REDACTED, text)
