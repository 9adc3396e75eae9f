"""Adapting a logged request to what the target model accepts, and saying what was changed.

Reruns move a request from the model it was logged with to another one, and models differ:
o1-mini rejects system messages, reasoning models reject `temperature` and want
`max_completion_tokens` instead of `max_tokens`. The rules live in a data table
(models/rerun/capabilities.json, documented there and in docs/playground.md; users extend it with
REVIEWDECK_CAPABILITIES), and `adapt_request` returns the adapted request plus a plain list of
the changes so the page and the CLI can tell the reviewer.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ingest.errors import ConfigError

CAPABILITIES_ENV = "REVIEWDECK_CAPABILITIES"
SYSTEM_MODES = ("system", "developer", "user")
PARAM_MODES = ("supported", "drop")
LIMIT_NAMES = ("max_tokens", "max_completion_tokens")


@dataclass(frozen=True)
class Rule:
    pattern: str
    system: str = "system"
    temperature: str = "supported"
    top_p: str = "supported"
    max_tokens: str = "max_tokens"
    drop: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Adapted:
    messages: list[dict[str, Any]]
    params: dict[str, Any]
    changes: tuple[str, ...]  # human-readable, one per change; empty when sent as logged
    rule: Rule


def _rule(raw: dict[str, Any], origin: str) -> Rule:
    try:
        rule = Rule(pattern=str(raw["pattern"]), system=raw.get("system", "system"),
                    temperature=raw.get("temperature", "supported"),
                    top_p=raw.get("top_p", "supported"),
                    max_tokens=raw.get("max_tokens", "max_tokens"),
                    drop=tuple(raw.get("drop") or ()), note=str(raw.get("note", "")))
        re.compile(rule.pattern)
    except (KeyError, TypeError, re.error) as exc:
        raise ConfigError(f"{origin}: bad capability rule {raw!r}: {exc}") from exc
    if (rule.system not in SYSTEM_MODES or rule.temperature not in PARAM_MODES
            or rule.top_p not in PARAM_MODES or rule.max_tokens not in LIMIT_NAMES):
        raise ConfigError(f"{origin}: capability rule {raw!r} has an unknown value; system in "
                          f"{SYSTEM_MODES}, temperature/top_p in {PARAM_MODES}, "
                          f"max_tokens in {LIMIT_NAMES}")
    return rule


def _parse(text: str, origin: str) -> list[Rule]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{origin}: not valid JSON ({exc})") from exc
    return [_rule(r, origin) for r in data.get("rules", [])]


@lru_cache(maxsize=4)
def _load(extra: str | None) -> tuple[Rule, ...]:
    shipped = resources.files("models.rerun").joinpath("capabilities.json").read_text("utf-8")
    rules = _parse(shipped, "models/rerun/capabilities.json")
    if extra:
        try:
            text = Path(extra).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{CAPABILITIES_ENV}={extra!r}: cannot read it ({exc})") from exc
        rules = _parse(text, extra) + rules
    return tuple(rules)


def rules(extra: str | None = None) -> tuple[Rule, ...]:
    return _load(extra or os.environ.get(CAPABILITIES_ENV) or None)


def rule_for(model: str, table: tuple[Rule, ...] | None = None) -> Rule:
    name = model.strip().lower()
    for rule in table if table is not None else rules():
        if re.search(rule.pattern, name):
            return rule
    return Rule(pattern=".*")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def adapt_request(model: str, messages: list[dict[str, Any]], params: dict[str, Any],
                  table: tuple[Rule, ...] | None = None) -> Adapted:
    """The request as `model` accepts it, and what had to change."""
    rule = rule_for(model, table)
    msgs = copy.deepcopy(messages)
    out = dict(params)
    changes: list[str] = []

    systems = [m for m in msgs if m.get("role") in ("system", "developer")]
    if systems and rule.system == "developer":
        n = sum(1 for m in systems if m["role"] == "system")
        for m in systems:
            m["role"] = "developer"
        if n:
            changes.append(f"{n} system message(s) sent with the developer role ({model} "
                           "takes developer instead of system)")
    elif systems and rule.system == "user":
        text = "\n\n".join(_text(m.get("content")) for m in systems)
        msgs = [m for m in msgs if m.get("role") not in ("system", "developer")]
        first_user = next((m for m in msgs if m.get("role") == "user"), None)
        if first_user is None:
            msgs.insert(0, {"role": "user", "content": text})
        else:
            first_user["content"] = f"{text}\n\n{_text(first_user.get('content'))}"
        changes.append(f"system prompt moved into the first user message ({model} "
                       "rejects system messages)")
    elif rule.system == "system" and any(m.get("role") == "developer" for m in systems):
        for m in systems:
            m["role"] = "system"
        changes.append("developer message(s) sent with the system role")

    for name, mode in (("temperature", rule.temperature), ("top_p", rule.top_p)):
        if mode != "drop":
            continue
        dropped = out.pop(name, None)
        if dropped is not None:
            changes.append(f"{name}={dropped} dropped ({model} accepts only the default)")

    limit = out.pop("max_tokens", None)
    limit_new = out.pop("max_completion_tokens", None)
    value = limit_new if limit_new is not None else limit
    if value is not None:
        out[rule.max_tokens] = value
        if limit is not None and rule.max_tokens == "max_completion_tokens":
            changes.append(f"max_tokens={limit} sent as max_completion_tokens")
        elif limit_new is not None and rule.max_tokens == "max_tokens":
            changes.append(f"max_completion_tokens={limit_new} sent as max_tokens")

    for name in rule.drop:
        if out.get(name) is not None:
            changes.append(f"{name} dropped ({model} rejects it)")
        out.pop(name, None)
    return Adapted(msgs, out, tuple(changes), rule)
