"""The built-in code evaluators: quality signals on plain logs with no setup and no network.

Each is a function `(event) -> Verdict | None` (None: the check does not apply to this event,
e.g. `invalid_json` on a request that did not ask for JSON). A pass is value 1.0; a fail 0.0
with a reason that says what was found. What each catches and misses is in docs/evaluators.md;
change a check's behaviour and its `version` goes up, so old scores are kept beside new ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

import models.evaluators.language as language
from models.evaluators.event import Event
from models.evaluators.verdict import Verdict, passed


@dataclass(frozen=True)
class Builtin:
    name: str
    version: str
    summary: str
    check: Callable[[Event], Verdict | None]
    # SQL over `events AS e` true for every event the check can apply to: the others are never
    # read (on plain logs most requests ask for no JSON and make no tool calls). Fixed text.
    prefilter: str | None = None


# -- empty or truncated -------------------------------------------------------------------
# Finish reasons that mean "cut off at the output limit", per provider: OpenAI `length`,
# Anthropic `max_tokens`, Gemini `MAX_TOKENS`, OTel GenAI `length`.
_TRUNCATED = {"length", "max_tokens", "MAX_TOKENS", "max_output_tokens"}
_Q = r'\\?"'  # a quote, or an escaped one (JSON inside a JSON string, as OTel attributes are)
_REASON_VALUES = r"(length|max_tokens|MAX_TOKENS|max_output_tokens|content_filter|SAFETY|refusal)"
_FINISH_KEY = re.compile(
    # a key holding the reason(s): "finish_reason": "length", "finish_reasons": ["length"]
    rf'{_Q}(?:finish_reasons?|stop_reason|finishReason|stopReason|llm\.finish_reason'
    rf'|gen_ai\.response\.finish_reasons){_Q}\s*:\s*(?:\[\s*)?{_Q}{_REASON_VALUES}{_Q}'
    # the Responses API: "incomplete_details": {"reason": "max_output_tokens"}
    rf'|{_Q}incomplete_details{_Q}\s*:\s*\{{\s*{_Q}reason{_Q}\s*:\s*{_Q}{_REASON_VALUES}{_Q}'
    # an OTLP attribute: {"key": "gen_ai.response.finish_reasons", "value": {... "stringValue": ..
    rf'|{_Q}key{_Q}\s*:\s*{_Q}(?:gen_ai\.response\.finish_reasons|llm\.finish_reason){_Q}'
    rf'\s*,\s*{_Q}value{_Q}\s*:\s*\{{[^}}]{{0,80}}?{_Q}stringValue{_Q}\s*:\s*{_Q}'
    rf'{_REASON_VALUES}{_Q}')


def finish_reasons(event: Event) -> list[str]:
    """Finish reasons found on the output messages, or anywhere in the source record (`raw`):
    OpenAI `choices[].finish_reason`, Responses `incomplete_details.reason`, Anthropic
    `stop_reason`, Gemini `finishReason`, OTel `gen_ai.response.finish_reasons`."""
    found = event.memo.get("finish_reasons")
    if found is None:
        found = [str(m["finish_reason"]) for m in event.outputs if m.get("finish_reason")]
        for column in ("raw", "params"):
            raw = event.text(column)
            if raw and "eason" in raw:
                found += [next(g for g in m.groups() if g) for m in _FINISH_KEY.finditer(raw)]
        event.memo["finish_reasons"] = found
    return found


def _output_limit(event: Event) -> int | None:
    params = event["params"]
    if isinstance(params, dict):
        for key in ("max_tokens", "max_completion_tokens", "max_output_tokens"):
            value = params.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
    return None


def _has_tool_calls(event: Event) -> bool:
    return any(m.get("tool_calls") or m.get("function_call") for m in event.outputs)


def empty_or_truncated(event: Event) -> Verdict | None:
    if event.get("status") == "error":
        return None  # a failed call has no answer to judge; the error columns say why
    reasons = [r for r in finish_reasons(event) if r in _TRUNCATED]
    if reasons:
        return passed(False, f"truncated: finish reason {reasons[0]!r}")
    limit, used = _output_limit(event), event.get("tokens_out")
    if limit and isinstance(used, int) and used >= limit:
        return passed(False, f"truncated: {used} output tokens reached max_tokens={limit}")
    text = event.get("output_text") or ""
    if not text.strip() and not _has_tool_calls(event):
        return passed(False, "empty answer")
    return passed(True)


# -- refusals -----------------------------------------------------------------------------
_REFUSAL_PATTERNS = [
    # English: apology + inability, inability + help verb, policy, AI disclaimers
    r"\b(?:i'?m|i am) (?:so |very |really )?sorry,? (?:but )?(?:i|we) (?:can(?:no|')t|cannot|"
    r"won'?t|am (?:not )?(?:able|unable)|'m (?:not )?(?:able|unable)|do(?:n'?t| not) "
    r"(?:have|feel))",
    r"\bi (?:can(?:no|')t|cannot|won'?t|will not|am unable to|'m unable to|am not able to|"
    r"'m not able to|must decline to|have to decline to) (?:help|assist|provide|do|comply|"
    r"fulfil+|support|answer|complete|create|generate|write|engage|share|discuss|give|"
    r"offer|process|continue)(?:\b| with)",
    r"\bi (?:must|have to|need to) (?:respectfully )?(?:decline|refuse)\b",
    r"\b(?:this|that|your) request (?:is|goes) against\b",
    r"\b(?:against|violates?) (?:my|our|openai'?s?) (?:guidelines|policies|policy|"
    r"content policy|usage polic(?:y|ies)|terms)\b",
    r"\bas an ai(?: language model| model| assistant)?,? i (?:can(?:no|')t|cannot|don'?t|"
    r"do not|am not|'m not|won'?t)\b",
    r"\bi'?m not (?:allowed|permitted|authori[sz]ed) to\b",
    r"\b(?:i|we) (?:can(?:no|')t|cannot|won'?t) (?:help|assist) (?:you )?with (?:that|this)\b",
    r"\bunfortunately,? i (?:can(?:no|')t|cannot|am unable to|'m unable to|am not able to)\b",
    r"\bi(?:'m| am) (?:unable|not able) to (?:help|assist|provide|comply|do that|answer)\b",
    # French, German, Spanish, Italian, Portuguese, Dutch
    r"\bje (?:ne peux pas|ne suis pas en mesure de|refuse de) (?:vous )?(?:aider|répondre|"
    r"fournir|faire|donner)",
    r"\b(?:désolé|désolée),? (?:mais )?je ne peux pas\b",
    r"\bich kann (?:ihnen |dir )?(?:dabei |hierbei |damit )?(?:nicht|leider nicht|keine) "
    r"(?:helfen|behilflich|beantworten|unterstützen|weiterhelfen)",
    r"\b(?:es tut mir leid|leider),? (?:aber )?(?:ich kann|kann ich) (?:das |dabei )?nicht\b",
    r"\b(?:lo siento|lamentablemente),? (?:pero )?no (?:puedo|me es posible)\b",
    r"\bno puedo (?:ayudar|ayudarte|ayudarle|proporcionar|responder|hacer eso|cumplir)",
    r"\bmi dispiace,? (?:ma )?non (?:posso|sono in grado)\b",
    r"\bnon posso (?:aiutarti|aiutarla|aiutare|fornire|rispondere)",
    r"\b(?:desculpe|lamento|sinto muito),? (?:mas )?não (?:posso|consigo)\b",
    r"\bnão posso (?:ajudar|fornecer|responder)",
    r"\bhet spijt me,? (?:maar )?(?:ik kan|dat kan ik) (?:je |u )?(?:daar |hier )?niet\b",
]
_REFUSAL = re.compile("|".join(f"(?:{p})" for p in _REFUSAL_PATTERNS), re.IGNORECASE)
# Cheap substring cues (lower case) tried first: the big pattern runs only on answers with one.
_CUES = ("sorry", "unable", "can't", "cant", "cannot", "not able", "declin", "refus",
         "guideline", "polic", "as an ai", "not allowed", "not permitted", "not authori",
         "won't", "will not", "peux pas", "désolé", "kann", "leider", "puedo", "siento",
         "posso", "dispiace", "não", "niet", "spijt")
# Finish reasons of a blocked answer: OpenAI/OTel content_filter, Gemini SAFETY, Anthropic refusal.
_BLOCKED = {"content_filter", "SAFETY", "refusal"}
REFUSAL_WINDOW = 400  # refusals open the answer; deep in a long answer it is usually quoting


def refusal(event: Event) -> Verdict | None:
    if event.get("status") == "error":
        return None
    for m in event.outputs:
        if isinstance(m.get("refusal"), str) and m["refusal"].strip():
            return passed(False, f"refusal: {m['refusal'][:160]}")
    blocked = [r for r in finish_reasons(event) if r in _BLOCKED]
    if blocked or "content_filter" in (event.get("error_type") or ""):
        return passed(False, f"refusal: finish reason {(blocked or ['content_filter'])[0]!r}")
    text = (event.get("output_text") or "")[:REFUSAL_WINDOW].replace("\u2019", "'")
    low = text.lower()
    if not any(cue in low for cue in _CUES):
        return passed(True)
    hit = None
    for cue in _CUES:  # the full pattern only around each cue: 10x faster than over the text
        at = low.find(cue)
        if at != -1:
            hit = _REFUSAL.search(text, max(0, at - 90), at + 120)
            if hit:
                break
    if hit:
        return passed(False, f"refusal: {hit.group(0)!r}")
    return passed(True)


# -- invalid JSON -------------------------------------------------------------------------
def _json_request(event: Event) -> tuple[bool, dict | None]:
    """(asked for JSON, the JSON schema asked for or None)."""
    candidates: list[Any] = []
    params = event["params"]
    if isinstance(params, dict):
        candidates.append(params.get("response_format"))
    raw = event["raw"]
    if isinstance(raw, dict):
        for holder in (raw, raw.get("request"), raw.get("body"),
                       (raw.get("request") or {}).get("body")
                       if isinstance(raw.get("request"), dict) else None):
            if isinstance(holder, dict):
                candidates.append(holder.get("response_format"))
                text = holder.get("text")  # the Responses API: text.format
                if isinstance(text, dict):
                    candidates.append(text.get("format"))
    for rf in candidates:
        if isinstance(rf, str):
            rf = _parse_json(rf) if rf.strip().startswith("{") else {"type": rf}
        if not isinstance(rf, dict):
            continue
        kind = rf.get("type")
        if kind == "json_object":
            return True, None
        if kind == "json_schema":
            holder = rf.get("json_schema") if isinstance(rf.get("json_schema"), dict) else rf
            schema = holder.get("schema")
            return True, schema if isinstance(schema, dict) else None
    return False, None


def _parse_json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


_MISSING = object()


def _loads_or_error(text: str) -> tuple[Any, str | None]:
    try:
        return orjson.loads(text), None
    except orjson.JSONDecodeError as exc:
        return _MISSING, str(exc).split(":", 1)[0][:200]


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    import jsonschema

    schema = orjson.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema)


def schema_error(instance: Any, schema: dict) -> str | None:
    """Why `instance` does not match `schema` (the first error), or None when it does; a schema
    that is itself invalid is not held against the answer."""
    import jsonschema

    try:
        validator = _validator(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS).decode())
    except (jsonschema.SchemaError, TypeError, ValueError):
        return None
    try:
        error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    except Exception:  # noqa: BLE001 - e.g. an unresolvable $ref: the schema's fault, not the answer's
        return None
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    return f"{where}: {error.message[:200]}"


def invalid_json(event: Event) -> Verdict | None:
    if event.get("status") == "error":
        return None
    asked, schema = _json_request(event)
    if not asked:
        return None
    text = (event.get("output_text") or "").strip()
    if not text:
        return passed(False, "JSON was asked for; the answer is empty")
    value, error = _loads_or_error(text)
    if value is _MISSING:
        fenced = text.startswith("```")
        return passed(False, "JSON was asked for; the answer is wrapped in a markdown fence"
                      if fenced else f"JSON was asked for; the answer does not parse ({error})")
    if schema is not None:
        problem = schema_error(value, schema)
        if problem:
            return passed(False, f"the JSON does not match the requested schema: {problem}")
    return passed(True)


# -- tool-call arguments ------------------------------------------------------------------
def _tool_defs(event: Event) -> dict[str, dict | None]:
    """Tool name -> its parameters schema, from wherever the source kept the request's tools."""
    holders: list[Any] = []
    for column in ("params", "raw"):
        value = event[column]
        if isinstance(value, dict):
            holders.append(value)
            # one level down too: request, body, input (Langfuse), inputs, invocation_params
            # and extra (LangSmith), kwargs, ...; and a request's body
            for inner in value.values():
                if isinstance(inner, dict):
                    holders.append(inner)
                    if isinstance(inner.get("body"), dict):
                        holders.append(inner["body"])
    out: dict[str, dict | None] = {}
    for holder in holders:
        for key in ("tools", "functions", "gen_ai.tool.definitions", "llm.tools"):
            tools = holder.get(key)
            if isinstance(tools, str):
                tools = _parse_json(tools)
            if not isinstance(tools, list):
                continue
            for tool in tools:
                if not isinstance(tool, dict):
                    continue
                fn = tool.get("function") if isinstance(tool.get("function"), dict) else tool
                name = fn.get("name")
                if isinstance(name, str):
                    schema = fn.get("parameters", fn.get("input_schema"))
                    out[name] = schema if isinstance(schema, dict) else None
    return out


