"""The `reviewdeck` command: one entry point, a subcommand per job.

Each subcommand lives next to the code it drives (ingest/, models/, dashboard/) and imports its
heavy libraries inside the function, so `reviewdeck --help` stays instant. Library code raises
ReviewdeckError; this is the one place that turns it into a message and an exit code.
"""

from __future__ import annotations

import sys

import typer

from dashboard.cli import analyze as analyze_cli
from dashboard.cli import check as check_cli
from dashboard.cli import collect as collect_cli
from dashboard.cli import dataset as dataset_cli
from dashboard.cli import demo as demo_cli
from dashboard.cli import demo_data as demo_data_cli
from dashboard.cli import evaluate as evaluate_cli
from dashboard.cli import export as export_cli
from dashboard.cli import ingest as ingest_cli
from dashboard.cli import queue as queue_cli
from dashboard.cli import report as report_cli
from dashboard.cli import rerun as rerun_cli
from dashboard.cli import serve as serve_cli
from dashboard.cli import warm as warm_cli
from ingest.errors import ReviewdeckError

app = typer.Typer(
    name="reviewdeck",
    help="Review the quality of an LLM application from its logs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("ingest")(ingest_cli.ingest)
app.command("migrate")(ingest_cli.migrate)
app.command("demo-data")(demo_data_cli.demo_data)
app.command("analyze")(analyze_cli.analyze)
app.command("drift")(analyze_cli.drift)
app.command("rerun")(rerun_cli.rerun)
app.command("report")(report_cli.report)
app.command("serve")(serve_cli.serve)
app.command("demo")(demo_cli.demo)
app.command("collect")(collect_cli.collect)
app.add_typer(queue_cli.app, name="queue")
app.add_typer(export_cli.app, name="export")
app.add_typer(dataset_cli.app, name="dataset")
app.command("evaluate")(evaluate_cli.evaluate)
app.command("check")(check_cli.check)
app.command("warm")(warm_cli.warm)


def main() -> None:
    try:
        app()
    except ReviewdeckError as exc:
        typer.secho(f"error: {exc}", err=True, fg="red")
        sys.exit(2)

