"""`reviewdeck demo` prints where its files are once it has finished: the truths sidecar it
names exists (the side folder the log is generated in is gone by then)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from dashboard.cli import app


def test_demo_prints_the_final_paths_of_its_log_and_truths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "demo"
    res = CliRunner().invoke(app, ["demo", "--events", "300", "--no-serve", "--dir", str(folder)])
    assert res.exit_code == 0, res.output
    (truths,) = re.findall(r"^truths: (.+)$", res.output, re.M)
    assert Path(truths).is_file() and Path(truths).parent == folder
    assert ".generating" not in res.output and not (folder / ".generating").exists()
    assert f"to {folder / 'demo-events.jsonl'}" in res.output
    assert re.search(r"week \d+: new topic", res.output)
