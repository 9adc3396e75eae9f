"""`reviewdeck demo`: generate the demo log, ingest it, analyse it and serve the app, in one go.

It composes the other commands' functions (demo-data, ingest, analyze, serve) directly, so it
sits above them and none of them imports it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from dashboard.cli.demo_data import planted_summary
from dashboard.cli.ingest import ingest
from dashboard.cli.serve import DEFAULT_HOST, DEFAULT_PORT, HostOption, PortOption, start

DEMO_DIR = Path("demo")
DEMO_FILE = "demo-events.jsonl"


def demo(
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            help="Warehouse for the demo (default demo/reviewdeck.duckdb).",
            show_default=False,
        ),
    ] = None,
    events: Annotated[int, typer.Option("--events", min=100, help="Demo events to generate.")] = (
        50_000
    ),
    port: PortOption = DEFAULT_PORT,
    host: HostOption = DEFAULT_HOST,
    data_dir: Annotated[
        Path, typer.Option("--dir", help="Where the demo log and warehouse live.")
    ] = DEMO_DIR,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Prepare the warehouse, do not start the app.")
    ] = False,
) -> None:
    """Generate demo logs (if absent), ingest them, analyse them, and open the dashboard.

    Logs and warehouse live in ./demo/, apart from your own warehouse. Run it again and it
    reuses them: ingest skips files it has already loaded.
    """
    # Imported here, not at the top: every `reviewdeck` command imports this module.
    from ingest.demo.generate import generate, truths_path
    from models.drift.analyze import run_analysis

    data_dir.mkdir(parents=True, exist_ok=True)
    db = db or data_dir / "reviewdeck.duckdb"
    data = data_dir / DEMO_FILE
    if data.exists():
        typer.echo(f"reviewdeck: using the demo log {data} (delete it to generate a new one)")
    else:
        typer.echo(f"reviewdeck: generating {events:,} demo events into {data}")
        # Written in a side folder and moved in last, so an interrupted run never leaves a
        # short log that a later run would take as complete.
        side = data_dir / ".generating"
        shutil.rmtree(side, ignore_errors=True)
        side.mkdir()
        result = generate(side / DEMO_FILE, events=events)
        for made in sorted(side.iterdir(), key=lambda p: p.name == DEMO_FILE):
            made.replace(data_dir / made.name)
        side.rmdir()
        # Printed once the files are where they stay (the side folder is gone by now).
        typer.echo(
            f"reviewdeck: wrote {result.events:,} events and "
            f"{result.feedback_embedded + result.feedback_late:,} feedback rows to {data}"
        )
        typer.echo(f"truths: {truths_path(data)}")
        typer.echo(planted_summary(result.truths))
    ingest(paths=[str(data)], db=str(db))
    run_analysis(db, log=lambda msg: typer.echo(f"  {msg}"))
    typer.echo("reviewdeck: analysis done")
    if no_serve:
        typer.echo(f"reviewdeck: demo warehouse ready: reviewdeck serve --db {db}")
        return
    start(db, host, port)
