"""Lenient scalar casts and flattened-key helpers shared by the attribute decoders.

Producers write numbers as strings (Langfuse stringifies every attribute), lists as
dotted-index keys (OpenInference `llm.input_messages.0.message.role`), and several dialects for
one fact; these helpers read them without caring which.
"""

from __future__ import annotations

import math
from typing import Any

Attrs = dict[str, Any]


def as_int(value: Any) -> int | None:
    """Lenient integer: 52, "52", 52.0 → 52; junk → None (callers decide whether to reject)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) else None


def as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def maybe_cast(value: Any) -> Any:
    """Langfuse stringifies numbers and booleans ("2", "true"): give them back their type."""
    if not isinstance(value, str):
        return value
    if value in ("true", "false"):
        return value == "true"
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return value
    # The Langfuse OpenAI integration writes an unset max_tokens as "inf": no JSON number.
    return number if math.isfinite(number) else value


def first(attrs: Attrs, *keys: str) -> Any:
    for key in keys:
        value = attrs.get(key)
        if value is not None and value != "":
            return value
    return None


def unflatten(attrs: Attrs, prefix: str) -> list[Any]:
    """`prefix.0.a.b`, `prefix.10.a` … → a list in numeric index order (not lexicographic)."""
    root: dict[Any, Any] = {}
    cut = len(prefix) + 1
    for key, value in attrs.items():
        if not key.startswith(prefix) or len(key) <= cut or key[cut - 1] != ".":
            continue
        node = root
        parts = key[cut:].split(".")
        for part in parts[:-1]:
            slot = int(part) if part.isdigit() else part
            nxt = node.get(slot)
            if not isinstance(nxt, dict):
                nxt = node[slot] = {}
            node = nxt
        last = parts[-1]
        node[int(last) if last.isdigit() else last] = value
    return _listify(root) if root else []


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(isinstance(k, int) for k in node):
        return [_listify(node[k]) for k in sorted(node)]
    return {k: _listify(v) for k, v in node.items()}
