"""`reviewdeck ingest` and `reviewdeck migrate` in-process: exit codes, summaries, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from ingest.errors import InputError

runner = CliRunner()


def _event(i: int) -> str:
    return json.dumps({"event_id": f"e{i}", "ts": "2026-11-02T09:00:00Z", "model": "m"})


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jsonl").write_text(_event(1) + "\n" + _event(2) + "\n")
    (folder / "sub" / "b.jsonl").write_text(_event(3) + "\n{oops\n")
    (folder / ".hidden.jsonl").write_text(_event(99) + "\n")
    return folder


def test_ingest_a_directory_prints_per_file_and_total_counts(logs, tmp_path):
    db = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["ingest", str(logs), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert f"{logs / 'a.jsonl'} [native]: read 2, inserted 2" in result.output
    assert "duplicate 0, rejected 1" in result.output
    assert "total: 2 file(s), 0 skipped; read 4, inserted 3 (3 events, 0 feedback)" in result.output
    again = runner.invoke(app, ["ingest", str(logs), "--db", str(db)])
    assert again.exit_code == 0 and "2 skipped" in again.output
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events").fetchall() == [(3,)]


def test_a_folder_walk_passes_over_its_readme_but_a_named_one_is_read(logs, tmp_path):
    """A folder of exports often has a README or MANIFEST beside the logs: its lines are not
    rejects. Named on the command line, a file is read whatever its name."""
    (logs / "MANIFEST.md").write_text("# Exports\n\n- a.jsonl: two calls\n")
    (logs / "sub" / "notes.md.gz").write_bytes(b"")
    db = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["ingest", str(logs), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "passed over 2 file(s) in folders that are not logs" in result.output
    assert "MANIFEST.md" in result.output
    assert "total: 2 file(s)" in result.output and "rejected 1" in result.output
    as_json = json.loads(runner.invoke(
        app, ["ingest", str(logs), "--db", str(tmp_path / "j.duckdb"), "--json"]).output)
    passed = sorted(Path(p).name for p in as_json["passed_over"])
    assert passed == ["MANIFEST.md", "notes.md.gz"]
    named = runner.invoke(app, ["ingest", str(logs / "MANIFEST.md"), "--db", str(db), "--json"])
    assert json.loads(named.output)["total"]["rejected"] == 2  # its two non-blank lines


def test_strict_exits_non_zero_on_any_reject_and_json_reports_counts(logs, tmp_path):
    db = tmp_path / "w.duckdb"
    strict = runner.invoke(app, ["ingest", str(logs / "sub"), "--db", str(db), "--strict"])
    assert strict.exit_code == 1
    clean = runner.invoke(
        app, ["ingest", str(logs / "a.jsonl"), "--db", str(db), "--strict", "--json"]
    )
    assert clean.exit_code == 0
    report = json.loads(clean.output)
    assert report["total"]["events_inserted"] == 2 and report["total"]["rejected"] == 0
    assert report["files"][0]["path"] == str(logs / "a.jsonl")


def test_globs_and_stdin(logs, tmp_path):
    db = tmp_path / "w.duckdb"
    globbed = runner.invoke(app, ["ingest", str(logs / "**" / "*.jsonl"), "--db", str(db), "-q"])
    assert globbed.exit_code == 0 and "read 4, inserted 3" in globbed.output
    piped = runner.invoke(app, ["ingest", "-", "--db", str(db)], input=_event(7) + "\n")
    assert piped.exit_code == 0 and "-: " not in piped.output.split("\n")[-1]
    assert "- [native]: read 1, inserted 1" in piped.output


def test_unreadable_input_is_an_error_naming_the_file(tmp_path):
    db = tmp_path / "w.duckdb"
    missing = runner.invoke(app, ["ingest", str(tmp_path / "nope.jsonl"), "--db", str(db)])
    assert isinstance(missing.exception, InputError)
    assert "nope.jsonl" in str(missing.exception)
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"this is not gzip")
    bad = runner.invoke(app, ["ingest", str(broken), "--db", str(db)])
    assert isinstance(bad.exception, InputError) and "broken.jsonl.gz" in str(bad.exception)


def test_migrate_creates_then_reports_up_to_date(tmp_path):
    db = tmp_path / "new.duckdb"
    first = runner.invoke(app, ["migrate", "--db", str(db)])
    assert first.exit_code == 0 and "schema 0 →" in first.output
    second = runner.invoke(app, ["migrate", "--db", str(db)])
    assert second.exit_code == 0 and "is up to date" in second.output
