"""Span attributes of every GenAI convention → event columns, with one precedence rule.

Four dialects carry the same facts under different keys: current OTel GenAI, deprecated OTel
GenAI (≤1.36), OpenInference, and vendor keys (Traceloop/OpenLLMetry, Vercel AI SDK `ai.*`,
Langfuse `langfuse.*`). For every column the first dialect that has a value wins, in that order.
Attribute maps arrive flat (`{"gen_ai.request.model": "gpt-4", ...}`) with values already
decoded from OTLP AnyValue; numbers may be strings (Langfuse stringifies them all).
"""

from __future__ import annotations

import hashlib
from typing import Any

from ingest.formats.messages import first_output_text, last_user_text, maybe_json
from ingest.formats.otel_messages import messages_of
from ingest.formats.values import as_float, as_int, unflatten
from ingest.prices import compute_cost

Attrs = dict[str, Any]

_OP_KIND = {
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "completion": "llm",
    "execute_tool": "tool",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "embeddings": "embedding",
    "retrieval": "retrieval",
    "invoke_workflow": "chain",
}
_OI_KIND = {
    "LLM": "llm",
    "TOOL": "tool",
    "AGENT": "agent",
    "CHAIN": "chain",
    "RETRIEVER": "retrieval",
    "RERANKER": "retrieval",
    "EMBEDDING": "embedding",
}
_TRACELOOP_KIND = {"workflow": "chain", "task": "chain", "agent": "agent", "tool": "tool"}
_LANGFUSE_KIND = {
    "generation": "llm",
    "tool": "tool",
    "agent": "agent",
    "chain": "chain",
    "retriever": "retrieval",
    "embedding": "embedding",
}
_PROVIDER_ALIASES = {"az.ai.openai": "azure.ai.openai", "vertex_ai": "gcp.vertex_ai"}
# Vercel writes "<provider>.<api>" (openai.responses, anthropic.messages); keep the provider.
_VERCEL_APIS = {
    "chat",
    "responses",
    "completion",
    "embedding",
    "messages",
    "image",
    "transcription",
}

# Request parameters under their canonical names. OpenAI's newer max_completion_tokens and the
# Responses API's max_output_tokens are stored as max_tokens so one call logged by different
# instrumentations compares equal; raw keeps the original spelling.
_PARAM_RENAMES = {
    "max_completion_tokens": "max_tokens",
    "max_output_tokens": "max_tokens",
    "maxTokens": "max_tokens",
    "maxOutputTokens": "max_tokens",
    "topP": "top_p",
    "topK": "top_k",
    "stop_sequences": "stop",
    "stopSequences": "stop",
    "frequencyPenalty": "frequency_penalty",
    "presencePenalty": "presence_penalty",
    "choice.count": "n",
}
PARAM_KEYS = {
    "temperature", "top_p", "top_k", "max_tokens", "stop", "seed", "frequency_penalty",
    "presence_penalty", "n", "stream", "response_format", "reasoning_effort", "service_tier",
    "tool_choice", "parallel_tool_calls", "logprobs", "top_logprobs", "logit_bias", "user",
}  # fmt: skip


