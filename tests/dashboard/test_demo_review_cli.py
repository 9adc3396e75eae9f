"""`reviewdeck demo` with the evaluators-and-review parts: the warehouse it leaves has the review
queue, the biased judge's rows and the simulated reviewers' labels; and while it serves the app
it serves the simulated model endpoint, which stops with it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest
from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from ingest.demo import endpoint as sim
from ingest.demo import plan as P

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "demo"
    res = CliRunner().invoke(app, ["demo", "--events", "2000", "--no-serve", "--dir", str(folder)])
    assert res.exit_code == 0, res.output
    assert "labelled by simulated reviewers" in res.output
    return folder


def test_no_serve_leaves_the_queue_the_judge_rows_and_the_labels(demo_dir: Path) -> None:
    with connect(demo_dir / "reviewdeck.duckdb", read_only=True) as con:
        queues = con.execute("SELECT queue_id, name, rubric FROM review_queues").fetchall()
        items = con.execute("SELECT count(*) FROM queue_items").fetchall()[0][0]
        judge = con.execute(
            "SELECT count(*), count(DISTINCT evaluator_version), min(judge_model),"
            " sum(cost_usd) > 0 FROM feedback WHERE name = ? AND source = 'llm_judge'",
            [P.VERDICT_NAME],
        ).fetchall()[0]
        labels = con.execute(
            "SELECT count(*), count(DISTINCT queue_id), min(queue_id) FROM feedback"
            " WHERE name = ? AND source = 'reviewer' AND kind = 'label'", [P.VERDICT_NAME]
        ).fetchall()[0]  # fmt: skip
        judged = con.execute(
            "SELECT count(DISTINCT event_id) FROM feedback WHERE name = 'helpfulness'"
        ).fetchall()[0][0]
    assert queues == [(P.REVIEW_QUEUE_ID, P.REVIEW_QUEUE_NAME, P.VERDICT_NAME)]
    assert items >= 5
    assert judge == (judged, 1, P.JUDGE_MODEL, True)
    assert labels[0] >= 5 and labels[1:] == (1, P.REVIEW_QUEUE_ID)


def test_the_built_in_evaluators_ran_on_every_event(demo_dir: Path) -> None:
    from models.evaluators.builtins import BUILTINS

    with connect(demo_dir / "reviewdeck.duckdb", read_only=True) as con:
        per = dict(con.execute(
            "SELECT evaluator, count(DISTINCT event_id) FROM evaluations GROUP BY 1"
        ).fetchall())
        n_events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
        code_rows = con.execute(
            "SELECT count(*) FROM feedback WHERE source = 'code' AND evaluator_version IS NOT NULL"
        ).fetchall()[0][0]
    # Every built-in that applies to a demo event ran on all of them (the demo asks for no JSON
    # and declares no tools, so invalid_json and tool_call_arguments apply to none).
    assert set(per) <= set(BUILTINS)
    for name in ("empty_or_truncated", "refusal", "language_mismatch"):
        assert per.get(name) == n_events, per
    assert code_rows > 0


def test_running_it_again_keeps_one_queue(demo_dir: Path) -> None:
    with connect(demo_dir / "reviewdeck.duckdb", read_only=True) as con:
        before = con.execute("SELECT count(*) FROM queue_items").fetchall()[0][0]
        scored = con.execute("SELECT count(*) FROM evaluations").fetchall()[0][0]
    res = CliRunner().invoke(app, ["demo", "--no-serve", "--dir", str(demo_dir)])
    assert res.exit_code == 0, res.output
    with connect(demo_dir / "reviewdeck.duckdb", read_only=True) as con:
        assert con.execute("SELECT count(*) FROM review_queues").fetchall()[0][0] == 1
        assert con.execute("SELECT count(*) FROM queue_items").fetchall()[0][0] == before
        # nothing new: the built-ins score nothing twice
        assert con.execute("SELECT count(*) FROM evaluations").fetchall()[0][0] == scored


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serving_starts_the_simulated_endpoint_and_stopping_stops_it(demo_dir: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("REVIEWDECK_ENDPOINT_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "demo", "--dir", str(demo_dir),
         "--port", str(_free_port()), "--endpoint-port", "0"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        url = None
        deadline = time.monotonic() + 240
        seen = []
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            found = re.search(r"simulated model endpoint '(\w+)'.* at (http://127\.0\.0\.1:\d+/v1)",
                              line)  # fmt: skip
            if found:
                assert found.group(1) == sim.NAME
                url = found.group(2)
        assert url, "".join(seen)
        client = openai.OpenAI(base_url=url, api_key="not-needed", max_retries=0)
        assert [m.id for m in client.models.list()] == list(sim.MODELS)
        reply = client.chat.completions.create(
            model="simulated-orbit-large",
            messages=[{"role": "user", "content": "how do I cancel Orbit Plus"}],
        )
        assert "cancel" in reply.choices[0].message.content.lower()
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        proc.terminate()
        proc.wait(timeout=60)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), 2).close()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
