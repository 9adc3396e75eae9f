"""`reviewdeck rerun` text output on plain OpenAI request/response logs (no latency, no feedback).

The warehouse is made by the real loader from the project's own OpenAI log fixture; the reruns
go through the real openai SDK to the local stub. The text printer must print every missing
value (latency, cost, tokens) as missing, not crash after the money was spent.
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from tests.conftest import DATA
from tests.openai_fixtures import openai_env, openai_server  # noqa: F401


def _warehouse(db_path) -> int:
    loaded = CliRunner().invoke(app, ["ingest", str(DATA / "openai/logs.jsonl"), "--db",
                                      str(db_path)])  # fmt: skip
    assert loaded.exit_code == 0, loaded.output
    with connect(db_path, read_only=True) as c:
        n, with_latency = c.execute(
            "SELECT count(*), count(latency_ms) FROM events WHERE input_messages IS NOT NULL"
            " AND json_array_length(input_messages) > 0"
        ).fetchone()
    assert n > 0 and with_latency == 0  # the logs carry no latency
    return n


def test_text_output_without_logged_latency(db_path, openai_env, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setenv("REVIEWDECK_SECRETS", str(tmp_path / "none.toml"))
    n = _warehouse(db_path)
    base = ["rerun", "--model", "gpt-4o", "--endpoint", "stub", "--db", str(db_path)]
    res = CliRunner().invoke(app, base)
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert f"{n} done" in res.output
    assert "median latency: original not logged → rerun " in res.output
    # the same batch again: nothing to run, the summary is printed from the warehouse
    again = CliRunner().invoke(app, [*base, "--judge", "judge-model"])
    assert again.exit_code == 0, again.output + repr(again.exception)
    assert "items: {'done': " in again.output


def test_text_output_when_nothing_is_known(db_path, openai_env, monkeypatch, tmp_path):  # noqa: F811
    """A model missing from the price table, and every call an error: no cost, no latency."""
    monkeypatch.setenv("REVIEWDECK_SECRETS", str(tmp_path / "none.toml"))
    n = _warehouse(db_path)
    base = ["rerun", "--model", "missing-model", "--endpoint", "stub", "--db", str(db_path)]
    res = CliRunner().invoke(app, base)
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert "estimated cost unknown" in res.output and f"{n} API errors" in res.output
    js = json.loads(CliRunner().invoke(app, [*base, "--json"]).output)
    assert js["latency_median_rerun_ms"] is None and js["cost_rerun_usd"] is None
