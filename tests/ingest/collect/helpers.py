"""What the collector tests share: a collector in this process or a child, plain HTTP posts,
and the rows of a warehouse in a comparable form."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ingest.collect.server import Collector, Settings
from ingest.db import connect
from ingest.load import native
from ingest.load.loader import load_source
from ingest.load.read import expand

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_collector(tmp: Path, db: Path, **kw: Any) -> Collector:
    settings = Settings(db=db, spool=tmp / "spool", port=0, **kw)
    c = Collector(settings)
    c.start()
    return c


def post(port: int, path: str, body: bytes, ctype: str = "application/json",
         gz: bool = False) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    headers = {"Content-Type": ctype}
    if gz:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def span(span_id: str, trace_id: str = "0af7651916cd43dd8448eb211c80319c", **attrs: Any) -> dict:
    def value(v: Any) -> dict:
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        if isinstance(v, float):
            return {"doubleValue": v}
        return {"stringValue": v}

    return {
        "traceId": trace_id,
        "spanId": span_id,
        "name": attrs.pop("name", "chat gpt-4o-mini"),
        "kind": 3,
        "startTimeUnixNano": "1767225600000000000",
        "endTimeUnixNano": "1767225601250000000",
        "attributes": [{"key": k, "value": value(v)} for k, v in attrs.items()],
    }


def traces_doc(*spans: dict) -> bytes:
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "t"}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": list(spans)}],
    }]}).encode()  # fmt: skip


def chat_span(span_id: str, n: int = 0) -> dict:
    return span(
        span_id,
        **{
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 10 + n,
            "gen_ai.usage.output_tokens": 3,
            "gen_ai.input.messages": json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": f"question {n}"}]}]
            ),
        },
    )


# Every column but raw (compared on its own: the collector writes OTLP/JSON hex ids there).
EVENT_COLS = ", ".join(c for c in native.EVENT_COLUMNS if c != "raw")


def rows(db: Path, cols: str = EVENT_COLS) -> list[tuple]:
    with connect(db, read_only=True) as con:
        return con.execute(f"SELECT {cols} FROM events ORDER BY event_id").fetchall()


def scalar(db: Path, sql: str) -> Any:
    with connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()[0][0]


def ingest_files(db: Path, *paths: Path) -> None:
    with connect(db):
        pass
    for src in expand([str(p) for p in paths]):
        load_source(db, src)


def child(db: Path, spool: Path, port: int, *extra: str, ready: bool = False) -> subprocess.Popen:
    """`reviewdeck collect` as a real child process; returns once it listens (with `ready`,
    once it has also said so: its SIGTERM handler is installed just then, so a test that stops
    it at once gets the orderly stop, not the signal's default)."""
    argv = [sys.executable, "-m", "dashboard.cli", "collect", "--db", str(db), "--spool",
            str(spool), "--port", str(port), *extra]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=REPO, env=dict(os.environ), stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else proc.returncode
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise AssertionError("collector did not start listening")
    while ready:
        line = proc.stderr.readline() if proc.stderr else ""
        assert line, "collector exited before saying it collects"
        if "collecting OTLP/HTTP" in line:
            time.sleep(0.1)  # the handler is set right after this line
            break
    return proc
