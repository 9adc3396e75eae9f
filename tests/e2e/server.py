"""Start the real `reviewdeck serve` on a free localhost port and wait until it answers.

Used by the browser tests (tests/e2e/conftest.py) and the CLI tests; it runs
`python -m dashboard.cli serve`, the same entry point as the `reviewdeck` console script.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO


@dataclass(frozen=True)
class Server:
    url: str
    port: int
    db: Path
    proc: subprocess.Popen
    log: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def start_server(
    db: Path,
    *,
    timeout_s: float = 90,
    env: dict[str, str] | None = None,
    log_dir: Path | None = None,
) -> Iterator[Server]:
    """Serve `db` with the real `reviewdeck serve` on a free port until the block ends."""
    port = free_port()
    log = (log_dir or Path(db).parent) / f"serve-{port}.log"
    cmd = [sys.executable, "-m", "dashboard.cli", "serve", "--db", str(db), "--port", str(port)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while not _healthy(url):
            if proc.poll() is not None:
                raise RuntimeError(
                    f"reviewdeck serve exited ({proc.returncode}):\n"
                    + log.read_text(errors="replace")
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"reviewdeck serve not healthy after {timeout_s}s:\n"
                    + log.read_text(errors="replace")
                )
            time.sleep(0.25)
        yield Server(url, port, Path(db), proc, log)
    finally:
        # SIGTERM to `serve`, which forwards it to Streamlit; the group kill is a backstop.
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
