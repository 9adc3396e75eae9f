"""The events list's feedback column: read from trend_facts (migration 008), and right whether
the writer refreshed trend_facts, did not, or the warehouse predates the column.

The expected names come from the test's own SQL over `feedback`, the table they summarise.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.queries.explorer import page_of_events
from ingest.db import connect
from ingest.load import derived
from models.filters import EventFilter
from tests.e2e.seed import MODELS, seed

ALL_LLM = EventFilter(reruns="include")


def _expected(con, ids: list[str]) -> dict[str, str | None]:
    rows = con.execute(
        "SELECT event_id, string_agg(DISTINCT name, ', ' ORDER BY name) FROM feedback"
        " WHERE event_id IS NOT NULL GROUP BY event_id"
    ).fetchall()
    names = dict(rows)
    return {i: names.get(i) for i in ids}


def _shown(db: Path, flt: EventFilter, offset: int = 0) -> dict[str, str | None]:
    with connect(db, read_only=True) as con:
        page = page_of_events(con, flt, offset=offset)
    return dict(zip(page["event_id"].to_list(), page["feedback"].to_list(), strict=True))


def _check_pages(db: Path, flt: EventFilter, pages: int = 3) -> int:
    """Every row of the first pages shows its feedback names; returns how many rows had some."""
    with_names = 0
    for p in range(pages):
        shown = _shown(db, flt, offset=50 * p)
        assert shown, f"page {p} is empty"
        with connect(db, read_only=True) as con:
            assert shown == _expected(con, list(shown))
        with_names += sum(1 for v in shown.values() if v)
    return with_names


@pytest.fixture()
def refreshed(tmp_path: Path) -> Path:
    db = seed(tmp_path / "w.duckdb", n=400)
    with connect(db) as con:
        derived.refresh(con)
    return db


def test_names_from_refreshed_facts_match_feedback(refreshed):
    assert _check_pages(refreshed, ALL_LLM) > 0
    with connect(refreshed, read_only=True) as con:  # the page read them from trend_facts
        assert con.execute("SELECT count(*) FROM trend_facts WHERE feedback_names IS NOT NULL"
                           ).fetchall()[0][0] > 0
    # A filtered list, where the page's time range is narrower than the whole warehouse.
    assert _check_pages(refreshed, EventFilter(status="ok", models=(MODELS[1],)), 2) > 0


def test_events_loaded_without_a_refresh_still_show_their_feedback(tmp_path):
    db = seed(tmp_path / "w.duckdb", n=400)  # direct SQL inserts: trend_facts is empty
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM trend_facts").fetchall()[0][0] == 0
    assert _check_pages(db, ALL_LLM) > 0


def test_a_mix_of_folded_and_unfolded_events(refreshed):
    with connect(refreshed) as con:  # a writer that does not call derived.refresh
        con.execute(
            "INSERT INTO events (event_id, ts, kind, source_format) VALUES"
            " ('late-1', TIMESTAMPTZ '2030-01-01 00:00:00+00', 'llm', 'native'),"
            " ('late-2', TIMESTAMPTZ '2030-01-01 00:01:00+00', 'llm', 'native')"
        )
        con.execute(
            "INSERT INTO feedback (feedback_id, event_id, name, kind, value, source) VALUES"
            " ('late-f1', 'late-1', 'thumbs', 'vote', 0, 'user'),"
            " ('late-f2', 'late-1', 'edited', 'implicit', 0.4, 'user')"
        )
    shown = _shown(refreshed, ALL_LLM)
    assert shown["late-1"] == "edited, thumbs" and shown["late-2"] is None
    assert _check_pages(refreshed, ALL_LLM) > 0


def test_a_warehouse_from_before_the_column_is_filled_by_the_migration(refreshed):
    with connect(refreshed) as con:  # undo migration 008, as a warehouse at version 7 is
        con.execute("ALTER TABLE trend_facts DROP COLUMN feedback_names")
        con.execute("DELETE FROM schema_migrations WHERE version = 8")
    with connect(refreshed) as con:  # a writer upgrades it
        assert 8 in {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
        folded = con.execute("SELECT count(*) FROM trend_facts WHERE feedback_names IS NOT NULL"
                             ).fetchall()[0][0]
    assert folded > 0
    assert _check_pages(refreshed, ALL_LLM) > 0
