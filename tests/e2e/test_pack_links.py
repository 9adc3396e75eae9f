"""A pack built from the Weekly page links back to the address the page was opened at.

The real `reviewdeck serve`, started from a folder that is not the clone (so the project's
.streamlit/config.toml is not read) on a port that is not the default, with no
REVIEWDECK_APP_URL: the page shows no "Deploy" button, and every link of the HTML and Markdown
packs downloaded from it points at that server's own address.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.db import connect
from tests.conftest import REPO
from tests.e2e.browser import CHROMIUM, assert_no_errors, goto_app, launch_browser, screenshot
from tests.e2e.server import _healthy, free_port
from tests.models.report_fixtures import REGRESSION_WEEK, plant

pytestmark = pytest.mark.browser


@contextlib.contextmanager
def serve_elsewhere(db: Path, cwd: Path):
    port = free_port()
    assert port != 8501
    env = {k: v for k, v in os.environ.items() if k != "REVIEWDECK_APP_URL"}
    env["PYTHONPATH"] = str(REPO)  # the package, not the working directory, provides the app
    log = cwd / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", "serve", "--db", str(db), "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not _healthy(url):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_pack_built_from_the_page_links_to_the_page_address(playwright_instance, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing")
    db = tmp_path / "warehouse.duckdb"
    with connect(db) as con:
        plant(con, per_group=60)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    context, page = launch_browser(playwright_instance, tmp_path / "profile")
    try:
        with serve_elsewhere(db, elsewhere) as url:
            goto_app(page, f"{url}/weekly?week={REGRESSION_WEEK}", timeout_ms=120_000)
            assert_no_errors(page)
            page.get_by_text("Regression in tag intent:billing").first.wait_for()
            # the app's settings came with the package, not from a config file in the cwd
            assert page.locator('[data-testid="stAppDeployButton"]').count() == 0

            with page.expect_download() as md_download:
                page.get_by_role("button", name="Download Markdown").first.click()
            markdown = Path(md_download.value.path()).read_text(encoding="utf-8")

            page.get_by_role("button", name="Build the HTML file").first.click()
            page.get_by_role("button", name="Download HTML").first.wait_for(timeout=120_000)
            with page.expect_download() as html_download:
                page.get_by_role("button", name="Download HTML").first.click()
            html = Path(html_download.value.path()).read_text(encoding="utf-8")
            screenshot(page, "weekly_pack_links", full_page=False)

        hrefs = re.findall(r"href='([^']*)'", html)
        md_links = re.findall(r"\]\((http[^)]*)\)", markdown)
        assert hrefs and md_links
        for link in hrefs + md_links:
            assert link.startswith(f"{url}/events?"), link
        assert any(link.startswith(f"{url}/events?event=") for link in hrefs)
        assert "localhost:8501" not in html and "localhost:8501" not in markdown
    finally:
        context.close()
