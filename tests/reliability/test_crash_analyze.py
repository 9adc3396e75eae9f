"""kill -9 `reviewdeck analyze` at random points: the dashboard never sees half an analysis.

Each trial copies a warehouse that has one finished analysis (run 1) plus newly ingested events,
starts a real `reviewdeck analyze` subprocess on it and SIGKILLs it after a seeded random delay
(anywhere from reading inputs, through embedding and the vector cache write, to the final
swap). Then, opened read-only the way the dashboard opens it, the latest analysis run must be
whole: its clusters, members, drift rows and map points all belong to it — either the previous
run is still the visible one or the new run is there completely. A second, uninterrupted run
must then end exactly where an uninterrupted run from the same start ends.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboard.queries import drift as drift_q
from ingest.db import connect
from ingest.demo.generate import generate
from models.filters import EventFilter
from tests.reliability.kill import sigkill_after

CLI = [sys.executable, "-m", "dashboard.cli"]
ANALYZE_TRIALS = 6
SEED = 20261122
# --no-map keeps a trial to seconds (a UMAP fit is a minute on a busy 2-core box); the map table
# is still replaced (emptied) in the same transaction, so it is still part of what is checked.
ANALYZE_ARGS = ["analyze", "--no-map", "--seed", "0"]


def run_cli(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + args, capture_output=True, text=True, timeout=timeout)


def kill_after(args: list[str], delay: float) -> bool:
    """Start the CLI, SIGKILL it after `delay` seconds; True if it was still running."""
    proc = subprocess.Popen(CLI + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return sigkill_after(proc, delay)


def watch_writes(args: list[str], db: Path, kill_at: int | None = None) -> tuple[int, bool]:
    """Run the CLI and count its write transactions by the appearances of the write-ahead log
    (DuckDB creates `<db>.wal` on a write and removes it at the checkpoint on close). With
    `kill_at`, SIGKILL the process the moment the kill_at-th appearance is seen: inside that
    write or its checkpoint. Returns (appearances seen, killed)."""
    wal = db.with_name(db.name + ".wal")
    proc = subprocess.Popen(CLI + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen, present = 0, False
    while proc.poll() is None:
        now = wal.exists()
        if now and not present:
            seen += 1
            if seen == kill_at:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=60)
                return seen, True
        present = now
        time.sleep(0.0005)
    assert proc.returncode == 0, f"{args[0]} failed without a kill"
    return seen, False


@dataclass(frozen=True)
class Visible:
    """The analysis a reader sees."""

    run_id: int
    n_events: int
    n_clusters: int
    members: frozenset[tuple[str, int]]


def check_visible_analysis(db: Path) -> Visible:
    """Open read-only (as the dashboard does) and check the latest run is whole."""
    with connect(db, read_only=True) as con:
        run_id, n_events, n_clusters = con.execute(
            "SELECT run_id, n_events, n_clusters FROM analysis_runs ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        active = con.execute("SELECT cluster_id, last_run_id FROM clusters WHERE active").fetchall()
        assert len(active) == n_clusters, "active clusters are not the latest run's"
        assert {r[1] for r in active} == {run_id}, "an active cluster from another run"
        active_ids = {r[0] for r in active}
        members = con.execute("SELECT event_id, cluster_id FROM cluster_members").fetchall()
        assert len(members) == n_events, "members of a different run than analysis_runs says"
        assert len({m[0] for m in members}) == len(members), "an event in two clusters"
        assert {m[1] for m in members} <= active_ids, "a member of an inactive cluster"
        overall = con.execute("SELECT run_id FROM drift_overall").fetchall()
        assert overall == [(run_id,)], f"drift_overall rows {overall} for latest run {run_id}"
        drift_runs = con.execute(
            "SELECT DISTINCT run_id, count(*) OVER () FROM drift_clusters"
        ).fetchall()
        assert drift_runs == [(run_id, n_clusters)], drift_runs
        stray = con.execute(
            "SELECT count(*) FROM map_points WHERE event_id NOT IN "
            "(SELECT event_id FROM cluster_members)"
        ).fetchone()[0]
        assert stray == 0, "map points of events that are not in the visible run"
        dupes = con.execute(
            "SELECT count(*) - count(DISTINCT (content_hash, embedder_id)) FROM embeddings"
        ).fetchone()[0]
        assert dupes == 0, "a text cached twice by the same embedder"
        # What the drift page reads agrees with the tables.
        assert drift_q.has_analysis(con)
        assert drift_q.last_run(con)["run_id"] == run_id
        weekly = drift_q.share_over_time(con, EventFilter())
        assert set(weekly["cluster_id"].to_list()) <= active_ids
        assert weekly["n"].sum() == n_events
    return Visible(run_id, n_events, n_clusters, frozenset(members))


def eligible_events(db: Path) -> int:
    from models.drift.store import ELIGIBLE

    with connect(db, read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM events e WHERE {ELIGIBLE}").fetchone()[0]


def build_template(folder: Path, events: int = 1_500, new_events: int = 300) -> Path:
    """A warehouse with one finished analysis and `new_events` events ingested since."""
    first, second = folder / "first.jsonl", folder / "second.jsonl"
    generate(first, events=events, weeks=4, seed=0)
    generate(second, events=new_events, weeks=4, seed=7)
    db = folder / "template.duckdb"
    for args in (["ingest", str(first)], ANALYZE_ARGS, ["ingest", str(second)]):
        done = run_cli([*args, "--db", str(db)])
        assert done.returncode == 0, done.stderr
    return db


def copy_warehouse(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    wal = src.with_name(src.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, dst.with_name(dst.name + ".wal"))
    return dst


@dataclass(frozen=True)
class Reference:
    before: Visible
    after: Visible
    duration_s: float
    writes: int  # write transactions of an uninterrupted run (WAL appearances)


def reference_run(template: Path, folder: Path) -> Reference:
    before = check_visible_analysis(template)
    db = copy_warehouse(template, folder / "reference.duckdb")
    started = time.monotonic()
    writes, _ = watch_writes([*ANALYZE_ARGS, "--db", str(db)], db)
    duration = time.monotonic() - started
    after = check_visible_analysis(db)
    assert after.run_id == before.run_id + 1
    assert after.n_events == eligible_events(db) > before.n_events
    return Reference(before, after, duration, writes)


def trial(
    template: Path, db: Path, ref: Reference, *, delay: float = 0.0, at_write: int | None = None
) -> tuple[str, bool]:
    """One kill, after `delay` seconds or inside write number `at_write`; returns which run the
    dashboard saw right after it ('previous' or 'new') and whether a running process was
    killed."""
    copy_warehouse(template, db)
    args = [*ANALYZE_ARGS, "--db", str(db)]
    killed = watch_writes(args, db, at_write)[1] if at_write else kill_after(args, delay)
    seen = check_visible_analysis(db)
    if seen.run_id == ref.before.run_id:
        assert seen == ref.before, "the previous run changed although the new one never landed"
        outcome = "previous"
    else:
        assert seen == ref.after, "the new run is visible but differs from an uninterrupted one"
        outcome = "new"
    assert killed or outcome == "new"
    done = run_cli([*ANALYZE_ARGS, "--db", str(db)])
    assert done.returncode == 0, done.stderr
    final = check_visible_analysis(db)
    # Exact completion: same counts and the same cluster of every event as without the kill.
    assert (final.n_events, final.n_clusters) == (ref.after.n_events, ref.after.n_clusters)
    assert final.members == ref.after.members
    return outcome, killed


def kill_points(rng: random.Random, n: int, ref: Reference) -> list[dict]:
    """Most kills at a random time of the whole run, start-up included, a little past its
    usual end; every third one inside a write (alternately the last — the results swap — and
    the first — the vector cache), which a random time rarely hits."""
    points: list[dict] = []
    for i in range(n):
        if i % 3 == 2:
            points.append({"at_write": ref.writes if i % 2 else 1})
        else:
            points.append({"delay": rng.uniform(0.1, 1.1) * ref.duration_s})
    return points


@pytest.fixture(scope="module")
def analysed(tmp_path_factory) -> tuple[Path, Reference]:
    folder = tmp_path_factory.mktemp("crash_analyze")
    template = build_template(folder)
    return template, reference_run(template, folder)


@pytest.mark.slow
def test_analyze_killed_at_random_points(tmp_path, analysed):
    template, ref = analysed
    assert ref.writes >= 2, "expected a vector-cache write and the results write"
    rng = random.Random(SEED)
    outcomes = []
    points = kill_points(rng, ANALYZE_TRIALS, ref)
    for n, point in enumerate(points):
        outcomes.append(trial(template, tmp_path / f"trial{n}.duckdb", ref, **point))
    print(f"analyze kill trials (seen after the kill, killed): {outcomes}")
    # The kills aimed inside a write did catch the process running.
    assert all(killed for (_, killed), p in zip(outcomes, points, strict=True) if "at_write" in p)
