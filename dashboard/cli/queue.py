"""`reviewdeck queue ...`: make review queues, see their progress, and move labels through CSV.

The page (Review queue) and these commands share models.queue, so a queue made here is reviewed
there, and labels made in a spreadsheet come back as the same feedback rows the page writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from dashboard.cli.options import DbOption, JsonOption, echo_rows, event_ids

app = typer.Typer(
    help="Human review queues: create, list, show, export and import labels as CSV.",
    no_args_is_help=True,
)

QueueArg = Annotated[int, typer.Argument(help="The queue id (`reviewdeck queue list`).")]


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What reviewers see the queue as.")],
    source_kind: Annotated[str, typer.Option(
        "--from", help="filter (default), cluster, segment, new_topic or rerun_batch.")
    ] = "filter",
    where: Annotated[str, typer.Option(
        "--where", help="filter/cluster/segment: the explorer's filter, key=value&... "
        "(see `reviewdeck rerun --help` for its fields); a cluster is cluster=N.")] = "",
    ids: Annotated[str, typer.Option(
        "--ids", help="new_topic: event ids, comma-separated or @FILE (one a line).")] = "",
    batch: Annotated[str | None, typer.Option(
        "--batch", help="rerun_batch: the batch id; its rerun answers are reviewed.")] = None,
    label: Annotated[str | None, typer.Option(
        "--label", help="How the source is named (the segment, the topic).")] = None,
    n: Annotated[int, typer.Option("-n", "--n", min=1, help="Sample size.")] = 50,
    stratify: Annotated[str | None, typer.Option(
        "--stratify", help="model, cluster or verdict:EVALUATOR (equal shares of each stratum; "
        "for a verdict, half the evaluator's fails and half its passes).")] = None,
    rubric: Annotated[str, typer.Option(
        "--rubric", help="The feedback name labels get: an evaluator's name to check it.")
    ] = "quality",
    labels: Annotated[str, typer.Option(
        "--labels", help="Comma-separated choices: a label rubric instead of pass/fail.")] = "",
    tags: Annotated[str | None, typer.Option(
        "--tags", help="Comma-separated failure tags (default: hallucination, refusal, wrong "
        "tool, formatting, incomplete, off-topic).")] = None,
    reviewers: Annotated[int, typer.Option(
        "--reviewers", min=1, max=3, help="Reviewers each item needs (2 for agreement).")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample.")] = 0,
    instructions: Annotated[str | None, typer.Option(
        "--instructions", help="What reviewers should judge, shown above each item.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make a review queue: a seeded random sample of N events from a filter, a cluster, a
    "what moved" segment, a new topic's events or a rerun batch, optionally stratified."""
    from ingest import config
    from ingest.db import connect
    from models.queue import build, store
    from models.queue.sources import QueueSource

    where_text = where
    if source_kind == "cluster" and where.strip().isdigit():
        where_text = f"cluster={where.strip()}"
    source = QueueSource(source_kind, where=where_text, event_ids=event_ids(ids) if ids else (),
                         batch_id=batch, label=label)
    choices = tuple(x.strip() for x in labels.split(",") if x.strip())
    spec = build.QueueSpec(
        name=name, source=source, rubric=rubric, rubric_kind="labels" if choices else "pass_fail",
        labels=choices,
        failure_tags=store.DEFAULT_FAILURE_TAGS if tags is None
        else tuple(t.strip() for t in tags.split(",") if t.strip()),
        instructions=instructions, n=n, stratify_by=stratify, reviewers_per_item=reviewers,
        seed=seed,
    )
    with connect(config.db_path(db)) as con:
        made = build.create_queue(con, spec)
    if as_json:
        typer.echo(json.dumps(made.__dict__))
        return
    strata = ", ".join(f"{k} {v}" for k, v in sorted(made.strata.items()))
    typer.echo(f"queue {made.queue_id}: {made.n_items} items of {made.n_candidates} candidates"
               + (f" ({strata})" if spec.stratify_by else ""))


@app.command("list")
def list_(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every queue with its progress: items done (as many reviewers as they need) / items."""
    from ingest import config
    from ingest.db import connect
    from models.queue import store

    with connect(config.db_path(db), read_only=True) as con:
        frame = store.list_queues(con)
    echo_rows(frame, as_json, "no review queues yet; make one with `reviewdeck queue create`",
              lambda r: f"{r['queue_id']:>4}  {r['name']}  [{r['source_kind']}] rubric "
                        f"{r['rubric']}  {r['done']}/{r['items']} done, {r['labels']} labels")


@app.command("show")
def show(queue_id: QueueArg, db: DbOption = None, as_json: JsonOption = False) -> None:
    """One queue: its source, rubric, settings and progress."""
    from ingest import config
    from ingest.db import connect
    from models.queue import store

    with connect(config.db_path(db), read_only=True) as con:
        q = store.get_queue(con, queue_id)
        p = store.progress(con, q, None)
    info = {
        "queue_id": q.queue_id, "name": q.name, "source": q.source.describe(),
        "rubric": q.rubric, "rubric_kind": q.rubric_kind, "choices": list(q.choices),
        "failure_tags": list(q.failure_tags), "stratify_by": q.stratify_by,
        "reviewers_per_item": q.reviewers_per_item, "seed": q.seed, "items": p.items,
        "done": p.done, "labels": p.labels,
    }
    if as_json:
        typer.echo(json.dumps(info))
        return
    for key, value in info.items():
        typer.echo(f"{key}: {', '.join(value) if isinstance(value, list) else value}")


@app.command("export")
def export(
    queue_id: QueueArg,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="CSV file to write (default: standard output).")] = None,
    db: DbOption = None,
) -> None:
    """Labels as CSV: one row per item per reviewer; an unlabelled item has one row to fill in
    (reviewer, verdict, and optionally tags separated by ';', note, correction)."""
    from ingest import config
    from ingest.db import connect
    from models.queue import csvio

    with connect(config.db_path(db), read_only=True) as con:
        text = csvio.export_csv(con, queue_id)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out} ({text.count(chr(10)) - 1} rows)", err=True)


@app.command("import")
def import_(
    queue_id: QueueArg,
    path: Annotated[Path, typer.Argument(help="CSV with event_id, reviewer, verdict columns.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import labels from CSV (as `queue export` writes it). Each bad line is named with what
    was wrong and left out; the good lines are imported. Exit code 1 when any line was bad."""
    from ingest import config
    from ingest.db import connect
    from models.queue import csvio

    with connect(config.db_path(db)) as con:
        result = csvio.import_file(con, queue_id, path)
    if as_json:
        typer.echo(json.dumps({**result.__dict__, "errors": list(result.errors)}))
    else:
        typer.echo(f"{result.labels} labels imported, {result.unchanged} unchanged, "
                   f"{result.skips} skips, {result.blank} rows without a verdict, "
                   f"{len(result.errors)} bad lines")
        for line in result.errors:
            typer.echo(line, err=True)
    if result.errors:
        raise typer.Exit(1)
