"""Options shared by every subcommand, defined once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar="REVIEWDECK_DB",
        help="Warehouse file (default ./reviewdeck.duckdb).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]


def event_ids(text: str) -> tuple[str, ...]:
    """Event ids given as `a,b,c` or `@FILE` (one id a line), in order, each once."""
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            raw = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            from ingest.errors import ReviewdeckError

            raise ReviewdeckError(f"cannot read event ids from {path}: {exc}") from exc
    else:
        raw = text.split(",")
    return tuple(dict.fromkeys(x.strip() for x in raw if x.strip()))


def echo_rows(frame: Any, as_json: bool, empty: str, line: Callable[[dict], str]) -> None:
    """What a `list` command prints: the polars frame as JSON, `empty` when it has no rows, or
    one `line(row)` per row."""
    if as_json:
        typer.echo(frame.write_json())
    elif frame.is_empty():
        typer.echo(empty)
    else:
        for row in frame.iter_rows(named=True):
            typer.echo(line(row))
