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
    args = ["rerun", "--where", "feedback=thumbs_down", "--model", "gpt-4o", "--endpoint",
            "stub", "--judge", "judge-model", "--db", str(db_path), "--json"]
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
    ok = CliRunner().invoke(app, ["rerun", "--model", "gpt-4o", "--endpoint", "stub",
                                  "--db", str(db_path), "--max-cost", "1"])
    assert ok.exit_code == 0, ok.output
    assert "estimated cost $" in ok.output and "2 done" in ok.output
    bad = CliRunner().invoke(app, ["rerun", "--model", "gpt-4o", "--where",
                                   "model=x;DROP TABLE events", "--db", str(db_path)])
    assert bad.exit_code != 0 and "no events match" in str(bad.exception)
    with connect(db_path, read_only=True) as c:  # the value was a parameter, not SQL
        assert c.execute("SELECT count(*) FROM events").fetchone()[0] == 2 + 2  # + reruns
    bad2 = CliRunner().invoke(app, ["rerun", "--model", "gpt-4o", "--where", "sql=1",
                                    "--db", str(db_path)])
    assert bad2.exit_code != 0 and "unknown filter field" in str(bad2.exception or bad2.output)
