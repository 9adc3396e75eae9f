"""LLM judges: the rubric rendered from the event, one call per event, the answer parsed.

The judge is asked for a JSON object — `{"verdict": "pass"|"fail", "reason": ...}`,
`{"score": 1..5, "reason": ...}` or `{"label": <one of the labels>, "reason": ...}` — through
structured output (`response_format` json_schema) when the endpoint takes it: always for
`structured = "always"`, never for "never", and for "auto" on every endpoint until one answers
400 about `response_format`, after which this run asks in the prompt alone. The answer is parsed
robustly (a fenced block, JSON inside prose, a bare PASS/FAIL or number); one that still does not
parse is *unparsed*: recorded with its raw text and counted, never turned into a score.

Calls go through the playground's client (models/rerun/llm_client.py) and named endpoints, with
retries and backoff on 429/5xx/timeouts that honour Retry-After.
"""

from __future__ import annotations

import json
import random
import re
import threading
from dataclasses import dataclass
from typing import Any

import orjson

from models.evaluators.config import EvaluatorSpec
from models.evaluators.event import Event
from models.evaluators.verdict import Verdict, passed, score_1_5

MAX_ATTEMPTS = 6
MAX_RETRY_WAIT_S = 30.0
FIELD_CHARS = 6000  # each template variable is cut to this many characters
EST_OUTPUT_TOKENS = 60


def _schema(spec: EvaluatorSpec) -> dict[str, Any]:
    if spec.answer == "pass_fail":
        prop: dict[str, Any] = {"verdict": {"type": "string", "enum": ["pass", "fail"]}}
    elif spec.answer == "score_1_5":
        prop = {"score": {"type": "integer", "enum": [1, 2, 3, 4, 5]}}
    else:
        prop = {"label": {"type": "string", "enum": list(spec.labels)}}
    key = next(iter(prop))
    return {"type": "object", "properties": {**prop, "reason": {"type": "string"}},
            "required": [key, "reason"], "additionalProperties": False}


def response_format(spec: EvaluatorSpec) -> dict[str, Any]:
    return {"type": "json_schema",
            "json_schema": {"name": "verdict", "strict": True, "schema": _schema(spec)}}


def _instruction(spec: EvaluatorSpec) -> str:
    if spec.answer == "pass_fail":
        shape = '{"verdict": "pass" or "fail", "reason": "<one sentence>"}'
    elif spec.answer == "score_1_5":
        shape = '{"score": <an integer from 1 (worst) to 5 (best)>, "reason": "<one sentence>"}'
    else:
        choices = ", ".join(f'"{x}"' for x in spec.labels)
        shape = f'{{"label": one of {choices}, "reason": "<one sentence>"}}'
    return f"Reply with a JSON object only, no other text: {shape}"


def variables(event: Event) -> dict[str, str]:
    def cut(text: Any) -> str:
        text = "" if text is None else str(text)
        return text if len(text) <= FIELD_CHARS else text[:FIELD_CHARS] + " […]"

    return {"input": cut(event.get("input_text")), "output": cut(event.get("output_text")),
            "system_prompt": cut(event.system_prompt), "context": cut(event.context),
            "correction": cut(event.correction)}


def build_messages(spec: EvaluatorSpec, event: Event) -> list[dict[str, str]]:
    system = spec.system or ("You are a careful evaluator of an AI assistant's answers. Judge "
                             "only what the rubric asks.")
    user = (spec.rubric or "").format_map(variables(event))
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"{user}\n\n{_instruction(spec)}"}]


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def _objects(text: str) -> list[dict]:
    """The first JSON object in text: the whole text, a fenced block, or one inside prose."""
    for candidate in (text.strip(), *(m.strip() for m in _FENCE.findall(text))):
        try:
            value = orjson.loads(candidate)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return [value]
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return [value]
        start = text.find("{", start + 1)
    return []


def _reason(obj: dict) -> str | None:
    for key in ("reason", "rationale", "explanation"):
        if isinstance(obj.get(key), str):
            return obj[key][:2000]
    return None


