"""Demo generator: same arguments give the same bytes; the calendar and the CLI behave."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ingest.demo.generate import generate, truths_path
from ingest.errors import ConfigError

END = date(2026, 11, 22)  # a Sunday: week 12 is complete


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a.jsonl", events=3000, seed=5, end_date=END)
    b = generate(tmp_path / "b.jsonl", events=3000, seed=5, end_date=END)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.truths_path.read_bytes() == b.truths_path.read_bytes()


def test_different_seed_differs(tmp_path: Path) -> None:
    a = generate(tmp_path / "a.jsonl", events=3000, seed=1, end_date=END)
    b = generate(tmp_path / "b.jsonl", events=3000, seed=2, end_date=END)
    lines_a = a.path.read_text(encoding="utf-8").splitlines()
    lines_b = b.path.read_text(encoding="utf-8").splitlines()
    ids_a = {json.loads(x).get("event_id") for x in lines_a}
    ids_b = {json.loads(x).get("event_id") for x in lines_b}
    assert not ids_a & ids_b  # ids depend on the seed, so two demo files can be loaded together
    texts_a = [json.loads(x).get("input_text") for x in lines_a[:200]]
    texts_b = [json.loads(x).get("input_text") for x in lines_b[:200]]
    assert texts_a != texts_b


def test_exact_event_count_and_sidecar_path(tmp_path: Path) -> None:
    out = tmp_path / "d.jsonl"
    result = generate(out, events=1234, weeks=4, seed=0, end_date=END)
    lines = out.read_text(encoding="utf-8").splitlines()
    events = [x for x in lines if '"type":"feedback"' not in x[:20]]
    assert len(events) == 1234
    assert len(lines) == 1234 + result.feedback_late
    assert result.truths_path == truths_path(out) == tmp_path / "d.jsonl.truths.json"
    assert json.loads(result.truths_path.read_text())["events"] == 1234


def test_weeks_end_in_the_end_dates_iso_week(tmp_path: Path) -> None:
    mid_week = date(2026, 11, 18)  # a Wednesday
    truths = generate(tmp_path / "d.jsonl", events=2000, weeks=6, end_date=mid_week).truths
    cal = truths["calendar"]
    assert len(cal) == 6
    y, w, _ = mid_week.isocalendar()
    assert cal[-1]["iso_week"] == f"{y}-W{w:02d}"
    assert cal[0]["start"] == "2026-10-12T00:00:00Z"  # Monday, 5 weeks before that week's Monday
    assert truths["end"] == "2026-11-19T00:00:00Z"  # exclusive: the end date is the last day
    last_ts = max(
        json.loads(x)["ts"]
        for x in (tmp_path / "d.jsonl").read_text().splitlines()
        if '"type":"feedback"' not in x[:20]
    )
    assert last_ts.startswith(("2026-11-18", "2026-11-17"))
    # The planted changes keep their order inside a shorter run.
    p = truths["planted"]
    weeks = [p[k]["week"] for k in ("prompt_change", "model_switch", "new_topic", "error_spike")]
    assert weeks == sorted(weeks) and 2 <= weeks[0] and weeks[-1] <= 5


def test_default_end_date_is_today(tmp_path: Path) -> None:
    truths = generate(tmp_path / "d.jsonl", events=500, weeks=4).truths
    today = datetime.now(UTC).date()
    assert truths["end_date"] in {today.isoformat(), (today - timedelta(days=1)).isoformat()}


@pytest.mark.parametrize("weeks", [3, 105])
def test_rejects_weeks_out_of_range(tmp_path: Path, weeks: int) -> None:
    with pytest.raises(ConfigError, match="--weeks"):
        generate(tmp_path / "d.jsonl", events=100, weeks=weeks, end_date=END)


def test_rejects_no_events(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--events"):
        generate(tmp_path / "d.jsonl", events=0, end_date=END)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    code = "from dashboard.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, "demo-data", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_writes_file_and_truths(tmp_path: Path) -> None:
    out = tmp_path / "cli.jsonl"
    args = ("--events", "800", "--weeks", "4", "--seed", "3", "--end-date", "2026-11-22")
    done = _cli(*args, "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "800 events" in done.stdout and "truths" in done.stdout
    api = generate(tmp_path / "api.jsonl", events=800, weeks=4, seed=3, end_date=END)
    assert out.read_bytes() == api.path.read_bytes()


def test_cli_bad_end_date_is_a_clear_error(tmp_path: Path) -> None:
    done = _cli("--end-date", "22/11/2026", "--out", str(tmp_path / "x.jsonl"), cwd=tmp_path)
    assert done.returncode == 2
    assert "--end-date must be YYYY-MM-DD" in done.stderr
    assert not (tmp_path / "x.jsonl").exists()
