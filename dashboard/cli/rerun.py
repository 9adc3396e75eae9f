"""`reviewdeck rerun`: rerun a filtered set of logged events with another model, from scripts.

The filter is the explorer's (models.filters, `key=value&...`), never SQL. Running the same
command again resumes the same batch: finished events are not called again.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from dashboard.cli.options import DbOption, JsonOption

WHERE_HELP = "Which events: the explorer's filter, key=value pairs joined by '&' (fields above)."


def rerun(
    model: Annotated[str, typer.Option("--model", help="Model to rerun the events with.")],
    where: Annotated[str, typer.Option("--where", help=WHERE_HELP)] = "",
    dataset: Annotated[str | None, typer.Option(
        "--dataset", help="Rerun a dataset's frozen events (`reviewdeck dataset list`) instead "
        "of --where; the batch records the dataset, so runs on it can be compared.")] = None,
    endpoint: Annotated[str | None, typer.Option(
        "--endpoint", help="Named endpoint (see docs/playground.md); default: the only one, "
        "or 'openai'.")] = None,
    sample: Annotated[int | None, typer.Option(
        "--sample", min=1, help="Rerun a random sample of N matching events (fixed by --seed).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample.")] = 0,
    max_cost: Annotated[float | None, typer.Option(
        "--max-cost", min=0.0, help="Spend cap in USD for this batch (reruns + judge); stops "
        "cleanly before exceeding it.")] = None,
    judge: Annotated[str | None, typer.Option(
        "--judge", help="Judge model: compare each rerun with its original, both orders.")
    ] = None,
    judge_endpoint: Annotated[str | None, typer.Option(
        "--judge-endpoint", help="Endpoint of the judge (default: --endpoint).")] = None,
    rubric: Annotated[Path | None, typer.Option(
        "--rubric", help="Text file with the judge's rubric (default: a general one).")] = None,
    temperature: Annotated[float | None, typer.Option(
        "--temperature", help="Override the logged temperature.")] = None,
    max_tokens: Annotated[int | None, typer.Option(
        "--max-tokens", help="Override the logged output limit.")] = None,
    concurrency: Annotated[int | None, typer.Option(
        "--concurrency", min=1, max=64, help="Calls in flight at once (default 8).")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Plan and print the estimate, call nothing.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rerun the events matching --where with --model; link results to the originals, judge
    them pairwise, and print win/tie/loss with an interval, cost and latency deltas.

    --where fields (repeat a key for several values; never SQL): start, end (UTC dates,
    inclusive); model; prompt_version; tag; environment; status (ok, error); feedback
    (thumbs_up, thumbs_down, negative, regenerated, corrected, low_score, any_explicit, any,
    none); text (substring of input or output); cluster; user; kind (default llm); rerun_of;
    reruns (exclude, the default, include or only: playground reruns are left out otherwise);
    dataset (the events of a dataset, by name: `reviewdeck dataset list`).
    Example: --where 'feedback=thumbs_down&tag=topic:billing&start=2026-11-09'.

    --dataset NAME reruns exactly the dataset's events (docs/datasets.md); it cannot be
    combined with --where (make another dataset instead). --sample still applies.

    Running the same command again resumes the batch; finished events are not called again.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from models.rerun.endpoints import get_endpoint
    from models.rerun.llm_client import make_client, warm_up

    if dataset is not None and where.strip():
        from ingest.errors import ReviewdeckError

        raise ReviewdeckError("give --dataset or --where, not both: a dataset is already a "
                              "fixed set of events (make a new dataset for a narrower one)")
    _exit_without_collecting()
    background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rerun-warm-up")
    frozen: list[bool] = []
    with _no_collection(frozen):
        ep = get_endpoint(endpoint)
        # In a fresh process the SDK's import, its HTTP transport and what it builds on first
        # use take most of a second: that is done on a second thread while this one imports
        # the rest and plans (DuckDB works without the GIL), and what the summary needs is
        # imported there while the calls are in flight (bench/rerun.py times the whole
        # process).
        client = None if dry_run else background.submit(
            lambda: warm_up(make_client(ep), stream=False, responses=False))

        from ingest import config
        from ingest.db import connect
        from models.filters import parse_where
        from models.rerun import runner as rr
        from models.rerun.judge import DEFAULT_RUBRIC

        flt = parse_where(where)
        dataset_ids: tuple[str, ...] | None = None
        path = str(config.db_path(db))
        if dataset is not None:
            from models.datasets import store as datasets

            with connect(path, read_only=True) as con:
                dataset_ids = tuple(datasets.event_ids(con, dataset))
                dataset = datasets.get_dataset(con, dataset).name
        judge_ep = get_endpoint(judge_endpoint) if judge_endpoint else None
        overrides: dict[str, object] = {}
        if temperature is not None:
            overrides["temperature"] = temperature
        if max_tokens is not None:
            overrides["max_tokens"] = max_tokens
        opts = rr.BatchOptions(
            model=model, where_text=flt.to_query_string(), sample_n=sample, seed=seed,
            max_cost_usd=max_cost, overrides=overrides, judge_model=judge,
            rubric=rubric.read_text(encoding="utf-8") if rubric else DEFAULT_RUBRIC,
            concurrency=concurrency or rr.DEFAULT_CONCURRENCY, event_ids=dataset_ids,
            dataset=dataset)
        plan = rr.plan_batch(path, flt, ep.name, opts)
        sdk = client.result() if client is not None and plan.n_pending else None
        if sdk is not None:
            # The response models' schemas are built while the first calls are in flight.
            background.submit(warm_up, sdk, stream=False)
    try:
        est = "unknown (model not in the price table)" if plan.estimate_usd is None \
            else f"${plan.estimate_usd:.4f}"
        if not as_json:
            on = f" of dataset {dataset} ({len(dataset_ids or ())} events)" if dataset else ""
            typer.echo(f"batch {plan.batch_id}{on}: {plan.n_items} events, {plan.n_pending} to "
                       f"run{' (resuming)' if plan.resumed else ''}; estimated cost {est}"
                       + (f", cap ${max_cost:.4f}" if max_cost is not None else ""))
            if max_cost is not None and plan.estimate_usd and plan.estimate_usd > max_cost:
                typer.echo(f"the estimate exceeds the cap: it will stop after about "
                           f"{int(plan.n_pending * max_cost / plan.estimate_usd)} events")
        from models.rerun.report import batch_report, report_dict

        def read_report(con: object) -> object:
            return batch_report(con, plan.batch_id, with_pairs=False)

        result = None
        if not dry_run and plan.n_pending:
            stop = threading.Event()
            if judge is not None:
                background.submit(_import_statistics)
            # The report is read on the connection of the batch's last write (`after`).
            if as_json:
                result = rr.run_batch(path, plan, opts, endpoint=ep, judge_endpoint=judge_ep,
                                      stop=stop, client=sdk, after=read_report)
            else:
                from rich.progress import Progress as Bar

                with Bar(transient=True) as bar:
                    task = bar.add_task("rerunning", total=plan.n_pending)

                    def show(p: rr.Progress) -> None:
                        bar.update(task, completed=p.done + p.failed,
                                   description=f"rerunning (${p.spent_usd:.4f} spent)")

                    result = rr.run_batch(path, plan, opts, endpoint=ep, judge_endpoint=judge_ep,
                                          on_progress=show, stop=stop, client=sdk,
                                          after=read_report)
        background.shutdown()
        rep = result.after if result is not None else None
        if rep is None:
            with connect(path, read_only=True) as con:
                rep = read_report(con)
        out = report_dict(rep)
        out["estimate_usd"] = plan.estimate_usd
        out["dry_run"] = dry_run
        out["dataset"] = dataset
        if result is not None:
            out["run"] = {"status": result.status, "done": result.done, "errors": result.errors,
                          "failed": result.failed, "skipped": result.skipped,
                          "elapsed_s": round(result.elapsed_s, 3)}
        if as_json:
            typer.echo(json.dumps(out, default=str))
        else:
            _print_text(out)
        if result is not None and result.status in ("partial", "interrupted"):
            raise typer.Exit(1)
    finally:
        _unfreeze(frozen)


def _import_statistics() -> None:
    """Import what the judge's summary needs (scipy, statsmodels: about a second) while the
    batch's calls are in flight."""
    import scipy.stats  # noqa: F401
    import statsmodels.stats.proportion  # noqa: F401


