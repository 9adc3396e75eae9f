"""Ingest while dashboards are open: neither fails, nothing is lost, new data shows within seconds.

Two browser sessions reload pages in a loop against the real `reviewdeck serve` while five
`reviewdeck ingest` processes run one after another on the same warehouse file (DuckDB allows
one writing process and a reader blocks a writer: see docs/concurrency.md for the design).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from dashboard import nav
from ingest.db import connect
from ingest.demo.generate import generate
from tests.e2e.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    error_texts,
    goto_app,
    require_browser,
    screenshot,
)
from tests.e2e.server import start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLI = [sys.executable, "-c", "from dashboard.cli import main; main()"]
INGESTS = 5
PAGES = ("", nav.TRENDS, nav.EXPLORER, nav.DRIFT)


def _events_metric(page) -> int:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Events")
    return int(metric.inner_text().split()[-1].replace(",", ""))


def test_two_dashboards_stay_up_while_five_ingests_run(tmp_path, playwright_instance):
    db = tmp_path / "warehouse.duckdb"
    files = []
    for seed in range(INGESTS + 1):
        path = tmp_path / f"log{seed}.jsonl"
        generate(path, events=1500, weeks=4, seed=seed)
        files.append(path)
    first = subprocess.run(CLI + ["ingest", str(files[0]), "--db", str(db), "-q"], timeout=300)
    assert first.returncode == 0

    ingest_codes: list[int] = []

    def run_ingests() -> None:
        for path in files[1:]:
            proc = subprocess.run(
                CLI + ["ingest", str(path), "--db", str(db), "-q"],
                capture_output=True,
                text=True,
                timeout=300,
                env=dict(os.environ),
            )
            ingest_codes.append(proc.returncode)
            assert proc.returncode == 0, proc.stderr

    require_browser(playwright_instance)
    with start_server(db) as server:
        contexts = [
            playwright_instance.chromium.launch_persistent_context(
                user_data_dir=str(tmp_path / f"profile{i}"),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1300, "height": 900},
            )
            for i in range(2)
        ]
        pages = [c.pages[0] if c.pages else c.new_page() for c in contexts]
        problems: list[str] = []
        for page in pages:
            page.on("pageerror", lambda exc: problems.append(f"js: {exc}"))
        try:
            writer = threading.Thread(target=run_ingests)
            writer.start()
            loads = 0
            while writer.is_alive() or loads < 4:
                for i, page in enumerate(pages):
                    url_path = PAGES[(loads + i) % len(PAGES)]
                    goto_app(page, f"{server.url}/{url_path}", timeout_ms=120_000)
                    problems += [f"{url_path}: {t}" for t in error_texts(page)]
                loads += 1
            writer.join()
            assert ingest_codes == [0] * INGESTS
            with connect(db, read_only=True) as con:
                total = con.execute("SELECT count(*) FROM events WHERE kind = 'llm'").fetchone()[0]
            assert total == 1500 * (INGESTS + 1)
            # New data shows within a few seconds of the last ingest ending.
            deadline = time.monotonic() + 10
            shown = None
            while time.monotonic() < deadline:
                goto_app(pages[0], server.url)
                shown = _events_metric(pages[0])
                if shown == total:
                    break
                time.sleep(0.5)
            screenshot(pages[0], "concurrent-ingest-overview")
            assert shown == total
            assert loads >= 4
            assert not problems, problems[:5]
        finally:
            for context in contexts:
                context.close()
