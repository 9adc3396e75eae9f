"""`reviewdeck export`: what reviewdeck learned, out to other tools (docs/export.md).

Three commands, one per audience: `parquet` (a lake for other engines, incremental), `finetune`
(a training file for a model vendor) and `csv` (sheets for stakeholders). The last two take the
explorer's filter; the lake takes everything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dashboard.cli.options import DbOption, JsonOption

app = typer.Typer(
    help="Export the warehouse: a Parquet lake, a fine-tuning set, CSV sheets.",
    no_args_is_help=True,
    add_completion=False,
)

WHERE_HELP = ("Which events: the explorer's filter, key=value pairs joined by '&', e.g. "
              "'feedback=corrected&start=2026-11-02' (see `reviewdeck rerun --help`).")
OutDir = Annotated[Path, typer.Option("--out", help="Folder to write into (created if missing).")]


@app.command("parquet")
def parquet(out: OutDir, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Export events, feedback, reruns, evaluations and clusters as a Parquet lake.

    Hive layout, partitioned by day: OUT/events/day=2026-11-30/part-....parquet. Run it again
    to add only what arrived since (the watermark is in OUT/_reviewdeck_export.json); files are
    never overwritten. Read it with DuckDB, Polars or Spark as it is.
    """
    from ingest import config
    from models.export.lake import export_lake

    result = export_lake(config.db_path(db), out)
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    typer.echo(f"lake {result.out_dir}: run {result.run}, {result.rows} row(s)")
    for t in result.tables:
        detail = t.skipped or f"{t.rows} row(s) in {t.files} file(s)"
        typer.echo(f"  {t.name:<17} {t.kind:<8} {detail}")
    if result.removed_orphans:
        typer.echo(f"  removed {result.removed_orphans} file(s) of an export that did not finish")


@app.command("finetune")
def finetune(
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write (replaced).")],
    where: Annotated[str, typer.Option("--where", help=WHERE_HELP)] = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write an OpenAI chat fine-tuning file from the events matching --where.

    One line per call: {"messages": [...], "tools": [...]}, ending in the assistant's answer,
    or in the newest correction where one exists. Failed calls, empty answers and non-text
    messages are left out; the command says how many and why.
    """
    from ingest import config
    from models.export.finetune import REASONS, export_finetune
    from models.filters import parse_where

    result = export_finetune(config.db_path(db), parse_where(where), out)
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    typer.echo(f"{result.out}: {result.written} example(s), {result.corrected} with a "
               f"correction as the answer, {result.with_tools} with tools")
    if result.redacted:
        typer.echo(f"  replaced {result.redacted} secret-shaped string(s) with [redacted]")
    left = sum(result.left_out.values())
    typer.echo(f"left out {left} event(s)" + (":" if left else ""))
    for reason, n in result.left_out.items():
        typer.echo(f"  {n:>6}  {reason}: {REASONS[reason]}")


@app.command("csv")
def csv(out: OutDir, where: Annotated[str, typer.Option("--where", help=WHERE_HELP)] = "",
        db: DbOption = None, as_json: JsonOption = False) -> None:
    """Write OUT/events.csv and OUT/feedback.csv for the events matching --where.

    Flat columns for a spreadsheet: texts, model, tokens, cost, latency, feedback folded in,
    cluster. Cells a spreadsheet would run as a formula are prefixed with an apostrophe.
    """
    from ingest import config
    from models.export.sheet import export_sheet
    from models.filters import parse_where

    result = export_sheet(config.db_path(db), parse_where(where), out)
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    for name, path in result.files.items():
        typer.echo(f"{path}: {result.rows[name]} row(s)")