def _calls(event: Event) -> list[tuple[str | None, Any]]:
    calls: list[tuple[str | None, Any]] = []
    for m in event.outputs:
        tool_calls = m.get("tool_calls")
        for call in tool_calls if isinstance(tool_calls, list) else []:
            if isinstance(call, dict):
                fn = call.get("function") if isinstance(call.get("function"), dict) else call
                calls.append((fn.get("name"), fn.get("arguments", fn.get("input"))))
        fc = m.get("function_call")
        if isinstance(fc, dict):
            calls.append((fc.get("name"), fc.get("arguments")))
    return calls


def tool_call_arguments(event: Event) -> Verdict | None:
    calls = _calls(event)
    if not calls:
        return None
    tools = _tool_defs(event)
    for name, args in calls:
        label = name or "(unnamed)"
        if isinstance(args, str):
            value, error = _loads_or_error(args) if args.strip() else ({}, None)
            if value is _MISSING:
                return passed(False, f"tool call {label}: arguments do not parse as JSON "
                              f"({error})")
        else:
            value = {} if args is None else args
        if not isinstance(value, dict):
            return passed(False, f"tool call {label}: arguments are a {type(value).__name__}, "
                          "not a JSON object")
        if tools and name not in tools:
            return passed(False, f"tool call {label}: no such tool in the request "
                          f"(tools: {', '.join(sorted(tools))[:200]})")
        schema = tools.get(name) if name else None
        if schema:
            problem = schema_error(value, schema)
            if problem:
                return passed(False, f"tool call {label}: arguments do not match the tool's "
                              f"schema: {problem}")
    return passed(True)