def canonical_params(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    """Request parameters (of any producer) under canonical names, without model/messages."""
    if not isinstance(raw, dict):
        return None
    out = {}
    for key, value in raw.items():
        key = _PARAM_RENAMES.get(key, key)
        if key in PARAM_KEYS and value is not None:
            out[key] = value
    return out or None


def normalise_provider(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    value = _PROVIDER_ALIASES.get(value, value)
    head, _, tail = value.partition(".")
    if tail in _VERCEL_APIS:
        return head
    return value


def kind_of(attrs: Attrs, name: str | None = None) -> str | None:
    """The event kind from attributes, or None when no convention says."""
    op = attrs.get("gen_ai.operation.name")
    if op in _OP_KIND:
        return _OP_KIND[op]
    oi = attrs.get("openinference.span.kind")
    if isinstance(oi, str):
        return _OI_KIND.get(oi.upper(), "other")
    vercel = attrs.get("ai.operationId")
    if isinstance(vercel, str):
        if vercel.endswith((".doGenerate", ".doStream")):
            return "llm"
        if vercel.endswith(".doEmbed"):
            return "embedding"
        if vercel == "ai.toolCall":
            return "tool"
        return "chain"
    tl = attrs.get("traceloop.span.kind")
    if isinstance(tl, str):
        return _TRACELOOP_KIND.get(tl, "llm" if tl == "llm" else "other")
    lf = attrs.get("langfuse.observation.type")
    if isinstance(lf, str):
        return _LANGFUSE_KIND.get(lf.lower(), "other")
    if op is not None:
        return "other"
    if attrs.get("gen_ai.tool.name"):  # an execute_tool span that names no operation (Pydantic AI)
        return "tool"
    if attrs.get("llm.request.type") or any(
        k in attrs
        for k in (
            "gen_ai.prompt",
            "gen_ai.prompt.0.role",
            "gen_ai.prompt.0.content",
            "gen_ai.system",
        )
    ):
        return "llm"
    return None


# gen_ai.request.<name> → canonical parameter name (None: not a parameter we keep).
_OTEL_PARAMS = {f"gen_ai.request.{k}": _PARAM_RENAMES.get(k, k) for k in (
    "temperature", "top_p", "top_k", "max_tokens", "stop_sequences", "seed", "frequency_penalty",
    "presence_penalty", "choice.count", "stream", "reasoning_effort", "service_tier",
)}  # fmt: skip
_OTEL_PARAMS["gen_ai.openai.request.seed"] = "seed"
_OTEL_PARAMS["openai.request.service_tier"] = "service_tier"
_OTEL_PARAMS["gen_ai.openai.request.service_tier"] = "service_tier"


def _params(attrs: Attrs, found: dict[str, Any], vercel: bool) -> dict[str, Any] | None:
    """Request parameters: OTel's (collected by _scan into `found`), then OpenInference's
    invocation parameters, then Vercel's ai.settings.* (when _scan saw one)."""
    out: dict[str, Any] = found
    invocation = attrs.get("llm.invocation_parameters")
    if invocation is not None:
        invocation = maybe_json(invocation)
        for key, value in (
            canonical_params(invocation if isinstance(invocation, dict) else None) or {}
        ).items():
            out.setdefault(key, value)
    if vercel:
        for key, value in attrs.items():
            if key.startswith("ai.settings.") and key != "ai.settings.maxRetries":
                name = _PARAM_RENAMES.get(key[len("ai.settings.") :], key[len("ai.settings.") :])
                if name in PARAM_KEYS:
                    out.setdefault(name, value)
    return out or None


# Column ← attribute keys, in precedence order: current OTel GenAI, deprecated OTel GenAI,
# OpenInference, vendor keys (Traceloop/OpenLLMetry, Vercel AI SDK, Langfuse). docs/formats.md
# prints this table; `_scan` reads every span's attributes against it in one pass.
ALIASES: dict[str, tuple[str, ...]] = {
    "tokens_in": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens",
                  "llm.token_count.prompt", "llm.usage.prompt_tokens", "ai.usage.inputTokens",
                  "ai.usage.promptTokens", "ai.usage.tokens"),
    "tokens_out": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
                   "llm.token_count.completion", "llm.usage.completion_tokens",
                   "ai.usage.outputTokens", "ai.usage.completionTokens"),
    "tokens_cache_read": ("gen_ai.usage.cache_read.input_tokens",
                          "gen_ai.usage.cache_read_input_tokens",
                          "llm.token_count.prompt_details.cache_read",
                          "ai.usage.cachedInputTokens"),
    "tokens_reasoning": ("gen_ai.usage.reasoning.output_tokens",
                         "llm.token_count.completion_details.reasoning",
                         "ai.usage.reasoningTokens"),
    "model_requested": ("gen_ai.request.model", "llm.request.model_name", "ai.model.id",
                        "langfuse.observation.model.name"),
    "model": ("gen_ai.response.model", "llm.response.model_name", "llm.model_name",
              "ai.response.model"),
    "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system",
                 "ai.model.provider"),
    "prompt_name": ("gen_ai.prompt.name", "prompt.id", "traceloop.prompt.key",
                    "langfuse.observation.prompt.name"),
    "prompt_version": ("llm.prompt_template.version", "traceloop.prompt.version",
                       "langfuse.observation.prompt.version"),
    "user_id": ("user.id", "enduser.id", "langfuse.user.id",
                "traceloop.association.properties.user_id", "ai.telemetry.metadata.userId"),
    "session_id": ("gen_ai.conversation.id", "session.id", "langfuse.session.id",
                   "traceloop.association.properties.session_id",
                   "ai.telemetry.metadata.sessionId"),
    "tags": ("tag.tags", "langfuse.trace.tags", "ai.telemetry.metadata.tags"),
    "environment": ("deployment.environment.name", "deployment.environment",
                    "langfuse.environment"),
    "error_type": ("error.type",),
    "ttft_s": ("gen_ai.response.time_to_first_chunk", "gen_ai.server.time_to_first_token"),
    "ttft_ms": ("ai.response.msToFirstChunk",),
    "cost_usd": ("llm.cost.total", "gen_ai.usage.cost"),
}  # fmt: skip
_ALIAS_RANK = {key: (col, rank) for col, keys in ALIASES.items() for rank, key in enumerate(keys)}

