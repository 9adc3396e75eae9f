"""The event an evaluator sees: one `events` row, its JSON columns parsed on first use.

Code evaluators receive an `Event`. It reads like a dict (`event["output_text"]`,
`event.get("params")`) and like an object (`event.output_text`); JSON columns (input_messages,
output_messages, params, raw) come back parsed, so a check over 100k events pays for parsing
only the columns it touches. Derived fields: `system_prompt`, `context` (retrieved context: tool
results and `context`/`retrieval` roles of the conversation) and `correction` (the latest
correction feedback's text, when one was loaded).
"""

from __future__ import annotations

from typing import Any

import orjson

# The columns read for every event, in this order (store.py selects them).
COLUMNS = (
    "event_id", "trace_id", "ts", "kind", "name", "provider", "model", "prompt_name",
    "prompt_version", "input_messages", "output_messages", "input_text", "output_text",
    "params", "tokens_in", "tokens_out", "status", "error_type", "error_message", "user_id",
    "session_id", "tags", "environment", "source_format", "raw",
)  # fmt: skip
JSON_COLUMNS = frozenset({"input_messages", "output_messages", "params", "raw"})
_INDEX = {c: i for i, c in enumerate(COLUMNS)}
DERIVED = ("system_prompt", "context", "correction")


def _loads(text: Any) -> Any:
    if text is None or not isinstance(text, str | bytes):
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def message_text(content: Any) -> str:
    """The text of a message's content (a string, or a list of parts with `text`)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content
                         if isinstance(p, dict) and p.get("text"))
    return "" if content is None else str(content)


class Event:
    """One event; see the module docstring. `text(column)` gives a JSON column's raw text."""

    __slots__ = ("_row", "_parsed", "correction", "_messages", "_outputs", "memo")

    def __init__(self, row: tuple | dict[str, Any], correction: str | None = None) -> None:
        # A tuple in COLUMNS order (as store.py selects it), or a dict (tests, users' scripts).
        self._row = tuple(row.get(c) for c in COLUMNS) if isinstance(row, dict) else row
        self._parsed: dict[str, Any] = {}
        self.correction = correction
        self._messages: list[dict[str, Any]] | None = None
        self._outputs: list[dict[str, Any]] | None = None
        self.memo: dict[str, Any] = {}  # what several checks derive from the event, once

    def text(self, column: str) -> str | None:
        value = self._row[_INDEX[column]]
        return value if isinstance(value, str) or value is None else orjson.dumps(value).decode()

    def __getitem__(self, key: str) -> Any:
        i = _INDEX.get(key)
        if i is not None:
            if key in JSON_COLUMNS:
                if key not in self._parsed:
                    self._parsed[key] = _loads(self._row[i])
                return self._parsed[key]
            return self._row[i]
        if key == "system_prompt":
            return self.system_prompt
        if key == "context":
            return self.context
        if key == "correction":
            return self.correction
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        i = _INDEX.get(key)
        if i is not None and key not in JSON_COLUMNS:
            value = self._row[i]
        else:
            try:
                value = self[key]
            except KeyError:
                return default
        return default if value is None else value

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def keys(self) -> list[str]:
        return [*COLUMNS, *DERIVED]

    def as_dict(self) -> dict[str, Any]:
        return {k: self[k] for k in self.keys()}

    @property
    def messages(self) -> list[dict[str, Any]]:
        if self._messages is None:
            msgs = self["input_messages"]
            self._messages = [m for m in msgs if isinstance(m, dict)] \
                if isinstance(msgs, list) else []
        return self._messages

    @property
    def outputs(self) -> list[dict[str, Any]]:
        if self._outputs is None:
            msgs = self["output_messages"]
            self._outputs = [m for m in msgs if isinstance(m, dict)] \
                if isinstance(msgs, list) else []
        return self._outputs

    @property
    def system_prompt(self) -> str:
        return "\n\n".join(message_text(m.get("content")) for m in self.messages
                           if m.get("role") in ("system", "developer"))

    @property
    def context(self) -> str:
        return "\n\n".join(message_text(m.get("content")) for m in self.messages
                           if m.get("role") in ("tool", "function", "context", "retrieval",
                                                "document"))

    def __repr__(self) -> str:
        return f"Event({self._row[0]!r})"
