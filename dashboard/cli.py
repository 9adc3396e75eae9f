"""The `reviewdeck` command: one entry point, a subcommand per job.

Each subcommand lives next to the code it drives (ingest/, models/, dashboard/) and imports its
heavy libraries inside the function, so `reviewdeck --help` stays instant. Library code raises
ReviewdeckError; this is the one place that turns it into a message and an exit code.
"""

from __future__ import annotations

import sys

import typer

from dashboard import report_cli, serve_cli
from ingest import cli as ingest_cli
from ingest import demo_cli
from ingest.errors import ReviewdeckError
from models import analyze_cli, rerun_cli

app = typer.Typer(
    name="reviewdeck",
    help="Review the quality of an LLM application from its logs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("ingest")(ingest_cli.ingest)
app.command("migrate")(ingest_cli.migrate)
app.command("demo-data")(demo_cli.demo_data)
app.command("analyze")(analyze_cli.analyze)
app.command("drift")(analyze_cli.drift)
app.command("rerun")(rerun_cli.rerun)
app.command("report")(report_cli.report)
app.command("serve")(serve_cli.serve)
app.command("demo")(serve_cli.demo)


def main() -> None:
    try:
        app()
    except ReviewdeckError as exc:
        typer.secho(f"error: {exc}", err=True, fg="red")
        sys.exit(2)


if __name__ == "__main__":
    main()
