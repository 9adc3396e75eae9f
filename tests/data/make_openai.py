"""Make the OpenAI fixtures with the real openai SDK against fixture_server.OpenAIServer
(127.0.0.1). Tests read the committed output; rerun only to refresh it, in the fixture venv
(see make_otlp.py): ``/tmp/fixture-venv/bin/python tests/data/make_openai.py``.

Output in tests/data/openai/:

- logs.jsonl — one line per call, ``{"request": kwargs, "response": <SDK object>.model_dump()}``
  as an application logs what it sent and got: a Chat Completions answer with two tool calls,
  the follow-up with the tool results, a Responses API call (instructions, metadata), a streamed
  tool call kept as the list of chunks the SDK yielded, a 404 kept as ``{"request", "error"}``
  (the SDK's ``exc.body``), and a response object alone.
- cassette_tool_calls.yaml, cassette_streaming.yaml, cassette_404.yaml — VCR cassettes vcrpy
  recorded of the SDK's HTTP traffic (headers filtered as a project would).
- batch/batch_input.jsonl, batch/batch_output.jsonl — the Batch API pair. The Batch service does
  not run locally: the script writes the input lines (the documented format) and runs each
  body through the SDK (``with_raw_response``), wrapping status, request id and body in the
  documented output line; one line asks for a missing model and keeps its 404.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "openai"
sys.path.insert(0, str(HERE))

from fixture_server import (  # noqa: E402
    MISSING,
    TOOLS,
    OpenAIServer,
    quiet_env,
    record_versions,
    versions,
)


def _logs(client) -> list[dict]:
    import openai

    lines = []

    def call(kind: str, **request):
        create = client.responses.create if kind == "responses" else client.chat.completions.create
        try:
            result = create(**request)
        except openai.APIStatusError as exc:
            lines.append({"request": request, "error": exc.body,
                          "ts": "2026-01-01T00:00:05Z"})  # fmt: skip
            return None
        if request.get("stream"):
            lines.append({"request": request, "response": [c.model_dump() for c in result]})
        else:
            lines.append({"request": request, "response": result.model_dump()})
        return result

    messages = [{"role": "user", "content": "Weather in Paris?"}]
    first = call("chat", model="gpt-4o-mini", messages=messages, tools=TOOLS, user="user-7",
                 metadata={"session_id": "sess-1", "topic": "weather"}, store=True)  # fmt: skip
    calls = first.choices[0].message.tool_calls
    history = [*messages, {"role": "assistant", "content": None, "tool_calls": [
        {"id": c.id, "type": "function",
         "function": {"name": c.function.name, "arguments": c.function.arguments}}
        for c in calls]},
        {"role": "tool", "tool_call_id": calls[0].id, "content": "rainy, 14°C"},
        {"role": "tool", "tool_call_id": calls[1].id, "content": "2.1 million"}]  # fmt: skip
    call("chat", model="gpt-4o-mini", messages=history, tools=TOOLS, user="user-7",
         metadata={"session_id": "sess-1", "topic": "weather"}, store=True)  # fmt: skip
    call("responses", model="gpt-4.1", instructions="Be short.",
         input="Write a haiku about ducks.", max_output_tokens=50,
         metadata={"user_id": "user-8", "session_id": "sess-2"})  # fmt: skip
    call("chat", model="gpt-4o-mini", messages=messages, tools=TOOLS[:1], stream=True,
         stream_options={"include_usage": True})  # fmt: skip
    call("chat", model=MISSING, messages=[{"role": "user", "content": "Say this is a test"}])
    alone = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Say this is a test"}], seed=7
    )
    lines.append(alone.model_dump())
    return lines


def _cassettes(base_url: str) -> list[str]:
    import openai
    import vcr

    recorder = vcr.VCR(record_mode="all", filter_headers=["authorization", "user-agent",
                       "x-stainless-arch", "x-stainless-os", "x-stainless-runtime-version",
                       "x-stainless-package-version", "x-stainless-runtime"],
                       decode_compressed_response=True)  # fmt: skip
    client = openai.OpenAI(api_key="sk-local", base_url=base_url, max_retries=0)
    ask = [{"role": "user", "content": "Weather in Paris?"}]
    written = []
    for name, kwargs in {
        "cassette_tool_calls.yaml": {"model": "gpt-4o-mini", "messages": ask, "tools": TOOLS},
        "cassette_streaming.yaml": {"model": "gpt-4", "stream": True,
                                    "stream_options": {"include_usage": True},
                                    "messages": [{"role": "user",
                                                  "content": "Say this is a test"}]},
        "cassette_404.yaml": {"model": MISSING,
                              "messages": [{"role": "user", "content": "Say this is a test"}]},
    }.items():  # fmt: skip
        path = OUT / name
        path.unlink(missing_ok=True)
        with recorder.use_cassette(str(path)):
            try:
                result = client.chat.completions.create(**kwargs)
                if kwargs.get("stream"):
                    for _ in result:
                        pass
            except openai.NotFoundError:
                pass
        written.append(f"openai/{name}")
    return written


def _batch(client) -> list[str]:
    import openai

    folder = OUT / "batch"
    folder.mkdir(parents=True, exist_ok=True)
    questions = ["Weather in Paris?", "Say this is a test", "Write a haiku about ducks."]
    inputs = [{"custom_id": f"request-{i}", "method": "POST", "url": "/v1/chat/completions",
               "body": {"model": "gpt-4o", "max_tokens": 200, "temperature": 0,
                        "messages": [{"role": "system", "content": "You are terse."},
                                     {"role": "user", "content": q}]}}
              for i, q in enumerate(questions, start=1)]  # fmt: skip
    inputs.append({"custom_id": "request-4", "method": "POST", "url": "/v1/chat/completions",
                   "body": {"model": MISSING, "max_tokens": 200,
                            "messages": [{"role": "user", "content": "hi"}]}})  # fmt: skip
    outputs = []
    for n, line in enumerate(inputs, start=1):
        raw = client.chat.completions.with_raw_response
        try:
            got = raw.create(**line["body"])
            status, request_id, body = got.status_code, got.headers["x-request-id"], got.parse()
            body = body.model_dump()
        except openai.APIStatusError as exc:
            status, request_id = exc.status_code, exc.response.headers["x-request-id"]
            body = exc.body if "error" in (exc.body or {}) else {"error": exc.body}
        outputs.append({"id": f"batch_req_{n:024x}", "custom_id": line["custom_id"],
                        "response": {"status_code": status, "request_id": request_id,
                                     "body": body}, "error": None})  # fmt: skip
    (folder / "batch_input.jsonl").write_text("".join(json.dumps(i) + "\n" for i in inputs))
    (folder / "batch_output.jsonl").write_text("".join(json.dumps(o) + "\n" for o in outputs))
    return ["openai/batch/batch_input.jsonl", "openai/batch/batch_output.jsonl"]


def main() -> None:
    import openai

    os.environ.update(quiet_env())
    OUT.mkdir(exist_ok=True)
    with OpenAIServer() as server:
        client = openai.OpenAI(api_key="sk-local", base_url=server.base_url, max_retries=0)
        lines = _logs(client)
        (OUT / "logs.jsonl").write_text(
            "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)
        )
        written = ["openai/logs.jsonl"]
    with OpenAIServer() as server:
        written += _cassettes(server.base_url)
    with OpenAIServer() as server:
        client = openai.OpenAI(api_key="sk-local", base_url=server.base_url, max_retries=0)

        written += _batch(client)
    record_versions(written, versions("openai", "vcrpy"))


if __name__ == "__main__":
    main()
