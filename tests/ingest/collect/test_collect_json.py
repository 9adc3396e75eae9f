"""OTLP/JSON over plain HTTP (gzip or not): rows mapped as file ingest maps the same documents,
log events joined to their spans across requests, partial success, 400s that land in rejects."""

from __future__ import annotations

import http.client
import json
import shutil
from pathlib import Path

import pytest

from ingest.db import connect
from tests.conftest import DATA
from tests.ingest.collect.helpers import (
    chat_span,
    ingest_files,
    post,
    rows,
    scalar,
    span,
    start_collector,
    traces_doc,
)

OTLP = DATA / "otlp"


@pytest.fixture
def collector(tmp_path: Path, db_path: Path):
    c = start_collector(tmp_path, db_path, batch_seconds=3600)
    yield c
    c.stop()


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "plain"])
def test_fixture_documents_map_as_file_ingest_maps_them(
    collector, db_path: Path, tmp_path: Path, gz: bool
) -> None:
    """The openai-v2 instrumentation's deprecated convention: metrics on the span, messages in
    log events sent on /v1/logs — here before the spans, as the SDK's log processor does."""
    logs = OTLP / "openai_v2_deprecated.logs.jsonl"
    traces = OTLP / "openai_v2_deprecated.traces.jsonl"
    for path, f in (("/v1/logs", logs), ("/v1/traces", traces)):
        for line in f.read_bytes().splitlines():
            status, headers, body = post(collector.port, path, line, gz=gz)
            assert status == 200, body
            assert headers["Content-Type"] == "application/json"
            assert json.loads(body) == {}  # full success: no partialSuccess
    assert scalar(db_path, "SELECT count(*) FROM events") == 0  # spooled, not loaded yet
    collector.drain()

    folder = tmp_path / "files"
    folder.mkdir()
    for f in (logs, traces):
        shutil.copy(f, folder / f.name)
    expected_db = tmp_path / "expected.duckdb"
    ingest_files(expected_db, folder)

    got, want = rows(db_path), rows(expected_db)
    assert len(want) >= 2 and got == want
    # The join happened: the llm spans carry the messages their log events held.
    llm = [r for r in got if r[5] == "llm"]
    assert llm and all(r[12] is not None for r in llm)
    assert scalar(db_path, "SELECT count(*) FROM rejects") == 0


def test_current_convention_with_evaluations_maps_as_file_ingest(
    collector, db_path: Path, tmp_path: Path
) -> None:
    for name in ("openai_v2_current.traces.jsonl", "openai_v2_current.logs.jsonl"):
        path = "/v1/traces" if "traces" in name else "/v1/logs"
        for line in (OTLP / name).read_bytes().splitlines():
            assert post(collector.port, path, line, gz=True)[0] == 200
    collector.drain()
    folder = tmp_path / "files"
    folder.mkdir()
    for name in ("openai_v2_current.traces.jsonl", "openai_v2_current.logs.jsonl"):
        shutil.copy(OTLP / name, folder / name)
    expected_db = tmp_path / "expected.duckdb"
    ingest_files(expected_db, folder)
    assert rows(db_path) == rows(expected_db)
    fb = "SELECT event_id, trace_id, name, kind, value, label, source FROM feedback ORDER BY 1, 3"
    with connect(db_path, read_only=True) as a, connect(expected_db, read_only=True) as b:
        assert a.execute(fb).fetchall() == b.execute(fb).fetchall()


def test_a_bad_span_costs_only_itself(collector, db_path: Path) -> None:
    good1, good2 = chat_span("00f067aa0ba902b7", 1), chat_span("00f067aa0ba902b8", 2)
    bad = span("not-an-id!", name="broken")
    status, _, body = post(collector.port, "/v1/traces", traces_doc(good1, bad, good2))
    assert status == 200
    partial = json.loads(body)["partialSuccess"]
    assert partial["rejectedSpans"] == "1"
    assert "not-an-id!" in partial["errorMessage"] and "broken" in partial["errorMessage"]
    collector.drain()
    assert scalar(db_path, "SELECT list(event_id ORDER BY event_id) FROM events") == [
        "00f067aa0ba902b7", "00f067aa0ba902b8"
    ]  # fmt: skip
    with connect(db_path, read_only=True) as con:
        (reason, text), = con.execute("SELECT reason, raw_text FROM rejects").fetchall()
    assert reason.startswith("POST /v1/traces request ") and "not-an-id!" in reason
    assert '"broken"' in text


def test_a_bad_resource_rejects_its_spans_and_keeps_the_others(collector, db_path: Path) -> None:
    doc = json.loads(traces_doc(chat_span("00f067aa0ba902c2")))
    doc["resourceSpans"].append({"resource": {"attributes": "oops"}, "scopeSpans": [
        {"spans": [chat_span("00f067aa0ba902c3"), chat_span("00f067aa0ba902c4")]}]})  # fmt: skip
    status, _, body = post(collector.port, "/v1/traces", json.dumps(doc).encode())
    assert status == 200
    partial = json.loads(body)["partialSuccess"]
    assert partial["rejectedSpans"] == "2" and "resource attributes" in partial["errorMessage"]
    collector.drain()
    assert scalar(db_path, "SELECT list(event_id) FROM events") == ["00f067aa0ba902c2"]
    assert "bad resource attributes" in scalar(db_path, "SELECT reason FROM rejects")


@pytest.mark.parametrize(
    "body, ctype, gz, status, words",
    [
        (b"{not json", "application/json", False, 400, "not JSON"),
        (b"[1, 2]", "application/json", True, 400, "not an object"),
        (b'{"resourceLogs": []}', "application/json", False, 400, "other endpoint"),
        (b"\x1f\x8bnot really gzip", "application/json", False, 400, "not JSON"),
    ],
)
def test_bad_json_payload_gets_a_status_and_lands_in_rejects(
    collector, db_path: Path, body: bytes, ctype: str, gz: bool, status: int, words: str
) -> None:
    got, headers, reply = post(collector.port, "/v1/traces", body, ctype, gz=gz)
    assert got == status
    assert headers["Content-Type"] == "application/json"
    st = json.loads(reply)
    assert st["code"] == 3 and words in st["message"]
    collector.drain()
    (reason,) = scalar(db_path, "SELECT list(reason) FROM rejects")
    assert words in reason and "/v1/traces" in reason


def test_broken_gzip_is_a_400(collector, db_path: Path) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=10)
    conn.request("POST", "/v1/traces", body=b"plainly not gzip", headers={
        "Content-Type": "application/json", "Content-Encoding": "gzip"})  # fmt: skip
    resp = conn.getresponse()
    assert resp.status == 400 and "gzip" in json.loads(resp.read())["message"]
    collector.drain()
    assert scalar(db_path, "SELECT count(*) FROM rejects") == 1


def test_wrong_media_type_and_path(collector) -> None:
    status, _, body = post(collector.port, "/v1/traces", b"{}", "text/plain")
    assert status == 415 and "Content-Type" in json.loads(body)["message"]
    status, _, body = post(collector.port, "/v1/metrics", b"{}")
    assert status == 404 and json.loads(body)["code"] == 5
    status, _, body = post(collector.port, "/v1/traces", b"{}")
    assert status == 200 and json.loads(body) == {}  # an empty export is a success
