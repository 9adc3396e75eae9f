"""An ingest killed with SIGKILL at any moment leaves whole files only; a rerun completes it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ingest.db import connect

FILES, EVENTS = 4, 15_000
_CLI = "import sys; from dashboard.cli import main; sys.argv[0] = 'reviewdeck'; main()"


def _write_logs(folder: Path) -> None:
    folder.mkdir()
    for f in range(FILES):
        with open(folder / f"part{f}.jsonl", "w") as fh:
            for i in range(EVENTS):
                n = f * EVENTS + i
                ev = {"event_id": f"e{n}", "ts": f"2026-11-02T09:{i % 60:02d}:00Z",
                      "model": "m", "input_messages": [{"role": "user", "content": "q" * 200}],
                      "output_messages": [{"role": "assistant", "content": "a" * 300}],
                      "tokens_in": i, "feedback": [{"name": "thumbs", "value": i % 2}]}  # fmt: skip
                fh.write(json.dumps(ev) + "\n")
            fh.write("not json\n")


def _check_whole_files(db_path: Path) -> int:
    """Every loaded file is complete and nothing is loaded twice; returns the files loaded."""
    with connect(db_path, read_only=True) as con:
        files = con.execute(
            "SELECT file_id, events_inserted, feedback_inserted, rejected FROM ingested_files"
        ).fetchall()
        for file_id, n_ev, n_fb, n_rej in files:
            got = con.execute(
                "SELECT (SELECT count(*) FROM events WHERE file_id = $1),"
                " (SELECT count(*) FROM feedback WHERE file_id = $1),"
                " (SELECT count(*) FROM rejects WHERE file_id = $1)",
                [file_id],
            ).fetchall()[0]
            assert got == (n_ev, n_fb, n_rej) == (EVENTS, EVENTS, 1)
        orphans = con.execute(
            "SELECT count(*) FROM events WHERE file_id NOT IN (SELECT file_id FROM ingested_files)"
        ).fetchall()[0][0]
        dups = con.execute("SELECT count(*) - count(DISTINCT event_id) FROM events").fetchall()
    assert orphans == 0 and dups == [(0,)]
    return len(files)


def _holds_lock(db_path: Path) -> bool:
    """True while another process holds the warehouse (our ingest, merging a file)."""
    try:
        duckdb.connect(str(db_path), read_only=True).close()
    except duckdb.IOException as exc:
        return "lock" in str(exc).lower()
    return False


def _kill_while_merging(cmd: list[str], db_path: Path, timeout_s: float = 60) -> bool:
    """Start the ingest and SIGKILL it while it holds the warehouse in a merge."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, streak = time.monotonic() + timeout_s, 0
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            # Held 3 polls in a row (100+ ms): a merge, not the brief look at startup.
            streak = streak + 1 if _holds_lock(db_path) else 0
            if streak >= 3:
                proc.send_signal(signal.SIGKILL)
                return True
            time.sleep(0.05)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@pytest.mark.slow
def test_sigkill_mid_load_then_rerun_gives_exact_counts(tmp_path):
    logs, db_path = tmp_path / "logs", tmp_path / "w.duckdb"
    _write_logs(logs)
    with connect(db_path):  # created and migrated, so a held lock below means a merge
        pass
    cmd = [sys.executable, "-c", _CLI, "ingest", str(logs), "--db", str(db_path), "--quiet"]

    # 1. Killed while it holds the warehouse, i.e. inside a file's transaction.
    assert _kill_while_merging(cmd, db_path), "never saw the ingest merging"
    assert _check_whole_files(db_path) < FILES
    # 2. Killed at arbitrary moments (reading, parsing, merging, between files).
    killed = 0
    for delay in (1.0, 2.5, 4.0):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
        if _check_whole_files(db_path) == FILES:
            break

    # 3. Run to the end: every file exactly once.
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert _check_whole_files(db_path) == FILES
    with connect(db_path, read_only=True) as con:
        totals = con.execute(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM feedback),"
            " (SELECT count(*) FROM rejects)"
        ).fetchall()[0]
    assert totals == (FILES * EVENTS, FILES * EVENTS, FILES)
