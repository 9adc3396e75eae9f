"""Kept results (dashboard/stored.py) and `reviewdeck warm`: a heavy query's result outlives the
in-memory cache while the warehouse is unchanged, goes stale with any write, is never loaded
from a file others could have written, and warm fills it for every heavy page."""

from __future__ import annotations

import logging
import os

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from dashboard import cache, stored
from dashboard.cli import app
from dashboard.queries import overview, weekly
from dashboard.warm import APP, PAGES
from ingest.db import connect, warehouse_stamp
from models.filters import EventFilter
from tests.models import report_fixtures

HIT = "read the kept result of"


@pytest.fixture
def planted(db_path, monkeypatch):
    with connect(db_path) as con:
        report_fixtures.plant(con, per_group=60)
    monkeypatch.setenv("REVIEWDECK_DB", str(db_path))
    cache._cached.clear()
    yield db_path
    cache._cached.clear()


def _overview():
    return cache.query(overview.overview_data, EventFilter())


def _hits(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(HIT)]


def test_a_kept_result_is_read_back_once_the_memory_cache_is_gone(planted, caplog):
    first = _overview()
    files = list(stored.folder(planted).glob("*.pickle"))
    assert len(files) == 1
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"
    cache._cached.clear()  # as a restarted server
    with caplog.at_level(logging.DEBUG, logger="dashboard.stored"):
        again = _overview()
    assert _hits(caplog) == [f"{HIT} dashboard.queries.overview:overview_data from {files[0].name}"]
    assert again.totals == first.totals


def test_any_write_makes_kept_results_stale(planted, caplog):
    before = _overview().totals.events
    with connect(planted) as con:
        report_fixtures.insert(con, [{
            "event_id": "late-event", "ts": report_fixtures.dt.datetime(2026, 11, 3, tzinfo=
                                                                       report_fixtures.dt.UTC),
            "model": "gpt-4o", "prompt_version": "v1", "input_text": "q", "output_text": "a",
            "tags": ["intent:billing"], "status": "ok", "latency_ms": 1.0, "cost_usd": 0.0,
            "environment": "production",
        }], [])
    cache._cached.clear()
    with caplog.at_level(logging.DEBUG, logger="dashboard.stored"):
        after = _overview().totals.events
    assert _hits(caplog) == []
    assert after == before + 1
    # the new state's result replaced the old state's: one file per call
    (only,) = stored.folder(planted).glob("*.pickle")
    assert stored._stamp_tag(warehouse_stamp(planted)) in only.name
    assert stored.clear_stale(str(planted)) == 0


def test_clear_stale_drops_other_states_results(planted):
    _overview()
    with connect(planted) as con:
        con.execute("CREATE TABLE touched (x INT)")  # any write: a new state
    assert stored.clear_stale(str(planted)) == 1
    assert list(stored.folder(planted).glob("*.pickle")) == []


def test_a_result_computed_across_a_write_is_not_kept(planted):
    stamp = warehouse_stamp(planted)
    with connect(planted) as con:  # a writer commits after the stamp was taken
        con.execute("CHECKPOINT")
        report_fixtures.insert(con, [], [{
            "feedback_id": "x", "event_id": "2026-W40-intent:billing-1", "name": "thumbs",
            "kind": "vote", "value": 1.0, "source": "user",
            "ts": report_fixtures.dt.datetime(2026, 10, 1, tzinfo=report_fixtures.dt.UTC),
        }])
    assert warehouse_stamp(planted) != stamp
    assert not stored.store(str(planted), stamp, "m:f", (), (), {"x": 1})
    assert not stored.folder(planted).exists() or not list(stored.folder(planted).glob("*"))


def test_a_file_others_could_write_is_not_loaded(planted):
    _overview()
    (path,) = stored.folder(planted).glob("*.pickle")
    os.chmod(path, 0o666)
    hit, _ = stored.load(str(planted), warehouse_stamp(planted),
                         "dashboard.queries.overview:overview_data", (EventFilter(),), ())
    assert not hit
    os.chmod(path, 0o600)
    hit, _ = stored.load(str(planted), warehouse_stamp(planted),
                         "dashboard.queries.overview:overview_data", (EventFilter(),), ())
    assert hit


def test_arguments_without_a_stable_repr_are_not_kept():
    assert stored._key("m:f", (object(),), ()) is None
    assert stored._key("m:f", (EventFilter(models=("a",)),), ()) == stored._key(
        "m:f", (EventFilter(models=("a",)),), ())
    assert stored._key("m:f", (EventFilter(models=("a",)),), ()) != stored._key(
        "m:f", (EventFilter(models=("b",)),), ())


def test_warm_stores_every_heavy_page_and_the_next_visit_reads_them(planted, caplog):
    result = CliRunner().invoke(app, ["warm", "--db", str(planted)])
    assert result.exit_code == 0, result.output
    assert f"{len(PAGES)} of {len(PAGES)} page(s) warmed" in result.output
    assert len(list(stored.folder(planted).glob("*.pickle"))) >= 5
    with connect(planted, read_only=True) as con:
        default = weekly.week_choices(con).default
    assert (planted.parent / f"{planted.name}.reports" / f"{default}.json").exists()

    cache._cached.clear()  # a new server: nothing in memory
    with caplog.at_level(logging.DEBUG, logger="dashboard.stored"):
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.switch_page("app_pages/trends.py")
        at.run()
    assert not at.exception
    read = {m.split()[5] for m in _hits(caplog)}
    assert {"dashboard.queries.trends:headline", "dashboard.queries.trends:moved"} <= read


def test_warm_names_an_unknown_page(planted):
    result = CliRunner().invoke(app, ["warm", "--db", str(planted), "--page", "nope"])
    assert result.exit_code != 0
    assert "nope" in result.output