def parse_answer(spec: EvaluatorSpec, text: str) -> Verdict | None:
    """The judge's answer as a verdict, or None when it does not say one clearly."""
    text = text or ""
    for obj in _objects(text):
        lowered = {str(k).lower(): v for k, v in obj.items()}
        if spec.answer == "pass_fail":
            raw = lowered.get("verdict", lowered.get("result", lowered.get("pass")))
            if isinstance(raw, bool):
                return passed(raw, _reason(lowered))
            if isinstance(raw, str) and raw.strip().lower() in ("pass", "fail"):
                return passed(raw.strip().lower() == "pass", _reason(lowered))
        elif spec.answer == "score_1_5":
            raw = lowered.get("score")
            if isinstance(raw, str) and raw.strip().isdigit():
                raw = int(raw.strip())
            if isinstance(raw, int | float) and not isinstance(raw, bool) and raw == int(raw) \
                    and 1 <= raw <= 5:
                return score_1_5(int(raw), _reason(lowered))
        else:
            raw = lowered.get("label")
            if isinstance(raw, str):
                for choice in spec.labels:
                    if raw.strip().lower() == choice.lower():
                        return Verdict("label", None, choice, _reason(lowered))
        return None
    bare = text.strip().strip(".!\"'*` \n").lower()
    if spec.answer == "pass_fail" and bare in ("pass", "fail"):
        return passed(bare == "pass")
    if spec.answer == "score_1_5" and bare in ("1", "2", "3", "4", "5"):
        return score_1_5(int(bare))
    if spec.answer == "labels":
        for choice in spec.labels:
            if bare == choice.lower():
                return Verdict("label", None, choice)
    return None


def estimate_tokens(spec: EvaluatorSpec, event: Event) -> tuple[int, int]:
    chars = sum(len(m["content"]) for m in build_messages(spec, event))
    return chars // 4 + 8, min(spec.max_tokens or EST_OUTPUT_TOKENS, EST_OUTPUT_TOKENS)


@dataclass(frozen=True)
class Outcome:
    status: str  # 'scored' | 'unparsed' | 'failed' (the call itself failed: not recorded)
    verdict: Verdict | None = None
    raw: str | None = None
    model: str | None = None
    cost_usd: float | None = None
    latency_ms: float | None = None
    error: str | None = None
    retryable: bool = False
    attempts: int = 1


def _rejects_response_format(result: Any) -> bool:
    text = f"{result.error_type} {result.error_message}".lower()
    return result.http_status in (400, 422) and (
        "response_format" in text or "json_schema" in text or "structured" in text)


class Judge:
    """One LLM evaluator's calls: thread-safe, shared by the run's worker threads."""

    def __init__(self, spec: EvaluatorSpec, client: Any, *, provider: str | None = None,
                 stop: threading.Event | None = None, base_delay_s: float = 0.5) -> None:
        self.spec = spec
        self.client = client
        self.stop = stop or threading.Event()
        self.base_delay_s = base_delay_s
        self.structured = spec.structured != "never"
        self.provider = provider

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.spec.temperature is not None:
            params["temperature"] = self.spec.temperature
        if self.spec.max_tokens is not None:
            params["max_tokens"] = self.spec.max_tokens
        if self.structured:
            params["response_format"] = response_format(self.spec)
        return params

    def __call__(self, event: Event) -> Outcome:
        from ingest.prices import compute_cost
        from models.rerun.llm_client import chat

        messages = build_messages(self.spec, event)
        attempt = 0
        while True:
            attempt += 1
            params = self._params()
            result = chat(self.client, self.spec.model or "", messages, params, stream=False)
            # Whether *this* call asked for json_schema: calls in flight on other threads may
            # come back rejected after the first rejection turned structured output off.
            if (result.status == "error" and "response_format" in params
                    and self.spec.structured == "auto" and _rejects_response_format(result)):
                self.structured = False  # this endpoint does not take json_schema: ask in text
                attempt -= 1
                continue
            if result.status == "ok":
                break
            if not result.retryable or attempt >= MAX_ATTEMPTS or self.stop.is_set():
                return Outcome("failed", error=f"{result.error_type}: {result.error_message}"
                               [:2000], retryable=result.retryable, attempts=attempt,
                               latency_ms=result.latency_ms)
            delay = result.retry_after_s
            if delay is None:
                delay = self.base_delay_s * 2 ** (attempt - 1) * (0.5 + random.random())
            if self.stop.wait(min(delay, MAX_RETRY_WAIT_S)):
                return Outcome("failed", error="stopped while waiting to retry",
                               retryable=True, attempts=attempt)
        model = result.model or self.spec.model
        cost = compute_cost(self.spec.model, result.tokens_in, result.tokens_out,
                            result.tokens_cache_read)
        if cost is None and model != self.spec.model:
            cost = compute_cost(model, result.tokens_in, result.tokens_out,
                                result.tokens_cache_read)
        verdict = parse_answer(self.spec, result.text)
        return Outcome("scored" if verdict else "unparsed", verdict, result.text[:20000],
                       model, cost, result.latency_ms, attempts=attempt)

