"""`reviewdeck rerun` in-process: JSON report, resume on a second run, bad filters refused."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from tests.models.rerun_data import insert_many
from tests.openai_fixtures import openai_env, openai_server  # noqa: F401


def test_rerun_cli_json_and_resume(db_path, con, openai_env, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setenv("REVIEWDECK_SECRETS", str(tmp_path / "none.toml"))
    insert_many(con, 8, thumbs=0)
    insert_many(con, 3, thumbs=1, prefix="up")
    con.close()
    openai_env.set_reply("judge-model", '{"preferred": "2", "rationale": "second"}')
    args = [
        "rerun",
        "--where",
        "feedback=thumbs_down",
        "--model",
        "gpt-4o",
        "--endpoint",
        "stub",
        "--judge",
        "judge-model",
        "--db",
        str(db_path),
        "--json",
    ]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    out = json.loads(first.output)
    assert out["run"]["done"] == 8 and out["items"] == {"done": 8}
    assert out["judge"]["pairs"] == 8 and out["judge"]["tie"]["count"] == 8  # always "2"
    calls = openai_env.count("chat")
    assert calls == 8 * 3  # one rerun + two judgements each
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and "run" not in json.loads(again.output)
    assert openai_env.count("chat") == calls  # nothing redone


def test_rerun_cli_text_and_bad_filter(db_path, con, openai_env, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setenv("REVIEWDECK_SECRETS", str(tmp_path / "none.toml"))
    insert_many(con, 2)
    con.close()
    ok = CliRunner().invoke(
        app,
        [
            "rerun",
            "--model",
            "gpt-4o",
            "--endpoint",
            "stub",
            "--db",
            str(db_path),
            "--max-cost",
            "1",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "estimated cost $" in ok.output and "2 done" in ok.output
    bad = CliRunner().invoke(
        app,
        [
            "rerun",
            "--model",
            "gpt-4o",
            "--where",
            "model=x;DROP TABLE events",
            "--db",
            str(db_path),
        ],
    )
    assert bad.exit_code != 0 and "no events match" in str(bad.exception)
    with connect(db_path, read_only=True) as c:  # the value was a parameter, not SQL
        assert c.execute("SELECT count(*) FROM events").fetchone()[0] == 2 + 2  # + reruns
    bad2 = CliRunner().invoke(
        app, ["rerun", "--model", "gpt-4o", "--where", "sql=1", "--db", str(db_path)]
    )
    assert bad2.exit_code != 0 and "unknown filter field" in str(bad2.exception or bad2.output)


def test_killed_cli_run_resumes_without_redoing(db_path, con, openai_server, tmp_path):  # noqa: F811
    """A real interruption: the CLI process is killed mid-batch, then the command is rerun."""
    import os
    import signal
    import subprocess
    import sys
    import time

    insert_many(con, 40)
    con.close()
    openai_server.latency = 0.15
    env = {
        **os.environ,
        "REVIEWDECK_ENDPOINT_STUB_BASE_URL": openai_server.base_url,
        "REVIEWDECK_ENDPOINT_STUB_API_KEY": "sk-stub-test-key-0123456789",
        "REVIEWDECK_SECRETS": str(tmp_path / "none.toml"),
    }
    cmd = [
        sys.executable,
        "-c",
        "from dashboard.cli import main; main()",
        "rerun",
        "--model",
        "gpt-4o",
        "--endpoint",
        "stub",
        "--concurrency",
        "2",
        "--db",
        str(db_path),
        "--json",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while openai_server.count("chat") < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # let a few results be written
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with connect(db_path, read_only=True) as c:
        done_before = c.execute(
            "SELECT count(*) FROM rerun_items WHERE status = 'done'"
        ).fetchone()[0]
    assert 0 < done_before < 40
    calls_before = openai_server.count("chat")
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    out = json.loads(again.stdout)
    assert out["run"]["done"] == 40 - done_before and out["items"] == {"done": 40}
    # only the unfinished ones were called again (calls in flight at the kill are lost)
    assert openai_server.count("chat") - calls_before == 40 - done_before
    with connect(db_path, read_only=True) as c:
        n, distinct = c.execute(
            "SELECT count(*), count(DISTINCT rerun_of) FROM events WHERE rerun_of IS NOT NULL"
        ).fetchone()
    assert n == distinct == 40


def test_where_fields_are_documented():
    from pathlib import Path

    from dashboard.cli import rerun as rerun_cli
    from models.filters import _KEYS, FEEDBACK_CHOICES

    doc = (Path(__file__).resolve().parents[2] / "docs" / "playground.md").read_text()
    for key in [*_KEYS, *FEEDBACK_CHOICES]:
        assert key in rerun_cli.rerun.__doc__, key
        assert f"`{key}`" in doc, key