# -- language mismatch --------------------------------------------------------------------
_ASKS_LANGUAGE = re.compile(
    r"\b(?:translat\w*|tradu\w*|übersetz\w*|überset\w*|vertaal\w*|in (?:english|french|german|"
    r"spanish|italian|portuguese|dutch|polish|swedish|turkish|japanese|chinese|korean|russian|"
    r"arabic|greek|hebrew|hindi|thai)|en (?:anglais|français|espagnol|allemand|inglés|"
    r"francés|alemán)|auf (?:englisch|deutsch|französisch|spanisch))\b", re.IGNORECASE)


def language_mismatch(event: Event) -> Verdict | None:
    if event.get("status") == "error":
        return None
    question = event.get("input_text") or ""
    answer = event.get("output_text") or ""
    asked, said = language.detect(question), language.detect(answer)
    if asked is None or said is None:
        return None
    if asked != said:
        if _ASKS_LANGUAGE.search(question) or _ASKS_LANGUAGE.search(event.system_prompt[:2000]):
            return None  # translation, or a language the prompt asks for: intended
        return passed(False, f"question in {language.NAMES[asked]}, answer in "
                      f"{language.NAMES[said]}")
    return passed(True)


BUILTINS: dict[str, Builtin] = {b.name: b for b in (
    Builtin("empty_or_truncated", "1", "the answer is empty, or was cut off at the output limit "
            "(finish reason length / max_tokens, or all of max_tokens used)", empty_or_truncated),
    Builtin("refusal", "1", "the model declined to answer (many phrasings, six languages, the "
            "API's refusal field, content_filter)", refusal),
    Builtin("invalid_json", "1", "the request asked for JSON (response_format) and the answer "
            "does not parse, or does not match the requested schema", invalid_json,
            "(contains(CAST(e.params AS VARCHAR), 'json_') "
            "OR contains(CAST(e.raw AS VARCHAR), 'json_'))"),
    Builtin("tool_call_arguments", "1", "a tool call's arguments do not parse, are not an "
            "object, name an unknown tool or do not match the tool's JSON schema",
            tool_call_arguments,
            "(contains(CAST(e.output_messages AS VARCHAR), 'tool_calls') "
            "OR contains(CAST(e.output_messages AS VARCHAR), 'function_call'))"),
    Builtin("language_mismatch", "1", "the answer is in another language than the question "
            "(offline detector, abstains when unsure)", language_mismatch),
)}

