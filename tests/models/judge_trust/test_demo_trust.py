"""On the demo data (a judge planted lenient on one model, a random review by simulated
reviewers), judge trust finds the bias and corrects the rate in the right direction, on
several seeds."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from ingest.demo import plan
from ingest.demo.generate import generate
from ingest.demo.queue import ensure_demo_queue
from models.judge_trust import summary


@pytest.mark.parametrize("seed", [0, 1])
def test_demo_judge_bias_is_found_and_corrected(tmp_path, seed):
    result = generate(tmp_path / "demo.jsonl", events=30_000, seed=seed,
                      end_date=dt.date(2026, 11, 22))
    db = tmp_path / "warehouse.duckdb"
    res = CliRunner().invoke(app, ["ingest", str(result.path), "--db", str(db)])
    assert res.exit_code == 0, res.output
    ensure_demo_queue(db, result.truths)
    with connect(db, read_only=True) as con:
        t = summary.trust(con, plan.VERDICT_NAME)
    assert t.sampling == summary.RANDOM, t.sampling_note
    kappas = dict(t.by_model)
    lenient = kappas.pop(plan.VERDICT_LENIENT_MODEL)
    assert all(lenient.kappa < other.kappa for other in kappas.values() if other.n >= 50)
    c = t.corrected
    # lenient judge: raw fail rate too low; the corrected one moves up towards the humans'
    assert c.judge_rate < c.human_rate
    assert c.value > c.judge_rate + 0.02
    assert abs(c.value - c.human_rate) < abs(c.judge_rate - c.human_rate)
    assert c.lo <= c.value <= c.hi and c.narrower > 0
