"""`reviewdeck analyze` and `reviewdeck drift` in-process: exit codes, the documented JSON shape,
--fail-on-drift, and actionable errors."""

from __future__ import annotations

import datetime as dt
import json
import sys

import pytest
from typer.testing import CliRunner

from dashboard.cli import app, main
from ingest.db import connect
from tests.models.analyze_data import START, insert_events, make_events

CLUSTER_KEYS = {"cluster_id", "label", "keywords", "share_reference", "share_current",
                "n_reference", "n_current", "p_value", "status", "examples"}
NOVELTY_KEYS = {"method", "statistic", "expected", "p_value", "drifted", "k", "threshold",
                "n_reference", "n_current"}
TOPIC_KEYS = {"topic_id", "label", "keywords", "n_events", "share", "estimated_events",
              "cluster_id", "cluster_share", "examples", "event_ids", "quality"}
REF = "2026-09-07..2026-10-04"  # weeks 1-4 of make_events
CUR = "2026-10-05..2026-10-11"  # week 5


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory):
    """Weeks 1-4 with four topics; week 5 with a crypto topic at a third of the traffic."""
    path = tmp_path_factory.mktemp("drift_cli") / "w.duckdb"
    with connect(path) as con:
        insert_events(con, make_events(1600, seed=1, weeks=4))
        insert_events(con, make_events(
            400, seed=2, weeks=1, start=START + dt.timedelta(weeks=4), id_prefix="w5",
            topics={"refund": 1, "password": 1, "shipping": 1, "invoice": 1, "crypto": 2}))
    runner = CliRunner()
    out = runner.invoke(app, ["analyze", "--db", str(path), "--clusters", "5", "--no-map",
                              "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["n_events"] == 2000
    return path


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_json_has_exactly_the_documented_shape(warehouse) -> None:
    out = _run("drift", "--db", str(warehouse), "--reference", REF, "--current", CUR, "--json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert set(doc) == {"field", "verdict", "overall", "novelty", "new_topics", "clusters"}
    assert doc["field"] == "input"
    assert set(doc["overall"]) == {"statistic", "p_value", "drifted"}
    assert set(doc["novelty"]) == NOVELTY_KEYS
    assert doc["verdict"]["drifted"] is True and doc["novelty"]["drifted"] is True
    # The planted crypto questions are the first new topic, and its events are crypto ones.
    assert doc["new_topics"] and all(set(t) == TOPIC_KEYS for t in doc["new_topics"])
    first = doc["new_topics"][0]
    assert "crypto" in first["keywords"]
    with connect(warehouse, read_only=True) as con:
        texts = [r[0] for r in con.execute(
            "SELECT input_text FROM events WHERE event_id IN (SELECT unnest(?::VARCHAR[]))",
            [first["event_ids"]]).fetchall()]
    assert len(texts) == first["n_events"] >= 10
    assert sum("crypto" in t for t in texts) / len(texts) >= 0.9
    assert doc["clusters"] and all(set(c) == CLUSTER_KEYS for c in doc["clusters"])
    assert sum(c["share_current"] for c in doc["clusters"]) == pytest.approx(1.0)
    assert sum(c["n_reference"] for c in doc["clusters"]) == 1600
    assert doc["overall"]["drifted"] is True
    crypto = [c for c in doc["clusters"] if "crypto" in c["keywords"]]
    assert crypto and all(c["status"] in ("new", "growing") for c in crypto)
    assert all(c["p_value"] < 0.05 and c["examples"] for c in crypto)


def test_fail_on_drift_exits_1_only_when_drift_is_found(warehouse) -> None:
    drifted = _run("drift", "--db", str(warehouse), "--reference", REF, "--current", CUR,
                   "--fail-on-drift")
    assert drifted.exit_code == 1, drifted.output
    assert drifted.stdout.startswith("DRIFT")
    quiet = _run("drift", "--db", str(warehouse), "--reference", "2026-09-07..2026-09-27",
                 "--current", "2026-09-28..2026-10-04", "--fail-on-drift", "--json")
    assert quiet.exit_code == 0, quiet.output
    doc = json.loads(quiet.stdout)
    assert doc["verdict"]["drifted"] is False and doc["new_topics"] == []


def test_bad_window_and_missing_analysis_are_actionable_errors(
    warehouse, db_path, monkeypatch, capsys
) -> None:
    for argv, expect in (
        (["drift", "--db", str(warehouse), "--reference", "last week"], "2026-09-01..2026-09-28"),
        (["drift", "--db", str(db_path)], "reviewdeck analyze"),
    ):
        monkeypatch.setattr(sys, "argv", ["reviewdeck", *argv])
        with pytest.raises(SystemExit) as exc:
            main()  # the one place errors become exit codes
        assert exc.value.code == 2
        assert expect in capsys.readouterr().err
