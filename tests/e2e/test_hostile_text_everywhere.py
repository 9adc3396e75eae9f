"""Hostile logged text is shown as text on every page and in the HTML report: nothing executes.

The warehouse is built the way users build one: demo logs plus hand-written hostile events
ingested with `reviewdeck ingest`, clustered with `reviewdeck analyze` (cluster names written by
a "model" — the OpenAI-compatible stub — that answers with an image tag), a batch
`reviewdeck rerun` whose reruns and judge rationales are hostile too, and notes with HTML. The
payloads set `window.__xss` if anything runs; each page is checked for that global, for
`img[src=x]`, for `javascript:` links and for event-handler attributes carrying a payload, in
every frame, after the interactions that show the text (event detail, map hover, cluster
drill-down).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard import nav
from ingest.db import connect
from ingest.demo.generate import generate
from models.report.notes import add_note
from models.rerun.store import record_verdict
from tests.e2e.browser import assert_no_errors, goto_app, screenshot, wait_for_app
from tests.e2e.server import Server, start_server
from tests.openai_stub import OpenAIStub

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLI = [sys.executable, "-m", "dashboard.cli"]
SCRIPT = "<script>window.__xss='script'</script>"
IMG = "<img src=x onerror=\"window.__xss='img'\">"
MD_LINK = "[click here](javascript:window.__xss='mdlink')"
ANCHOR = "<a href=\"javascript:window.__xss='anchor'\">open</a>"
SVG = "<svg onload=\"window.__xss='svg'\"></svg>"
HOSTILE = f"{SCRIPT} {IMG} {MD_LINK} {ANCHOR} {SVG}"
NAME = "<img src=x onerror=window.__xss='name'>"  # the stub's cluster name (<= 60 chars)
EVIL_MODEL = "gpt-4o-mini<img src=x onerror=window.__xss='model'>"
EVIL_TAG = "topic:<script>window.__xss='tag'</script>"
END = dt.date(2026, 11, 20)  # a Friday: the demo's last ISO week is 2026-W47
WEEK = "2026-W47"
N_HOSTILE = 60
HOSTILE_ID = "hostile-000"

# Payload attributes that would make a browser run or load something.
INERT_CHECK = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const name = a.name.toLowerCase(), value = (a.value || '').toLowerCase();
      if ((name.startsWith('on') || ['href', 'src', 'srcdoc', 'action', 'formaction',
           'xlink:href'].includes(name)) && (value.includes('__xss') ||
           value.replace(/\\s/g, '').startsWith('javascript:'))) {
        bad.push(el.tagName + ' ' + name + '=' + a.value.slice(0, 80));
      }
    }
  }
  return {xss: window.__xss === undefined ? null : String(window.__xss),
          imgx: document.querySelectorAll('img[src="x"]').length, bad};
}"""


def assert_inert(page, where: str) -> None:
    """Nothing from a payload ran or became an element, in any frame of the page."""
    for frame in page.frames:
        try:
            found = frame.evaluate(INERT_CHECK)
        except Exception as exc:  # noqa: BLE001 - a frame that navigated away is not a payload
            if "detached" in str(exc) or "destroyed" in str(exc):
                continue
            raise
        assert found == {"xss": None, "imgx": 0, "bad": []}, (where, frame.url, found)


def _hostile_lines(last_week_monday: dt.date) -> list[str]:
    lines = []
    for i in range(N_HOSTILE):
        day = last_week_monday - dt.timedelta(days=7 * (i % 2)) + dt.timedelta(days=i % 5)
        ts = dt.datetime.combine(day, dt.time(9 + i % 8, i % 60), dt.UTC).isoformat()
        event_id = f"hostile-{i:03d}"
        question = f"I was charged twice for my order, refund please {HOSTILE} case {i}"
        lines.append(
            json.dumps(
                {
                    "event_id": event_id,
                    "ts": ts,
                    "model": EVIL_MODEL if i % 3 == 0 else "gpt-4o-mini",
                    "prompt_name": "support",
                    "prompt_version": "v1" if i % 4 else f"v9{IMG}",
                    "input_messages": [
                        {"role": "system", "content": f"You help. {SCRIPT}"},
                        {"role": "user", "content": question},
                    ],
                    "output_messages": [{"role": "assistant", "content": f"Sorry! {HOSTILE}"}],
                    "tokens_in": 120,
                    "tokens_out": 40,
                    "latency_ms": 900.0,
                    "cost_usd": 0.0004,
                    "user_id": f"user-{IMG}" if i % 5 == 0 else "user-7",
                    "status": "error" if i % 10 == 9 else "ok",
                    "error_type": "timeout" if i % 10 == 9 else None,
                    "error_message": f"upstream said {HOSTILE}" if i % 10 == 9 else None,
                    "tags": ["topic:billing", EVIL_TAG],
                    "environment": "production",
                    "feedback": [
                        {"name": "thumbs", "value": 0, "comment": f"bad {HOSTILE}"},
                        {
                            "name": "helpfulness",
                            "kind": "score",
                            "value": 0.1,
                            "source": "llm_judge",
                            "author": "judge",
                            "comment": f"rationale: {HOSTILE}",
                        },
                        {
                            "name": "correction",
                            "kind": "correction",
                            "value": 0.8,
                            "source": "reviewer",
                            "correction": f"Refunded. {HOSTILE}",
                        },
                    ],
                }
            )
        )
    return lines


