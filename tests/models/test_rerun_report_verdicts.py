"""The batch report's reviewer-verdict counts: the latest verdict per rerun, and `no_verdict`."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from models.filters import parse_where
from models.rerun import runner as rr
from models.rerun import store
from models.rerun.endpoints import Endpoint
from models.rerun.report import batch_report
from tests.models.rerun_data import insert_many
from tests.openai_fixtures import STUB_API_KEY, openai_env, openai_server  # noqa: F401

T = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


def test_latest_verdict_per_rerun_and_no_verdict(db_path, con, openai_env, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setenv("REVIEWDECK_SECRETS", str(tmp_path / "none.toml"))
    insert_many(con, 3)
    con.close()
    opts = rr.BatchOptions(model="gpt-4o")
    plan = rr.plan_batch(str(db_path), parse_where(""), "stub", opts)
    ep = Endpoint("stub", openai_env.base_url, kind="compatible", api_key=STUB_API_KEY)
    rr.run_batch(str(db_path), plan, opts, endpoint=ep)
    with connect(db_path) as c:
        first = c.execute("SELECT min(rerun_event_id) FROM rerun_items").fetchone()[0]
        store.record_verdict(c, first, "better", now=T)
        store.record_verdict(c, first, "worse", now=T + dt.timedelta(hours=1))  # changed mind
        rep = batch_report(c, plan.batch_id)
    assert rep.verdicts == {"worse": 1} and rep.no_verdict == 2
    res = CliRunner().invoke(
        app, ["rerun", "--model", "gpt-4o", "--endpoint", "stub", "--db", str(db_path)]
    )
    assert res.exit_code == 0, res.output
    assert "reviewer verdicts: worse 1, no verdict 2" in res.output
    js = CliRunner().invoke(
        app, ["rerun", "--model", "gpt-4o", "--endpoint", "stub", "--db", str(db_path), "--json"]
    )
    assert json.loads(js.output)["no_verdict"] == 2
