"""Subcommands (being written in this change)."""


def report() -> None:
    """Not written yet."""
    raise SystemExit("not written yet")

