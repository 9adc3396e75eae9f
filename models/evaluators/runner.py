"""`reviewdeck evaluate` as a function: plan, estimate, score, write in small batches.

1. Read (a short read-only connection, then closed): for each evaluator, the events it applies
   to with no `evaluations` row for its version yet, cut to its deterministic sample.
2. Estimate the spend (LLM judges: prompt tokens x the price table) — `dry_run` stops here.
3. Score without the warehouse open: code evaluators in this thread, LLM judges on a pool of
   threads. Write a batch every second or so (store.write: one short write transaction each).

An evaluator that raises is recorded for that event (status 'error', its message) and the run
goes on. A judge call that fails for good is not recorded (it is not the judge's verdict): it is
counted, and the next run tries the event again. `max_cost_usd` is checked before each call
against what is spent plus what is in flight, so the run stops cleanly below the cap.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import models.evaluators.config as cfg
import models.evaluators.sampling as sampling
import models.evaluators.store as store
from ingest.errors import ConfigError
from models.evaluators.config import Config, EvaluatorSpec
from models.evaluators.event import Event
from models.evaluators.verdict import normalise

DEFAULT_CONCURRENCY = 16
WRITE_EVERY_S = 1.0  # judges: a commit about once a second
CODE_CHUNK = 5_000  # code checks: events per step; a commit once WRITE_EVERY_ROWS are ready
WRITE_EVERY_ROWS = 100_000
CONSECUTIVE_FAILURES = 5  # a judge whose calls fail this many times in a row is given up


@dataclass
class Counts:
    name: str
    version: str
    kind: str
    sample_rate: float
    matched: int = 0  # events the evaluator applies to
    sampled: int = 0  # of those, in its sample and not yet scored by this version
    scored: int = 0
    fails: int = 0  # scored with value < 0.5
    skipped: int = 0  # the check does not apply to the event
    errors: int = 0
    unparsed: int = 0
    call_failures: int = 0  # judge calls that failed for good: tried again next run
    cost_usd: float = 0.0
    estimate_usd: float | None = 0.0
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RunSummary:
    run_id: int | None
    config_path: str | None
    dry_run: bool
    evaluators: list[Counts]
    estimate_usd: float | None
    cost_usd: float = 0.0
    stopped: str | None = None  # None: ran to the end; 'max_cost' | 'interrupted'
    elapsed_s: float = 0.0
    totals: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "config_path": self.config_path, "dry_run": self.dry_run,
                "estimate_usd": self.estimate_usd, "cost_usd": round(self.cost_usd, 8),
                "stopped": self.stopped, "elapsed_s": round(self.elapsed_s, 3),
                "totals": self.totals, "evaluators": [c.as_dict() for c in self.evaluators]}


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    cost_usd: float


def load_function(spec: EvaluatorSpec) -> Callable[[Any], Any]:
    """The callable of a code evaluator: a built-in, or `module:function` from the user's path
    (the working directory is put on sys.path, as `python -m` would)."""
    if spec.builtin:
        from models.evaluators.builtins import BUILTINS

        return BUILTINS[spec.builtin].check
    module_name, _, attr = (spec.function or "").partition(":")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is a config error
        raise ConfigError(f"{spec.source}: evaluator {spec.name!r}: cannot import "
                          f"{module_name!r} ({type(exc).__name__}: {exc}); it is looked up "
                          f"from {cwd} and sys.path") from exc
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ConfigError(f"{spec.source}: evaluator {spec.name!r}: {module_name!r} has no "
                          f"function {attr!r}")
    return fn


def resolve(config: Config | str | Path | None, only: list[str] | None,
            sample_rate: float | None) -> Config:
    if not isinstance(config, Config):
        config = cfg.load(config)
    return cfg.select(config, only, sample_rate)


def _plan(db_path: str, specs: list[EvaluatorSpec], counts: dict[str, Counts],
          event_ids: list[str] | None = None) -> tuple[dict[str, list[str]], dict[str, Event]]:
    from ingest.db import connect
    from models.filters import parse_where, where_sql

    todo: dict[str, list[str]] = {}
    with connect(db_path, read_only=True) as con:
        if not store.has_tables(con):
            raise ConfigError(f"{db_path}: the warehouse predates evaluators; run "
                              f"`reviewdeck migrate --db {db_path}`")
        from models.evaluators.builtins import BUILTINS

        for spec in specs:
            where, params = where_sql(parse_where(spec.applies_to))
            narrow = BUILTINS[spec.builtin].prefilter if spec.builtin else None
            if narrow:
                where = f"{where} AND {narrow}"
            if event_ids is not None:  # a dataset's events only (models.datasets)
                where = f"({where}) AND e.event_id IN (SELECT unnest(?::VARCHAR[]))"
                params = [*params, event_ids]
            matched, ids = store.pending_ids(con, spec, where, params)
            todo[spec.name] = sampling.sample(ids, spec.sample_key, spec.sample_rate)
            counts[spec.name].matched = matched
            counts[spec.name].sampled = len(todo[spec.name])
        wanted = list(dict.fromkeys(e for ids in todo.values() for e in ids))
        wants_fix = any(s.kind == "llm" and "{correction}" in (s.rubric or "") for s in specs)
        events = store.load_events(con, wanted, corrections=wants_fix)
    return todo, events


def _estimate(spec: EvaluatorSpec, events: list[Event]) -> float | None:
    from ingest.prices import compute_cost
    from models.evaluators.llm import estimate_tokens

    if spec.kind != "llm":
        return 0.0
    total = 0.0
    for e in events:
        t_in, t_out = estimate_tokens(spec, e)
        cost = compute_cost(spec.model or "", t_in, t_out)
        if cost is None:
            return None
        total += cost
    return total


class _Writer:
    """Buffers rows and commits them in short write transactions, on a thread of its own so
    that DuckDB's work (which releases the GIL) overlaps the next batch's evaluation; one
    commit at a time, in order."""

    def __init__(self, db_path: str, run_id: int, counts: dict[str, Counts]) -> None:
        self.db_path, self.run_id, self.counts = db_path, run_id, counts
        self.every_s = WRITE_EVERY_S
        self.buffer: list[store.Row] = []
        self.last = time.monotonic()
        self.writing_cost = 0.0  # the cost of rows being committed right now
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def add(self, row: store.Row) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= WRITE_EVERY_ROWS or time.monotonic() - self.last >= self.every_s:
            self.flush()

    def flush(self, wait: bool = False) -> None:
        self.join()
        self.last = time.monotonic()
        if self.buffer:
            rows, self.buffer = self.buffer, []
            self.writing_cost = sum(r.cost_usd or 0.0 for r in rows)
            self._thread = threading.Thread(target=self._write, args=(rows,),
                                            name="evaluate-writer")
            self._thread.start()
        if wait:
            self.join()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _write(self, rows: list[store.Row]) -> None:
        from ingest.db import connect

        try:
            with connect(self.db_path) as con:
                written = store.write(con, self.run_id, rows)
            for r in written:
                c = self.counts[r.spec.name]
                c.cost_usd += r.cost_usd or 0.0
                if r.status == "scored":
                    c.scored += 1
                    c.fails += bool(r.verdict and r.verdict.value is not None
                                    and r.verdict.value < 0.5)
                elif r.status == "skipped":
                    c.skipped += 1
                elif r.status == "error":
                    c.errors += 1
                elif r.status == "unparsed":
                    c.unparsed += 1
        except BaseException as exc:  # noqa: BLE001 - raised again in the run's thread
            self._error = exc
        finally:
            self.writing_cost = 0.0


def _code_rows(spec: EvaluatorSpec, fn: Callable[[Any], Any], event: Event) -> store.Row:
    try:
        verdict = normalise(fn(event))
    except Exception as exc:  # noqa: BLE001 - a failing evaluator is recorded, the run goes on
        return store.Row(spec, event["event_id"], "error",
                         raw=f"{type(exc).__name__}: {exc}"[:2000])
    return store.Row(spec, event["event_id"], "scored" if verdict else "skipped", verdict)


def _run_code(specs: list[EvaluatorSpec], todo: dict[str, list[str]], events: dict[str, Event],
              writer: _Writer, tick: Callable[[int], None], stop: threading.Event) -> None:
    """Chunks of events through every code evaluator, so that one commit (and its refresh of
    the derived tables) touches each event once."""
    fns = [(spec, load_function(spec), set(todo[spec.name])) for spec in specs]
    order = list(dict.fromkeys(e for spec in specs for e in todo[spec.name]))
    steps = 0
    for start in range(0, len(order), CODE_CHUNK):
        for event_id in order[start:start + CODE_CHUNK]:
            if stop.is_set():
                return
            event = events.get(event_id)
            n = 0
            for spec, fn, wanted in fns:
                if event_id in wanted:
                    n += 1
                    if event is not None:
                        writer.buffer.append(_code_rows(spec, fn, event))
            steps += n
        tick(steps)
        steps = 0
        if len(writer.buffer) >= WRITE_EVERY_ROWS:
            writer.flush()


def _run_llm(specs: list[EvaluatorSpec], todo: dict[str, list[str]], events: dict[str, Event],
             writer: _Writer, tick: Callable[[int], None], stop: threading.Event,
             concurrency: int, max_cost: float | None, spent: Callable[[], float],
             counts: dict[str, Counts], clients: dict[str, Any]) -> str | None:
    import queue
    from concurrent.futures import ThreadPoolExecutor

    from ingest.prices import compute_cost
    from models.evaluators.llm import Judge, estimate_tokens

    judges = {s.name: Judge(s, clients[s.name], stop=stop) for s in specs}
    jobs = [(s, events[e]) for s in specs for e in todo[s.name] if e in events]
    done: queue.Queue = queue.Queue()
    in_flight: dict[int, float] = {}
    failures: dict[str, int] = defaultdict(int)
    given_up: set[str] = set()
    stopped = None
    next_job = 0

    def work(i: int, spec: EvaluatorSpec, event: Event) -> None:
        try:
            done.put((i, spec, event, judges[spec.name](event)))
        except BaseException as exc:  # noqa: BLE001 - reported back to the main thread
            done.put((i, spec, event, exc))

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="judge") as pool:
        while True:
            while (next_job < len(jobs) and len(in_flight) < concurrency * 2
                   and not stop.is_set() and stopped is None):
                spec, event = jobs[next_job]
                if spec.name in given_up:
                    next_job += 1
                    tick(1)
                    continue
                t_in, t_out = estimate_tokens(spec, event)
                est = compute_cost(spec.model or "", t_in, t_out) or 0.0
                if max_cost is not None and spent() + sum(in_flight.values()) + est > max_cost:
                    stopped = "max_cost"
                    break
                in_flight[next_job] = est
                pool.submit(work, next_job, spec, event)
                next_job += 1
            if not in_flight:
                break
            try:
                i, spec, event, outcome = done.get(timeout=WRITE_EVERY_S)
            except queue.Empty:
                writer.flush()
                continue
            in_flight.pop(i, None)
            tick(1)
            if isinstance(outcome, BaseException):
                writer.add(store.Row(spec, event["event_id"], "error",
                                     raw=f"{type(outcome).__name__}: {outcome}"[:2000]))
                continue
            if outcome.status == "failed":
                counts[spec.name].call_failures += 1
                failures[spec.name] += 1
                if failures[spec.name] >= CONSECUTIVE_FAILURES and spec.name not in given_up:
                    given_up.add(spec.name)
                    counts[spec.name].note = f"given up after {CONSECUTIVE_FAILURES} failed " \
                                             f"calls in a row: {outcome.error}"
                continue
            failures[spec.name] = 0
            writer.add(store.Row(spec, event["event_id"], outcome.status, outcome.verdict,
                                 raw=outcome.raw, judge_model=outcome.model,
                                 cost_usd=outcome.cost_usd, latency_ms=outcome.latency_ms))
    if stop.is_set() and stopped is None:
        stopped = "interrupted"
    return stopped


def _clients(specs: list[EvaluatorSpec]) -> dict[str, Any]:
    from models.rerun.endpoints import get_endpoint
    from models.rerun.llm_client import make_client

    by_endpoint: dict[str | None, Any] = {}
    out = {}
    for s in specs:
        if s.endpoint not in by_endpoint:
            try:
                by_endpoint[s.endpoint] = make_client(get_endpoint(s.endpoint), timeout_s=60.0)
            except ConfigError as exc:
                raise ConfigError(f"{s.source}: evaluator {s.name!r}: {exc}") from exc
        out[s.name] = by_endpoint[s.endpoint]
    return out


def run(db_path: str | Path, config: Config | str | Path | None = None, *,
        only: list[str] | None = None, sample_rate: float | None = None,
        max_cost_usd: float | None = None, dry_run: bool = False,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_plan: Callable[[RunSummary], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        stop: threading.Event | None = None,
        event_ids: list[str] | None = None) -> RunSummary:
    """Run the evaluators over what they have not scored yet; see the module docstring.

    `event_ids` (a dataset's, models.datasets) restricts every evaluator to those events; each
    evaluator's applies-to filter and sample still apply within them."""
    from ingest.db import connect

    started = time.monotonic()
    db_path = str(db_path)
    conf = resolve(config, only, sample_rate)
    specs = list(conf.evaluators)
    code = [s for s in specs if s.kind == "code"]
    llm = [s for s in specs if s.kind == "llm"]
    for s in code:
        load_function(s)  # an unimportable function is a config error, before any work
    if not Path(db_path).exists():
        from ingest.errors import WarehouseError

        raise WarehouseError(f"no warehouse at {db_path}: run `reviewdeck ingest FILE --db "
                             f"{db_path}` or `reviewdeck demo` first")
    if not dry_run:
        with connect(db_path):
            pass  # brings the schema up to date (migration 006) before reading
    counts = {s.name: Counts(s.name, s.version, s.kind, s.sample_rate) for s in specs}
    todo, events = _plan(db_path, specs, counts,
                         None if event_ids is None else list(event_ids))
    for s in specs:
        counts[s.name].estimate_usd = _estimate(s, [events[e] for e in todo[s.name]
                                                    if e in events])
    estimates = [c.estimate_usd for c in counts.values()]
    summary = RunSummary(None, conf.path, dry_run, list(counts.values()),
                         None if any(e is None for e in estimates) else sum(estimates))
    if max_cost_usd is not None:
        unpriced = [c.name for c in counts.values() if c.estimate_usd is None]
        if unpriced:
            raise ConfigError(f"--max-cost needs a price for the judge model of "
                              f"{', '.join(unpriced)}: add it to a price file named by "
                              "REVIEWDECK_PRICES (ingest/prices.py), or run without a cap")
    if on_plan:
        on_plan(summary)
    total = sum(len(v) for v in todo.values())
    if dry_run or total == 0:
        return _finish(summary, started)
    stop = stop or threading.Event()
    clients = _clients([s for s in llm if todo[s.name]])
    with connect(db_path) as con:
        summary.run_id = store.start_run(con, conf.path, specs)
    writer = _Writer(db_path, summary.run_id, counts)
    progress = {"done": 0}

    progress["shown"] = 0.0

    def tick(n: int) -> None:
        progress["done"] += n
        now = time.monotonic()
        if on_progress and (now - progress["shown"] >= 0.1 or progress["done"] == total):
            progress["shown"] = now
            on_progress(Progress(progress["done"], total, _spent()))

    def _spent() -> float:
        return (sum(c.cost_usd for c in counts.values()) + writer.writing_cost
                + sum(r.cost_usd or 0.0 for r in writer.buffer))

    try:
        _run_code(code, todo, events, writer, tick, stop)
        writer.flush()
        if llm and not stop.is_set():
            summary.stopped = _run_llm(llm, todo, events, writer, tick, stop, concurrency,
                                       max_cost_usd, _spent, counts, clients)
        elif stop.is_set():
            summary.stopped = "interrupted"
    except KeyboardInterrupt:
        stop.set()
        summary.stopped = "interrupted"
    finally:
        writer.flush(wait=True)
        with connect(db_path) as con:
            store.finish_run(con, summary.run_id, summary.stopped)
    summary.cost_usd = sum(c.cost_usd for c in counts.values())
    return _finish(summary, started)


def _finish(summary: RunSummary, started: float) -> RunSummary:
    summary.elapsed_s = time.monotonic() - started
    keys = ("matched", "sampled", "scored", "fails", "skipped", "errors", "unparsed",
            "call_failures")
    summary.totals = {k: sum(getattr(c, k) for c in summary.evaluators) for k in keys}
    summary.cost_usd = sum(c.cost_usd for c in summary.evaluators)
    return summary
