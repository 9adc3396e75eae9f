"""Dashboards stay readable while the collector writes: Chromium loads pages against the real
`reviewdeck serve` while OTLP spans flow into a `reviewdeck collect` process on the same
warehouse (the collector is its one writer; the dashboard reads between its batch commits), and
new spans show on the Overview as they land."""

from __future__ import annotations

import threading
import time

import pytest

from dashboard import nav
from ingest.db import connect
from tests.e2e.browser import error_texts, goto_app, screenshot
from tests.e2e.server import start_server
from tests.ingest.collect.helpers import chat_span, child, free_port, post, traces_doc

pytestmark = pytest.mark.browser

PAGES = ("", nav.TRENDS, nav.EXPLORER)


def _events_metric(page) -> int:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Events")
    return int(metric.inner_text().split()[-1].replace(",", ""))


def _send(port: int, acked: list[int], stop: threading.Event) -> None:
    """Requests of 20 chat spans, back to back, until told to stop."""
    n = 0
    while not stop.is_set():
        spans = [chat_span(f"{n * 20 + i:016x}", n * 20 + i) for i in range(20)]
        status, _, _ = post(port, "/v1/traces", traces_doc(*spans))
        if status == 200:
            acked.append(len(spans))
        n += 1
        time.sleep(0.05)


def test_pages_load_while_spans_flow_into_the_collector(tmp_path, browser_page):
    db = tmp_path / "warehouse.duckdb"
    with connect(db):
        pass
    port = free_port()
    collector = child(db, tmp_path / "spool", port, "--batch-seconds", "1", ready=True)
    acked: list[int] = []
    stop = threading.Event()
    sender = threading.Thread(target=_send, args=(port, acked, stop))
    problems: list[str] = []
    browser_page.on("pageerror", lambda exc: problems.append(f"js: {exc}"))
    seen: list[int] = []
    try:
        with start_server(db) as server:
            sender.start()
            deadline = time.monotonic() + 20
            loads = 0
            while time.monotonic() < deadline or loads < len(PAGES):
                url_path = PAGES[loads % len(PAGES)]
                goto_app(browser_page, f"{server.url}/{url_path}", timeout_ms=60_000)
                problems += [f"/{url_path}: {t}" for t in error_texts(browser_page)]
                if url_path == "" and browser_page.locator('[data-testid="stMetric"]').count():
                    seen.append(_events_metric(browser_page))
                loads += 1
            stop.set()
            sender.join()
            collector.terminate()
            assert collector.wait(timeout=60) == 0  # drains the spool, then stops
            goto_app(browser_page, server.url)
            final = _events_metric(browser_page)
            screenshot(browser_page, "collect-overview")
    finally:
        stop.set()
        if collector.poll() is None:
            collector.kill()
    assert not problems, problems[:5]
    assert final == sum(acked) > 0  # every acknowledged span is on the page once
    # while spans flowed, reloads saw the count grow, never shrink
    assert len(seen) >= 2 and seen == sorted(seen) and seen[-1] > seen[0], seen