@contextlib.contextmanager
def _no_collection(frozen: list[bool]) -> Iterator[None]:
    """The cyclic garbage collector off for the start-up, which is mostly imports (the SDK's
    alone is thousands of classes): run every few hundred allocations, it would walk that
    growing heap again and again and find no garbage. Then, if it was on, what the start-up
    built is frozen (gc.freeze: module contents, classes, the client — alive to the end
    anyway) and the collector is back on for the batch: its first collections would otherwise
    walk those ~150k objects twice, for 0.1-0.2 s of the GIL, as the first calls return.
    `_unfreeze(frozen)` returns them to the collector when the command ends."""
    import gc

    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    except BaseException:
        if collecting:
            gc.enable()
        raise
    if collecting:
        gc.freeze()
        frozen.append(True)
        gc.enable()


def _unfreeze(frozen: list[bool]) -> None:
    if frozen:
        import gc

        gc.unfreeze()


_EXIT_HOOKED: list[bool] = []


def _exit_without_collecting() -> None:
    """At interpreter exit, freeze the heap before the final collections: tearing down a
    process that imported the SDK otherwise spends a third of a second walking objects that
    exit frees anyway. Registered once per process (an in-process caller, e.g. a test, only
    gets it at its own exit)."""
    if not _EXIT_HOOKED:
        import atexit
        import gc

        atexit.register(gc.freeze)
        _EXIT_HOOKED.append(True)


