"""`reviewdeck collect`: receive OTLP/HTTP traces and logs and load them into the warehouse.

The receiver, its spool and its batches are ingest/collect/; this module reads the options,
runs the collector until Ctrl-C or SIGTERM (then loads what the spool still holds), and
starts it as a child process for `reviewdeck serve --collect`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from dashboard.cli.options import DbOption
from ingest.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4318

CollectHostOption = Annotated[
    str, typer.Option("--host", help="Address to bind (OTLP/HTTP; localhost by default).")
]
CollectPortOption = Annotated[int, typer.Option("--port", help="Port (OTLP/HTTP's 4318).")]
SpoolOption = Annotated[
    Path | None,
    typer.Option(
        "--spool",
        help="Folder where requests are stored before they are loaded "
        "(default: <db>.spool beside the warehouse).",
        show_default=False,
    ),
]
MaxSpoolOption = Annotated[
    float,
    typer.Option("--max-spool-mb", help="Spool size at which requests get 429 + Retry-After."),
]
BatchOption = Annotated[
    float, typer.Option("--batch-seconds", help="Seconds between loads into the warehouse.")
]


def default_spool(db: Path) -> Path:
    return db.with_name(db.name + ".spool")


def collect(
    db: DbOption = None,
    host: CollectHostOption = DEFAULT_HOST,
    port: CollectPortOption = DEFAULT_PORT,
    spool: SpoolOption = None,
    max_spool_mb: MaxSpoolOption = 512.0,
    batch_seconds: BatchOption = 2.0,
) -> None:
    """Receive OTLP/HTTP (POST /v1/traces and /v1/logs, protobuf or JSON, gzip or not) and load
    the spans into the warehouse every few seconds, as `reviewdeck ingest` maps them."""
    from ingest import config
    from ingest.collect.server import BatchReport, Collector, Settings

    if max_spool_mb <= 0 or batch_seconds <= 0:
        raise ConfigError("--max-spool-mb and --batch-seconds must be positive")
    db_path = config.db_path(db)
    settings = Settings(
        db=db_path,
        spool=spool or default_spool(db_path),
        host=host,
        port=port,
        max_spool_bytes=int(max_spool_mb * 1024 * 1024),
        batch_seconds=batch_seconds,
    )

    def report(b: BatchReport) -> None:
        r = b.result
        if r.skipped:
            typer.echo(f"{b.batch_id}: already loaded (replayed after a restart)", err=True)
            return
        typer.echo(
            f"{b.batch_id}: {b.requests} requests, {r.events_inserted} events, "
            f"{r.feedback_inserted} feedback, {r.duplicate} duplicates, {r.rejected} rejected "
            f"({r.seconds:.2f}s)",
            err=True,
        )

    collector = Collector(settings, on_batch=report)
    # The handler first: a SIGTERM the moment the port opens must stop the collector in order.
    stopped = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        collector.start()
    except OSError as exc:
        signal.signal(signal.SIGTERM, previous)
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); pass another --port"
        ) from exc
    typer.echo(
        f"reviewdeck: collecting OTLP/HTTP at http://{host}:{collector.port} into {db_path} "
        f"(spool {settings.spool}; Ctrl-C to stop)",
        err=True,
    )
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        typer.echo("reviewdeck: stopping the collector; loading what the spool holds", err=True)
        collector.stop()


def start_child(db: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> subprocess.Popen:
    """`reviewdeck collect` as a child process (for `serve --collect`), once it listens."""
    argv = [sys.executable, "-m", "dashboard.cli", "collect", "--db", str(db.resolve()),
            "--host", host, "--port", str(port)]  # fmt: skip
    proc = subprocess.Popen(argv, env=dict(os.environ))
    deadline = time.monotonic() + 120  # it drains a left-over spool before it listens
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ConfigError(f"the collector exited with code {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.1)
    stop_child(proc)
    raise ConfigError(f"the collector did not listen on {host}:{port} within 120 s")


def stop_child(proc: subprocess.Popen) -> None:
    """SIGTERM (the collector then loads its spool), and wait for it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
