"""Open every page once, headless, so its heavy results are on disk before anyone visits.

A pipeline run (ingest, evaluate, analyze) changes the warehouse, which makes every kept result
stale (dashboard/stored.py, models/report/stored.py). `reviewdeck warm` then runs each page's
script the way a first visitor's browser would, through Streamlit's AppTest (the page's own
code, default filters and windows, so the results stored are exactly the ones a visitor's
first open asks for), and the first visit after the pipeline reads them from disk.

It reads the warehouse read-only, like the dashboard, and holds it while a page runs.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dashboard import stored

APP = Path(__file__).resolve().parent / "app.py"
# The pages whose first open runs heavy queries; the others read a page of rows at a time.
PAGES = ("overview", "trends", "drift", "weekly", "evaluators")


@dataclass(frozen=True)
class Warmed:
    page: str
    seconds: float
    error: str  # '' when the page ran cleanly


def _no_context_warning(record: logging.LogRecord) -> bool:
    return "missing ScriptRunContext" not in record.getMessage()


def warm(
    db: str | os.PathLike[str], pages: tuple[str, ...] = PAGES, *,
    timeout_s: float = 3600, log: Callable[[str], None] | None = None,
) -> list[Warmed]:
    """Run each page once against `db`; returns what each took and any error it showed."""
    from streamlit.testing.v1 import AppTest

    say = log or (lambda _msg: None)
    unknown = [p for p in pages if p not in PAGES]
    if unknown:
        raise ValueError(f"unknown page(s) {', '.join(unknown)}; use {', '.join(PAGES)}")
    db = str(db)
    gone = stored.clear_stale(db)
    if gone:
        say(f"removed {gone} kept result(s) of older warehouse states")
    # Outside a server every page run warns "missing ScriptRunContext": noise, not news.
    # (a filter: Streamlit resets its loggers' levels whenever a run loads its config)
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        _no_context_warning)
    before = os.environ.get("REVIEWDECK_DB")
    os.environ["REVIEWDECK_DB"] = db  # the pages find the warehouse through it
    out = []
    try:
        for page in pages:
            started = time.perf_counter()
            at = AppTest.from_file(str(APP), default_timeout=timeout_s)
            at.switch_page(f"app_pages/{page}.py")
            at.run()
            secs = time.perf_counter() - started
            shown = [e.message for e in at.exception] + [e.value for e in at.error]
            out.append(Warmed(page, secs, "; ".join(str(s) for s in shown)[:500]))
            say(f"{page}: {secs:.1f} s" + (f" (the page showed: {out[-1].error})"
                                         if out[-1].error else ""))
    finally:
        if before is None:
            os.environ.pop("REVIEWDECK_DB", None)
        else:
            os.environ["REVIEWDECK_DB"] = before
    return out
