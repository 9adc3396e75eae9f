"""`reviewdeck serve` and `reviewdeck demo`: start the dashboard, on localhost by default.

The app is a Streamlit script inside the installed package, so `serve` runs
`python -m dashboard.streamlit_main run <package>/app.py` (Streamlit's CLI, statistics
libraries preloaded) as a child process with REVIEWDECK_DB set to the absolute warehouse
path, and binds 127.0.0.1: the rerun panel can spend money on the configured model endpoints,
so exposing it to a network is an explicit `--host` (see docs/serving.md).
`demo` chains the existing subcommands (demo-data, ingest, analyze) in-process, then serves.
"""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from ingest.cli_options import DbOption
from ingest.errors import ConfigError, ReviewdeckError, WarehouseError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501
DEMO_DIR = Path("demo")
DEMO_FILE = "demo-events.jsonl"

HostOption = Annotated[
    str,
    typer.Option(
        "--host",
        help="Address to bind. Anything but localhost exposes the app: see docs/serving.md.",
    ),
]
PortOption = Annotated[int, typer.Option("--port", help="Port to listen on.")]


@dataclass(frozen=True)
class ServeCommand:
    argv: list[str]
    env: dict[str, str]


def app_script() -> Path:
    """dashboard/app.py of the installed package (works from any working directory)."""
    import dashboard

    return Path(dashboard.__file__).resolve().parent / "app.py"


def serve_command(db: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> ServeCommand:
    """The child process that serves the app on `host:port` over the warehouse `db`."""
    argv = [
        # Streamlit's own CLI, after preloading the statistics libraries (streamlit_main.py).
        sys.executable, "-m", "dashboard.streamlit_main", "run", str(app_script()),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        # Local-first: the browser sends no usage statistics anywhere.
        "--browser.gatherUsageStats", "false",
        # A served app, not a dev session: no source watching. The watcher walks the path of
        # every loaded module (thousands, with scipy and statsmodels) after each script run,
        # which made a first visit of the trends page ~0.5 s slower.
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    # An absolute path, so the app finds the warehouse whatever its working directory.
    env = {**os.environ, "REVIEWDECK_DB": str(db.resolve())}
    return ServeCommand(argv, env)


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        # As the server itself binds: a port whose last connections are in TIME_WAIT (a server
        # just restarted) is free; one with a listener is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}); is another `reviewdeck serve` "
                "running? Pass another --port"
            ) from exc


def prepare_warehouse(db: Path) -> None:
    """Fail early on a missing warehouse and bring an older one's schema up to date.

    The app only reads; a warehouse written by an older reviewdeck would otherwise show a
    schema error on every page.
    """
    from ingest.db import connect

    if not db.exists():
        raise WarehouseError(
            f"no warehouse at {db}: run `reviewdeck ingest YOUR_LOGS.jsonl --db {db}` first, "
            "or `reviewdeck demo` to try it on demo data"
        )
    with connect(db):
        pass


def run_server(cmd: ServeCommand) -> int:
    """Run the server in the foreground until it exits or Ctrl-C; returns its exit code."""
    proc = subprocess.Popen(cmd.argv, env=cmd.env)
    # A service manager (or a test) stops us with SIGTERM: pass it on, or the server would be
    # orphaned and keep the port.
    forwarding = threading.current_thread() is threading.main_thread()
    previous = (
        signal.signal(signal.SIGTERM, lambda s, _f: proc.send_signal(s)) if forwarding else None
    )
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return 130
    finally:
        if forwarding:
            signal.signal(signal.SIGTERM, previous)


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def login_configured(secrets: Path = Path(".streamlit/secrets.toml")) -> bool:
    """Whether the app will ask for a login: an [auth] table in the secrets Streamlit reads."""
    import tomllib

    try:
        return "auth" in tomllib.loads(secrets.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False


def exposure_warning(host: str) -> str | None:
    """What to tell someone who binds beyond localhost without a login in front of the app."""
    if host in LOOPBACK or login_configured():
        return None
    return (
        f"warning: serving on {host} without a login: anyone who can reach this port can read "
        "the logged prompts and answers and start reruns on your endpoints. Put it behind a "
        "login (docs/serving.md) or keep the default --host 127.0.0.1."
    )


def _start(db: Path, host: str, port: int) -> None:
    prepare_warehouse(db)
    check_port_free(host, port)
    warning = exposure_warning(host)
    if warning:
        typer.secho(warning, err=True, fg="yellow")
    shown = "localhost" if host in LOOPBACK else host
    typer.echo(f"reviewdeck: serving {db} at http://{shown}:{port} (Ctrl-C to stop)")
    code = run_server(serve_command(db, host, port))
    if code not in (0, 130, -2, -15):
        raise typer.Exit(code)


def serve(
    db: DbOption = None,
    port: PortOption = DEFAULT_PORT,
    host: HostOption = DEFAULT_HOST,
) -> None:
    """Start the dashboard on an existing warehouse (http://localhost:8501 by default)."""
    from ingest import config

    _start(config.db_path(db), host, port)


def _subcommand(*args: str) -> None:
    """Run another reviewdeck subcommand in this process, as the CLI would."""
    from dashboard.cli import app

    try:
        app(args=list(args), prog_name="reviewdeck", standalone_mode=False)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise ReviewdeckError(f"`reviewdeck {' '.join(args)}` failed: {exc.code}") from exc


def run_analysis_if_available(db: Path) -> bool:
    """Run the drift/cluster analysis when this install has it; False when it does not."""
    try:
        analyze = importlib.import_module("models.analyze")
    except ModuleNotFoundError:
        return False
    run = getattr(analyze, "run_analysis", None)
    if run is None:
        return False
    run(db, log=lambda msg: typer.echo(f"  {msg}"))
    return True


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
        _subcommand("demo-data", "--events", str(events), "--out", str(side / DEMO_FILE))
        for made in sorted(side.iterdir(), key=lambda p: p.name == DEMO_FILE):
            made.replace(data_dir / made.name)
        side.rmdir()
    _subcommand("ingest", str(data), "--db", str(db))
    if run_analysis_if_available(db):
        typer.echo("reviewdeck: analysis done")
    else:
        typer.echo("reviewdeck: no analysis step in this install; skipped")
    if no_serve:
        typer.echo(f"reviewdeck: demo warehouse ready: reviewdeck serve --db {db}")
        return
    _start(db, host, port)
