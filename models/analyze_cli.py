"""Subcommands (being written in this change)."""


def analyze() -> None:
    """Not written yet."""
    raise SystemExit("not written yet")


def drift() -> None:
    """Not written yet."""
    raise SystemExit("not written yet")

