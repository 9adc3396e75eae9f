"""`reviewdeck dataset ...`: named, frozen sets of events to rerun and evaluate again and again.

A dataset is made once (from a filter, a review queue, a cluster, a new topic or event ids) and
never changes; `reviewdeck rerun --dataset NAME` and `reviewdeck evaluate --dataset NAME` run on
it, and `show` lists the rerun batches run on it with their win/tie/loss. See docs/datasets.md.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from dashboard.cli.options import DbOption, JsonOption, echo_rows
from dashboard.cli.options import event_ids as parse_ids

app = typer.Typer(
    help="Datasets: named, frozen sets of events for regression checks (create, list, show, "
    "delete).",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="The dataset's name (`reviewdeck dataset list`).")]


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="A unique name, e.g. billing-fails-w07.")],
    source_kind: Annotated[str, typer.Option(
        "--from", help="filter (default), queue, cluster, new_topic or events.")] = "filter",
    where: Annotated[str, typer.Option(
        "--where", help="filter/cluster: the explorer's filter, key=value&... (fields: "
        "`reviewdeck rerun --help`).")] = "",
    queue: Annotated[int | None, typer.Option(
        "--queue", help="queue: the review queue id; its items, in its order.")] = None,
    cluster: Annotated[int | None, typer.Option(
        "--cluster", help="cluster: the cluster id (other --where keys narrow it).")] = None,
    ids: Annotated[str, typer.Option(
        "--ids", help="new_topic/events: event ids, comma-separated or @FILE (one a line).")
    ] = "",
    label: Annotated[str | None, typer.Option(
        "--label", help="new_topic: how the topic is named.")] = None,
    sample: Annotated[int | None, typer.Option(
        "--sample", min=1, help="Keep a seeded random sample of N of the matching events.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample.")] = 0,
    description: Annotated[str | None, typer.Option(
        "--description", help="What the dataset is for.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who made it.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make a dataset: the events its source names now, frozen (never changed by ingests).

    Sources: a filter (--where), a review queue (--from queue --queue ID), a cluster
    (--from cluster --cluster N), a new topic or plain event ids (--from new_topic|events
    --ids a,b,c or @FILE). --sample N --seed S keeps a seeded random N of them.
    """
    from ingest import config
    from ingest.db import connect
    from models.datasets import store
    from models.datasets.sources import DatasetSource

    where_text = where
    if cluster is not None:
        where_text = "&".join(filter(None, [f"cluster={cluster}", where.strip()]))
    source = DatasetSource(source_kind, where=where_text, queue_id=queue,
                           event_ids=parse_ids(ids) if ids else (), label=label, sample_n=sample,
                           seed=seed)
    with connect(config.db_path(db)) as con:
        ds = store.create_dataset(con, name, source, created_by=by, description=description)
    if as_json:
        typer.echo(json.dumps(_dataset_dict(ds), default=str))
        return
    typer.echo(f"dataset {ds.name}: {ds.n_events} events from {source.describe()}")


@app.command("list")
def list_(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every dataset, newest first: its size, source and how many rerun batches ran on it."""
    from ingest import config
    from ingest.db import connect
    from models.datasets import store

    with connect(config.db_path(db), read_only=True) as con:
        frame = store.list_datasets(con)
    echo_rows(frame, as_json, "no datasets yet; make one with `reviewdeck dataset create`",
              lambda row: f"{row['name']}: {row['n_events']} events ({row['source_kind']}), made "
                          f"{row['created_at']:%Y-%m-%d %H:%M} UTC"
                          + (f" by {row['created_by']}" if row["created_by"] else "")
                          + f"; {row['rerun_batches']} rerun batch(es)"
                          + (f" — {row['description']}" if row["description"] else ""))


@app.command("show")
def show(
    name: NameArg,
    events: Annotated[int, typer.Option(
        "--events", min=0, help="How many of its event ids to print (all with --json).")] = 10,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A dataset: its source, its events, and the rerun batches run on it with win/tie/loss."""
    from ingest import config
    from ingest.db import connect
    from models.datasets import store

    with connect(config.db_path(db), read_only=True) as con:
        ds = store.get_dataset(con, name)
        ids = store.event_ids(con, name)
        runs = store.rerun_batches(con, name)
    if as_json:
        typer.echo(json.dumps({**_dataset_dict(ds), "event_ids": ids,
                               "rerun_batches": [r.__dict__ for r in runs]}, default=str))
        return
    typer.echo(f"dataset {ds.name}: {ds.n_events} events, made "
               f"{ds.created_at:%Y-%m-%d %H:%M} UTC"
               + (f" by {ds.created_by}" if ds.created_by else ""))
    typer.echo(f"source: {ds.source_kind} {json.dumps(ds.source)}")
    if ds.description:
        typer.echo(f"description: {ds.description}")
    shown = ids[:events]
    if shown:
        typer.echo("events: " + ", ".join(shown)
                   + (f" ... ({len(ids) - len(shown)} more)" if len(ids) > len(shown) else ""))
    if not runs:
        typer.echo(f"no rerun batches yet: `reviewdeck rerun --dataset {ds.name} --model M "
                   "--judge J`")
    for r in runs:
        judged = "not judged" if r.win is None else \
            f"judge {r.judge_model}: win {r.win} / tie {r.tie} / loss {r.loss}" \
            + (f" ({r.unreadable} unreadable)" if r.unreadable else "")
        typer.echo(f"  {r.batch_id} {r.created_at:%Y-%m-%d %H:%M} model {r.model}: "
                   f"{r.status}, {r.n_items} items, ${r.spent_usd:.4f}; {judged}")


@app.command("delete")
def delete(name: NameArg, db: DbOption = None) -> None:
    """Delete a dataset (its event list); the rerun batches run on it and their results stay."""
    from ingest import config
    from ingest.db import connect
    from models.datasets import store

    with connect(config.db_path(db)) as con:
        ds = store.delete_dataset(con, name)
    typer.echo(f"deleted dataset {ds.name} ({ds.n_events} events)")


def _dataset_dict(ds: object) -> dict:
    return dict(ds.__dict__)