# The Langfuse SDK writes a generation's usage and cost as one JSON object each
# (`langfuse.observation.usage_details` / `.cost_details`), in the shape it was given: Langfuse's
# flat keys (`input`, `output`, `input_cached_tokens`) or the provider's usage as its OpenAI
# integration passes it on (Chat Completions `prompt_tokens` with `*_tokens_details`, Responses
# `input_tokens`). Lowest precedence: they fill only the columns no other dialect set. Keys are
# dotted paths into the object; `input` is read as the whole input, cached tokens included, as
# the Langfuse reader reads `usageDetails.input`.
LANGFUSE_USAGE = "langfuse.observation.usage_details"
LANGFUSE_COST = "langfuse.observation.cost_details"
_LANGFUSE_USAGE_KEYS: dict[str, tuple[str, ...]] = {
    "tokens_in": ("input", "prompt_tokens", "input_tokens"),
    "tokens_out": ("output", "completion_tokens", "output_tokens"),
    "tokens_cache_read": ("input_cached_tokens", "prompt_tokens_details.cached_tokens",
                          "input_tokens_details.cached_tokens"),
    "tokens_reasoning": ("output_reasoning_tokens", "completion_tokens_details.reasoning_tokens",
                         "output_tokens_details.reasoning_tokens"),
}  # fmt: skip


