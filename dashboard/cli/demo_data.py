"""`reviewdeck demo-data`: write the realistic demo log (ingest/demo/) and its truths sidecar."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from ingest.errors import ConfigError


def demo_data(
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write.")] = Path("demo.jsonl"),
    events: Annotated[int, typer.Option("--events", help="Number of events.")] = 50_000,
    weeks: Annotated[
        int, typer.Option("--weeks", help="Weeks of history, ending in the end date's ISO week.")
    ] = 12,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same bytes.")] = 0,
    end_date: Annotated[
        str | None,
        typer.Option(
            "--end-date",
            help="Last day of the data (YYYY-MM-DD, UTC); default today. Fix it for "
            "reproducible files.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write a realistic demo log of a support assistant, with planted truths.

    The log is native JSONL (see docs/demo-data.md).
    What was planted (a model switch, a prompt change, a new topic, an error spike)
    is written next to it, to OUT.truths.json.
    """
    import time

    from ingest.demo.generate import generate

    try:
        end = date.fromisoformat(end_date) if end_date else None
    except ValueError as exc:
        raise ConfigError(f"--end-date must be YYYY-MM-DD, got {end_date!r}") from exc
    started = time.perf_counter()
    result = generate(out, events=events, weeks=weeks, seed=seed, end_date=end)
    took = time.perf_counter() - started
    typer.echo(
        f"wrote {result.events:,} events, {result.feedback_embedded:,} embedded and "
        f"{result.feedback_late:,} late feedback rows to {result.path} in {took:.1f}s"
    )
    typer.echo(f"truths: {result.truths_path}")
    typer.echo(planted_summary(result.truths))


def planted_summary(truths: dict) -> str:
    """What the demo log hides, by week (see docs/demo-data.md)."""
    planted = truths["planted"]
    return (
        f"  week {planted['prompt_change']['week']}: prompt "
        f"{planted['prompt_change']['to_version']} improves "
        f"{planted['prompt_change']['affected_tag']}\n"
        f"  week {planted['model_switch']['week']}: {planted['model_switch']['to_model']} lowers "
        f"{planted['model_switch']['affected_tag']}\n"
        f"  week {planted['new_topic']['week']}: new topic {planted['new_topic']['tag']}\n"
        f"  week {planted['error_spike']['week']}: error spike"
    )
