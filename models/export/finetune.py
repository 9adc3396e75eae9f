"""A fine-tuning set from logged calls: OpenAI chat fine-tuning JSONL, corrections first.

Each line is `{"messages": [...], "tools"?: [...]}`: the logged request's messages (system,
user, assistant and tool turns, with tool calls) followed by one assistant turn, which is the
newest non-empty correction of the event when one exists (feedback kind 'correction'), else the
logged answer. Calls that teach nothing are left out and counted by reason: an error status, an
empty answer, no user turn, content that is not text (images, audio), a role the format does not
have. Every line written passes `validate_line`. Secret-shaped strings in the text are replaced
(models.export.redact); the count is reported.

Events are read in pages of PAGE rows, each on its own short read-only connection, up to the
newest `ingested_at` seen on the first page, so a writer never waits long and the set is one
consistent cut of the warehouse.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest import secrets as redact
from ingest.db import connect
from models.filters import EventFilter, where_sql

PAGE = 5_000
ROLES = ("system", "user", "assistant", "tool")
REASONS = {
    "error": "the call failed (status error)",
    "empty_output": "the answer is empty and no correction exists",
    "no_user_turn": "the request has no user message",
    "non_text_content": "a message holds images, audio or files, not text",
    "bad_messages": "the logged messages are not a list of role/content turns",
}


@dataclass(frozen=True)
class FinetuneExport:
    out: Path
    written: int
    corrected: int  # lines whose answer is a correction
    with_tools: int
    redacted: int  # secret-shaped strings replaced
    left_out: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "written": self.written, "corrected": self.corrected,
                "with_tools": self.with_tools, "redacted": self.redacted,
                "left_out": dict(self.left_out),
                "left_out_reasons": {k: REASONS[k] for k in self.left_out}}


class _Skip(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def validate_line(obj: Any) -> list[str]:
    """What is wrong with one fine-tuning line (empty when it is valid)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("messages"), list):
        return ["not an object with a messages list"]
    errors = [f"unknown key {k!r}" for k in obj if k not in ("messages", "tools")]
    msgs = obj["messages"]
    if not msgs:
        return errors + ["messages is empty"]
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            errors.append(f"message {i}: role must be one of {', '.join(ROLES)}")
            continue
        content = m.get("content")
        if m["role"] == "assistant" and m.get("tool_calls"):
            if content is not None and not isinstance(content, str):
                errors.append(f"message {i}: content must be a string")
            for call in m["tool_calls"]:
                fn = call.get("function") if isinstance(call, dict) else None
                if not (isinstance(fn, dict) and isinstance(fn.get("name"), str)
                        and isinstance(fn.get("arguments"), str)):
                    errors.append(f"message {i}: tool call needs function name and arguments")
        elif not isinstance(content, str):
            errors.append(f"message {i}: content must be a string")
        if m["role"] == "tool" and not isinstance(m.get("tool_call_id"), str):
            errors.append(f"message {i}: a tool turn needs its tool_call_id")
    if not any(isinstance(m, dict) and m.get("role") == "user" for m in msgs):
        errors.append("no user message")
    last = msgs[-1]
    if not (isinstance(last, dict) and last.get("role") == "assistant"
            and ((isinstance(last.get("content"), str) and last["content"].strip())
                 or last.get("tool_calls"))):
        errors.append("the last message must be a non-empty assistant turn")
    if "tools" in obj and not (isinstance(obj["tools"], list) and obj["tools"]):
        errors.append("tools must be a non-empty list")
    return errors


