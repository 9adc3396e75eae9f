"""`reviewdeck serve` and `reviewdeck demo`: in-process where they return, as a process where
they serve (the real Streamlit server, checked over HTTP, and its listening socket read from the
kernel's /proc/net tables)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard import cli
from dashboard.cli import demo as demo_cli
from dashboard.cli import serve as serve_cli
from ingest.db import connect
from ingest.errors import ConfigError
from tests.e2e.seed import seed
from tests.e2e.server import start_server


def _main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["reviewdeck", *args])
    try:
        cli.main()
    except SystemExit as exc:
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    return 0


def test_serve_without_a_warehouse_says_what_to_do(tmp_path, monkeypatch, capsys):
    missing = tmp_path / "none.duckdb"
    assert _main(monkeypatch, "serve", "--db", str(missing), "--port", "9") == 2
    err = capsys.readouterr().err
    assert f"no warehouse at {missing}" in err and "reviewdeck demo" in err
    assert not missing.exists()


def test_serve_command_binds_localhost_with_absolute_db(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cmd = serve_cli.serve_command(Path("w.duckdb"), port=8765)
    argv = cmd.argv
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert argv[argv.index("--server.port") + 1] == "8765"
    assert Path(argv[argv.index("run") + 1]) == serve_cli.app_script()
    assert serve_cli.app_script().is_file()
    assert cmd.env["REVIEWDECK_DB"] == str(tmp_path / "w.duckdb")


def test_busy_port_is_reported_before_starting(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(ConfigError, match=f"127.0.0.1:{port}.*--port"):
            serve_cli.check_port_free("127.0.0.1", port)


def _outside_address() -> str | None:
    """A non-loopback address of this machine, if it has one."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    found = [a for a in out.stdout.split() if "." in a and not a.startswith("127.")]
    return found[0] if found else None


def _listening(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port`, from the kernel's tables."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            local, _, state = line.split()[1:4]
            host, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(host)
                # The kernel writes each 32-bit word in host (little-endian) order.
                words = [raw[i : i + 4][::-1] for i in range(0, width // 2, 4)]
                packed = b"".join(words)
                family = socket.AF_INET if width == 8 else socket.AF_INET6
                found.add(socket.inet_ntop(family, packed))
    return found


def test_real_serve_answers_on_localhost_only_and_stops_on_sigterm(tmp_path):
    db = seed(tmp_path / "w.duckdb", n=50)
    with start_server(db) as server:
        with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=5) as resp:
            assert resp.read() == b"ok"
        # What the kernel says is listening: 127.0.0.1 only, no 0.0.0.0 or :: beside it.
        assert _listening(server.port) == {"127.0.0.1"}
        # And from another address: all of 127.0.0.0/8 reaches this machine, so a server bound
        # to every interface would answer on 127.0.0.2; one bound to 127.0.0.1 refuses it.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", server.port), 2).close()
        outside = _outside_address()
        if outside:
            with pytest.raises(OSError), socket.create_connection((outside, server.port), 2):
                pass
        server.proc.terminate()
        assert server.proc.wait(timeout=30) is not None
        # Checked before start_server's own clean-up (a group kill) can hide an orphan: the
        # Streamlit child went with `serve`, so nothing listens on the port any more.
        deadline = time.monotonic() + 15
        while True:
            try:
                serve_cli.check_port_free("127.0.0.1", server.port)
                break
            except ConfigError:
                assert time.monotonic() < deadline, "the server outlived `reviewdeck serve`"
                time.sleep(0.2)


def test_demo_no_serve_builds_a_warehouse_and_is_idempotent(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ("demo", "--events", "400", "--no-serve", "--dir", str(tmp_path / "demo"))
    assert _main(monkeypatch, *args) == 0
    db = tmp_path / "demo" / "reviewdeck.duckdb"
    assert (tmp_path / "demo" / demo_cli.DEMO_FILE).exists()
    assert not (tmp_path / "demo" / ".generating").exists()
    with connect(db, read_only=True) as con:
        first = con.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchall()[0]
    # Events may include a few spans besides the LLM calls; all distinct, at least the 400 asked.
    assert first[0] == first[1] >= 400
    capsys.readouterr()

    assert _main(monkeypatch, *args) == 0
    assert "using the demo log" in capsys.readouterr().out
    with connect(db, read_only=True) as con:
        again = con.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchall()[0]
    assert again == first


def test_exposing_without_login_warns_and_login_silences_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert serve_cli.exposure_warning("127.0.0.1") is None
    warning = serve_cli.exposure_warning("0.0.0.0")
    assert warning and "without a login" in warning and "docs/serving.md" in warning
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        '[auth]\nredirect_uri = "https://x/oauth2callback"\ncookie_secret = "s"\n'
    )
    assert serve_cli.exposure_warning("0.0.0.0") is None
