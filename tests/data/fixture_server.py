"""Local servers the fixture generators talk to: an OpenAI-compatible API and a capture server.

Why not tests/openai_stub.py: it answers with text only, and the fixtures need what real calls
carry — parallel tool calls, streamed tool-call fragments, the Responses API, a 404 — with ids
and clocks fixed so a regenerated file diffs cleanly. Both servers listen on 127.0.0.1 with an
ephemeral port; nothing here reaches the network.

- ``OpenAIServer`` serves ``/v1/chat/completions`` (JSON or SSE, with ``stream_options``),
  ``/v1/responses``, ``/v1/embeddings``, and 404 ``model_not_found`` (OpenAI's real body) for a
  model named ``this-model-does-not-exist`` or ``missing-*``. A request (Chat or Responses) that
  offers tools and whose last message is the user's is answered with one call per tool
  (arguments from ``TOOL_ARGS``); otherwise the reply is ``REPLIES[last user text]`` or an echo.
- ``CaptureServer`` records every request (method, path, headers, body bytes) and answers
  what the Langfuse / LangSmith SDKs expect (``/info``, 200/207 JSON), so their real export
  traffic can be written out as files.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CREATED = 1767225600  # 2026-01-01T00:00:00Z: every response says this, so files are stable
MISSING = "this-model-does-not-exist"
SNAPSHOT = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18", "gpt-4o": "gpt-4o-2024-08-06",
            "gpt-4.1": "gpt-4.1-2025-04-14"}  # fmt: skip
REPLIES = {
    "Weather in Paris?": "It is rainy in Paris, 14°C.",
    "Say this is a test": "This is a test.",
    "Write a haiku about ducks.": "Still pond at dawn,\nducks draw lines on silver glass,\nripples",
}
TOOL_ARGS = {
    "get_weather": {"city": "Paris"},
    "get_population": {"city": "Paris"},
}


def count_tokens(text: str) -> int:
    """Words and punctuation: deterministic, so every fixture's usage is known in advance."""
    return len(re.findall(r"\w+|[^\w\s]", text))


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text") or p.get("content") or "") for p in content
                        if isinstance(p, dict))  # fmt: skip
    return ""


