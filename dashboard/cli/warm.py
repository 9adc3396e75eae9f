"""`reviewdeck warm`: the pipeline's last step, so the first visit after new data is fast.

It opens every heavy page once, headless (dashboard/warm.py), which stores their results beside
the warehouse for its current state (dashboard/stored.py, models/report/stored.py). Run it after
ingest, evaluate and analyze; any later write makes the stored results stale again.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from dashboard.cli.options import DbOption, JsonOption


def warm(
    db: DbOption = None,
    page: Annotated[
        list[str] | None,
        typer.Option("--page", help="Only this page (repeatable): overview, trends, drift, "
                     "weekly, evaluators."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Open the dashboard's heavy pages once, headless, and keep their results on disk, so the
    first visit after a pipeline run reads them instead of computing them."""
    from dashboard import warm as warming
    from ingest import config
    from ingest.errors import ReviewdeckError

    path = config.db_path(db)
    if not path.exists():
        raise ReviewdeckError(f"no warehouse at {path}: ingest events first")
    try:
        done = warming.warm(path, tuple(page) if page else warming.PAGES,
                            log=None if as_json else lambda m: typer.echo(f"reviewdeck: {m}"))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--page") from exc
    failed = [w for w in done if w.error]
    if as_json:
        typer.echo(json.dumps({"pages": [w.__dict__ for w in done]}))
    else:
        typer.echo(f"reviewdeck: {len(done) - len(failed)} of {len(done)} page(s) warmed in "
                   f"{sum(w.seconds for w in done):.1f} s")
    if failed:
        raise typer.Exit(1)
