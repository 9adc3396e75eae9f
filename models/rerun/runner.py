"""Rerunning logged events with another model: one event (the playground) or a filtered batch.

The warehouse is never open while a model is being called: the originals are read in a short
read, the calls run with no connection, and results are written in short transactions by one
writer thread (group commit: at most once per WRITE_INTERVAL_S it opens the file and writes every
item finished since, in one transaction with one trend_facts refresh), so a dashboard or an
ingest can take the file between.

A batch is planned first (models.filters selects the events, or a dataset's frozen list names
them; a seeded sample is fixed, one pending item per event is stored, the cost is estimated),
then run with bounded concurrency, retries with backoff on 429/5xx/timeouts (honouring
retry-after), a spend cap checked before each launch against money spent plus money reserved
for calls in flight, and a progress callback.
Running the same batch again resumes it: finished items are skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import queue
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from ingest.db import connect
from ingest.errors import ConfigError, ReviewdeckError
from ingest.load import derived
from ingest.prices import compute_cost, find_price
from models.filters import EventFilter, where_sql
from models.rerun import judge as judge_mod
from models.rerun import store
from models.rerun.capabilities import Adapted, adapt_request
from models.rerun.endpoints import Endpoint
from models.rerun.llm_client import CallResult, chat, make_client

DEFAULT_CONCURRENCY = 8
DEFAULT_ATTEMPTS = 4
MAX_RETRY_WAIT_S = 60.0
# The writer takes the warehouse at most this often (each time writing every finished item).
WRITE_INTERVAL_S = 1.0
# Request parameters worth replaying; the rest (stream, n, user, metadata, store...) is either
# ours to set or identifies the original caller.
REPLAYED_PARAMS = ("temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed",
                   "presence_penalty", "frequency_penalty", "response_format", "tools",
                   "tool_choice", "parallel_tool_calls", "reasoning_effort", "logit_bias")


def replay_params(logged: dict[str, Any], overrides: dict[str, Any] | None = None
                  ) -> dict[str, Any]:
    """The logged parameters worth sending again, with overrides (None removes a parameter)."""
    out = {k: v for k, v in (logged or {}).items() if k in REPLAYED_PARAMS and v is not None}
    for k, v in (overrides or {}).items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


def provider_of(endpoint: Endpoint) -> str:
    return {"openai": "openai", "azure": "azure.ai.openai"}.get(endpoint.kind, endpoint.name)


def cost_of(model: str, result: CallResult) -> float | None:
    return compute_cost(model, result.tokens_in, result.tokens_out, result.tokens_cache_read)


def call_with_retries(
    client: Any, model: str, adapted: Adapted, *, max_attempts: int = DEFAULT_ATTEMPTS,
    stream: bool = True, on_delta: Callable[[str], None] | None = None,
    stop: threading.Event | None = None, base_delay_s: float = 0.5,
) -> tuple[CallResult, int]:
    """Call until success, a permanent error, the attempt limit, or a stop request."""
    attempt = 0
    while True:
        attempt += 1
        result = chat(client, model, adapted.messages, adapted.params, stream=stream,
                      on_delta=on_delta)
        if not result.retryable or attempt >= max_attempts or (stop and stop.is_set()):
            return result, attempt
        delay = result.retry_after_s
        if delay is None:
            delay = base_delay_s * 2 ** (attempt - 1) * (0.5 + random.random())
        delay = min(delay, MAX_RETRY_WAIT_S)
        if stop is not None:
            if stop.wait(delay):
                return result, attempt
        else:
            time.sleep(delay)


def build_row(original: store.Original, model: str, endpoint: Endpoint, adapted: Adapted,
              result: CallResult, extra: dict[str, Any]) -> store.RerunRow:
    return store.RerunRow(
        event_id=store.new_rerun_id(), original=original, model_requested=model,
        model=result.model, provider=provider_of(endpoint), messages=adapted.messages,
        params=adapted.params, output_text=result.text, tokens_in=result.tokens_in,
        tokens_out=result.tokens_out, tokens_cache_read=result.tokens_cache_read,
        tokens_reasoning=result.tokens_reasoning, cost_usd=cost_of(model, result),
        latency_ms=result.latency_ms, ttft_ms=result.ttft_ms, status=result.status,
        error_type=result.error_type, error_message=result.error_message,
        ts=dt.datetime.now(dt.UTC),
        extra={"endpoint": endpoint.name, "adaptations": list(adapted.changes),
               "finish_reason": result.finish_reason, "response_id": result.response_id,
               **extra},
    )


# -- single event (the playground) --------------------------------------------------------------

@dataclass(frozen=True)
class SingleRun:
    rerun_event_id: str
    result: CallResult
    cost_usd: float | None
    changes: tuple[str, ...]


def rerun_event(
    db_path: str, event_id: str, *, endpoint: Endpoint, model: str,
    messages: list[dict[str, Any]] | None = None, params: dict[str, Any] | None = None,
    samples: int = 1, stream: bool = True, on_delta: Callable[[int, str], None] | None = None,
    http_client: Any = None,
) -> list[SingleRun]:
    """Rerun one event `samples` times (messages/params as edited, else as logged), saving each
    run — errors included — as a rerun event linked to the original."""
    with connect(db_path, read_only=True) as con:
        original = store.load_event(con, event_id)
    msgs = messages if messages is not None else original.messages
    if not msgs:
        raise ReviewdeckError(f"event {event_id!r} has no logged messages to replay")
    sent = params if params is not None else replay_params(original.params)
    adapted = adapt_request(model, msgs, sent)
    client = make_client(endpoint, http_client=http_client)
    runs: list[SingleRun] = []
    for i in range(max(1, samples)):
        delta = (lambda piece, i=i: on_delta(i, piece)) if on_delta else None
        result, attempts = call_with_retries(client, model, adapted, max_attempts=1,
                                             stream=stream, on_delta=delta)
        row = build_row(original, model, endpoint, adapted, result,
                        {"sample_index": i, "samples": samples, "attempts": attempts,
                         "edited": messages is not None or params is not None})
        with connect(db_path) as con:
            store.insert_rerun(con, row)
            derived.refresh(con)
        runs.append(SingleRun(row.event_id, result, row.cost_usd, adapted.changes))
    return runs


# -- batches ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BatchOptions:
    model: str
    where_text: str = ""
    sample_n: int | None = None
    seed: int = 0
    max_cost_usd: float | None = None
    overrides: dict[str, Any] = field(default_factory=dict)  # e.g. temperature, max_tokens
    judge_model: str | None = None
    rubric: str = judge_mod.DEFAULT_RUBRIC
    concurrency: int = DEFAULT_CONCURRENCY
    max_attempts: int = DEFAULT_ATTEMPTS
    # A dataset's frozen event ids (models.datasets): the batch covers exactly these (the
    # filter is then not used) and records the dataset's name in rerun_batches.dataset.
    event_ids: tuple[str, ...] | None = None
    dataset: str | None = None


class _Snapshot:
    """What run_batch reads before its first call, as plan_batch read it in its transaction:
    handed to the run that follows the plan in the same process, once (`take`), so that run
    does not open the warehouse again just to read it back. A second run of the same plan
    object reads the warehouse, since the first one changed it."""

    def __init__(self, pending: list[str], unjudged: dict[str, tuple[str, str]] | None,
                 originals: dict[str, store.Original], spent_before: float) -> None:
        # unjudged is None when the plan had no judge (so it did not look for them).
        self._value: tuple | None = (pending, unjudged, originals, spent_before)
        self._lock = threading.Lock()

    def take(self, judged: bool) -> tuple | None:
        """(pending, unjudged, originals, spent before) for a run with or without a judge, or
        None: already taken, or taken without the unjudged items a judged run needs."""
        with self._lock:
            value, self._value = self._value, None
        if value is None or (judged and value[1] is None):
            return None
        return value if judged else (value[0], {}, value[2], value[3])


@dataclass(frozen=True)
class Plan:
    batch_id: str
    n_items: int
    n_pending: int
    estimate_usd: float | None  # for the pending items, reruns + judge; None if unpriced
    per_item_usd: dict[str, float]
    resumed: bool
    snapshot: _Snapshot | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Progress:
    done: int  # finished in this run (ok or permanent error)
    failed: int  # transient errors after all retries (retried on resume)
    total: int  # pending when this run started
    spent_usd: float
    stopped: str | None  # None while running; 'cap' / 'interrupted' when stopping


@dataclass(frozen=True)
class BatchResult:
    batch_id: str
    status: str  # 'done' | 'stopped_cap' | 'interrupted' | 'partial'
    done: int
    errors: int  # permanent API errors, recorded on their rerun events
    failed: int
    skipped: int  # not started (cap or interruption)
    spent_usd: float
    elapsed_s: float
    after: Any = None  # what run_batch's `after(con)` returned, if it ran


def batch_id_for(flt: EventFilter, endpoint_name: str, opts: BatchOptions) -> str:
    """Same filter (or dataset and its event ids), model, endpoint, parameters, sample and seed
    → same batch (so it resumes)."""
    selection: object = flt.to_query_string()
    if opts.event_ids is not None:
        ids = hashlib.sha256("\n".join(opts.event_ids).encode()).hexdigest()
        selection = {"dataset": opts.dataset, "event_ids": ids}
    key = json.dumps([selection, opts.model, endpoint_name, opts.overrides,
                      opts.sample_n, opts.seed], sort_keys=True, default=str)
    return "batch-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def _estimate_tokens(o: store.Original) -> tuple[int, int]:
    """Logged token counts, else ~4 characters per token from the texts."""
    t_in = o.tokens_in
    if t_in is None:
        t_in = len(json.dumps(o.messages)) // 4
    t_out = o.tokens_out if o.tokens_out is not None else len(o.output_text or "") // 4 + 50
    return int(t_in), int(t_out)


def estimate_item(o: store.Original, model: str, judge_model: str | None) -> float | None:
    t_in, t_out = _estimate_tokens(o)
    cost = compute_cost(model, t_in, t_out)
    if cost is None:
        return None
    if judge_model:
        # Two judgements, each reading the conversation and both answers, answering briefly.
        judge = compute_cost(judge_model, t_in + 2 * t_out + 150, 80)
        if judge is None:
            return None
        cost += 2 * judge
    return cost


def select_events(con: Any, flt: EventFilter, sample_n: int | None, seed: int,
                  event_ids: tuple[str, ...] | list[str] | None = None) -> list[str]:
    """Matching original LLM events with replayable messages (never reruns of reruns); with
    `event_ids` (a dataset's), those events instead of the filter's."""
    if event_ids is not None:
        sql, params = "e.event_id IN (SELECT unnest(?::VARCHAR[]))", [list(event_ids)]
    else:
        sql, params = where_sql(flt)
    query = (f"SELECT e.event_id FROM events e WHERE {sql} AND e.rerun_of IS NULL"
             " AND e.input_messages IS NOT NULL AND json_array_length(e.input_messages) > 0"
             " ORDER BY hash(e.event_id || ?), e.event_id")
    params = [*params, str(seed)]
    if sample_n is not None:
        query += " LIMIT ?"
        params.append(int(sample_n))
    return [r[0] for r in con.execute(query, params).fetchall()]


@dataclass(frozen=True)
class Estimate:
    n_events: int
    estimate_usd: float | None  # None when a model is not in the price table
    unpriced: tuple[str, ...]


def estimate_batch(con: Any, flt: EventFilter, model: str, judge_model: str | None = None,
                   sample_n: int | None = None, seed: int = 0) -> Estimate:
    """What a batch would cover and cost, read-only (the page shows it before starting)."""
    ids = select_events(con, flt, sample_n, seed)
    total: float | None = 0.0
    for o in store.load_events(con, ids).values():
        est = estimate_item(o, model, judge_model)
        total = None if est is None or total is None else total + est
    unpriced = tuple(m for m in (model, judge_model) if m and find_price(m) is None)
    return Estimate(len(ids), total if ids else 0.0, unpriced)


def plan_batch(db_path: str, flt: EventFilter, endpoint_name: str, opts: BatchOptions) -> Plan:
    """Create the batch (or find it, to resume) and estimate what its pending items cost."""
    if opts.max_cost_usd is not None:
        for m in filter(None, (opts.model, opts.judge_model)):
            if find_price(m) is None:
                raise ConfigError(
                    f"no price known for {m!r}, so a spend cap cannot be enforced: add a row "
                    "for it in a CSV named by REVIEWDECK_PRICES (see ingest/prices.csv), or run "
                    "without --max-cost")
    batch_id = batch_id_for(flt, endpoint_name, opts)
    with connect(db_path) as con:
        existing = store.get_batch(con, batch_id)
        if existing is None:
            ids = select_events(con, flt, opts.sample_n, opts.seed, opts.event_ids)
            if not ids and opts.event_ids is not None:
                raise ReviewdeckError(
                    f"none of the {len(opts.event_ids)} events of dataset {opts.dataset!r} has "
                    "logged messages to replay")
            if not ids:
                raise ReviewdeckError(
                    f"no events match {flt.to_query_string() or '(no filter)'} with messages to "
                    "replay; widen the filter")
            where_text = flt.to_query_string() if opts.event_ids is None \
                else f"dataset={opts.dataset}"
            store.create_batch(con, store.Batch(
                batch_id, where_text, opts.model, endpoint_name, opts.overrides,
                opts.sample_n, opts.seed, opts.max_cost_usd, None, 0.0, opts.judge_model,
                opts.rubric if opts.judge_model else None, "planned", len(ids)), ids)
        else:
            store.set_batch(con, batch_id, max_cost_usd=opts.max_cost_usd,
                            judge_model=opts.judge_model,
                            rubric=opts.rubric if opts.judge_model else None)
        if opts.dataset is not None:
            # Not in create_batch's transaction: a plan killed between the two leaves it NULL,
            # and the next run of the same command (the same batch) sets it.
            con.execute("UPDATE rerun_batches SET dataset = ? WHERE batch_id = ?"
                        " AND dataset IS NULL", [opts.dataset, batch_id])
        n_items, spent_before = con.execute(
            "SELECT (SELECT count(*) FROM rerun_items WHERE batch_id = $b),"
            " (SELECT spent_usd FROM rerun_batches WHERE batch_id = $b)",
            {"b": batch_id}).fetchone()
        pending = store.pending_items(con, batch_id)
        unjudged = store.unjudged_items(con, batch_id) if opts.judge_model else None
        originals = store.load_events(con, pending + list(unjudged or ()))
        per_item: dict[str, float] = {}
        total: float | None = 0.0
        for eid in pending:
            est = estimate_item(originals[eid], opts.model, opts.judge_model) \
                if eid in originals else None
            if est is None:
                total = None
            else:
                per_item[eid] = est
                total = None if total is None else total + est
        con.execute("UPDATE rerun_batches SET estimate_usd = ? WHERE batch_id = ?",
                    [total, batch_id])
    return Plan(batch_id, n_items, len(pending), total, per_item, existing is not None,
                _Snapshot(pending, unjudged, originals, spent_before))


def _judge_pair(client: Any, judge_model: str, rubric: str, original: store.Original,
                rerun_event_id: str, rerun_text: str, max_attempts: int, stop: threading.Event
                ) -> tuple[tuple[store.Judgement, ...], float]:
    judgements: list[store.Judgement] = []
    spent = 0.0
    for rerun_first in (False, True):
        a, b = original.output_text or "", rerun_text
        first, second = (b, a) if rerun_first else (a, b)
        msgs = judge_mod.judge_messages(original.messages, first, second, rubric)
        adapted = adapt_request(judge_model, msgs, {"temperature": 0})
        result, _ = call_with_retries(client, judge_model, adapted, max_attempts=max_attempts,
                                      stream=False, stop=stop)
        cost = cost_of(judge_model, result) or 0.0
        spent += cost
        if result.status != "ok":
            choice = judge_mod.Choice(
                "tie", f"{judge_mod.JUDGE_ERROR_PREFIX} {result.error_type})", readable=False)
        else:
            choice = judge_mod.parse_choice(result.text)
        judgements.append(store.Judgement(
            original.event_id, rerun_event_id, judge_model, rerun_first,
            judge_mod.preferred_side(choice, rerun_first), choice.rationale, cost))
    return tuple(judgements), spent


def run_batch(
    db_path: str, plan: Plan, opts: BatchOptions, *, endpoint: Endpoint,
    judge_endpoint: Endpoint | None = None, http_client: Any = None,
    on_progress: Callable[[Progress], None] | None = None, stop: threading.Event | None = None,
    client: Any = None, after: Callable[[Any], Any] | None = None,
) -> BatchResult:
    """Run a planned batch's pending items; safe to interrupt and to call again.

    `client` is an SDK client for `endpoint` made beforehand (make_client), e.g. while the plan
    was read: the SDK's import and its HTTP transport take about a second in a fresh process.
    `after(con)`, if given, runs on the connection of the batch's last write, once it is
    committed (e.g. to read the batch's report without opening the warehouse again); what it
    returns is `BatchResult.after`.
    """
    started = time.perf_counter()
    stop = stop or threading.Event()
    # The plan's own read when this run follows it directly (same process, first run of the
    # plan), else the warehouse's current state.
    snapshot = plan.snapshot.take(bool(opts.judge_model)) if plan.snapshot else None
    if snapshot is not None:
        pending, unjudged, originals, spent_before = snapshot
    else:
        with connect(db_path, read_only=True) as con:
            pending = store.pending_items(con, plan.batch_id)
            unjudged = store.unjudged_items(con, plan.batch_id) if opts.judge_model else {}
            originals = store.load_events(con, pending + list(unjudged))
            spent_before = con.execute(
                "SELECT spent_usd FROM rerun_batches WHERE batch_id = ?",
                [plan.batch_id]).fetchone()[0]
    client = client or make_client(endpoint, http_client=http_client)
    # A judge on the same endpoint shares the client (and its connection pool).
    judge_client = None
    if opts.judge_model:
        judge_client = (client if judge_endpoint in (None, endpoint)
                        else make_client(judge_endpoint, http_client=http_client))

    def judge_only(eid: str) -> store.Finished:
        """An item done by an interrupted run whose pair was never judged."""
        rerun_id, rerun_text = unjudged[eid]
        judgements, judge_cost = (), 0.0
        if judge_client is not None and not stop.is_set():
            judgements, judge_cost = _judge_pair(judge_client, opts.judge_model, opts.rubric,
                                                 originals[eid], rerun_id, rerun_text,
                                                 opts.max_attempts, stop)
        return store.Finished(eid, "judged", judgements=judgements, judge_cost_usd=judge_cost)

    def work(eid: str) -> store.Finished:
        if eid in unjudged:
            return judge_only(eid)
        original = originals[eid]
        adapted = adapt_request(opts.model, original.messages,
                                replay_params(original.params, opts.overrides))
        # Not streamed: nobody watches the text arrive, and one parsed response costs far less
        # CPU than a parsed chunk per token (the batch is CPU-bound on a small machine).
        result, attempts = call_with_retries(client, opts.model, adapted, stream=False,
                                             max_attempts=opts.max_attempts, stop=stop)
        if result.retryable:  # gave up for now: no event, the item stays to retry on resume
            return store.Finished(eid, "failed", attempts, result.error_type)
        row = build_row(original, opts.model, endpoint, adapted, result,
                        {"batch_id": plan.batch_id, "attempts": attempts})
        judgements, judge_cost = (), 0.0
        if judge_client is not None and result.status == "ok" and not stop.is_set():
            judgements, judge_cost = _judge_pair(judge_client, opts.judge_model, opts.rubric,
                                                 original, row.event_id, row.output_text,
                                                 opts.max_attempts, stop)
        return store.Finished(eid, "done" if result.status == "ok" else "error", attempts,
                              result.error_type, row, judgements, row.cost_usd or 0.0,
                              judge_cost)

    writes: queue.Queue[store.Finished | None] = queue.Queue()
    write_errors: list[BaseException] = []
    final_status: list[str] = []  # set by this thread before the writer's last write
    status_written: list[bool] = []
    after_result: list[Any] = []
    after_errors: list[BaseException] = []

    def run_after(con: Any) -> None:
        if after is not None:
            try:
                after_result.append(after(con))
            except Exception as exc:  # noqa: BLE001 - re-raised by the main thread
                after_errors.append(exc)

    def writer() -> None:
        finished = False
        next_write_at = 0.0
        while not finished:
            batch = [writes.get()]
            # Collect results until the write window opens, so the file is taken at most once
            # per WRITE_INTERVAL_S and other processes (the dashboard) get it in between.
            while batch[-1] is not None:
                remaining = next_write_at - time.monotonic()
                try:
                    batch.append(writes.get(timeout=remaining) if remaining > 0
                                 else writes.get_nowait())
                except queue.Empty:
                    break
            finished = None in batch
            items = [b for b in batch if b is not None and (b.status != "judged" or b.judgements)]
            status = final_status[0] if finished and final_status else None
            if not items and status is None:
                continue
            try:
                with connect(db_path) as con:
                    store.finish_items(con, plan.batch_id, items, status=status)
                    status_written.append(status is not None)
                    if status is not None:
                        run_after(con)
            except BaseException as exc:  # surfaced by the main thread after the run
                write_errors.append(exc)
            next_write_at = time.monotonic() + WRITE_INTERVAL_S

    writer_thread = threading.Thread(target=writer, name="rerun-writer", daemon=True)
    writer_thread.start()
    counts = {"done": 0, "error": 0, "failed": 0, "judged": 0}
    spent = 0.0
    finished = 0
    reserved: dict[Future, float] = {}
    stopped: str | None = None
    # Judgements owed by an earlier, interrupted run first; then the items not rerun yet.
    todo = [eid for eid in unjudged if eid in originals]
    todo += [eid for eid in pending if eid in originals]
    cap = opts.max_cost_usd
    total = len(todo)

    def report() -> None:
        if on_progress:
            on_progress(Progress(counts["done"] + counts["error"] + counts["judged"],
                                 counts["failed"], total,
                                 spent_before + spent, stopped))

    interrupted: BaseException | None = None
    lost = 0
    running: dict[Future, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, opts.concurrency)) as pool:
        try:
            while todo or running:
                while todo and len(running) < opts.concurrency and stopped is None:
                    if stop.is_set():
                        stopped = "interrupted"
                        break
                    # The plan's estimate, or the real average so far if items cost more.
                    est = max(plan.per_item_usd.get(todo[0], 0.0),
                              spent / finished if finished else 0.0)
                    if cap is not None and (spent_before + spent + sum(reserved.values()) + est
                                            > cap):
                        stopped = "cap"
                        break
                    eid = todo.pop(0)
                    fut = pool.submit(work, eid)
                    running[fut] = eid
                    reserved[fut] = est
                if not running:
                    break
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in done:
                    running.pop(fut)
                    reserved.pop(fut, None)
                    item = fut.result()
                    counts[item.status] += 1
                    spent += item.cost_usd + item.judge_cost_usd
                    finished += 1
                    writes.put(item)
                report()
                if stop.is_set() and stopped is None:
                    stopped = "interrupted"
        except BaseException as exc:  # Ctrl-C, a stopped Streamlit script, or a bug
            interrupted = exc
            stopped = "interrupted"
            stop.set()
            for fut in list(running):  # finish what is in flight, so its money is not lost
                try:
                    item = fut.result()
                except Exception:  # noqa: BLE001 - the first error is re-raised below
                    lost += 1
                    continue
                counts[item.status] += 1
                spent += item.cost_usd + item.judge_cost_usd
                writes.put(item)
    skipped = len(todo) + lost
    status = ("stopped_cap" if stopped == "cap" else "interrupted" if stopped else
              "partial" if counts["failed"] else "done")
    final_status.append(status)  # written with the last results, in the same transaction
    writes.put(None)
    writer_thread.join()
    if not any(status_written):
        with connect(db_path) as con:
            store.set_batch(con, plan.batch_id, status=status)
            run_after(con)
    if interrupted is not None and not isinstance(interrupted, KeyboardInterrupt):
        raise interrupted
    if write_errors:
        raise ReviewdeckError(f"could not save rerun results: {write_errors[0]}")
    if after_errors:
        raise after_errors[0]
    report()
    return BatchResult(plan.batch_id, status, counts["done"], counts["error"], counts["failed"],
                       skipped, spent_before + spent, time.perf_counter() - started,
                       after_result[0] if after_result else None)
