"""The openai SDK client factory and one chat call with its timings, tokens and errors.

Everything that talks to a model goes through `make_client` + `chat`, so the endpoint (base URL,
key, Azure api-version) is chosen in one place, tests can point it at a local server (or pass an
`http_client`), and every call comes back as a plain `CallResult`: errors included, never raised,
because a failed rerun is evidence too and the batch runner decides what to retry. The SDK's own
retries are off (`max_retries=0`): models/rerun/runner.py retries with the batch's budget in view.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from models.rerun.endpoints import Endpoint, redact

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class CallResult:
    status: str  # 'ok' | 'error'
    text: str = ""
    model: str | None = None  # as the server returned it
    finish_reason: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    tokens_cache_read: int | None = None
    tokens_reasoning: int | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    response_id: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    http_status: int | None = None
    retry_after_s: float | None = None

    @property
    def retryable(self) -> bool:
        return self.status == "error" and (
            self.http_status in RETRYABLE_STATUS or self.error_type in ("timeout", "connection"))


_IMPORT_LOCK = threading.Lock()


def import_openai() -> Any:
    """The openai module, with its HTTP transport (httpcore2) imported without `trio`.

    httpcore2 imports trio at import time when it is installed, only to support async code run
    under trio; every client here is synchronous, and that import is a tenth of a second of a
    fresh process (the batch CLI's start-up is on its critical path: bench/rerun.py). So trio is
    hidden while httpcore2 loads — unless something already imported it, in which case it is
    used as is — and visible again right after: a later `import trio` works normally.
    """
    if "httpcore2" not in sys.modules:
        with _IMPORT_LOCK:
            if "httpcore2" not in sys.modules:
                hide = "trio" not in sys.modules
                if hide:
                    sys.modules["trio"] = None  # type: ignore[assignment] - "not installed"
                try:
                    import httpcore2  # noqa: F401
                finally:
                    if hide and sys.modules.get("trio", 0) is None:
                        del sys.modules["trio"]
    import openai

    return openai


class _TrustOnFirstTLS:
    """The HTTP transport's TLS context, made when a TLS connection first needs it.

    The transport builds its context when the client is made, and reading the system's
    certificate bundle into it is a tenth of a second; a local endpoint over plain http (vLLM,
    Ollama, the test server) never uses it. This stands in for that context and makes the very
    same one (httpcore2.default_ssl_context, what the SDK's default client would use) on first
    use — once, whichever thread asks first. `load()` makes it ahead of time (warm_up does, for
    an https endpoint, on its background thread as before).
    """

    def __init__(self) -> None:
        self._ctx: Any = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        if self._ctx is None:
            with self._lock:
                if self._ctx is None:
                    import httpcore2

                    self._ctx = httpcore2.default_ssl_context()
        return self._ctx

    def __getattr__(self, name: str) -> Any:  # set_alpn_protocols, wrap_socket, wrap_bio...
        return getattr(self.load(), name)


def make_client(endpoint: Endpoint, *, http_client: Any = None, timeout_s: float = 120.0,
                max_retries: int = 0) -> Any:
    """An `openai.OpenAI` (or `AzureOpenAI`) client for a named endpoint."""
    openai = import_openai()

    # Local servers (Ollama, vLLM) accept any key, but the SDK insists on one.
    key = endpoint.api_key or "not-needed"
    common: dict[str, Any] = {"api_key": key, "timeout": timeout_s, "max_retries": max_retries}
    if http_client is None:
        # The SDK's own default client (its limits, timeouts, redirects), with the TLS context
        # made on first use (_TrustOnFirstTLS).
        http_client = openai.DefaultHttpxClient(verify=_TrustOnFirstTLS())
    common["http_client"] = http_client
    if endpoint.kind == "azure":
        return openai.AzureOpenAI(azure_endpoint=endpoint.base_url,
                                  api_version=endpoint.api_version, **common)
    return openai.OpenAI(base_url=endpoint.base_url, **common)


def warm_up(client: Any, *, stream: bool = True, responses: bool = True) -> Any:
    """Load what the SDK builds lazily on first use — the chat resource and the deferred
    pydantic schemas of its response models, built when the first response is read — so a
    batch's first calls do not all pay for it at once. `stream=False` skips the streamed
    chunk's model (a batch never streams); `responses=False` skips the response models (what
    a first request needs is then ready; a second warm_up can build the rest while it is in
    flight). Calls nothing over the network; returns the client.
    """
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    client.chat.completions  # noqa: B018 - a lazy attribute: touching it imports the resource
    if not str(client.base_url).startswith("http://"):
        _tls_of(client)  # an https endpoint will need it on its first call: make it now
    if not responses:
        return client
    usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    # construct() is how the SDK reads a response (no validation): it completes the deferred
    # schemas, which is the part worth doing once, here.
    ChatCompletion.construct(
        id="warm-up", object="chat.completion", created=0, model="", usage=usage,
        choices=[{"index": 0, "finish_reason": "stop",
                  "message": {"role": "assistant", "content": ""}}])
    if stream:
        ChatCompletionChunk.construct(
            id="warm-up", object="chat.completion.chunk", created=0, model="", usage=usage,
            choices=[{"index": 0, "delta": {"content": ""}}])
    return client


def _tls_of(client: Any) -> None:
    """Make the client's TLS context now, if it is one made on first use."""
    for transport in [getattr(client._client, "_transport", None),
                      *getattr(client._client, "_mounts", {}).values()]:
        pool = getattr(transport, "_pool", None)
        ctx = getattr(pool, "_ssl_context", None)
        if isinstance(ctx, _TrustOnFirstTLS):
            ctx.load()


def _retry_after(headers: Any) -> float | None:
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw:
            try:
                return max(float(raw) * scale, 0.0)
            except ValueError:
                continue  # an HTTP date: fall back to our own backoff
    return None


def _error(exc: Exception, started: float, key: str | None) -> CallResult:
    import openai

    latency = (time.perf_counter() - started) * 1000
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        err = body.get("error", body) if isinstance(body, dict) else {}
        code = (err.get("code") if isinstance(err, dict) else None) or getattr(exc, "code", None)
        message = (err.get("message") if isinstance(err, dict) else None) or str(exc)
        return CallResult(status="error", latency_ms=latency,
                          error_type=str(code or type(exc).__name__),
                          error_message=redact(str(message), (key,))[:2000],
                          http_status=exc.status_code,
                          retry_after_s=_retry_after(exc.response.headers))
    if isinstance(exc, openai.APITimeoutError):
        return CallResult(status="error", latency_ms=latency, error_type="timeout",
                          error_message="the endpoint did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return CallResult(status="error", latency_ms=latency, error_type="connection",
                          error_message=redact(f"cannot reach the endpoint: {exc}",
                                               (key,))[:2000])
    return CallResult(status="error", latency_ms=latency, error_type=type(exc).__name__,
                      error_message=redact(str(exc), (key,))[:2000])


def _usage_fields(usage: Any) -> dict[str, int | None]:
    if usage is None:
        return {}
    cached = getattr(getattr(usage, "prompt_tokens_details", None), "cached_tokens", None)
    reasoning = getattr(getattr(usage, "completion_tokens_details", None),
                        "reasoning_tokens", None)
    return {"tokens_in": usage.prompt_tokens, "tokens_out": usage.completion_tokens,
            "tokens_cache_read": cached, "tokens_reasoning": reasoning}


def chat(client: Any, model: str, messages: list[dict[str, Any]], params: dict[str, Any],
         *, stream: bool = True, on_delta: Callable[[str], None] | None = None) -> CallResult:
    """One chat completion; streamed (with a usage chunk) unless stream=False."""
    import openai

    started = time.perf_counter()
    try:
        if not stream:
            resp = client.chat.completions.create(model=model, messages=messages, **params)
            choice = resp.choices[0] if resp.choices else None
            text = (choice.message.content or "") if choice else ""
            if on_delta and text:
                on_delta(text)
            return CallResult(status="ok", text=text, model=resp.model,
                              finish_reason=choice.finish_reason if choice else None,
                              latency_ms=(time.perf_counter() - started) * 1000,
                              response_id=resp.id, **_usage_fields(resp.usage))
        parts: list[str] = []
        ttft = finish = resp_model = resp_id = usage = None
        with client.chat.completions.create(
            model=model, messages=messages, stream=True,
            stream_options={"include_usage": True}, **params,
        ) as events:
            for chunk in events:
                resp_model = chunk.model or resp_model
                resp_id = chunk.id or resp_id
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices or []:
                    if choice.index != 0:
                        continue
                    piece = choice.delta.content if choice.delta else None
                    if piece:
                        if ttft is None:
                            ttft = (time.perf_counter() - started) * 1000
                        parts.append(piece)
                        if on_delta:
                            on_delta(piece)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        return CallResult(status="ok", text="".join(parts), model=resp_model,
                          finish_reason=finish, ttft_ms=ttft,
                          latency_ms=(time.perf_counter() - started) * 1000,
                          response_id=resp_id, **_usage_fields(usage))
    except openai.OpenAIError as exc:
        return _error(exc, started, getattr(client, "api_key", None))
