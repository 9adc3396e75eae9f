"""`reviewdeck serve` and `reviewdeck demo`: start the dashboard, on localhost by default.

The app is a Streamlit script inside the installed package, so `serve` runs
`python -m dashboard.streamlit_main run <package>/app.py` (Streamlit's CLI, statistics
libraries preloaded) as a child process with REVIEWDECK_DB set to the absolute warehouse
path, and binds 127.0.0.1: the rerun panel can spend money on the configured model endpoints,
so exposing it to a network is an explicit `--host` (see docs/serving.md).
`demo` chains the existing subcommands (demo-data, ingest, analyze) in-process, then serves.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from dashboard.cli.options import DbOption
from ingest.errors import ConfigError, WarehouseError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501

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


# The app's Streamlit settings, defined once. Streamlit reads .streamlit/config.toml only from
# the working directory, so `reviewdeck serve` started anywhere else would run with Streamlit's
# defaults (a "Deploy" button, usage statistics): serve passes every one of them as a flag.
# .streamlit/config.toml mirrors them (with the default address and port) for `streamlit run`
# from a clone; tests/dashboard/test_serve_settings.py checks that the two agree.
APP_SETTINGS: dict[str, bool | str] = {
    "server.headless": True,
    "server.runOnSave": False,
    # A served app, not a dev session: no source watching. The watcher walks the path of every
    # loaded module (thousands, with scipy and statsmodels) after each script run, which made a
    # first visit of the trends page ~0.5 s slower.
    "server.fileWatcherType": "none",
    # Local-first: the browser sends no usage statistics anywhere.
    "browser.gatherUsageStats": False,
    "theme.base": "light",
    # A tool for reviewers: no "Deploy" button or developer menu.
    "client.toolbarMode": "minimal",
}


def setting_flags(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> list[str]:
    """APP_SETTINGS, the address and the port as Streamlit command-line flags."""
    settings = {"server.address": host, "server.port": port, **APP_SETTINGS}
    flags: list[str] = []
    for name, value in settings.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        flags += [f"--{name}", text]
    return flags


def serve_command(db: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> ServeCommand:
    """The child process that serves the app on `host:port` over the warehouse `db`."""
    argv = [
        # Streamlit's own CLI, after preloading the statistics libraries (streamlit_main.py).
        sys.executable, "-m", "dashboard.streamlit_main", "run", str(app_script()),
        *setting_flags(host, port),
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


def start(db: Path, host: str, port: int) -> None:
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
    collect: Annotated[
        bool,
        typer.Option(
            "--collect",
            help="Also run `reviewdeck collect` (OTLP/HTTP on 127.0.0.1, --collect-port) as "
            "the warehouse's writer; both stop together.",
        ),
    ] = False,
    collect_port: Annotated[
        int, typer.Option("--collect-port", help="The collector's port with --collect.")
    ] = 4318,
) -> None:
    """Start the dashboard on an existing warehouse (http://localhost:8501 by default)."""
    from ingest import config

    if not collect:
        start(config.db_path(db), host, port)
        return
    from dashboard.cli.collect import start_child, stop_child

    collector = start_child(config.db_path(db), port=collect_port)  # it creates the warehouse
    try:
        start(config.db_path(db), host, port)
    finally:
        stop_child(collector)
