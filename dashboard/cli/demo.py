"""`reviewdeck demo`: generate the demo log, ingest it, analyse it and serve the app, in one go.

It composes the other commands' functions (demo-data, ingest, analyze, serve) directly, so it
sits above them and none of them imports it. After the ingest it writes the demo's review queue
(the simulated reviewers' labels are in the log; the queue they were given in is not); after the
analysis it opens the heavy pages once, headless, so their results are on disk
(dashboard/warm.py). While the app runs it serves a simulated OpenAI-compatible endpoint
(ingest/demo/endpoint.py) on 127.0.0.1, declared to the app as the endpoint `demo_simulated`, so
the playground, reruns and LLM evaluators work without a key. The endpoint stops when the demo
does.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Annotated

import typer

from dashboard.cli.demo_data import planted_summary
from dashboard.cli.ingest import ingest
from dashboard.cli.serve import DEFAULT_HOST, DEFAULT_PORT, HostOption, PortOption, start

DEMO_DIR = Path("demo")
DEMO_FILE = "demo-events.jsonl"


def _builtin_evaluators(db: Path) -> None:
    """The built-in code checks over every demo event (what `reviewdeck evaluate` does with no
    config), so the Evaluators page has code checks beside the planted judge on first open.
    Their own defaults, not a stray ./evaluators.toml; a rerun scores only what is new."""
    from models import evaluators
    from models.evaluators.config import default_config

    summary = evaluators.run(db, default_config())
    t = summary.totals
    typer.echo(
        f"reviewdeck: built-in evaluators scored {t.get('scored', 0):,} checks "
        f"({t.get('fails', 0):,} fails) in {summary.elapsed_s:.1f} s"
    )


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
    endpoint_port: Annotated[
        int,
        typer.Option(
            "--endpoint-port",
            min=0,
            max=65535,
            help="Port of the simulated model endpoint on 127.0.0.1 (0: any free port; a busy "
            "port falls back to a free one).",
        ),
    ] = 8599,
    no_endpoint: Annotated[
        bool, typer.Option("--no-endpoint", help="Do not start the simulated model endpoint.")
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
    _review_queue(db, truths_path(data))
    _builtin_evaluators(db)
    run_analysis(db, log=lambda msg: typer.echo(f"  {msg}"))
    typer.echo("reviewdeck: analysis done")
    _warm(db)
    if no_serve:
        typer.echo(f"reviewdeck: demo warehouse ready: reviewdeck serve --db {db}")
        return
    endpoint = None if no_endpoint else _start_endpoint(endpoint_port)
    try:
        start(db, host, port)
    finally:
        if endpoint is not None:
            endpoint.stop()


def _warm(db: Path) -> None:
    """Open the heavy pages once (what `reviewdeck warm` does), so the first visit reads their
    results from disk instead of computing them while the newcomer waits."""
    from dashboard.warm import warm

    done = warm(db)
    typer.echo(f"reviewdeck: pages warmed in {sum(w.seconds for w in done):.1f} s"
               + "".join(f"; {w.page} showed: {w.error}" for w in done if w.error))


def _review_queue(db: Path, truths_file: Path) -> None:
    """The demo's review queue, from the truths sidecar (idempotent)."""
    from ingest.demo.queue import ensure_demo_queue

    truths = json.loads(truths_file.read_text(encoding="utf-8")) if truths_file.exists() else {}
    if "review" not in truths:
        typer.echo(
            "reviewdeck: this demo log predates the simulated review; delete "
            f"{truths_file.parent / DEMO_FILE} to generate one with it"
        )
        return
    added = ensure_demo_queue(db, truths)
    queue = truths["review"]["queue"]
    if added:
        typer.echo(
            f"reviewdeck: review queue {queue['queue_id']} '{queue['name']}': {added} items, "
            f"labelled by simulated reviewers on '{queue['rubric']}'"
        )


def _start_endpoint(port: int):
    """Serve the simulated endpoint and declare it to the app (its env is passed on)."""
    from ingest.demo import endpoint as sim

    try:
        ep = sim.DemoEndpoint("127.0.0.1", port).start()
    except OSError:
        ep = sim.DemoEndpoint("127.0.0.1", 0).start()
        typer.echo(f"reviewdeck: port {port} is busy; the simulated endpoint took {ep.port}")
    os.environ.update(sim.env_vars(ep.base_url))
    typer.echo(
        f"reviewdeck: simulated model endpoint '{sim.NAME}' (models "
        f"{', '.join(sim.MODELS)}; no key, answers are simulated) at {ep.base_url}\n"
        f"  to use it from another shell: export "
        f"REVIEWDECK_ENDPOINT_{sim.NAME.upper()}_BASE_URL={ep.base_url}"
    )
    return ep
