"""`reviewdeck report`: the weekly review pack from the command line.

Generating a report freezes it (unless --no-freeze), so the file shared after the meeting can be
reopened later with the same numbers; `--reopen ID` shows a frozen one, `--diff` adds what changed
since it was frozen, `--list` shows the stored ones. Rendering (charts) happens after the
warehouse is released, so the file is held only while the numbers are read and stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dashboard.cli.options import DbOption


def report(
    week: Annotated[str | None, typer.Option("--week", help="ISO week, e.g. 2026-W46.")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write FILE.html (self-contained) or FILE.md; default: "
                     "Markdown on stdout."),
    ] = None,
    db: DbOption = None,
    reopen: Annotated[
        int | None, typer.Option("--reopen", help="Show frozen report ID as it was stored.")
    ] = None,
    diff: Annotated[
        bool, typer.Option("--diff", help="With --reopen: add what changed since it was frozen.")
    ] = False,
    list_reports: Annotated[
        bool, typer.Option("--list", help="List the stored (frozen) reports and exit.")
    ] = False,
    no_freeze: Annotated[
        bool, typer.Option("--no-freeze", help="Generate without storing a frozen snapshot.")
    ] = False,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", envvar="REVIEWDECK_APP_URL",
                     help="App address used in event links (default http://localhost:8501)."),
    ] = None,
    author: Annotated[
        str | None, typer.Option("--by", help="Who generated it (stored with the snapshot).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the example sampling.")] = 0,
) -> None:
    """Build the weekly review pack of one week: headline metrics with intervals, top
    regressions and improvements by segment with their worst examples, new and growing
    clusters, the week's reruns, reviewers' notes. Freezes a snapshot each time."""
    from dashboard.report_render import render_html, render_markdown
    from ingest import config
    from ingest.db import connect
    from models.report import snapshot
    from models.report.build import build_report
    from models.report.model import ReportError, parse_week

    path = config.db_path(db)
    if list_reports:
        with connect(path, read_only=True) as con:
            frame = snapshot.list_reports(con, week)
        if frame.is_empty():
            typer.echo("no frozen reports yet; `reviewdeck report --week 2026-W46` makes one")
        for row in frame.iter_rows(named=True):
            typer.echo(f"#{row['report_id']}  {row['week']}  {row['created_at']:%Y-%m-%d %H:%M}"
                       f"  {row['n_events']:>8} events  {row['lead'] or ''}")
        return

    frozen = change = None
    if reopen is not None:
        if diff:
            with connect(path, read_only=True) as con:
                frozen = snapshot.reopen(con, reopen)
                fresh = build_report(con, frozen.report.week, base_url=base_url,
                                     seed=seed)
                change = snapshot.compare(con, reopen, fresh)
        else:
            with connect(path, read_only=True) as con:
                frozen = snapshot.reopen(con, reopen)
        rep = frozen.report
    else:
        if not week:
            raise ReportError("say which week: `reviewdeck report --week 2026-W46` "
                              "(or --reopen ID, --list)")
        parse_week(week)
        if no_freeze:
            with connect(path, read_only=True) as con:
                rep = build_report(con, week, base_url=base_url, seed=seed)
        else:
            with connect(path) as con:
                frozen = snapshot.generate_and_freeze(con, week, created_by=author,
                                                      base_url=base_url, seed=seed)
            rep = frozen.report

    if out is None:
        typer.echo(render_markdown(rep, frozen=frozen, diff=change), nl=False)
    else:
        suffix = out.suffix.lower()
        if suffix in (".html", ".htm"):
            text = render_html(rep, frozen=frozen, diff=change)
        elif suffix in (".md", ".markdown"):
            text = render_markdown(rep, frozen=frozen, diff=change)
        else:
            raise ReportError(f"--out {out}: use a .html or .md file name")
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")
    if frozen is not None and reopen is None:
        typer.echo(f"frozen as report #{frozen.report_id}; reopen with "
                   f"`reviewdeck report --reopen {frozen.report_id}`", err=True)
