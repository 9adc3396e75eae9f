"""What the collector promises about the warehouse: acknowledged means stored, once, even
through kill -9; a full spool sheds load with 429 + Retry-After; dashboards read meanwhile."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from ingest.collect.server import Collector, Settings
from ingest.db import connect
from tests.ingest.collect.helpers import (
    chat_span,
    child,
    free_port,
    post,
    scalar,
    start_collector,
    traces_doc,
)


def _request(n: int, per: int = 5) -> tuple[bytes, list[str]]:
    ids = [f"{n:08x}{i:08x}" for i in range(per)]
    return traces_doc(*(chat_span(s, n) for s in ids)), ids


def test_full_spool_sheds_load_with_retry_after(tmp_path: Path, db_path: Path) -> None:
    c = start_collector(tmp_path, db_path, batch_seconds=3600, max_spool_bytes=6000)
    try:
        statuses = []
        for n in range(20):
            status, headers, body = post(c.port, "/v1/traces", _request(n)[0])
            statuses.append(status)
            if status != 200:
                break
        assert statuses[0] == 200 and statuses[-1] == 429
        assert int(headers["Retry-After"]) >= 1
        st = json.loads(body)
        assert st["code"] == 8 and "spool is full" in st["message"]
        accepted = statuses.count(200)
        c.drain()  # the batcher frees the spool: requests are accepted again
        assert post(c.port, "/v1/traces", _request(99)[0])[0] == 200
        c.drain()
        assert scalar(db_path, "SELECT count(*) FROM events") == 5 * (accepted + 1)
    finally:
        c.stop()


def test_a_crash_between_commit_and_cleanup_loads_nothing_twice(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = start_collector(tmp_path, db_path, batch_seconds=3600)
    bad = b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"spanId": "??"}]}]}]}'
    for n in range(3):
        assert post(c.port, "/v1/traces", _request(n)[0])[0] == 200
    assert post(c.port, "/v1/traces", bad)[0] == 200
    c._stop.set()
    c._httpd.shutdown()  # type: ignore[union-attr]

    from ingest.collect.spool import Spool

    def die(self, entries):  # the process dies right after the warehouse committed
        raise SystemExit("killed")

    monkeypatch.setattr(Spool, "remove", die)
    with pytest.raises(SystemExit):
        c.run_batch(drain_all=True)
    monkeypatch.undo()
    assert scalar(db_path, "SELECT count(*) FROM events") == 15
    assert len(list((tmp_path / "spool" / "batches").glob("*.json"))) == 1

    again = Collector(Settings(db=db_path, spool=tmp_path / "spool", port=0))
    reports = again.drain()
    assert reports and reports[0].result.skipped  # the replayed manifest was recognised
    with connect(db_path, read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchall() == [
            (15, 15)]  # fmt: skip
        assert con.execute("SELECT count(*) FROM rejects").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM ingested_files").fetchall() == [(1,)]
    assert not list((tmp_path / "spool").glob("*.jsonl"))
    assert not list((tmp_path / "spool" / "batches").glob("*.json"))


def _sender(port: int, acked: list[str], stop: threading.Event, start: int) -> None:
    n = start
    while not stop.is_set():
        body, ids = _request(n)
        try:
            status, _, _ = post(port, "/v1/traces", body)
        except OSError:
            return  # the collector is gone: this request was never acknowledged
        if status == 200:
            acked.extend(ids)
        n += 1


@pytest.mark.slow
def test_kill_9_under_load_then_restart_keeps_every_acknowledged_span_once(
    tmp_path: Path, db_path: Path
) -> None:
    port, spool = free_port(), tmp_path / "spool"
    proc = child(db_path, spool, port, "--batch-seconds", "0.3")
    acked: list[str] = []
    stop = threading.Event()
    senders = [threading.Thread(target=_sender, args=(port, acked, stop, k * 1_000_000))
               for k in range(3)]  # fmt: skip
    for t in senders:
        t.start()
    time.sleep(2.0)  # several batches committed, more spooled and in flight
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stop.set()
    for t in senders:
        t.join()
    assert len(acked) > 100
    assert any(spool.glob("*.traces.jsonl")), "the kill should leave acknowledged requests behind"
    before = scalar(db_path, "SELECT count(*) FROM events")
    assert before < len(acked)

    proc = child(db_path, spool, port, "--batch-seconds", "0.3")  # drains before it listens
    try:
        with connect(db_path, read_only=True) as con:
            stored = con.execute("SELECT event_id, count(*) FROM events GROUP BY 1").fetchall()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    counts = dict(stored)
    assert set(acked) <= counts.keys()
    assert max(counts.values()) == 1
    assert not any(spool.glob("*.traces.jsonl"))


def test_acknowledged_then_killed_before_any_batch(tmp_path: Path, db_path: Path) -> None:
    port, spool = free_port(), tmp_path / "spool"
    proc = child(db_path, spool, port, "--batch-seconds", "3600")
    acked = []
    for n in range(10):
        body, ids = _request(n)
        assert post(port, "/v1/traces", body, gz=True)[0] == 200
        acked += ids
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert scalar(db_path, "SELECT count(*) FROM events") == 0
    proc = child(db_path, spool, port, "--batch-seconds", "3600", ready=True)
    proc.terminate()
    assert proc.wait(timeout=60) == 0
    assert scalar(db_path, "SELECT list(event_id ORDER BY event_id) FROM events") == sorted(acked)


def test_dashboard_style_reads_succeed_while_spans_flow(tmp_path: Path, db_path: Path) -> None:
    port = free_port()
    proc = child(db_path, tmp_path / "spool", port, "--batch-seconds", "0.5")
    acked: list[str] = []
    stop = threading.Event()
    sender = threading.Thread(target=_sender, args=(port, acked, stop, 0))
    sender.start()
    seen = []
    try:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            # As dashboard/queries do: a short read-only connection, waiting out a commit.
            with connect(db_path, read_only=True, timeout_s=5) as con:
                seen.append(con.execute("SELECT count(*) FROM events").fetchall()[0][0])
            time.sleep(0.05)
    finally:
        stop.set()
        sender.join()
        proc.terminate()
        proc.wait(timeout=60)
    # Each read waited at most for one batch's commit (ingest.db's backoff), never failed.
    assert len(seen) >= 5
    assert seen == sorted(seen) and seen[-1] > seen[0]  # new batches showed up between reads
    assert scalar(db_path, "SELECT count(*) FROM events") == len(acked)