def _text(content: Any) -> str | None:
    """Message content as a string; text parts joined; None for non-text parts."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, str):
                parts.append(p)
            elif isinstance(p, dict) and p.get("type") in ("text", "input_text", "output_text"):
                parts.append(str(p.get("text", "")))
            else:
                return None
        return "\n".join(parts)
    return None


def _tool_calls(calls: Any) -> list[dict] | None:
    if not isinstance(calls, list) or not calls:
        return None
    out = []
    for c in calls:
        fn = c.get("function") if isinstance(c, dict) else None
        if not isinstance(fn, dict) or not fn.get("name"):
            raise _Skip("bad_messages")
        args = fn.get("arguments")
        out.append({"id": str(c.get("id") or f"call_{len(out)}"), "type": "function",
                    "function": {"name": str(fn["name"]),
                                 "arguments": args if isinstance(args, str)
                                 else json.dumps(args if args is not None else {})}})
    return out


def _message(m: Any) -> dict[str, Any]:
    if not isinstance(m, dict):
        raise _Skip("bad_messages")
    role = {"developer": "system"}.get(m.get("role"), m.get("role"))
    if role not in ROLES:
        raise _Skip("bad_messages")
    text = _text(m.get("content"))
    if text is None and m.get("content") is not None:
        raise _Skip("non_text_content")
    out: dict[str, Any] = {"role": role}
    calls = _tool_calls(m.get("tool_calls")) if role == "assistant" else None
    if calls:
        out["content"] = text
        out["tool_calls"] = calls
        if text is None:
            del out["content"]
    else:
        out["content"] = text or ""
    if role == "tool":
        if not m.get("tool_call_id"):
            raise _Skip("bad_messages")
        out["tool_call_id"] = str(m["tool_call_id"])
    if isinstance(m.get("name"), str) and role in ("user", "system"):
        out["name"] = m["name"]
    return out


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _tools(params: Any, raw: Any) -> list | None:
    """Tool definitions: the request parameters hold them (native logs), or the raw record."""
    for holder in (params, raw, (raw or {}).get("request") if isinstance(raw, dict) else None,
                   (raw or {}).get("body") if isinstance(raw, dict) else None):
        if isinstance(holder, dict) and isinstance(holder.get("tools"), list) and holder["tools"]:
            return holder["tools"]
    return None


def build_line(row: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """One event row -> (line, corrected). Raises _Skip with a reason key."""
    if row["status"] == "error":
        raise _Skip("error")
    inputs = _loads(row["input_messages"])
    if not isinstance(inputs, list):
        raise _Skip("bad_messages" if inputs is not None else "no_user_turn")
    messages = [_message(m) for m in inputs]
    if not any(m["role"] == "user" for m in messages):
        raise _Skip("no_user_turn")
    correction = row["correction"]
    if correction is not None and correction.strip():
        answer: dict[str, Any] = {"role": "assistant", "content": correction}
    else:
        outputs = _loads(row["output_messages"])
        first = next((m for m in outputs or [] if isinstance(m, dict)
                      and m.get("role", "assistant") == "assistant"), None)
        if first is None and row["output_text"]:
            first = {"role": "assistant", "content": row["output_text"]}
        if first is None:
            raise _Skip("empty_output")
        answer = _message({**first, "role": "assistant"})
        if not (answer.get("content") or "").strip() and not answer.get("tool_calls"):
            raise _Skip("empty_output")
    line: dict[str, Any] = {"messages": [*messages, answer]}
    tools = _tools(_loads(row["params"]), _loads(row["raw"]))
    if tools:
        line["tools"] = tools
    return line, correction is not None and bool(correction.strip())


def _scrub(line: dict[str, Any]) -> int:
    n = 0
    for m in line["messages"]:
        if isinstance(m.get("content"), str):
            m["content"], k = redact.scrub_text(m["content"])
            n += k
    return n


_SELECT = """
    SELECT e.event_id, e.ts, e.status, e.input_messages, e.output_messages, e.output_text,
           e.params, e.raw, c.correction
    FROM events e
    LEFT JOIN (
        SELECT event_id, arg_max(correction, coalesce(ts, ingested_at)) AS correction
        FROM feedback
        WHERE kind = 'correction' AND correction IS NOT NULL AND trim(correction) <> ''
        GROUP BY event_id
    ) c ON c.event_id = e.event_id
    WHERE {where} AND e.ingested_at <= ? AND {after}
    ORDER BY e.ts, e.event_id
    LIMIT {page}
"""


def _pages(db_path: Path, flt: EventFilter, page: int):
    where, params = where_sql(flt, "e")
    with connect(db_path, read_only=True) as con:
        cut = con.execute("SELECT max(ingested_at) FROM events").fetchone()[0]
    if cut is None:
        return
    after: list[Any] = []
    while True:
        sql = _SELECT.format(where=where, page=int(page),
                             after="(e.ts, e.event_id) > (?, ?)" if after else "TRUE")
        with connect(db_path, read_only=True) as con:
            cur = con.execute(sql, [*params, cut, *after])
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        if not rows:
            return
        yield rows
        if len(rows) < page:
            return
        after = [rows[-1]["ts"], rows[-1]["event_id"]]


def export_finetune(db_path: str | os.PathLike[str], flt: EventFilter,
                    out: str | os.PathLike[str], *, page: int = PAGE) -> FinetuneExport:
    """Write the fine-tuning JSONL for the events matching flt; atomically replaces out."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    left: Counter[str] = Counter()
    written = corrected = with_tools = redacted = 0
    with open(tmp, "w", encoding="utf-8") as fh:
        for rows in _pages(Path(db_path), flt, page):
            for row in rows:
                try:
                    line, was_corrected = build_line(row)
                except _Skip as skip:
                    left[skip.reason] += 1
                    continue
                redacted += _scrub(line)
                if validate_line(line):  # build_line only makes valid lines; keep it honest
                    left["bad_messages"] += 1
                    continue
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
                written += 1
                corrected += was_corrected
                with_tools += "tools" in line
    os.replace(tmp, out)
    return FinetuneExport(out, written, corrected, with_tools, redacted,
                          dict(sorted(left.items())))
