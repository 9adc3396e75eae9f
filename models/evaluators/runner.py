"""`reviewdeck evaluate` as a function: plan, estimate, then score and write one batch at a time.

1. Plan (plan.py; a short read-only connection, then closed): per evaluator, the events it
   applies to and, of those, the ones in its deterministic sample with no `evaluations` row for
   its version yet — counted in the warehouse, and cut into batches of about 50k events.
2. Estimate the spend (LLM judges: prompt tokens x the price table), reading the judges' events
   batch by batch, only the columns a prompt uses — `dry_run` stops here.
3. For each batch: read its events (a short read-only connection), score them without the
   warehouse open — code evaluators in this thread, then LLM judges on a pool of threads — and
   write on the writer's thread every second or 100k rows or so (store.write: one short write
   transaction each). A batch's events are let go as they are scored, so memory is bounded by
   one batch and the writer's buffer, not by the warehouse.

An evaluator that raises is recorded for that event (status 'error', its message) and the run
goes on. A judge call that fails for good is not recorded (it is not the judge's verdict): it is
counted, and the next run tries the event again. `max_cost_usd` is checked before each call
against what is spent plus what is in flight, so the judges stop cleanly below the cap; the code
evaluators, which cost nothing, still go through the remaining batches.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import models.evaluators.config as cfg
import models.evaluators.plan as plan
import models.evaluators.scoring as scoring
import models.evaluators.store as store
from ingest.errors import ConfigError
from models.evaluators.config import Config, EvaluatorSpec
from models.evaluators.scoring import Counts

DEFAULT_CONCURRENCY = 16
# What a judge's prompt reads of an event (llm.variables: the input and output texts, the system
# prompt and context from the messages); the estimate before the run reads only these.
PROMPT_COLUMNS = frozenset({"event_id", "input_text", "output_text", "input_messages"})


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
    batches: int = 0  # batches of events the plan was cut into

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "config_path": self.config_path, "dry_run": self.dry_run,
                "estimate_usd": self.estimate_usd, "cost_usd": round(self.cost_usd, 8),
                "stopped": self.stopped, "elapsed_s": round(self.elapsed_s, 3),
                "batches": self.batches, "totals": self.totals,
                "evaluators": [c.as_dict() for c in self.evaluators]}


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


def _estimate(db_path: str, sc: plan.Scope, p: plan.Plan, specs: list[EvaluatorSpec]
              ) -> dict[str, float | None]:
    """Each judge's estimated spend over what it will score, read batch by batch (so that the
    estimate of a large run holds one batch in memory too); None when its model has no price."""
    from ingest.prices import compute_cost
    from models.evaluators.llm import estimate_tokens

    out: dict[str, float | None] = {s.name: 0.0 for s in specs}
    priced = []
    for s in specs:
        if p.sampled[s.name] and compute_cost(s.model or "", 1, 1) is None:
            out[s.name] = None  # the price depends on the model alone: no need to read
        elif p.sampled[s.name]:
            priced.append(s)
    for batch in p.batches:
        now = [s for s in priced if batch.per_spec[s.name]]
        if not now:
            continue
        todo, events = plan.read(db_path, sc, batch, [s.name for s in now],
                                 columns=PROMPT_COLUMNS, corrections=_wants_fix(now))
        for s in now:
            total = 0.0
            for e in todo[s.name]:
                t_in, t_out = estimate_tokens(s, events[e])
                total += compute_cost(s.model or "", t_in, t_out) or 0.0
            out[s.name] = (out[s.name] or 0.0) + total
    return out


def _wants_fix(specs: list[EvaluatorSpec]) -> bool:
    """Whether a judge's rubric shows the latest correction (read with the events, then)."""
    return any(s.kind == "llm" and "{correction}" in (s.rubric or "") for s in specs)