def build_warehouse(folder: Path, stub: OpenAIStub) -> Path:
    demo_log, hostile_log = folder / "demo.jsonl", folder / "hostile.jsonl"
    generate(demo_log, events=1_200, weeks=4, seed=4, end_date=END)
    monday = END - dt.timedelta(days=END.weekday())
    hostile_log.write_text("\n".join(_hostile_lines(monday)) + "\n", encoding="utf-8")
    db = folder / "hostile.duckdb"
    env = {
        **os.environ,
        "REVIEWDECK_ENDPOINT_STUB_BASE_URL": stub.base_url,
        "REVIEWDECK_ENDPOINT_STUB_API_KEY": stub.api_key or "x",
        "OPENAI_API_KEY": stub.api_key or "x",
    }
    stub.set_reply("namer", NAME)
    stub.set_reply("gpt-4o", f"A better answer {HOSTILE}")
    stub.set_reply("judge-model", json.dumps({"preferred": "2", "rationale": HOSTILE}))
    steps = [
        ["ingest", str(demo_log), str(hostile_log), "--quiet"],
        ["analyze", "--no-map", "--name-model", "namer", "--name-base-url", stub.base_url],
        [
            "rerun",
            "--model",
            "gpt-4o",
            "--endpoint",
            "stub",
            "--judge",
            "judge-model",
            "--where",
            "text=charged twice",
            "--sample",
            "6",
            "--json",
        ],
    ]
    for args in steps:
        done = subprocess.run(
            CLI + args + ["--db", str(db)], capture_output=True, text=True, timeout=600, env=env
        )
        assert done.returncode == 0, (args[0], done.stdout, done.stderr)
    with connect(db) as con:
        # The map's coordinates are a UMAP fit (a minute of CPU here); its hover text comes
        # from `events`, so the hostile events get points of their own on a small grid.
        con.execute(
            "INSERT INTO map_points SELECT event_id, (row_number() OVER (ORDER BY event_id)) "
            "% 8, (row_number() OVER (ORDER BY event_id)) // 8, true FROM cluster_members "
            "WHERE event_id LIKE 'hostile-%'"
        )
        hostile_cluster = con.execute(
            "SELECT cluster_id FROM cluster_members WHERE event_id = ?", [HOSTILE_ID]
        ).fetchone()[0]
        examples = con.execute(
            "SELECT examples, llm_name FROM clusters WHERE cluster_id = ?", [hostile_cluster]
        ).fetchone()
        assert any(SCRIPT in e for e in examples[0]), "hostile text is not a cluster example"
        assert examples[1] == NAME, examples[1]
        rationales = con.execute("SELECT rationale FROM rerun_judgements").fetchall()
        assert rationales and all(r[0] == HOSTILE for r in rationales)
        # A reviewer's verdict with a hostile note. (Also keeps the weekly report clear of
        # count_if over no verdicts returning NULL in models/report/sections.py; see the report.)
        rerun_id = con.execute(
            "SELECT event_id FROM events WHERE rerun_of IS NOT NULL ORDER BY event_id LIMIT 1"
        ).fetchone()[0]
        record_verdict(
            con, rerun_id, "better", note=f"verdict note {HOSTILE}", author=f"ana {SCRIPT}"
        )
        add_note(con, WEEK, f"Week note {HOSTILE}", is_action=True, owner=f"ana {IMG}")
        add_note(con, WEEK, f"Event note {HOSTILE}", target_kind="event", target_id=HOSTILE_ID)
        add_note(
            con,
            WEEK,
            f"Cluster note {HOSTILE}",
            target_kind="cluster",
            target_id=str(hostile_cluster),
        )
    return db


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("hostile_everywhere")
    with OpenAIStub(api_key="sk-stub-hostile-0123456789") as stub:
        db = build_warehouse(folder, stub)
    with start_server(db) as server:
        yield server, db


def _visit(page, url: str, name: str) -> None:
    goto_app(page, url)
    screenshot(page, f"hostile-{name}")
    assert_no_errors(page)
    assert_inert(page, name)


