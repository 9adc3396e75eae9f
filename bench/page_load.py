"""How fast pages become interactive in a real browser on a large warehouse.

Serves a warehouse with the real `reviewdeck serve`, opens each page in Debian's Chromium and
times navigation → the script run finished with every chart drawn. The first visit of a page is
"cold" (its queries miss the cache); the next ones are "warm" (a reload by the same or another
user, served from the cache). Bar (issue 4): the trends page interactive within 3 s at 1M events.

    python bench/page_load.py          # bench/out/trends_1000000.duckdb, built by bench/queries.py
    python bench/page_load.py --db FILE --runs 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.e2e.browser import launch_browser  # noqa: E402
from tests.e2e.server import start_server  # noqa: E402

PAGES = {"overview": "", "trends": "trends", "events": "events", "drift": "drift"}
BAR_S = 3.0


# Installed before any page script. It timestamps (ms since navigation start) the end of the
# app's script run and the moment each chart has drawn: Streamlit loads the chart component
# lazily, so a chart appears in the page only after the run has ended, and "every chart drawn"
# cannot be judged at any single moment. The load time is read back once the page has settled.
WATCH = """
window.__rd = {ran: false, done: null, drawn: 0, lastDrawn: null};
new MutationObserver(() => {
  const rd = window.__rd, now = performance.now();
  const app = document.querySelector('[data-testid=stApp]');
  if (!app) return;
  const state = app.getAttribute('data-test-script-state');
  if (state === 'running') { rd.ran = true; rd.done = null; }
  if (rd.ran && state === 'notRunning' && rd.done === null) rd.done = now;
  const drawn = document.querySelectorAll(
    '[data-testid=stVegaLiteChart] canvas, [data-testid=stVegaLiteChart] svg').length;
  if (drawn > rd.drawn) { rd.drawn = drawn; rd.lastDrawn = now; }
}).observe(document, {subtree: true, attributes: true, childList: true});
"""
FINISHED = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return window.__rd.ran && window.__rd.done !== null && app &&
    app.getAttribute('data-test-connection-state') === 'CONNECTED' &&
    [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]
      .every(c => c.querySelector('canvas, svg'));
}"""
SETTLE_MS = 2500  # nothing on these pages appears later than this after the run ends


def _load(page, url: str) -> tuple[float, int]:
    """(seconds from navigation until the run had finished and every chart was drawn, charts)."""
    started = time.time()
    page.goto(url, wait_until="commit", timeout=180_000)
    page.wait_for_function(FINISHED, timeout=180_000, polling=50)
    page.wait_for_timeout(SETTLE_MS)
    page.wait_for_function(FINISHED, timeout=60_000, polling=50)
    rd = page.evaluate("({...window.__rd, origin: performance.timeOrigin})")
    ready_ms = max(rd["done"], rd["lastDrawn"] or 0)
    return (rd["origin"] + ready_ms) / 1000 - started, rd["drawn"]


def _touch(db: Path) -> None:
    """A write that changes the warehouse file (and so the dashboard's cache key) but no data."""
    from ingest.db import connect

    with connect(db) as con:
        con.execute("CREATE TABLE IF NOT EXISTS bench_touch (touched_at TIMESTAMPTZ)")
        con.execute("DELETE FROM bench_touch")
        con.execute("INSERT INTO bench_touch VALUES (now())")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=REPO / "bench" / "out" / "trends_1000000.duckdb")
    parser.add_argument("--runs", type=int, default=3, help="warm loads per page")
    parser.add_argument(
        "--first",
        choices=list(PAGES),
        default="overview",
        help="page opened first on the fresh server (it also pays the session's start-up)",
    )
    args = parser.parse_args()
    order = [args.first] + [p for p in PAGES if p != args.first]
    if not args.db.exists():
        sys.exit(f"{args.db} is missing: run `python bench/queries.py` first to build it")
    from playwright.sync_api import sync_playwright

    with (
        start_server(args.db) as server,
        sync_playwright() as pw,
        tempfile.TemporaryDirectory() as tmp,
    ):
        context, page = launch_browser(pw, Path(tmp) / "profile")
        context.add_init_script(WATCH)
        try:
            print(f"warehouse {args.db}, server {server.url}")
            print(f"{'page':10} {'charts':>6} {'cold s':>8} {'warm p50 s':>11} {'warm max s':>11}")
            worst_warm = trends_cold = 0.0
            for name in order:
                url = f"{server.url}/{PAGES[name]}"
                cold, charts = _load(page, url)
                warm = [_load(page, url)[0] for _ in range(args.runs)]
                if name == "trends":
                    worst_warm, trends_cold = max(warm), cold
                print(
                    f"{name:10} {charts:6} {cold:8.2f} {statistics.median(warm):11.2f} "
                    f"{max(warm):11.2f}"
                )
            # The Monday-morning case: the server has been up, a nightly ingest changed the
            # warehouse (so every query misses the cache), the browser has the app's scripts.
            _touch(args.db)
            after_ingest, _ = _load(page, f"{server.url}/{PAGES['trends']}")
            verdict = "ok" if after_ingest <= BAR_S else "OVER"
            print(
                "trends page, first visit after new data (server up, browser warm): "
                f"{after_ingest:.2f} s (bar {BAR_S} s) {verdict}"
            )
            for label, value in (("cold", trends_cold), ("warm, worst", worst_warm)):
                verdict = "ok" if value <= BAR_S else "OVER"
                print(f"trends page, {label}: {value:.2f} s (bar {BAR_S} s) {verdict}")
        finally:
            context.close()


if __name__ == "__main__":
    main()