def run(db_path: str | Path, config: Config | str | Path | None = None, *,
        only: list[str] | None = None, sample_rate: float | None = None,
        max_cost_usd: float | None = None, dry_run: bool = False,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_plan: Callable[[RunSummary], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        stop: threading.Event | None = None,
        event_ids: list[str] | None = None, batch_size: int | None = None) -> RunSummary:
    """Run the evaluators over what they have not scored yet; see the module docstring.

    `event_ids` (a dataset's, models.datasets) restricts every evaluator to those events; each
    evaluator's applies-to filter and sample still apply within them. `batch_size`: events per
    batch (default plan.batch_size(): REVIEWDECK_EVALUATE_BATCH, else plan.BATCH_EVENTS)."""
    from ingest.db import connect

    started = time.monotonic()
    db_path = str(db_path)
    size = plan.batch_size() if batch_size is None else batch_size
    if size < 1:
        raise ConfigError(f"batch_size={size}: a batch holds at least one event")
    conf = resolve(config, only, sample_rate)
    specs = list(conf.evaluators)
    code = [s for s in specs if s.kind == "code"]
    llm = [s for s in specs if s.kind == "llm"]
    fns = [(s, load_function(s)) for s in code]  # an unimportable one is a config error, now
    if not Path(db_path).exists():
        from ingest.errors import WarehouseError

        raise WarehouseError(f"no warehouse at {db_path}: run `reviewdeck ingest FILE --db "
                             f"{db_path}` or `reviewdeck demo` first")
    if not dry_run:
        with connect(db_path):
            pass  # brings the schema up to date (migration 006) before reading
    counts = {s.name: Counts(s.name, s.version, s.kind, s.sample_rate) for s in specs}
    sc = plan.scope(specs, None if event_ids is None else list(event_ids))
    with connect(db_path, read_only=True) as con:
        if not store.has_tables(con):
            raise ConfigError(f"{db_path}: the warehouse predates evaluators; run "
                              f"`reviewdeck migrate --db {db_path}`")
        store.bound_memory(con)
        p = plan.make(con, sc, size)
    for s in specs:
        counts[s.name].matched = p.matched[s.name]
        counts[s.name].sampled = p.sampled[s.name]
    for name, est in _estimate(db_path, sc, p, llm).items():
        counts[name].estimate_usd = est
    estimates = [c.estimate_usd for c in counts.values()]
    summary = RunSummary(None, conf.path, dry_run, list(counts.values()),
                         None if any(e is None for e in estimates) else sum(estimates),
                         batches=len(p.batches))
    if max_cost_usd is not None:
        unpriced = [c.name for c in counts.values() if c.estimate_usd is None]
        if unpriced:
            raise ConfigError(f"--max-cost needs a price for the judge model of "
                              f"{', '.join(unpriced)}: add it to a price file named by "
                              "REVIEWDECK_PRICES (ingest/prices.py), or run without a cap")
    if on_plan:
        on_plan(summary)
    total = sum(p.sampled.values())
    if dry_run or total == 0:
        return _finish(summary, started)
    stop = stop or threading.Event()
    judged = [s for s in llm if p.sampled[s.name]]
    clients = scoring.clients(judged)
    with connect(db_path) as con:
        summary.run_id = store.start_run(con, conf.path, specs)
    writer = scoring.Writer(db_path, summary.run_id, counts)
    progress = {"done": 0, "shown": 0.0}

    def tick(n: int) -> None:
        progress["done"] += n
        now = time.monotonic()
        if on_progress and (now - progress["shown"] >= 0.1 or progress["done"] == total):
            progress["shown"] = now
            on_progress(Progress(progress["done"], total, writer.spent()))

    judging = scoring.Judging(judged, clients, writer, tick, stop, concurrency, max_cost_usd,
                              counts) if judged else None
    try:
        for batch in p.batches:
            if stop.is_set():
                break
            judges = judging.active() if judging else []
            for s in judged:
                if judging and s.name in judging.given_up:
                    tick(batch.per_spec[s.name])  # as if each of its calls were passed over
            names = [s.name for s in (*code, *judges) if batch.per_spec[s.name]]
            if not names:
                continue
            # This process cannot open the file read-only beside the writer's connection: wait
            # for a commit in flight (rows still buffered are committed after the read).
            writer.join()
            todo, events = plan.read(db_path, sc, batch, names, corrections=_wants_fix(judges))
            # fewer than planned when another run scored some of them since the plan
            tick(sum(max(batch.per_spec[n] - len(todo[n]), 0) for n in names))
            keep = {e for s in judges for e in todo.get(s.name, ())}
            scoring.run_code(fns, todo, events, keep, writer, tick, stop)
            if judging and judges and not stop.is_set():
                writer.flush()
                judging.run(todo, events)
            del todo, events, keep
        if judging and judging.stopped:
            summary.stopped = judging.stopped
        elif stop.is_set():
            summary.stopped = "interrupted"
    except KeyboardInterrupt:
        stop.set()
        summary.stopped = "interrupted"
    finally:
        if judging:
            judging.close()
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
