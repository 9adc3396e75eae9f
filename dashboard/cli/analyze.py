"""The `reviewdeck analyze` and `reviewdeck drift` subcommands.

`analyze` brings the clusters, map and default drift table up to date (only new events are
embedded). `drift` compares any two windows from the stored analysis, for pipelines: `--json`
prints one documented object and `--fail-on-drift` exits 1 when drift is found. Heavy libraries
are imported inside the functions so `reviewdeck --help` stays instant.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from dashboard.cli.options import DbOption, JsonOption
from ingest import config


def analyze(
    db: DbOption = None,
    field: Annotated[
        str, typer.Option("--field", help="Text to embed: input (what users ask), output (the "
                          "answers: output drift) or input+output.")
    ] = "input",
    embedder: Annotated[
        str,
        typer.Option("--embedder", envvar="REVIEWDECK_EMBEDDER",
                     help="wordllama (offline semantic default), tfidf (offline, fitted on "
                          "your data) or openai (any OpenAI-compatible server)."),
    ] = "wordllama",
    embed_model: Annotated[
        str | None,
        typer.Option("--embed-model", envvar="REVIEWDECK_EMBED_MODEL",
                     help="Embedding model for --embedder openai, e.g. text-embedding-3-small."),
    ] = None,
    embed_base_url: Annotated[
        str | None,
        typer.Option("--embed-base-url", envvar="REVIEWDECK_EMBED_BASE_URL",
                     help="OpenAI-compatible base URL (Azure, vLLM, Ollama...); default OpenAI."),
    ] = None,
    embed_batch: Annotated[int, typer.Option("--embed-batch", min=1, help="Texts per request.")] = (
        256
    ),
    embed_price: Annotated[
        float | None,
        typer.Option("--embed-price", help="USD per 1M tokens, for the spend estimate."),
    ] = None,
    max_spend: Annotated[
        float | None,
        typer.Option("--max-spend", help="Refuse to embed when the estimate is over this (USD)."),
    ] = None,
    clusters: Annotated[
        int | None, typer.Option("--clusters", min=2, help="Number of clusters (default: auto).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for sampling and clustering.")] = 0,
    full: Annotated[
        bool, typer.Option("--full", help="Recluster from scratch and refit the map.")
    ] = False,
    refit_embedder: Annotated[
        bool,
        typer.Option("--refit-embedder", help="Fit a new TF-IDF embedder (re-embeds everything)."),
    ] = False,
    map_points: Annotated[
        int, typer.Option("--map-points", min=20_000, help="Events on the map (UMAP sample).")
    ] = 25_000,
    make_map: Annotated[
        bool, typer.Option("--map/--no-map", help="Fit the 2-D map (UMAP) for the drift page.")
    ] = True,
    name_model: Annotated[
        str | None,
        typer.Option("--name-model", envvar="REVIEWDECK_NAME_MODEL",
                     help="Chat model that writes short cluster names (optional, cached)."),
    ] = None,
    name_base_url: Annotated[
        str | None,
        typer.Option("--name-base-url", envvar="REVIEWDECK_NAME_BASE_URL",
                     help="OpenAI-compatible base URL for --name-model."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Embed new events, cluster them (stable ids), fit the map and the drift table."""
    from models.drift.analyze import AnalyzeOptions, run_analysis

    opts = AnalyzeOptions(
        field=field, embedder=embedder, embed_model=embed_model, embed_base_url=embed_base_url,
        embed_batch=embed_batch, embed_price=embed_price, max_spend_usd=max_spend, k=clusters,
        seed=seed, full=full, refit_embedder=refit_embedder, map_points=map_points,
        make_map=make_map, name_model=name_model, name_base_url=name_base_url,
    )
    log = (lambda _m: None) if as_json else (lambda m: typer.echo(m, err=True))
    result = run_analysis(config.db_path(db), opts, log=log)
    if as_json:
        typer.echo(json.dumps(result.__dict__, default=str))
        return
    if result.mode == "nothing-new":
        typer.echo(f"nothing new: {result.n_events:,} events already in {result.n_clusters} "
                   f"clusters ({result.timings.get('total', 0):.1f}s)")
        return
    typer.echo(
        f"analysed {result.n_events:,} events ({result.n_new_events:,} new, "
        f"{result.n_embedded:,} texts embedded) into {result.n_clusters} clusters; "
        f"{result.n_map_points:,} on the map; {result.mode} run in "
        f"{result.timings.get('total', 0):.1f}s"
    )
    if result.spent_usd is not None:
        typer.echo(f"embedding spend: ${result.spent_usd:.4f} "
                   f"(estimated ${result.spend_estimate_usd or 0:.4f})")


def drift(
    reference: Annotated[
        str | None,
        typer.Option("--reference", help="Reference window A..B (dates, inclusive)."),
    ] = None,
    current: Annotated[
        str | None, typer.Option("--current", help="Current window C..D (dates, inclusive).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    fail_on_drift: Annotated[
        bool, typer.Option("--fail-on-drift", help="Exit 1 when drift is found.")
    ] = False,
    alpha: Annotated[float, typer.Option("--alpha", min=0.0001, max=0.5)] = 0.05,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Compare two windows: new topics, overall embedding drift and per-cluster share changes.

    Default windows: the latest week against the four weeks before it. Drift is found when the
    novelty test (kNN neighbourhoods, at 0.7 x --alpha) finds current events in new territory,
    the overall MMD test rejects (0.1 x --alpha), or any cluster is new, growing, shrinking or
    vanished (Benjamini-Hochberg, 0.2 x --alpha); so the verdict's false-alarm rate is at most
    --alpha. New topics are listed first.
    """
    from ingest.db import connect
    from models.drift import statistics as drf
    from models.drift.report import compute_drift, to_json

    ref = drf.parse_window(reference) if reference else None
    cur = drf.parse_window(current) if current else None
    with connect(config.db_path(db), read_only=True) as con:
        report = compute_drift(con, ref, cur, alpha=alpha, seed=seed)
    if as_json:
        typer.echo(json.dumps(to_json(report)))
    else:
        o = report.overall
        verdict = "DRIFT" if report.drifted else "no drift"
        typer.echo(f"{verdict}: {report.current} against {report.reference}")
        typer.echo(f"overall ({o.method}, {o.n_reference} vs {o.n_current} sampled events): "
                   f"statistic {o.statistic:.4g}, p = {o.p_value:.3g}")
        nov = report.novelty
        if nov is not None:
            typer.echo(f"novelty ({nov.method}, k={nov.k}): {nov.statistic:.0f} current events "
                       f"in new territory (chance: {nov.expected:.1f}), p = {nov.p_value:.3g}")
        for t in report.new_topics:
            typer.echo(f"  NEW TOPIC {t.topic_id}: {t.label[:50]} — {t.n_events} events "
                       f"({t.share:.1%} of the sampled week, ~{t.estimated_events:,} events), "
                       f"mostly in cluster #{t.cluster_id}")
            for ex in t.examples:
                typer.echo(f"      {ex[:100]!r}")
        for c in report.clusters:
            s = c.shift
            typer.echo(
                f"  [{s.status:>9}] #{c.cluster_id} {c.label[:50]:<50} "
                f"{s.share_reference:6.1%} -> {s.share_current:6.1%}  "
                f"(n {s.n_reference} -> {s.n_current}, p_adj {s.p_adjusted:.3g})"
            )
    if fail_on_drift and report.drifted:
        raise typer.Exit(1)