def test_every_page_shows_hostile_text_inert(hostile_app, browser_page):
    server, db = hostile_app
    page = browser_page
    base = server.url
    for name, path in [
        ("overview", ""),
        ("trends", nav.TRENDS),
        ("trends-week", f"{nav.TRENDS}?text=charged+twice"),
        ("weekly", f"{nav.WEEKLY}?week={WEEK}"),
        ("events-list", f"{nav.EXPLORER}?text=charged+twice"),
        ("playground", nav.PLAYGROUND),
    ]:
        _visit(page, f"{base}/{path}", name)
    # The weekly review quotes the hostile cluster name and examples as text; its notes tab
    # lists the hostile notes.
    goto_app(page, f"{base}/{nav.WEEKLY}?week={WEEK}")
    body = page.inner_text("body")
    assert NAME in body and SCRIPT in body, "the weekly review does not quote the hostile text"
    page.get_by_role("tab", name="Notes & action items").click()
    page.wait_for_timeout(1_000)
    screenshot(page, "hostile-weekly-notes")
    assert_inert(page, "weekly-notes")

    # Event detail: messages, output, feedback, correction, error, the rerun and its judge.
    _visit(page, f"{base}/{nav.EXPLORER}?event=hostile-009", "event-detail")
    assert page.get_by_text(SCRIPT, exact=False).count() >= 1
    _visit(page, f"{base}/{nav.PLAYGROUND}?event={HOSTILE_ID}", "playground-event")
    assert page.get_by_text(SCRIPT, exact=False).count() >= 1
    with connect(db, read_only=True) as con:
        rerun_id = con.execute(
            "SELECT event_id FROM events WHERE rerun_of IS NOT NULL LIMIT 1"
        ).fetchone()[0]
    _visit(page, f"{base}/{nav.EXPLORER}?event={rerun_id}", "rerun-detail")
    _visit(page, f"{base}/{nav.PLAYGROUND}?event={rerun_id}", "playground-rerun")


def test_drift_map_hover_and_cluster_drilldown_inert(hostile_app, browser_page):
    server, db = hostile_app
    page = browser_page
    _visit(page, f"{server.url}/{nav.DRIFT}", "drift")
    # Hover the map until a tooltip shows an input: the hostile text, as text.
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.wait_for(timeout=30_000)
    # The map sits below the new-topics section: bring it into the viewport to hover it.
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    tooltip = page.locator("#vg-tooltip-element")
    shown = ""
    for gy in range(2, 40):
        for gx in range(2, 40):
            page.mouse.move(box["x"] + box["width"] * gx / 41, box["y"] + box["height"] * gy / 41)
            if tooltip.count() and "__xss" in (tooltip.first.inner_text() or ""):
                shown = tooltip.first.inner_text()
                break
        if shown:
            break
    assert "<script>window.__xss='script'</script>" in shown, "no map point showed its input"
    screenshot(page, "hostile-drift-hover", full_page=False)
    assert_inert(page, "drift-hover")

    # Drill into the hostile cluster: keywords and examples are printed as text.
    with connect(db, read_only=True) as con:
        cluster, examples = con.execute(
            "SELECT cluster_id, examples FROM clusters JOIN cluster_members USING (cluster_id) "
            "WHERE event_id = ?",
            [HOSTILE_ID],
        ).fetchone()
    picker = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.get_by_text("Cluster", exact=True)
    )
    picker.click()
    page.keyboard.type(f"#{cluster} ")
    page.keyboard.press("Enter")
    page.wait_for_timeout(1_000)
    wait_for_app(page)
    screenshot(page, "hostile-drift-cluster-picked", full_page=False)
    screenshot(page, "hostile-drift-cluster")
    body = page.inner_text("body")
    assert f"Open all events of cluster #{cluster} " in body, "the hostile cluster not picked"
    assert examples[0] in body and SCRIPT in examples[0], "its examples are not shown as text"
    assert_no_errors(page)
    assert_inert(page, "drift-cluster")


def test_html_report_opened_from_file_inert(hostile_app, playwright_instance, tmp_path):
    from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS

    _, db = hostile_app
    out = tmp_path / "weekly.html"
    done = subprocess.run(
        CLI + ["report", "--week", WEEK, "--db", str(db), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    try:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(out.as_uri(), wait_until="load")
        page.wait_for_timeout(300)
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        assert errors == []
        assert_inert(page, "report")
        body = page.inner_text("body")
        assert SCRIPT in body, "the hostile example is not quoted in the report"
        assert "Week note" in body and MD_LINK.split("(")[0] in body
    finally:
        browser.close()
