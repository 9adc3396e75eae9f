"""A small demo warehouse for the export tests, made once per session and copied per test.

The demo generator and the real loader (through the CLI) build it, so the lake and the sheets are
tested on rows the way ingest writes them (ingested_at is the loader's transaction time).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from dashboard.cli import app
from ingest.demo.generate import generate

END = dt.date(2026, 11, 29)


def build_demo(folder: Path, events: int = 1500) -> Path:
    result = generate(folder / "demo.jsonl", events=events, weeks=4, seed=3, end_date=END)
    db = folder / "demo.duckdb"
    res = CliRunner().invoke(app, ["ingest", str(result.path), "--db", str(db)])
    assert res.exit_code == 0, res.output
    return db


def copy_db(src: Path, folder: Path) -> Path:
    dest = folder / "warehouse.duckdb"
    shutil.copy(src, dest)
    return dest


def ingest_lines(db: Path, path: Path, lines: list[dict]) -> None:
    """Load native JSONL lines through the real loader (the CLI)."""
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    res = CliRunner().invoke(app, ["ingest", str(path), "--db", str(db)])
    assert res.exit_code == 0, res.output
