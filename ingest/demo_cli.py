"""Subcommands (being written in this change)."""


def demo_data() -> None:
    """Not written yet."""
    raise SystemExit("not written yet")

