"""Subcommands (being written in this change)."""


def ingest() -> None:
    """Not written yet."""
    raise SystemExit("not written yet")


def migrate() -> None:
    """Not written yet."""
    raise SystemExit("not written yet")

