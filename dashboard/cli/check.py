"""`reviewdeck check`: run the team's alert checks on one week (or day), for CI and cron.

Exit codes: 0 no alert, 1 at least one alert fired, 2 bad config or input, 3 the alerts were
computed and printed but the webhook post failed. The warehouse is opened read-only and closed
before the webhook is called.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from dashboard.cli.options import DbOption, JsonOption

EXIT_FIRED = 1
EXIT_WEBHOOK = 3


def check(
    db: DbOption = None,
    week: Annotated[str | None, typer.Option("--week", help="ISO week, e.g. 2026-W46 "
                    "(default: the last complete week).")] = None,
    day: Annotated[str | None, typer.Option("--day", help="A day, e.g. 2026-11-16, checked "
                   "against the day before.")] = None,
    config_file: Annotated[Path | None, typer.Option("--config", help="alerts.toml (default: "
                           "built-in checks, see docs/alerts.md).")] = None,
    webhook: Annotated[str | None, typer.Option("--webhook", envvar="REVIEWDECK_WEBHOOK_URL",
                       help="POST the result to this URL.", show_default=False)] = None,
    webhook_format: Annotated[str, typer.Option("--webhook-format",
                              help="slack ({\"text\", \"blocks\"}) or json (the --json object).")
                              ] = "slack",
    timeout: Annotated[float, typer.Option("--timeout", help="Webhook timeout, seconds.")] = 10.0,
    as_json: JsonOption = False,
) -> None:
    """Run the alert checks (headline metrics worse with significance, a new topic, an
    evaluator's fail rate rising, error rate or cost over a threshold) on one period against
    the one before. Prints every check; exits 1 when an alert fires, 2 on bad config or input,
    3 when the webhook post failed."""
    from ingest import config
    from ingest.db import connect
    from models.alerts import checks, notify
    from models.alerts.config import AlertConfigError, load_config
    from models.report.model import app_url

    if webhook_format not in notify.WEBHOOK_FORMATS:
        raise AlertConfigError(f"--webhook-format {webhook_format!r}: use slack or json")
    cfg = load_config(config_file)
    base = app_url()
    path = config.db_path(db)
    if not path.exists():
        raise checks.CheckInputError(f"{path}: no warehouse here (give --db, or ingest first)")
    with connect(path, read_only=True) as con:
        period = checks.resolve_period(con, week, day)
        run = checks.run_checks(con, cfg, period, base)
    doc = notify.to_json(run)
    hook = None
    if webhook:
        payload = doc if webhook_format == "json" else notify.slack_payload(run)
        hook = notify.post_webhook(webhook, payload, timeout=timeout)
        doc["webhook"] = {"format": webhook_format, "ok": hook.ok, "status": hook.status,
                          "error": hook.error}
    if as_json:
        typer.echo(json.dumps(doc, indent=2))
    else:
        typer.echo(notify.render_text(run))
        if hook is not None:
            typer.echo("webhook: posted" if hook.ok else f"webhook FAILED: {hook.error}",
                       err=not hook.ok)
    if hook is not None and not hook.ok:
        sys.exit(EXIT_WEBHOOK)
    if run.fired:
        sys.exit(EXIT_FIRED)
