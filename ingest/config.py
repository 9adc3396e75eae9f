"""Settings read from REVIEWDECK_* environment variables through small typed getters.

Nothing here runs at import time: callers ask when they need a value, so tests can set the
environment per test and a bad value fails fast with a message naming the variable.
"""

from __future__ import annotations

import os
from pathlib import Path

from ingest.errors import ConfigError

DEFAULT_DB = "reviewdeck.duckdb"


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number") from exc


def db_path(override: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: the --db flag if given, else REVIEWDECK_DB, else ./reviewdeck.duckdb."""
    if override:
        return Path(override)
    return Path(env_str("REVIEWDECK_DB", DEFAULT_DB))


def lock_timeout_s() -> float:
    """How long a process waits for another one to release the warehouse file."""
    return env_float("REVIEWDECK_LOCK_TIMEOUT", 60.0)
