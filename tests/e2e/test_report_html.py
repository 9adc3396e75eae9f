"""The weekly report's HTML file in a real Chromium: it opens offline from a file, requests
nothing from the network, logs no console error, shows its charts, and a `<script>` in logged
text shows as text without running."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from models.report.model import parse_week
from tests.models.report_fixtures import REGRESSION_WEEK, insert, plant

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EVIL_OUTPUT = (
    "<script>window.__pwned = 1; console.error('ran')</script>"
    '<img src="http://198.51.100.7/pixel.png" onerror="window.__pwned = 2">'
)


@pytest.fixture(scope="module")
def report_files(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("report_html")
    db = tmp / "warehouse.duckdb"
    with connect(db) as con:
        plant(con, per_group=150)
        ts = dt.datetime.combine(parse_week(REGRESSION_WEEK), dt.time(10), dt.UTC)
        # a hostile, badly rated billing answer: it must be among the worst examples
        insert(
            con,
            [
                {
                    "event_id": "evil-1",
                    "ts": ts,
                    "model": "gpt-4.1-mini",
                    "prompt_version": "v1",
                    "input_text": "<b>bold?</b> where is my refund",
                    "output_text": EVIL_OUTPUT,
                    "tags": ["intent:billing"],
                    "status": "error",
                    "latency_ms": 5.0,
                    "cost_usd": 0.0,
                    "environment": "production",
                },
            ],
            [
                {
                    "feedback_id": f"evil-{name}",
                    "event_id": "evil-1",
                    "name": name,
                    "kind": kind,
                    "value": 0.0 if name == "thumbs" else 1.0,
                    "source": "user",
                    "ts": ts,
                }
                for name, kind in (("thumbs", "vote"), ("regenerated", "action"))
            ],
        )
    out = {"html": tmp / "w44.html", "md": tmp / "w44.md"}
    runner = CliRunner()
    for path in out.values():
        res = runner.invoke(
            app,
            [
                "report",
                "--week",
                REGRESSION_WEEK,
                "--db",
                str(db),
                "--out",
                str(path),
                "--base-url",
                "http://localhost:8501",
            ],
        )
        assert res.exit_code == 0, res.output
    return out


def test_html_renders_offline_without_errors(playwright_instance, report_files, tmp_path):
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=FLAGS
    )
    try:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        attempted: list[str] = []

        def guard(route):
            url = route.request.url
            if url.startswith(("file://", "data:")):
                route.continue_()
            else:
                attempted.append(url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        console_errors: list[str] = []
        page_errors: list[str] = []
        requested: list[str] = []
        page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
        page.on("pageerror", lambda exc: page_errors.append(str(exc)))
        page.on("request", lambda r: requested.append(r.url))
        page.goto(report_files["html"].as_uri(), wait_until="load")
        page.wait_for_timeout(300)

        assert attempted == []
        assert all(u.startswith(("file://", "data:")) for u in requested), requested
        assert console_errors == [] and page_errors == []
        assert page.evaluate("window.__pwned") is None
        assert page.locator("script").count() == 0
        body = page.inner_text("body")
        assert "<script>window.__pwned = 1; console.error('ran')</script>" in body
        assert "<b>bold?</b> where is my refund" in body
        assert page.locator("h1").inner_text() == f"Weekly review {REGRESSION_WEEK}"
        assert body.index("Regression in tag intent:billing") < body.index("Headline metrics")
        # charts are inline images that decoded (an image that failed has naturalWidth 0), PNG
        # so their labels are drawn as measured, whatever fonts this browser has
        widths = page.eval_on_selector_all("img.chart", "els => els.map(e => e.naturalWidth)")
        assert len(widths) == 2 and all(w > 0 for w in widths)
        srcs = page.eval_on_selector_all("img.chart", "els => els.map(e => e.src.slice(0, 22))")
        assert srcs == ["data:image/png;base64,"] * 2
        # links lead to the app's event view
        href = page.locator("a", has_text="event evil-1").first.get_attribute("href")
        assert href == "http://localhost:8501/events?event=evil-1"
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    finally:
        browser.close()


def test_markdown_variant_keeps_logged_html_inert(report_files):
    text = report_files["md"].read_text()
    assert text.startswith(f"# Weekly review {REGRESSION_WEEK}")
    assert re.search(r"(?<!\\)<", text) is None  # every "<" of logged text is escaped
    # backslash escapes, not entities: a reader of the raw file sees no "&lt;" or "&gt;"
    assert "\\<script\\>window" in text and "&lt;" not in text and "&gt;" not in text
    rendered = MarkdownIt("commonmark").render(text)  # renders raw HTML when it finds any
    assert "<script" not in rendered and "<img" not in rendered and "<b>" not in rendered
    assert "&lt;script&gt;window.__pwned = 1;" in rendered  # shown as the text it was
    assert "(http://localhost:8501/events?event=evil-1)" in text
