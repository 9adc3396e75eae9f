"""`reviewdeck check` end to end on small real warehouses: a planted regression fires and exits
1, a steady week fires nothing and exits 0, thresholds, an evaluator's rising fail rate, the
webhook's posted JSON (a real HTTP server on 127.0.0.1), bad config."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from ingest.load.derived import refresh
from tests.models.trends_fixtures import add_events

W1 = dt.date(2026, 11, 2)  # 2026-W45
W2 = dt.date(2026, 11, 9)  # 2026-W46, the week checked
W3 = dt.date(2026, 11, 16)  # makes W46 complete


def _plant(db_path, *, error_now: float = 0.02, negative_now: float = 0.1) -> None:
    with connect(db_path) as con:
        add_events(con, start=W1, n=600, error=0.02, negative=0.1)
        add_events(con, start=W2, n=600, error=error_now, negative=negative_now)
        add_events(con, start=W3, n=20, days=1)


def _run(db_path, *args: str):
    result = CliRunner().invoke(app, ["check", "--db", str(db_path), "--json", *args])
    doc = json.loads(result.stdout) if result.stdout.strip().startswith("{") else None
    return result, doc


def _check(doc, check: str, key: str | None = None) -> dict:
    (row,) = [c for c in doc["checks"] if c["check"] == check and (key is None or c["key"] == key)]
    return row


def test_planted_regression_fires_headline_and_exits_1(db_path):
    _plant(db_path, error_now=0.12, negative_now=0.25)
    result, doc = _run(db_path)
    assert result.exit_code == 1, result.output
    assert doc["period"]["label"] == "2026-W46"  # the last complete week by default
    err = _check(doc, "headline", "error")
    assert err["fired"] and err["value"] > err["reference"]
    assert err["q_value"] < 0.05 and err["p_value"] <= err["q_value"]
    assert _check(doc, "headline", "negative")["fired"]
    assert err["link"].startswith("http://localhost:8501/trends?")
    new_topic = _check(doc, "new_topic")
    assert new_topic["status"] == "skipped" and "analyze" in new_topic["detail"]


def test_steady_week_fires_nothing_and_exits_0(db_path):
    _plant(db_path)
    result, doc = _run(db_path, "--week", "2026-W46")
    assert result.exit_code == 0, result.output
    assert doc["fired"] is False and doc["n_fired"] == 0
    assert doc["family"]["n_tests"] >= 5  # every judged headline metric was tested
    assert all(c["status"] != "fired" for c in doc["checks"])
    text = CliRunner().invoke(app, ["check", "--db", str(db_path), "--week", "2026-W46"])
    assert text.exit_code == 0 and "no alert" in text.output and "p=" in text.output


def test_improvement_is_not_an_alert(db_path):
    with connect(db_path) as con:
        add_events(con, start=W1, n=600, error=0.15)
        add_events(con, start=W2, n=600, error=0.01)
    result, doc = _run(db_path, "--week", "2026-W46")
    assert result.exit_code == 0, result.output
    err = _check(doc, "headline", "error")
    assert err["q_value"] < 0.05 and not err["fired"]  # significant, but better


def test_a_tiny_significant_change_fires_only_without_min_change(db_path, tmp_path):
    # latency 800 → 812 ms (+1.5%) on 600 calls a week, each week's spread ±20 ms: the t-test
    # calls it real, but under the default min_change (5% of the previous value) it is no alert
    with connect(db_path) as con:
        add_events(con, start=W1, n=600, latency_ms=800.0)
        add_events(con, start=W2, n=600, latency_ms=812.0)
        add_events(con, start=W3, n=20, days=1)
    result, doc = _run(db_path)
    lat = _check(doc, "headline", "latency")
    assert lat["p_value"] < 0.001 and not lat["fired"] and "min_change" in lat["detail"]
    assert result.exit_code == 0, result.output
    cfg = tmp_path / "alerts.toml"
    cfg.write_text("[headline]\nmin_change = 0\n")
    result, doc = _run(db_path, "--config", str(cfg))
    assert _check(doc, "headline", "latency")["fired"] and result.exit_code == 1


def test_thresholds(db_path, tmp_path):
    _plant(db_path, error_now=0.08)
    cfg = tmp_path / "alerts.toml"
    cfg.write_text("[headline]\nenabled = false\n[new_topic]\nenabled = false\n"
                   "[thresholds]\nerror_rate = 0.05\ncost_total_usd = 0.5\n"
                   "cost_per_event_usd = 0.01\n")
    result, doc = _run(db_path, "--week", "2026-W46", "--config", str(cfg))
    assert result.exit_code == 1, result.output
    err = _check(doc, "error_rate")
    assert err["fired"] and err["test"] == "binomial (one-sided)" and err["n"] == 600
    total = _check(doc, "cost_total")
    assert total["fired"] and total["value"] == pytest.approx(0.6)  # 600 x $0.001
    assert not _check(doc, "cost_per_event")["fired"]  # $0.001 < $0.01
    # an error rate just over the threshold, not significantly: no alert
    cfg.write_text("[headline]\nenabled = false\n[thresholds]\nerror_rate = 0.075\n")
    result, doc = _run(db_path, "--week", "2026-W46", "--config", str(cfg))
    assert result.exit_code == 0, result.output
    err = _check(doc, "error_rate")
    assert err["value"] > 0.075 and not err["fired"] and err["p_value"] > 0.05


def _verdicts(con, start: dt.date, fail_share: float, n: int, version: str) -> None:
    base = dt.datetime.combine(start, dt.time(), dt.UTC)
    ids = [r[0] for r in con.execute(
        "SELECT event_id FROM events WHERE ts >= ? AND ts < ? ORDER BY event_id LIMIT ?",
        [base, base + dt.timedelta(days=7), n]).fetchall()]
    for i, eid in enumerate(ids):
        fail = i < fail_share * len(ids)
        con.execute(
            "INSERT INTO feedback (feedback_id, event_id, name, kind, value, label, source, "
            "evaluator_version, author) VALUES (?, ?, 'helpful', 'score', ?, ?, 'llm_judge', ?, "
            "'judge')", [f"h-{version}-{eid}", eid, 0.0 if fail else 1.0,
                         "fail" if fail else "pass", version])


def test_evaluator_fail_rate_rise_fires(db_path, tmp_path):
    _plant(db_path)
    with connect(db_path) as con:
        _verdicts(con, W1, 0.10, 300, "2")
        _verdicts(con, W2, 0.30, 300, "2")
        refresh(con)
    cfg = tmp_path / "alerts.toml"
    cfg.write_text("[headline]\nenabled = false\n[evaluators]\nnames = ['helpful']\n")
    result, doc = _run(db_path, "--week", "2026-W46", "--config", str(cfg))
    assert result.exit_code == 1, result.output
    row = _check(doc, "evaluator")
    assert row["key"] == "helpful@2" and row["fired"]
    assert row["n"] == 300 and row["value"] == pytest.approx(0.3)
    assert row["reference"] == pytest.approx(0.1)


class _Hook(BaseHTTPRequestHandler):
    posted: list = []
    status = 200

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.posted.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(_Hook.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.posted, _Hook.status = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_webhook_posts_slack_and_json(db_path, hook, monkeypatch):
    monkeypatch.setenv("REVIEWDECK_APP_URL", "https://rd.example.org")
    _plant(db_path, error_now=0.12)
    result, doc = _run(db_path, "--week", "2026-W46", "--webhook", hook)
    assert result.exit_code == 1, result.output
    assert doc["webhook"]["ok"] is True
    ctype, payload = _Hook.posted[-1]
    assert ctype == "application/json"
    assert payload["text"].startswith("reviewdeck: ") and "2026-W46" in payload["text"]
    assert "Error rate" in payload["text"]
    assert "https://rd.example.org/trends?" in payload["text"]
    assert payload["blocks"][0]["type"] == "header"
    result, doc = _run(db_path, "--week", "2026-W46", "--webhook", hook,
                       "--webhook-format", "json")
    _, payload = _Hook.posted[-1]
    assert payload["format"] == "reviewdeck-check/1" and payload["n_fired"] == doc["n_fired"]
    assert payload["links"]["weekly"] == "https://rd.example.org/weekly?week=2026-W46"


def test_failing_webhook_exits_3_and_still_prints(db_path, hook):
    _plant(db_path, error_now=0.12)
    _Hook.status = 500
    result = CliRunner().invoke(app, ["check", "--db", str(db_path), "--week", "2026-W46",
                                      "--webhook", hook])
    assert result.exit_code == 3
    assert "ALERT" in result.stdout and "HTTP 500" in result.output


@pytest.mark.parametrize(("text", "expected"), [
    ("[headline]\nmetrics = ['nope']\n", "[headline] unknown metric 'nope'"),
    ("[thresholds]\nerror_rate = 1.5\n", "[thresholds] error_rate = 1.5"),
    ("[evaluator]\n", "[evaluator] unknown check"),
    ("[headline]\nenabled = 'yes'\n", "[headline] enabled = 'yes' must be true or false"),
    ("alpha = 2\n", "[alpha] alpha = 2"),
    ("[headline\n", "not valid TOML"),
])
def test_bad_config_exits_2_naming_file_and_check(db_path, tmp_path, capsys, text, expected):
    from dashboard.cli import main

    _plant(db_path)
    cfg = tmp_path / "alerts.toml"
    cfg.write_text(text)
    import sys

    argv = sys.argv
    sys.argv = ["reviewdeck", "check", "--db", str(db_path), "--config", str(cfg)]
    try:
        with pytest.raises(SystemExit) as exc:
            main()
    finally:
        sys.argv = argv
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert str(cfg) in err and expected in err


def test_bad_config_message(tmp_path):
    from models.alerts.config import AlertConfigError, load_config

    cfg = tmp_path / "alerts.toml"
    cfg.write_text("[headline]\nmetrics = ['nope']\n")
    with pytest.raises(AlertConfigError, match=r"alerts\.toml: \[headline\] unknown metric"):
        load_config(cfg)
    with pytest.raises(AlertConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml")


def test_example_config_is_valid():
    from pathlib import Path

    from models.alerts.config import load_config

    cfg = load_config(Path(__file__).parents[3] / "examples" / "alerts.toml")
    assert cfg.thresholds.error_rate == 0.05 and cfg.new_topic.min_events == 5
