"""Scoring a batch of events: the code evaluators in the run's thread, the LLM judges on a pool
of threads, and the writer that commits their rows in short transactions on a thread of its own.

runner.py drives these batch after batch; what lives here keeps its state across batches (the
judges, their failures in a row, the spend cap reached; the counts; the writer's buffer), so a
run over many batches behaves as one run over all of them.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import models.evaluators.store as store
from ingest.errors import ConfigError
from models.evaluators.config import EvaluatorSpec
from models.evaluators.event import Event
from models.evaluators.verdict import normalise

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


class Writer:
    """Buffers rows and commits them in short write transactions, on a thread of its own so
    that DuckDB's work (which releases the GIL) overlaps the next batch's evaluation; one
    commit at a time, in order."""

    def __init__(self, db_path: str, run_id: int, counts: dict[str, Counts]) -> None:
        self.db_path, self.run_id, self.counts = db_path, run_id, counts
        self.every_s = WRITE_EVERY_S
        self.buffer: list[store.Row] = []
        self.last = time.monotonic()
        self.writing_cost = 0.0  # the cost of rows being committed right now
        # Held while a commit moves its cost from writing_cost into the counts, so that
        # spent() never sees it twice (which could stop the judges short of the cap) or not
        # at all (which could let them pass it).
        self._lock = threading.Lock()
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

    def spent(self) -> float:
        """What the run's calls cost so far: committed, being committed, and buffered."""
        with self._lock:
            return (sum(c.cost_usd for c in self.counts.values()) + self.writing_cost
                    + sum(r.cost_usd or 0.0 for r in self.buffer))

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
            with self._lock:
                self._count(written)
                self.writing_cost = 0.0
        except BaseException as exc:  # noqa: BLE001 - raised again in the run's thread
            self._error = exc
        finally:
            self.writing_cost = 0.0

    def _count(self, written: list[store.Row]) -> None:
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


def code_rows(spec: EvaluatorSpec, fn: Callable[[Any], Any], event: Event) -> store.Row:
    try:
        verdict = normalise(fn(event))
    except Exception as exc:  # noqa: BLE001 - a failing evaluator is recorded, the run goes on
        return store.Row(spec, event["event_id"], "error",
                         raw=f"{type(exc).__name__}: {exc}"[:2000])
    return store.Row(spec, event["event_id"], "scored" if verdict else "skipped", verdict)


def run_code(fns: list[tuple[EvaluatorSpec, Callable[[Any], Any]]],
              todo: dict[str, list[str]], events: dict[str, Event], keep: set[str],
              writer: Writer, tick: Callable[[int], None], stop: threading.Event) -> None:
    """One batch's events, in chunks, through every code evaluator, so that one commit (and its
    refresh of the derived tables) touches each event once. An event no judge of the batch needs
    (not in `keep`) is let go once checked."""
    fns = [(spec, fn, set(todo[spec.name])) for spec, fn in fns if todo.get(spec.name)]
    order = list(dict.fromkeys(e for spec, _, _ in fns for e in todo[spec.name]))
    steps = 0
    for start in range(0, len(order), CODE_CHUNK):
        for event_id in order[start:start + CODE_CHUNK]:
            if stop.is_set():
                return
            event = events.get(event_id) if event_id in keep else events.pop(event_id, None)
            n = 0
            for spec, fn, wanted in fns:
                if event_id in wanted:
                    n += 1
                    if event is not None:
                        writer.buffer.append(code_rows(spec, fn, event))
            steps += n
        tick(steps)
        steps = 0
        if len(writer.buffer) >= WRITE_EVERY_ROWS:
            writer.flush()


class Judging:
    """The LLM judges across the run's batches: one `Judge` per evaluator (it remembers whether
    the endpoint takes structured output), one pool of threads, the failures in a row that give
    a judge up, and whether the spend cap was reached (then no judge starts another call)."""

    def __init__(self, specs: list[EvaluatorSpec], clients: dict[str, Any],
                 writer: Writer, tick: Callable[[int], None], stop: threading.Event,
                 concurrency: int, max_cost: float | None, counts: dict[str, Counts]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from models.evaluators.llm import Judge

        self.specs, self.writer, self.tick, self.stop = specs, writer, tick, stop
        self.concurrency, self.max_cost = concurrency, max_cost
        self.counts = counts
        self.judges = {s.name: Judge(s, clients[s.name], stop=stop) for s in specs}
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="judge")
        self.failures: dict[str, int] = defaultdict(int)
        self.given_up: set[str] = set()
        self.stopped: str | None = None  # 'max_cost' once the cap stopped the judges

    def active(self) -> list[EvaluatorSpec]:
        if self.stopped is not None:
            return []
        return [s for s in self.specs if s.name not in self.given_up]

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def run(self, todo: dict[str, list[str]], events: dict[str, Event]) -> None:
        """One batch's calls, `concurrency` at a time, until they are all answered (or the cap
        or a stop ends them): a batch's events are let go only once its calls are back."""
        import queue

        from ingest.prices import compute_cost
        from models.evaluators.llm import estimate_tokens

        jobs = [(s, events[e]) for s in self.specs for e in todo.get(s.name, ())
                if e in events]
        done: queue.Queue = queue.Queue()
        in_flight: dict[int, float] = {}
        next_job = 0
        writer, counts = self.writer, self.counts

        def work(i: int, spec: EvaluatorSpec, event: Event) -> None:
            try:
                done.put((i, spec, event, self.judges[spec.name](event)))
            except BaseException as exc:  # noqa: BLE001 - reported back to the main thread
                done.put((i, spec, event, exc))

        while True:
            while (next_job < len(jobs) and len(in_flight) < self.concurrency * 2
                   and not self.stop.is_set() and self.stopped is None):
                spec, event = jobs[next_job]
                if spec.name in self.given_up:
                    next_job += 1
                    self.tick(1)
                    continue
                t_in, t_out = estimate_tokens(spec, event)
                est = compute_cost(spec.model or "", t_in, t_out) or 0.0
                if (self.max_cost is not None
                        and writer.spent() + sum(in_flight.values()) + est > self.max_cost):
                    self.stopped = "max_cost"
                    break
                in_flight[next_job] = est
                self.pool.submit(work, next_job, spec, event)
                next_job += 1
            if not in_flight:
                break
            try:
                i, spec, event, outcome = done.get(timeout=WRITE_EVERY_S)
            except queue.Empty:
                writer.flush()
                continue
            in_flight.pop(i, None)
            self.tick(1)
            if isinstance(outcome, BaseException):
                writer.add(store.Row(spec, event["event_id"], "error",
                                     raw=f"{type(outcome).__name__}: {outcome}"[:2000]))
                continue
            if outcome.status == "failed":
                counts[spec.name].call_failures += 1
                self.failures[spec.name] += 1
                if (self.failures[spec.name] >= CONSECUTIVE_FAILURES
                        and spec.name not in self.given_up):
                    self.given_up.add(spec.name)
                    counts[spec.name].note = f"given up after {CONSECUTIVE_FAILURES} failed " \
                                             f"calls in a row: {outcome.error}"
                continue
            self.failures[spec.name] = 0
            writer.add(store.Row(spec, event["event_id"], outcome.status, outcome.verdict,
                                 raw=outcome.raw, judge_model=outcome.model,
                                 cost_usd=outcome.cost_usd, latency_ms=outcome.latency_ms))


def clients(specs: list[EvaluatorSpec]) -> dict[str, Any]:
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

