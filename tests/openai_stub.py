"""An OpenAI-compatible HTTP server for tests, benches and browser runs — no network, no weights.

Why a real server rather than a mocked transport: openai 3.x talks through ``httpx2``, so the
httpx-mocking libraries do not see its traffic, and we want the SDK's own request building, SSE
parsing, error mapping and retry-after handling exercised end to end (event-formats.md §4, A).

It serves, on 127.0.0.1 and an ephemeral port by default:

- ``POST /v1/chat/completions`` — JSON, or SSE when ``stream`` is true (role chunk, content
  chunks, a finish chunk, a usage chunk with ``choices: []`` when
  ``stream_options.include_usage`` is set, then ``data: [DONE]``);
- ``POST /v1/embeddings`` — deterministic unit vectors from a hash of each input text, as floats
  or base64 float32 (the SDK asks for base64 by default);
- ``GET /v1/models`` and ``GET /v1/models/{id}``;
- the Azure OpenAI path ``/openai/deployments/{name}/chat/completions`` (model = deployment).

Behaviour is scriptable from Python (``OpenAIStub`` methods) or, for a subprocess, over HTTP
(``POST /_stub/script`` with the same keys, ``GET /_stub/stats``, ``POST /_stub/reset``):
fixed latency, canned replies per model (a string or a callable taking the request body),
unknown models → 404 ``model_not_found`` with the body OpenAI really sends, queued or per-model
errors (429 with ``retry-after``, 500, any status), an optional required API key (401 otherwise),
request counts and the peak number of requests in flight (to check bounded concurrency).

Run it standalone: ``python -m tests.openai_stub --port 8765 --latency 0.2``; it prints
``listening on http://127.0.0.1:8765/v1`` once ready.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | Callable[[dict], str]

DEFAULT_MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "o3-mini", "judge-model",
                  "text-embedding-3-small")
# Always answered with 404 model_not_found (the name used in the real recorded cassette), as is
# any name starting with "missing-".
MISSING_MODEL = "this-model-does-not-exist"

# Error bodies copied from real OpenAI responses (fixtures/openai/test_chat_completion_404.yaml
# and OpenAI's documented 429/500 shapes) so the SDK maps them exactly as it would in production.
ERROR_BODIES: dict[int, dict[str, Any]] = {
    401: {"message": "Incorrect API key provided.", "type": "invalid_request_error",
          "param": None, "code": "invalid_api_key"},
    429: {"message": "Rate limit reached for requests. Please try again later.",
          "type": "requests", "param": None, "code": "rate_limit_exceeded"},
    500: {"message": "The server had an error while processing your request. Sorry about that!",
          "type": "server_error", "param": None, "code": None},
    503: {"message": "The engine is currently overloaded, please try again later.",
          "type": "server_error", "param": None, "code": None},
}


def not_found_body(model: str) -> dict[str, Any]:
    return {"error": {
        "message": f"The model `{model}` does not exist or you do not have access to it.",
        "type": "invalid_request_error", "param": None, "code": "model_not_found"}}


def count_tokens(text: str) -> int:
    """A crude, deterministic token count (words + punctuation) — good enough for cost tests."""
    return len(re.findall(r"\w+|[^\w\s]", text))


def message_text(messages: list[dict]) -> str:
    parts: list[str] = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "\n".join(parts)


def default_reply(body: dict) -> str:
    """Echo the model and the last user message, so tests can tell runs apart."""
    last = ""
    for m in body.get("messages", []):
        if m.get("role") == "user":
            last = message_text([m])
    return f"[{body.get('model')}] answer to: {last[:200]}"


def embed_text(text: str, dims: int = 16) -> list[float]:
    """A unit vector derived from sha256(text): same text → same vector, across processes."""
    raw = b""
    counter = 0
    while len(raw) < dims * 4:
        raw += hashlib.sha256(f"{counter}:{text}".encode()).digest()
        counter += 1
    values = [(b / 127.5) - 1.0 for b in raw[: dims * 4 : 4]]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return [v / norm for v in values]


@dataclass(frozen=True)
class ScriptedError:
    status: int
    retry_after: float | None = None
    model: str | None = None  # None: whichever request comes next


class OpenAIStub:
    """The server plus its script. Use as a context manager, or start()/stop()."""

    def __init__(
        self,
        latency: float = 0.0,
        replies: dict[str, Reply] | None = None,
        models: tuple[str, ...] = DEFAULT_MODELS,
        strict_models: bool = False,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        chunk_delay: float = 0.0,
    ) -> None:
        self.latency = latency
        self.chunk_delay = chunk_delay
        self.replies: dict[str, Reply] = dict(replies or {})
        # `models` is what /v1/models lists; with strict_models only those (and models with a
        # canned reply) are served, otherwise any name but MISSING_MODEL / "missing-*" is.
        self.models = tuple(models)
        self.strict_models = strict_models
        # Models that answer 400 to a json_schema response_format, as models without
        # structured outputs do (older OpenAI models, many vLLM/Ollama servers).
        self.no_structured: set[str] = set()
        self.api_key = api_key
        self._lock = threading.Lock()
        self._queued: list[ScriptedError] = []
        self._model_errors: dict[str, ScriptedError] = {}
        self.counts: Counter[tuple[str, str]] = Counter()
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        # Wall-clock times of the first request received and the last reply's start since
        # reset: the phases of a client process can be read from them (bench/rerun.py).
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._server = ThreadingHTTPServer((host, port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def azure_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OpenAIStub:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- script ----------------------------------------------------------------------------
    def set_reply(self, model: str, reply: Reply) -> None:
        with self._lock:
            self.replies[model] = reply

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None,
                  model: str | None = None) -> None:
        """Answer the next `times` chat/embedding requests (for `model`, if given) with `status`."""
        with self._lock:
            self._queued.extend(ScriptedError(status, retry_after, model) for _ in range(times))

    def fail_model(self, model: str, status: int, retry_after: float | None = None) -> None:
        """Answer every request for `model` with `status` until reset()."""
        with self._lock:
            self._model_errors[model] = ScriptedError(status, retry_after, model)

    def reset(self) -> None:
        with self._lock:
            self._queued.clear()
            self._model_errors.clear()
            self.counts.clear()
            self.requests.clear()
            self.max_in_flight = self.in_flight
            self.first_at = self.last_at = None

    def count(self, kind: str | None = None, model: str | None = None) -> int:
        """Requests received, optionally only of one kind ('chat', 'embeddings', 'models')."""
        with self._lock:
            return sum(n for (k, m), n in self.counts.items()
                       if (kind is None or k == kind) and (model is None or m == model))

    def apply_script(self, script: dict[str, Any]) -> None:
        """The JSON form of the script methods, for subprocess use via POST /_stub/script."""
        if "latency" in script:
            self.latency = float(script["latency"])
        if "chunk_delay" in script:
            self.chunk_delay = float(script["chunk_delay"])
        for model, text in (script.get("replies") or {}).items():
            self.set_reply(model, str(text))
        for item in script.get("fail_next") or []:
            self.fail_next(int(item["status"]), int(item.get("times", 1)),
                           item.get("retry_after"), item.get("model"))
        for model, item in (script.get("fail_model") or {}).items():
            self.fail_model(model, int(item["status"]), item.get("retry_after"))

    def stats(self) -> dict[str, Any]:
        with self._lock:
            by_kind: Counter[str] = Counter()
            for (k, _m), n in self.counts.items():
                by_kind[k] += n
            return {"requests": dict(by_kind), "max_in_flight": self.max_in_flight,
                    "first_at": self.first_at, "last_at": self.last_at,
                    "by_model": {f"{k}:{m}": n for (k, m), n in self.counts.items()}}

    # -- used by the handler -----------------------------------------------------------------
    def _record(self, kind: str, model: str, body: dict, headers: dict[str, str]) -> None:
        with self._lock:
            self.counts[(kind, model)] += 1
            if self.first_at is None:
                self.first_at = time.time()
            self.requests.append({"kind": kind, "model": model, "body": body, "headers": headers})

    def _take_error(self, model: str) -> ScriptedError | None:
        with self._lock:
            if model in self._model_errors:
                return self._model_errors[model]
            for i, err in enumerate(self._queued):
                if err.model is None or err.model == model:
                    return self._queued.pop(i)
        return None

    def _known(self, model: str) -> bool:
        if model == MISSING_MODEL or model.startswith("missing-"):
            return False
        return not self.strict_models or model in self.models or model in self.replies

    def _reply_text(self, body: dict) -> str:
        reply = self.replies.get(body.get("model", ""), default_reply)
        return reply(body) if callable(reply) else reply


def _make_handler(stub: OpenAIStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle on, keep-alive clients wait
        # for a delayed ACK (~40 ms) on every request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass  # keep test output clean

        # -- plumbing --
        def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-request-id", f"req_{time.monotonic_ns():x}")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _send_error(self, status: int, model: str, retry_after: float | None = None):
            if status == 401:
                # Echo the key as sent, to check that callers redact what servers echo.
                sent = self.headers.get("api-key") or self.headers.get("Authorization", "")
                sent = sent.removeprefix("Bearer ")
                payload = {"error": {**ERROR_BODIES[401],
                                     "message": f"Incorrect API key provided: {sent}."}}
                return self._send_json(401, payload)
            if status == 404:
                payload = not_found_body(model)
            else:
                payload = {"error": dict(ERROR_BODIES.get(status, {
                    "message": f"Stub error {status}", "type": "server_error",
                    "param": None, "code": None}))}
            headers = {}
            if retry_after is not None:
                headers["retry-after"] = f"{retry_after:g}"
                headers["retry-after-ms"] = str(int(retry_after * 1000))
            self._send_json(status, payload, headers)

        def _body(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            try:
                return json.loads(raw or b"{}")
            except json.JSONDecodeError:
                return {}

        def _authorised(self) -> bool:
            if stub.api_key is None:
                return True
            bearer = self.headers.get("Authorization", "")
            return bearer == f"Bearer {stub.api_key}" or self.headers.get("api-key") == stub.api_key

        # -- routes --
        def do_GET(self) -> None:  # noqa: N802 - stdlib naming
            path = self.path.split("?", 1)[0].rstrip("/")
            if path == "/_stub/stats":
                return self._send_json(200, stub.stats())
            if not self._authorised():
                return self._send_error(401, "")
            if path.endswith("/models"):
                stub._record("models", "", {}, dict(self.headers))
                names = list(stub.models) + [m for m in stub.replies if m not in stub.models]
                return self._send_json(200, {"object": "list", "data": [
                    {"id": m, "object": "model", "created": 1700000000, "owned_by": "stub"}
                    for m in names]})
            m = re.search(r"/models/([^/]+)$", path)
            if m:
                model = m.group(1)
                if not stub._known(model):
                    return self._send_error(404, model)
                return self._send_json(200, {"id": model, "object": "model",
                                             "created": 1700000000, "owned_by": "stub"})
            self._send_json(404, {"error": {"message": f"Unknown path {path}",
                                            "type": "invalid_request_error",
                                            "param": None, "code": None}})

        def do_POST(self) -> None:  # noqa: N802 - stdlib naming
            path = self.path.split("?", 1)[0].rstrip("/")
            body = self._body()
            if path == "/_stub/script":
                stub.apply_script(body)
                return self._send_json(200, {"ok": True})
            if path == "/_stub/reset":
                stub.reset()
                return self._send_json(200, {"ok": True})
            azure = re.search(r"/openai/deployments/([^/]+)/", path)
            if azure:
                body.setdefault("model", azure.group(1))
            if path.endswith("/chat/completions"):
                kind = "chat"
            elif path.endswith("/embeddings"):
                kind = "embeddings"
            else:
                return self._send_json(404, {"error": {"message": f"Unknown path {path}",
                                                       "type": "invalid_request_error",
                                                       "param": None, "code": None}})
            model = str(body.get("model", ""))
            stub._record(kind, model, body, dict(self.headers))
            # Counted only while "thinking", so a client that already has its answer while
            # this thread is still closing the socket is not counted twice.
            with stub._lock:
                stub.in_flight += 1
                stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
            try:
                if stub.latency:
                    time.sleep(stub.latency)
            finally:
                with stub._lock:
                    stub.in_flight -= 1
                    stub.last_at = time.time()
            if not self._authorised():
                return self._send_error(401, model)
            if not stub._known(model):
                return self._send_error(404, model)
            err = stub._take_error(model)
            if err is not None:
                return self._send_error(err.status, model, err.retry_after)
            if (kind == "chat" and model in stub.no_structured
                    and (body.get("response_format") or {}).get("type") == "json_schema"):
                return self._send_json(400, {"error": {
                    "message": "Invalid parameter: 'response_format' of type 'json_schema' is "
                               "not supported with this model.",
                    "type": "invalid_request_error", "param": "response_format",
                    "code": None}})
            if kind == "embeddings":
                return self._embeddings(body)
            if body.get("stream"):
                return self._chat_stream(body)
            return self._chat(body)

        # -- payloads --
        def _usage(self, body: dict, text: str, n: int) -> dict[str, Any]:
            prompt = count_tokens(message_text(body.get("messages", []))) + 4 * len(
                body.get("messages", []))
            completion = count_tokens(text) * n
            return {"prompt_tokens": prompt, "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}}

        def _limit(self, body: dict, text: str) -> tuple[str, str]:
            limit = body.get("max_completion_tokens") or body.get("max_tokens")
            if limit and count_tokens(text) > int(limit):
                words = text.split()
                return " ".join(words[: int(limit)]), "length"
            return text, "stop"

        def _chat(self, body: dict) -> None:
            n = int(body.get("n") or 1)
            text, finish = self._limit(body, stub._reply_text(body))
            self._send_json(200, {
                "id": f"chatcmpl-stub{time.monotonic_ns():x}", "object": "chat.completion",
                "created": int(time.time()), "model": body.get("model"),
                "system_fingerprint": "fp_stub", "service_tier": "default",
                "choices": [{"index": i, "finish_reason": finish, "logprobs": None,
                             "message": {"role": "assistant", "content": text,
                                         "refusal": None, "annotations": []}}
                            for i in range(n)],
                "usage": self._usage(body, text, n)})

        def _chat_stream(self, body: dict) -> None:
            text, finish = self._limit(body, stub._reply_text(body))
            cid = f"chatcmpl-stub{time.monotonic_ns():x}"
            base = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
                    "model": body.get("model"), "system_fingerprint": "fp_stub"}
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")  # no Content-Length: the body ends at close
            self.end_headers()
            self.close_connection = True

            def emit(payload: Any) -> None:
                data = payload if isinstance(payload, str) else json.dumps(payload)
                self.wfile.write(f"data: {data}\n\n".encode())
                self.wfile.flush()

            emit({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                       "finish_reason": None}]})
            for piece in re.findall(r"\S+\s*", text):
                if stub.chunk_delay:
                    time.sleep(stub.chunk_delay)
                emit({**base, "choices": [{"index": 0, "delta": {"content": piece},
                                           "finish_reason": None}]})
            emit({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
            if (body.get("stream_options") or {}).get("include_usage"):
                emit({**base, "choices": [], "usage": self._usage(body, text, 1)})
            emit("[DONE]")

        def _embeddings(self, body: dict) -> None:
            inputs = body.get("input")
            texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs or []]
            dims = int(body.get("dimensions") or 16)
            data = []
            for i, text in enumerate(texts):
                vec = embed_text(text, dims)
                if body.get("encoding_format") == "base64":
                    emb: Any = base64.b64encode(struct.pack(f"<{dims}f", *vec)).decode()
                else:
                    emb = vec
                data.append({"object": "embedding", "index": i, "embedding": emb})
            tokens = sum(count_tokens(t) for t in texts)
            self._send_json(200, {"object": "list", "data": data, "model": body.get("model"),
                                  "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--chunk-delay", type=float, default=0.0)
    parser.add_argument("--api-key", default=None, help="require this key (401 otherwise)")
    parser.add_argument("--reply", action="append", default=[], metavar="MODEL=TEXT",
                        help="canned reply for a model (repeatable)")
    parser.add_argument("--strict-models", action="store_true",
                        help="404 for models outside the default catalogue")
    args = parser.parse_args(argv)
    replies = dict(r.split("=", 1) for r in args.reply)
    stub = OpenAIStub(latency=args.latency, replies=replies, api_key=args.api_key,
                      strict_models=args.strict_models, host=args.host,
                      port=args.port, chunk_delay=args.chunk_delay)
    print(f"listening on {stub.base_url}", flush=True)
    try:
        stub._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stub._server.server_close()


if __name__ == "__main__":
    main()
