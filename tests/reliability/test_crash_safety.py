"""kill -9 at random moments: the warehouse opens, nothing half-written, a re-run completes exactly.

Every trial kills a real `reviewdeck` subprocess with SIGKILL at a random point, then checks the
file the way the dashboard and the next job would see it. Seeds are fixed, so a failure repeats.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.db import connect
from ingest.demo.generate import generate
from tests.reliability.kill import sigkill_after

CLI = [sys.executable, "-c", "from dashboard.cli import main; main()"]
INGEST_TRIALS = 8


def _run(args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        CLI + args, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}
    )


def _kill_after(args: list[str], delay: float) -> bool:
    """Start the command, SIGKILL it after `delay` seconds; True if it was still running."""
    proc = subprocess.Popen(CLI + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return sigkill_after(proc, delay)


def _per_file_counts(db: Path) -> dict[str, tuple[int, int]]:
    with connect(db) as con:  # a writer open: replays the WAL the way the next job would
        rows = con.execute(
            """
            SELECT f.path,
                   (SELECT count(*) FROM events e WHERE e.file_id = f.file_id),
                   (SELECT count(*) FROM feedback b WHERE b.file_id = f.file_id)
            FROM ingested_files f
            """
        ).fetchall()
        orphans = con.execute(
            "SELECT count(*) FROM events WHERE file_id NOT IN (SELECT file_id FROM ingested_files)"
        ).fetchone()[0]
        dupes = con.execute("SELECT count(*) - count(DISTINCT event_id) FROM events").fetchone()[0]
    assert orphans == 0, "events without their file's registry row: a half-written load"
    assert dupes == 0
    return {Path(p).name: (n_e, n_f) for p, n_e, n_f in rows}


@pytest.fixture(scope="module")
def log_files(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("crash_logs")
    paths = []
    for seed in range(3):
        path = folder / f"part{seed}.jsonl"
        generate(path, events=3_000, weeks=4, seed=seed)
        paths.append(path)
    return paths


@pytest.mark.slow
def test_ingest_killed_at_random_points_then_completed(tmp_path, log_files):
    reference = tmp_path / "reference.duckdb"
    started = time.monotonic()
    done = _run(["ingest", *map(str, log_files), "--db", str(reference), "--quiet"])
    duration = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    want = _per_file_counts(reference)
    assert len(want) == len(log_files) and all(n_e > 0 for n_e, _ in want.values())

    rng = random.Random(20261122)
    killed = 0
    for trial in range(INGEST_TRIALS):
        db = tmp_path / f"trial{trial}.duckdb"
        killed += _kill_after(
            ["ingest", *map(str, log_files), "--db", str(db), "--quiet"],
            rng.uniform(0.05, 0.9 * duration),
        )
        if db.exists():
            # Each file is all or nothing: a registered file has exactly its full counts.
            for name, counts in _per_file_counts(db).items():
                assert counts == want[name], (trial, name)
        again = _run(["ingest", *map(str, log_files), "--db", str(db), "--quiet"])
        assert again.returncode == 0, again.stderr
        assert _per_file_counts(db) == want, trial
    # Most kills must land while the ingest runs, or the trials prove little.
    assert killed >= INGEST_TRIALS // 2, killed
