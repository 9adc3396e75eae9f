"""`reviewdeck evaluate` through typer's runner: --json output, --dry-run, --only, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from dashboard.cli.evaluate import evaluate
from ingest.errors import ConfigError
from models.evaluators.builtins import BUILTINS
from tests.models.evaluators.evdata import event, insert

app = typer.Typer()
app.command()(evaluate)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no evaluators.toml here: the built-ins run
    return tmp_path


def test_builtins_by_default_then_nothing_new(db_path: Path, here: Path) -> None:
    insert(db_path, [event("ok"), event("refused", answer="I'm sorry, but I can't help with "
                                                           "that."), event("empty", answer="")])
    done = CliRunner().invoke(app, ["--db", str(db_path), "--json"])
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    assert [c["name"] for c in out["evaluators"]] == list(BUILTINS)
    by = {c["name"]: c for c in out["evaluators"]}
    assert by["refusal"]["fails"] == 1 and by["empty_or_truncated"]["fails"] == 1
    assert out["run_id"] == 1 and out["stopped"] is None
    again = json.loads(CliRunner().invoke(app, ["--db", str(db_path), "--json"]).output)
    assert again["totals"]["sampled"] == 0 and again["run_id"] is None


def test_dry_run_only_and_text_output(db_path: Path, here: Path) -> None:
    insert(db_path, [event("a"), event("b")])
    done = CliRunner().invoke(app, ["--db", str(db_path), "--only", "refusal", "--dry-run"])
    assert done.exit_code == 0, done.output
    assert "1 evaluator(s) from the built-ins; 2 evaluation(s) to run" in done.output
    assert "dry run: nothing was called or written" in done.output
    done = CliRunner().invoke(app, ["--db", str(db_path), "--only", "refusal"])
    assert "refusal@1 (code, rate 1): 2 events apply, 2 to score; 2 scored (0.0% fail)" \
        in done.output


def test_config_error_names_the_file(db_path: Path, here: Path) -> None:
    (here / "evaluators.toml").write_text('[[evaluator]]\nname = "x"\nkind = "magic"\n',
                                          encoding="utf-8")
    done = CliRunner().invoke(app, ["--db", str(db_path)])
    assert isinstance(done.exception, ConfigError)
    assert "evaluators.toml: evaluator 'x': kind must be one of code, llm" in str(done.exception)
