"""The Overview page through Streamlit's AppTest, over a small seeded warehouse.

Expected numbers are computed here with SQL of the test's own, so a page that ignores a filter
or counts the wrong rows fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ingest.db import connect
from tests.e2e.seed import MODELS, seed

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed(tmp_path_factory.mktemp("overview") / "warehouse.duckdb")


def _sql(db: Path, sql: str, params: list | None = None):
    with connect(db, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()[0]


def _app(db: Path, monkeypatch: pytest.MonkeyPatch, **query: str | list[str]) -> AppTest:
    monkeypatch.setenv("REVIEWDECK_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_totals_match_the_warehouse(seeded, monkeypatch):
    at = _app(seeded, monkeypatch)
    assert not at.exception and not at.error
    n, errors, cost = _sql(
        seeded,
        "SELECT count(*), count(*) FILTER (WHERE status = 'error'), sum(cost_usd) "
        "FROM events WHERE kind = 'llm' AND rerun_of IS NULL",
    )
    assert _metric(at, "Events") == f"{n:,}"
    assert _metric(at, "Error rate") == f"{errors / n:.2%}"
    assert _metric(at, "Cost") == f"${cost:,.2f}"
    models = at.dataframe[0].value
    assert sorted(models["model"]) == sorted(
        r for r in _sql(seeded, "SELECT list(DISTINCT model) FROM events")[0]
    )
    assert int(models["events"].sum()) == n


def test_model_filter_from_the_url_changes_the_numbers(seeded, monkeypatch):
    model = MODELS[1]
    at = _app(seeded, monkeypatch, model=model)
    assert not at.exception and not at.error
    n, errors = _sql(
        seeded,
        "SELECT count(*), count(*) FILTER (WHERE status = 'error') FROM events "
        "WHERE kind = 'llm' AND rerun_of IS NULL AND model = ?",
        [model],
    )
    total = _sql(seeded, "SELECT count(*) FROM events WHERE kind = 'llm' AND rerun_of IS NULL")[0]
    assert n < total
    assert _metric(at, "Events") == f"{n:,}"
    assert _metric(at, "Error rate") == f"{errors / n:.2%}"
    assert at.multiselect(key="filter_models").value == [model]
    assert list(at.dataframe[0].value["model"]) == [model]


def test_date_and_prompt_filters_combine(seeded, monkeypatch):
    at = _app(seeded, monkeypatch, start="2026-11-03", end="2026-11-04", prompt_version="v2")
    n = _sql(
        seeded,
        "SELECT count(*) FROM events WHERE kind = 'llm' AND rerun_of IS NULL "
        "AND prompt_version = 'v2' "
        "AND ts >= '2026-11-03 00:00:00+00' AND ts < '2026-11-05 00:00:00+00'",
    )[0]
    assert 0 < n
    assert _metric(at, "Events") == f"{n:,}"
    prompts = at.dataframe[1].value
    assert list(prompts["prompt_version"]) == ["v2"]


def test_sidebar_change_updates_numbers_and_url(seeded, monkeypatch):
    at = _app(seeded, monkeypatch)
    before = _metric(at, "Events")
    at.multiselect(key="filter_models").select(MODELS[2]).run()
    n = _sql(
        seeded,
        "SELECT count(*) FROM events WHERE kind = 'llm' AND rerun_of IS NULL AND model = ?",
        [MODELS[2]],
    )
    assert _metric(at, "Events") == f"{n[0]:,}" != before
    value = at.query_params["model"]
    assert ([value] if isinstance(value, str) else list(value)) == [MODELS[2]]


def test_filter_that_matches_nothing_says_so(seeded, monkeypatch):
    at = _app(seeded, monkeypatch, tag="topic:never-seen")
    assert not at.exception and not at.error
    assert not at.metric
    assert any("No events match" in i.value for i in at.info)


def test_empty_warehouse_points_to_the_demo(db_path, monkeypatch):
    at = _app(db_path, monkeypatch)
    assert not at.exception and not at.error
    assert any("reviewdeck demo" in i.value for i in at.info)


def test_missing_warehouse_points_to_the_demo(tmp_path, monkeypatch):
    at = _app(tmp_path / "nothing-here.duckdb", monkeypatch)
    assert not at.exception and not at.error
    assert any("reviewdeck demo" in i.value for i in at.info)
    assert not (tmp_path / "nothing-here.duckdb").exists()


def test_configured_login_hides_the_app_until_signed_in(seeded, monkeypatch):
    monkeypatch.setenv("REVIEWDECK_DB", str(seeded))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "test-secret",
        "client_id": "reviewdeck",
        "client_secret": "x",
        "server_metadata_url": "https://idp.invalid/.well-known/openid-configuration",
    }
    at.run()
    assert not at.exception
    assert not at.metric
    assert [b.key for b in at.button] == ["app_login"]


def test_open_date_range_follows_new_data(tmp_path, monkeypatch):
    """A dashboard left open: after an ingest adds a later day, 'all dates' still means all."""
    db = seed(tmp_path / "w.duckdb", n=100)
    at = _app(db, monkeypatch)
    before = _metric(at, "Events")
    with connect(db) as con:
        con.execute(
            "INSERT INTO events (event_id, ts, kind, model, status, source_format) "
            "SELECT 'late-' || i, TIMESTAMPTZ '2026-11-20 10:00:00+00', 'llm', 'gpt-4.1-mini', "
            "'ok', 'native' FROM range(7) t(i)"
        )
    at.run()
    assert _metric(at, "Events") == f"{int(before.replace(',', '')) + 7:,}"
    assert "end" not in at.query_params
    assert at.date_input(key="filter_dates").value[1].isoformat() == "2026-11-20"


def test_half_picked_and_cleared_date_range(seeded, monkeypatch):
    import datetime as dt

    at = _app(seeded, monkeypatch)
    at.date_input(key="filter_dates").set_value((dt.date(2026, 11, 3),)).run()
    n = _sql(
        seeded,
        "SELECT count(*) FROM events WHERE kind = 'llm' AND rerun_of IS NULL "
        "AND ts >= '2026-11-03 00:00:00+00' AND ts < '2026-11-04 00:00:00+00'",
    )[0]
    assert not at.exception
    assert _metric(at, "Events") == f"{n:,}"
    at.date_input(key="filter_dates").set_value(()).run()
    assert not at.exception
    total = _sql(seeded, "SELECT count(*) FROM events WHERE kind = 'llm' AND rerun_of IS NULL")[0]
    assert _metric(at, "Events") == f"{total:,}"
