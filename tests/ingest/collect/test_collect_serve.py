"""`reviewdeck serve --collect`: the dashboard and the collector start together, the app
answers while spans come in, and stopping serve stops (and drains) the collector."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.ingest.collect.helpers import REPO, chat_span, free_port, post, scalar, traces_doc


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.mark.slow
def test_serve_collect_runs_and_stops_both(tmp_path: Path) -> None:
    db = tmp_path / "live.duckdb"  # no warehouse yet: the collector creates it
    app_port, otlp_port = free_port(), free_port()
    argv = [sys.executable, "-m", "dashboard.cli", "serve", "--collect", "--db", str(db),
            "--port", str(app_port), "--collect-port", str(otlp_port)]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=REPO, env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not (_listening(otlp_port) and _listening(app_port)):
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "serve --collect did not come up"
            time.sleep(0.2)
        status, _, _ = post(otlp_port, "/v1/traces", traces_doc(chat_span("00f067aa0ba90301")))
        assert status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{app_port}/_stcore/health", timeout=10) as r:
            assert r.status == 200 and r.read() == b"ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=120)[0]
    assert not _listening(otlp_port) and not _listening(app_port), out
    # Stopping drained the spool into the warehouse.
    assert scalar(db, "SELECT list(event_id) FROM events") == ["00f067aa0ba90301"], out