def _dig(obj: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _langfuse_usage(attrs: Attrs, found: dict[str, Any]) -> None:
    """Token columns still unset ← `langfuse.observation.usage_details` (in `found`, in place)."""
    usage = maybe_json(attrs.get(LANGFUSE_USAGE))
    if not isinstance(usage, dict):
        return
    for column, paths in _LANGFUSE_USAGE_KEYS.items():
        if column in found:
            continue
        for path in paths:
            value = _dig(usage, path)
            if value is not None and value != "":
                found[column] = value
                break


def _langfuse_cost(attrs: Attrs, has_tokens: bool) -> float | None:
    """`langfuse.observation.cost_details`: its `total`, else the sum of its parts. The SDK
    writes all zeros for a call that failed before any usage: that is no cost anyone gave."""
    cost = maybe_json(attrs.get(LANGFUSE_COST))
    if not isinstance(cost, dict):
        return None
    total = as_float(cost.get("total"))
    if total is None:
        parts = [as_float(v) for v in cost.values()]
        total = sum(v for v in parts if v is not None) if any(parts) else None
    if total is None or (total == 0 and not has_tokens):
        return None
    return total


def _scan(attrs: Attrs) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """One pass over a span's attributes: each column's value from its highest-precedence
    attribute present, the OTel request parameters, and whether Vercel settings are there."""
    best: dict[str, Any] = {}
    ranks: dict[str, int] = {}
    params: dict[str, Any] = {}
    vercel = False
    alias = _ALIAS_RANK.get
    param = _OTEL_PARAMS.get
    for key, value in attrs.items():
        hit = alias(key)
        if hit is not None:  # no key is both a column alias and a parameter
            if value is None or value == "":
                continue
            col, rank = hit
            if rank < ranks.get(col, 99):
                best[col] = value
                ranks[col] = rank
            continue
        name = param(key)
        if name is not None:
            if value is not None:
                params.setdefault(name, value)
        elif key[:12] == "ai.settings.":
            vercel = True
    return best, params, vercel


def _count(found: dict[str, Any], column: str) -> int | None:
    """A token count; a value that is not a number makes the record a reject, not a NULL."""
    value = found.get(column)
    count = as_int(value)
    if value is not None and count is None:
        keys = " / ".join(ALIASES[column][:2])
        raise ValueError(f"{column} ({keys}…) is {value!r}, not a number")
    return count


def _tags(value: Any) -> list[str] | None:
    tags = maybe_json(value)
    if isinstance(tags, str):
        tags = [tags]
    if isinstance(tags, list):
        return [str(t) for t in tags] or None
    return None


def decode(
    attrs: Attrs,
    span_events: list[dict[str, Any]] | None = None,
    name: str | None = None,
    prices: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Event columns found in one span's attributes (keys absent when no dialect has them).
    `prices`: the price table, when the caller looked it up once for many spans."""
    found, otel_params, vercel = _scan(attrs)
    if LANGFUSE_USAGE in attrs:
        _langfuse_usage(attrs, found)
    inputs, outputs = messages_of(attrs, span_events)
    t_in = _count(found, "tokens_in")
    t_out = _count(found, "tokens_out")
    cache = _count(found, "tokens_cache_read")
    model_requested = found.get("model_requested")
    if (
        "llm.invocation_parameters" in attrs
        and attrs.get("gen_ai.request.model") is None
        and attrs.get("llm.request.model_name") is None
    ):
        invocation = maybe_json(attrs["llm.invocation_parameters"])
        if isinstance(invocation, dict) and invocation.get("model"):
            model_requested = invocation["model"]  # OpenInference, above vendor keys
    model = found.get("model") or model_requested
    version = found.get("prompt_version")
    row: dict[str, Any] = {
        "kind": kind_of(attrs, name),
        "provider": normalise_provider(found.get("provider")),
        "model": model,
        "model_requested": model_requested,
        "prompt_name": found.get("prompt_name"),
        "prompt_version": None if version is None else str(version),
        "input_messages": inputs,
        "output_messages": outputs,
        "input_text": last_user_text(inputs),
        "output_text": first_output_text(outputs),
        "params": _params(attrs, otel_params, vercel),
        "tokens_in": t_in,
        "tokens_out": t_out,
        "tokens_cache_read": cache,
        "tokens_reasoning": _count(found, "tokens_reasoning"),
        "user_id": found.get("user_id"),
        "session_id": found.get("session_id"),
        "tags": _tags(found["tags"]) if "tags" in found else None,
        "environment": found.get("environment"),
        "error_type": found.get("error_type"),
    }
    if row["prompt_name"] is None and attrs.get("llm.prompt_template.template"):
        digest = hashlib.sha1(str(attrs["llm.prompt_template.template"]).encode()).hexdigest()[:12]
        row["prompt_name"] = f"template:{digest}"
    if "ttft_s" in found and as_float(found["ttft_s"]) is not None:
        row["ttft_ms"] = as_float(found["ttft_s"]) * 1000.0
    elif "ttft_ms" in found:
        row["ttft_ms"] = as_float(found["ttft_ms"])
    cost = as_float(found.get("cost_usd"))
    if cost is None and attrs.get("llm.cost.prompt") is not None:
        cost = (as_float(attrs.get("llm.cost.prompt")) or 0.0) + (
            as_float(attrs.get("llm.cost.completion")) or 0.0
        )
    if cost is None and LANGFUSE_COST in attrs:
        cost = _langfuse_cost(attrs, t_in is not None or t_out is not None)
    if cost is not None:
        row["cost_usd"], row["cost_source"] = cost, "provided"
    else:
        row.update(cost_fields(model, t_in, t_out, cache, prices))
    return row


def cost_fields(
    model: Any,
    t_in: int | None,
    t_out: int | None,
    cache: int | None,
    prices: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if not isinstance(model, str) or (t_in is None and t_out is None):
        return {"cost_usd": None, "cost_source": None}
    cost = compute_cost(model, t_in, t_out, cache, table=prices)
    return {"cost_usd": cost, "cost_source": None if cost is None else "computed"}


_SOURCE_OF_ANNOTATOR = {"HUMAN": "reviewer", "LLM": "llm_judge", "CODE": "code"}


_ANNOTATION_KINDS = [
    (scope, f"{prefix}{plural}", singular, f"{prefix}{plural}.0.{singular}.name")
    for scope, prefix in (("span", ""), ("trace", "trace."), ("session", "session."))
    for plural, singular in (("annotations", "annotation"), ("evaluations", "evaluation"))
]


def annotations(attrs: Attrs) -> list[tuple[str, dict[str, Any]]]:
    """OpenInference span/trace/session annotations and evaluations → (scope, feedback fields)."""
    found = []
    for scope, key, singular, first_name in _ANNOTATION_KINDS:
        if first_name not in attrs:
            continue
        for index, item in enumerate(unflatten(attrs, key)):
            ann = item.get(singular, {}) if isinstance(item, dict) else {}
            if not ann.get("name"):
                continue
            kind = str(ann.get("annotator_kind") or "LLM").upper()
            found.append(
                (
                    scope,
                    {
                        "name": str(ann["name"]),
                        "value": as_float(ann.get("score")),
                        "label": None if ann.get("label") is None else str(ann["label"]),
                        "comment": ann.get("explanation"),
                        "source": _SOURCE_OF_ANNOTATOR.get(kind, "code"),
                        "identifier": ann.get("identifier"),
                        "index": index,
                    },
                )
            )
    return found