def _last_user(messages: list[dict]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            return _text_of(m.get("content"))
    return ""


def reply_for(model: str, messages: list[dict]) -> str:
    last = _last_user(messages)
    if messages and messages[-1].get("role") == "tool":
        return REPLIES.get(last, f"Done: {_text_of(messages[-1].get('content'))}")
    return REPLIES.get(last, f"[{model}] answer to: {last}")


class OpenAIServer:
    """The OpenAI-compatible server. Use as a context manager; ``base_url`` ends in /v1."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _openai_handler(self))
        self._server.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def next_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}{next(self._ids):04d}"

    def __enter__(self) -> OpenAIServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- payloads ------------------------------------------------------------------------------
    def usage(self, messages: list[dict], completion: int) -> dict[str, Any]:
        prompt = sum(count_tokens(_text_of(m.get("content")) or json.dumps(m.get("tool_calls")))
                     + 4 for m in messages)  # fmt: skip
        return {"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                              "accepted_prediction_tokens": 0,
                                              "rejected_prediction_tokens": 0}}  # fmt: skip

    def chat_message(self, body: dict) -> tuple[dict[str, Any], str, int]:
        messages = body.get("messages") or []
        tools = body.get("tools") or []
        if tools and messages and messages[-1].get("role") == "user":
            calls = []
            for tool in tools:
                name = tool["function"]["name"]
                args = json.dumps(TOOL_ARGS.get(name, {}))
                calls.append({"id": self.next_id("call_"), "type": "function",
                              "function": {"name": name, "arguments": args}})  # fmt: skip
            tokens = sum(count_tokens(c["function"]["arguments"]) + 3 for c in calls)
            return {"role": "assistant", "content": None, "tool_calls": calls, "refusal": None,
                    "annotations": []}, "tool_calls", tokens  # fmt: skip
        text = reply_for(str(body.get("model")), messages)
        message = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
        return message, "stop", count_tokens(text)

    def responses_output(self, body: dict, messages: list[dict]) -> tuple[list[dict], int]:
        """A request that offers function tools and whose last input item is the user's gets
        one function_call per tool (the Agents SDK's first turn); otherwise a text message."""
        tools = [t for t in body.get("tools") or [] if t.get("type") == "function"]
        if tools and messages and messages[-1].get("role") == "user":
            calls = []
            for tool in tools:
                args = json.dumps(TOOL_ARGS.get(tool["name"], {}))
                calls.append({"id": self.next_id("fc_"), "type": "function_call",
                              "status": "completed", "call_id": self.next_id("call_"),
                              "name": tool["name"], "arguments": args})  # fmt: skip
            return calls, sum(count_tokens(c["arguments"]) + 3 for c in calls)
        text = reply_for(str(body.get("model")), messages)
        content = [{"type": "output_text", "text": text, "annotations": []}]
        message = {"id": self.next_id("msg_"), "type": "message", "status": "completed",
                   "role": "assistant", "content": content}  # fmt: skip
        return [message], count_tokens(text)

    def responses_body(self, body: dict) -> dict[str, Any]:
        items = body.get("input")
        messages = [{"role": "user", "content": items}] if isinstance(items, str) else items or []
        output, out = self.responses_output(body, messages)
        prompt = count_tokens(str(body.get("instructions") or "")) + sum(
            count_tokens(_text_of(m.get("content")) or str(m.get("output") or ""))
            for m in messages
            if isinstance(m, dict)
        )
        model = str(body.get("model"))
        return {
            "id": self.next_id("resp_"), "object": "response", "created_at": CREATED,
            "status": "completed", "model": SNAPSHOT.get(model, model), "error": None,
            "incomplete_details": None, "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"), "metadata": body.get("metadata")
            or {}, "parallel_tool_calls": True, "temperature": body.get("temperature", 1.0),
            "tool_choice": "auto", "tools": body.get("tools") or [], "top_p": 1.0,
            "text": {"format": {"type": "text"}}, "output": output,
            "usage": {"input_tokens": prompt, "output_tokens": out,
                      "total_tokens": prompt + out,
                      "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens_details": {"reasoning_tokens": 0}},
        }  # fmt: skip


def _not_found(model: str) -> dict[str, Any]:
    return {"error": {
        "message": f"The model `{model}` does not exist or you do not have access to it.",
        "type": "invalid_request_error", "param": None, "code": "model_not_found"}}  # fmt: skip


def _openai_handler(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _json(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-request-id", server.next_id("req_"))
            self.send_header("openai-processing-ms", "250")
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            path = self.path.split("?", 1)[0].rstrip("/")
            server.requests.append({"path": path, "body": body})
            model = str(body.get("model", ""))
            if model == MISSING or model.startswith("missing-"):
                return self._json(404, _not_found(model))
            if path.endswith("/chat/completions"):
                return self._chat(body)
            if path.endswith("/responses"):
                return self._json(200, server.responses_body(body))
            if path.endswith("/embeddings"):
                inputs = body.get("input")
                texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
                tokens = sum(count_tokens(str(t)) for t in texts)
                data = [{"object": "embedding", "index": i,
                         "embedding": [round(0.1 * ((i + k) % 7), 3) for k in range(8)]}
                        for i, _ in enumerate(texts)]  # fmt: skip
                return self._json(200, {"object": "list", "data": data, "model": model,
                                        "usage": {"prompt_tokens": tokens,
                                                  "total_tokens": tokens}})  # fmt: skip
            self._json(404, {"error": {"message": f"Unknown path {path}", "code": None}})

        def _chat(self, body: dict) -> None:
            message, finish, tokens = server.chat_message(body)
            model = str(body.get("model"))
            usage = server.usage(body.get("messages") or [], tokens)
            head = {"id": server.next_id("chatcmpl-local"), "created": CREATED,
                    "model": SNAPSHOT.get(model, model), "system_fingerprint": "fp_local",
                    "service_tier": "default"}  # fmt: skip
            if not body.get("stream"):
                choice = {"index": 0, "message": message, "finish_reason": finish,
                          "logprobs": None}  # fmt: skip
                return self._json(200, {**head, "object": "chat.completion",
                                        "choices": [choice], "usage": usage})  # fmt: skip
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("x-request-id", server.next_id("req_"))
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            base = {**head, "object": "chat.completion.chunk"}

            def emit(delta: dict | None, finish_reason: str | None = None, **extra: Any) -> None:
                choices = (
                    []
                    if delta is None
                    else [
                        {
                            "index": 0,
                            "delta": delta,
                            "finish_reason": finish_reason,
                            "logprobs": None,
                        }
                    ]
                )
                data = json.dumps({**base, "choices": choices, **extra})
                self.wfile.write(f"data: {data}\n\n".encode())

            emit({"role": "assistant", "content": "", "refusal": None})
            if message.get("tool_calls"):
                for i, call in enumerate(message["tool_calls"]):
                    args = call["function"]["arguments"]
                    half = len(args) // 2
                    emit(
                        {
                            "tool_calls": [
                                {
                                    "index": i,
                                    "id": call["id"],
                                    "type": "function",
                                    "function": {
                                        "name": call["function"]["name"],
                                        "arguments": args[:half],
                                    },
                                }
                            ]
                        }
                    )
                    emit({"tool_calls": [{"index": i, "function": {"arguments": args[half:]}}]})
            else:
                for piece in re.findall(r"\S+\s*", message["content"]):
                    emit({"content": piece})
            emit({}, finish)
            if (body.get("stream_options") or {}).get("include_usage"):
                emit(None, usage=usage)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler


Responder = Callable[[str, str, dict[str, str], bytes], tuple[int, Any]]


class CaptureServer:
    """Records every request; ``respond(method, path, headers, body)`` picks the answer."""

    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _capture_handler(self))
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> CaptureServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def taken(self, path_part: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if path_part in r["path"]]


def _capture_handler(capture: CaptureServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            with capture._lock:
                capture.requests.append({"method": self.command, "path": self.path,
                                         "headers": headers, "body": body})  # fmt: skip
            status, payload = capture.respond(self.command, self.path, headers, body)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = _handle  # noqa: N815

    return Handler


# -- what every generator does with the openai SDK -----------------------------------------------

TOOLS = [
    {"type": "function", "function": {
        "name": name, "description": f"{name.replace('_', ' ')} of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}}}
    for name in ("get_weather", "get_population")
]  # fmt: skip
QUESTION = "Weather in Paris?"


def drive_openai(client: Any) -> None:
    """The calls every SDK fixture records, through a real ``openai.OpenAI`` client (or one a
    library wrapped): (1) a question answered with two parallel tool calls, (2) the history with
    the tool results answered in text, (3) a streamed answer with a usage chunk, (4) a 404."""
    import openai

    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You answer in one sentence."},
        {"role": "user", "content": QUESTION},
    ]
    first = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=TOOLS, temperature=0.2, max_tokens=100
    )
    calls = first.choices[0].message.tool_calls
    messages.append({"role": "assistant", "content": None, "tool_calls": [
        {"id": c.id, "type": "function",
         "function": {"name": c.function.name, "arguments": c.function.arguments}}
        for c in calls]})  # fmt: skip
    results = {"get_weather": "rainy, 14°C", "get_population": "2.1 million"}
    for c in calls:
        messages.append({"role": "tool", "tool_call_id": c.id, "content": results[c.function.name]})
    client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=TOOLS, temperature=0.2, max_tokens=100
    )
    stream = client.chat.completions.create(
        model="gpt-4", messages=[{"role": "user", "content": "Say this is a test"}],
        stream=True, stream_options={"include_usage": True},
    )  # fmt: skip
    for _ in stream:
        pass
    try:
        client.chat.completions.create(
            model=MISSING, messages=[{"role": "user", "content": "Say this is a test"}]
        )
    except openai.NotFoundError:
        pass


def versions(*packages: str) -> dict[str, str]:
    """The installed versions of the libraries that made a file, for MANIFEST.md."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in packages:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def record_versions(files: list[str], packages: dict[str, str]) -> None:
    """Merge `file → library versions` into tests/data/versions.json (MANIFEST.md's source)."""
    from pathlib import Path

    path = Path(__file__).resolve().parent / "versions.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    for name in files:
        known[name] = packages
    path.write_text(json.dumps(dict(sorted(known.items())), indent=1, ensure_ascii=False) + "\n")


def quiet_env() -> dict[str, str]:
    """Environment that keeps every SDK's own telemetry and retries off the network."""
    return {"OTEL_SDK_DISABLED": "false", "LANGSMITH_TRACING": "false",
            "LANGCHAIN_TRACING_V2": "false", "DO_NOT_TRACK": "1", "LANGFUSE_TRACING_ENVIRONMENT":
            "fixtures", "OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none", "HTTP_PROXY": "", "HTTPS_PROXY": "",
            "NO_PROXY": "127.0.0.1,localhost", "OPENAI_API_KEY": "sk-local",
            "LANGSMITH_REVISION_ID": "fixtures"}  # fmt: skip
