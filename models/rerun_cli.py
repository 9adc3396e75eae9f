"""Subcommands (being written in this change)."""


def rerun() -> None:
    """Not written yet."""
    raise SystemExit("not written yet")

