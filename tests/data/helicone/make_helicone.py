"""Make the Helicone fixture: a JSON Lines request export, as `npx @helicone/export --format jsonl
--include-body` writes it (one record of Helicone's `POST /v1/request/query-clickhouse` a line,
`request_body` / `response_body` filled from the stored bodies).

No package on PyPI or npm here writes that export: it is Helicone's server's output (the npm
`@helicone/export` tool only pages through that API; the PyPI `helicone` 1.0.14 wrapper
targets openai<1 and only proxies). So the file is assembled from Helicone's documented schema
(the query's columns in `valhalla/jawn/src/lib/stores/request/request.ts`: request_id,
request_created_at, response_created_at, response_status, request_user_id, properties,
provider, delay_ms, request_model, time_to_first_token, prompt/completion/total tokens,
prompt_cache_read/write_tokens, scores, cost, prompt_id, prompt_version, target_url, …) around
real traffic: the real openai SDK sends the four calls of ../fixture_server.drive_openai, with
the headers a Helicone user sets (Helicone-User-Id, Helicone-Session-Id/-Path/-Name,
Helicone-Property-*), through a recording proxy on 127.0.0.1 — the part Helicone's gateway
plays — to fixture_server.OpenAIServer. The bodies, status codes and timings are those of that
traffic; a streamed answer is kept as the reassembled completion plus its chunks in
`streamed_data`. Timestamps are written as ClickHouse's DateTime64 text (UTC, no zone).
Records are newest first (the API's `sort: {created_at: "desc"}`). Scores are attached to the
second call as Helicone's API stores them (`helicone-score-feedback` for a user's thumbs up,
and an evaluator's integer score).

    /tmp/fixture-venv/bin/python tests/data/helicone/make_helicone.py
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from fixture_server import OpenAIServer, drive_openai, record_versions, versions  # noqa: E402

SESSION = "5a1e9d0c-3f43-4b6e-9d59-0c7a2b1e5f11"
HEADERS = {"Helicone-Auth": "Bearer sk-helicone-local-0000000000000000000000",
           "Helicone-User-Id": "user-9", "Helicone-Session-Id": SESSION,
           "Helicone-Session-Path": "/answer", "Helicone-Session-Name": "weather",
           "Helicone-Property-Environment": "fixtures",
           "Helicone-Property-Feature": "weather-bot"}  # fmt: skip


def clickhouse_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def sse_chunks(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        if line.startswith("data: ") and line[6:].strip() != "[DONE]":
            out.append(json.loads(line[6:]))
    return out


def reassembled(chunks: list[dict]) -> dict:
    head = {k: v for k, v in chunks[0].items() if k not in ("choices", "object")}
    content = "".join(
        (c.get("delta") or {}).get("content") or "" for ch in chunks for c in ch["choices"]
    )
    finish = next(c["finish_reason"] for ch in chunks for c in ch["choices"] if c["finish_reason"])
    usage = next(ch["usage"] for ch in chunks if ch.get("usage"))
    return {**head, "object": "chat.completion", "usage": usage,
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": content}}]}  # fmt: skip


class Recorder:
    """The gateway's part: forward each call to the upstream, time it, keep both bodies."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.calls: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # noqa: A002
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                start = time.time()
                req = urllib.request.Request(
                    recorder.upstream + self.path.removeprefix("/v1"),
                    data=body,
                    method="POST",
                    headers={"Content-Type": "application/json"},
                )
                first = None
                try:
                    with urllib.request.urlopen(req) as resp:
                        status, ctype = resp.status, resp.headers.get("Content-Type", "")
                        parts = []
                        while chunk := resp.read1(65536):
                            first = first or time.time()
                            parts.append(chunk)
                        data = b"".join(parts)
                except urllib.error.HTTPError as exc:
                    status, ctype, data = exc.code, "application/json", exc.read()
                end = time.time()
                recorder.calls.append({
                    "path": self.path, "headers": {k: v for k, v in self.headers.items()},
                    "request": json.loads(body), "status": status, "body": data,
                    "stream": "event-stream" in ctype, "start": start, "end": end,
                    "first": first or end})  # fmt: skip
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def record(call: dict, n: int) -> dict:
    request_id = str(uuid.UUID(int=0x1E11C0E0000000000000000000000000 + n))
    if call["stream"]:
        chunks = sse_chunks(call["body"].decode())
        response = {**reassembled(chunks), "streamed_data": chunks}
    else:
        response = json.loads(call["body"])
    usage = response.get("usage") or {}
    headers = {k.lower(): v for k, v in call["headers"].items()}
    properties = {k[len("helicone-property-"):].capitalize(): v for k, v in headers.items()
                  if k.startswith("helicone-property-")}  # fmt: skip
    properties.update({"Helicone-Session-Id": headers["helicone-session-id"],
                       "Helicone-Session-Path": headers["helicone-session-path"],
                       "Helicone-Session-Name": headers["helicone-session-name"]})  # fmt: skip
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return {
        "response_id": str(uuid.UUID(int=0x2E5D0E0000000000000000000000000 + n)),
        "response_body": response,
        "response_created_at": clickhouse_time(call["end"]),
        "response_status": call["status"],
        "request_id": request_id,
        "request_body": call["request"],
        "request_created_at": clickhouse_time(call["start"]),
        "request_user_id": headers["helicone-user-id"],
        "request_properties": properties,
        "provider": "OPENAI",
        "delay_ms": round((call["end"] - call["start"]) * 1000),
        "request_model": call["request"]["model"],
        "ai_gateway_body_mapping": None,
        "time_to_first_token": round((call["first"] - call["start"]) * 1000),
        "total_tokens": (prompt or 0) + (completion or 0),
        "completion_tokens": completion or 0,
        "prompt_tokens": prompt or 0,
        "prompt_cache_read_tokens": (
            (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
        ),  # fmt: skip
        "prompt_cache_write_tokens": 0,
        "country_code": None,
        "scores": {"accuracy": 90, "helicone-score-feedback": 1} if n == 2 else {},
        "properties": properties,
        "asset_ids": [],
        "target_url": "https://api.openai.com" + call["path"],
        "cache_reference_id": "00000000-0000-0000-0000-000000000000",
        "request_referrer": None,
        "cache_enabled": False,
        "cost": None,
        "prompt_id": "weather-answer" if n == 2 else None,
        "prompt_version": 3 if n == 2 else None,
        "updated_at": clickhouse_time(call["end"]),
        "storage_location": "s3",
        "signed_body_url": None,
    }


def main() -> None:
    import openai

    with OpenAIServer() as upstream, Recorder(upstream.base_url) as proxy:
        client = openai.OpenAI(api_key="sk-local", base_url=proxy.base_url, max_retries=0,
                               default_headers=HEADERS)  # fmt: skip
        drive_openai(client)
        calls = proxy.calls
    assert len(calls) == 4, calls
    records = [record(call, n) for n, call in enumerate(calls, start=1)]
    out = HERE / "requests.jsonl"
    with out.open("w") as fh:
        for rec in reversed(records):  # newest first, as the export pages them
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    record_versions(["helicone/requests.jsonl"], versions("openai"))


if __name__ == "__main__":
    main()
