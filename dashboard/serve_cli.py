"""Subcommands (being written in this change)."""


def serve() -> None:
    """Not written yet."""
    raise SystemExit("not written yet")


def demo() -> None:
    """Not written yet."""
    raise SystemExit("not written yet")

