"""`reviewdeck evaluate`: run the evaluators (evaluators.toml, else the built-ins) over the events
they have not scored yet; results are feedback rows. See docs/evaluators.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dashboard.cli.options import DbOption, JsonOption


def evaluate(
    config: Annotated[Path | None, typer.Option(
        "--config", help="Evaluators file (default ./evaluators.toml; without one, the "
        "built-in checks run over every event).")] = None,
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="Run only this evaluator (repeat for several).")] = None,
    sample_rate: Annotated[float | None, typer.Option(
        "--sample-rate", min=0.0, max=1.0, help="Override every evaluator's sample rate "
        "(0 < R <= 1).")] = None,
    max_cost: Annotated[float | None, typer.Option(
        "--max-cost", min=0.0, help="Spend cap in USD for this run's judge calls; stops "
        "cleanly before exceeding it.")] = None,
    concurrency: Annotated[int | None, typer.Option(
        "--concurrency", min=1, max=64, help="Judge calls in flight at once (default 16).")
    ] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Count what would be scored and estimate the cost; call nothing.")
    ] = False,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", help="Score only this dataset's events (`reviewdeck dataset list`); "
        "sampling still applies.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score the events each evaluator has not scored yet (its sample of the events it applies
    to), write the results as feedback rows, and print the counts and the cost.

    Running it again scores only new events; a killed run resumes where it stopped. Events are
    read and scored in batches (REVIEWDECK_EVALUATE_BATCH events, default 50,000), so memory
    does not grow with the warehouse. Exit code 1 when the run stopped early (spend cap,
    interrupt) or judge calls failed (run it again).
    """
    from ingest import config as settings
    from models.evaluators.runner import DEFAULT_CONCURRENCY, run

    path = str(settings.db_path(db))
    event_ids = None
    if dataset is not None:
        from ingest.db import connect
        from models.datasets import store as datasets

        with connect(path, read_only=True) as con:
            event_ids = datasets.event_ids(con, dataset)
        if not as_json:
            typer.echo(f"dataset {dataset}: {len(event_ids)} events")
    kwargs = dict(only=only or None, sample_rate=sample_rate, max_cost_usd=max_cost,
                  dry_run=dry_run, concurrency=concurrency or DEFAULT_CONCURRENCY,
                  event_ids=event_ids)

    def show_plan(s) -> None:
        if as_json:
            return
        est = "unknown (a judge model is not in the price table)" if s.estimate_usd is None \
            else f"${s.estimate_usd:.4f}"
        todo = sum(c.sampled for c in s.evaluators)
        typer.echo(f"{len(s.evaluators)} evaluator(s) from {s.config_path or 'the built-ins'}; "
                   f"{todo} evaluation(s) to run"
                   + (f" in {s.batches} batch(es) of events" if s.batches > 1 else "")
                   + f"; estimated cost {est}"
                   + (f", cap ${max_cost:.4f}" if max_cost is not None else ""))

    if as_json or dry_run:
        summary = run(path, config, on_plan=show_plan, **kwargs)
    else:
        from rich.progress import Progress as Bar

        with Bar(transient=True) as bar:
            task = bar.add_task("evaluating", total=None)

            def show(p) -> None:
                bar.update(task, completed=p.done, total=p.total,
                           description=f"evaluating (${p.cost_usd:.4f} spent)")

            summary = run(path, config, on_plan=show_plan, on_progress=show, **kwargs)
    out = summary.as_dict()
    if as_json:
        typer.echo(json.dumps(out, default=str))
    else:
        _print_text(out)
    if summary.stopped or summary.totals.get("call_failures"):
        raise typer.Exit(1)


def _print_text(out: dict) -> None:
    for c in out["evaluators"]:
        rate = f"{c['fails'] / c['scored']:.1%} fail" if c["scored"] else "no scores"
        typer.echo(f"{c['name']}@{c['version']} ({c['kind']}, rate {c['sample_rate']:g}): "
                   f"{c['matched']} events apply, {c['sampled']} to score; {c['scored']} scored "
                   f"({rate}), {c['skipped']} not applicable, {c['errors']} errors, "
                   f"{c['unparsed']} unparsed, {c['call_failures']} failed calls; "
                   f"${c['cost_usd']:.4f}")
        if c.get("note"):
            typer.echo(f"  {c['note']}")
    if out["dry_run"]:
        typer.echo("dry run: nothing was called or written")
        return
    typer.echo(f"spent ${out['cost_usd']:.4f} in {out['elapsed_s']} s"
               + (f" (run {out['run_id']})" if out["run_id"] else " (nothing new to score)"))
    if out["stopped"] == "max_cost":
        typer.echo("stopped at the spend cap; raise --max-cost and run again to continue")
    elif out["stopped"]:
        typer.echo("interrupted; run the same command again to continue")
    if out["totals"].get("call_failures"):
        typer.echo("some judge calls failed; run the same command again to retry them")