def _usd(x: float | None) -> str:
    return "unknown" if x is None else f"${x:.4f}"


def _ms(x: float | None) -> str:
    return "not logged" if x is None else f"{x:.0f} ms"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def _print_text(out: dict) -> None:
    """The report as lines of text; every value may be missing (None) and prints as such."""
    run = out.get("run")
    if run:
        typer.echo(f"run: {run['status']} — {run['done']} done, {run['errors']} API errors "
                   f"(recorded on their rerun events), {run['failed']} failed after retries "
                   f"(rerun the same command to retry), {run['skipped']} not started, "
                   f"{run['elapsed_s']} s")
        if run["status"] == "stopped_cap":
            typer.echo("stopped at the spend cap; raise --max-cost and run again to continue")
    typer.echo(f"items: {out['items']}; spent {_usd(out['spent_usd'])}")
    if out["cost_rerun_usd"] is not None or out["cost_original_usd"] is not None:
        typer.echo(f"cost: original {_usd(out['cost_original_usd'])} → rerun "
                   f"{_usd(out['cost_rerun_usd'])}")
    if out["latency_median_rerun_ms"] is not None or out["latency_median_original_ms"] is not None:
        typer.echo(f"median latency: original {_ms(out['latency_median_original_ms'])} → "
                   f"rerun {_ms(out['latency_median_rerun_ms'])}")
    j = out.get("judge")
    if j:
        pct = int(j["confidence"] * 100)
        typer.echo(f"judge {j['model']}: {j['pairs']} pairs judged in both orders")
        for k in ("win", "tie", "loss"):
            s = j[k]
            typer.echo(f"{k:>4}: {s['count']:4d} ({_pct(s['share'])}, {pct}% CI "
                       f"{_pct(s['low'])}–{_pct(s['high'])})")
        if j["sign_test_p"] is not None:
            typer.echo(f"rerun wins {_pct(j['win_rate_decisive'])} of decisive pairs "
                       f"(sign test p={j['sign_test_p']:.3g}, n={j['pairs']} pairs judged)")
        if j["unreadable"]:
            typer.echo(f"unreadable: {j['unreadable']} judgements (unreadable reply or failed "
                       f"judge call); {j['pairs_unreadable']} pairs left out of win/tie/loss — "
                       "check the judge model and rubric")
    verdicts = [f"{k} {v}" for k, v in sorted((out["reviewer_verdicts"] or {}).items())]
    typer.echo("reviewer verdicts: " + ", ".join([*verdicts, f"no verdict {out['no_verdict']}"]))
