"""The app's Streamlit settings travel with the package: `reviewdeck serve` passes each of them
as a flag (Streamlit reads .streamlit/config.toml only from the working directory), and the
project's config file says the same thing for `streamlit run` from a clone."""

from __future__ import annotations

import tomllib
from pathlib import Path

from dashboard.cli import serve as serve_cli
from tests.conftest import REPO


def _flags(argv: list[str]) -> dict[str, str]:
    return {a[2:]: argv[i + 1] for i, a in enumerate(argv) if a.startswith("--")}


def _as_flag(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_serve_command_carries_every_app_setting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a folder without .streamlit/
    flags = _flags(serve_cli.serve_command(Path("w.duckdb"), port=8765).argv)
    for name, value in serve_cli.APP_SETTINGS.items():
        assert flags[name] == _as_flag(value), name
    assert flags["client.toolbarMode"] == "minimal"  # no "Deploy" button
    assert flags["browser.gatherUsageStats"] == "false"
    assert (flags["server.address"], flags["server.port"]) == ("127.0.0.1", "8765")


def test_project_config_file_and_serve_flags_agree():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    in_file = {
        f"{section}.{name}": value
        for section, table in config.items()
        for name, value in table.items()
    }
    expected = {
        "server.address": serve_cli.DEFAULT_HOST,
        "server.port": serve_cli.DEFAULT_PORT,
        **serve_cli.APP_SETTINGS,
    }
    assert in_file == expected
    # and the flags for the default address are exactly those settings
    flags = _flags(serve_cli.setting_flags())
    assert flags == {name: _as_flag(value) for name, value in expected.items()}
