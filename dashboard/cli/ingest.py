"""`reviewdeck ingest` and `reviewdeck migrate`: the command-line face of the loader.

Parsing and loading live in ingest/load/loader.py; this module expands paths, shows progress on a
terminal, prints the per-file summary and turns rejects into an exit code under --strict.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Annotated

import typer

from dashboard.cli.options import DbOption, JsonOption

FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format", help="Force a format (native, or a foreign one) instead of detecting it."
    ),
]


def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(help="Files, directories (recursive), globs, .gz files, or - for stdin."),
    ],
    db: DbOption = None,
    fmt: FormatOption = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 if any line is rejected.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the total.")] = False,
    as_json: JsonOption = False,
    analyze: Annotated[
        bool, typer.Option("--analyze", help="Run the analysis jobs after loading.")
    ] = False,
) -> None:
    """Load log files into the warehouse (one transaction per file; bad lines go to `rejects`)."""
    from ingest import config
    from ingest.load.loader import FileResult, known_hashes, load_source
    from ingest.load.read import expand

    db_path = config.db_path(db)
    passed_over: list[str] = []
    sources = expand(paths, passed_over)
    known = known_hashes(db_path)
    results: list[FileResult] = []
    show_bar = not (quiet or as_json) and sys.stderr.isatty()
    progress = _progress() if show_bar else None
    try:
        if progress:
            progress.start()
        for src in sources:
            task = None
            if progress:
                task = progress.add_task(src.label, total=src.size() if not src.gzipped else None)

            def advance(n: int, task=task) -> None:
                if progress is not None and task is not None:
                    progress.advance(task, n)

            result = load_source(db_path, src, fmt=fmt, known=known, on_bytes=advance)
            results.append(result)
            if progress and task is not None:
                progress.remove_task(task)
            if not (quiet or as_json):
                typer.echo(_line(result))
    finally:
        if progress:
            progress.stop()
    total = _total(results)
    if as_json:
        typer.echo(json.dumps({"db": str(db_path), "files": [asdict(r) for r in results],
                               "total": total, "passed_over": passed_over}))
    else:
        if passed_over and not quiet:
            shown = ", ".join(passed_over[:3]) + (" ..." if len(passed_over) > 3 else "")
            typer.echo(f"passed over {len(passed_over)} file(s) in folders that are not logs "
                       f"(by their suffix; name one to read it anyway): {shown}")
        typer.echo(
            f"total: {len(results)} file(s), {total['skipped']} skipped; read {total['read']}, "
            f"inserted {total['inserted']} ({total['events_inserted']} events, "
            f"{total['feedback_inserted']} feedback), duplicate {total['duplicate']}, "
            f"rejected {total['rejected']}"
        )
        if total["rejected"] and not quiet:
            typer.echo(
                f"rejected lines are in the `rejects` table: reviewdeck's warehouse {db_path}, "
                "e.g. SELECT path, line_no, reason FROM rejects ORDER BY rejected_at DESC"
            )
    if analyze:
        _run_analysis(db_path)
    if strict and total["rejected"]:
        raise typer.Exit(1)


def _line(r) -> str:
    if r.skipped:
        return f"{r.path}: skipped (already ingested)"
    return (
        f"{r.path} [{r.source_format}]: read {r.read}, inserted {r.inserted} "
        f"({r.events_inserted} events, {r.feedback_inserted} feedback), "
        f"duplicate {r.duplicate}, rejected {r.rejected} ({r.seconds:.1f}s)"
    )


def _total(results) -> dict[str, int]:
    keys = ("read", "events_inserted", "feedback_inserted", "duplicate", "rejected")
    total = {k: sum(getattr(r, k) for r in results) for k in keys}
    total["inserted"] = total["events_inserted"] + total["feedback_inserted"]
    total["skipped"] = sum(r.skipped for r in results)
    return total


def _progress():
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        transient=True,
        console=Console(stderr=True),
    )


def _run_analysis(db_path) -> None:
    from models.drift.analyze import run_analysis

    typer.echo("running analysis ...")
    run_analysis(db_path, log=typer.echo)


def migrate(db: DbOption = None) -> None:
    """Create the warehouse or upgrade it to this version's schema."""
    from ingest import config
    from ingest.db import open_connection
    from ingest.migrations import applied_versions, latest_version
    from ingest.migrations import migrate as run_migrations

    db_path = config.db_path(db)
    con = open_connection(db_path)  # not db.connect: it would migrate before we can look
    try:
        before = max(applied_versions(con), default=0)
        done = run_migrations(con)
    finally:
        con.close()
    if done:
        typer.echo(f"{db_path}: schema {before} → {latest_version()} (applied {done})")
    else:
        typer.echo(f"{db_path}: schema {before} is up to date")
