"""dashboard.cache: misses inside shared_connection() open the warehouse once, writes still work,
and nothing holds the file once the block ends."""

from __future__ import annotations

import pytest

import ingest.db
from dashboard import cache
from ingest.db import connect


def _count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _note(con, text: str) -> None:
    con.execute(
        "INSERT INTO rejects (file_id, path, line_no, reason, raw_text) VALUES (0, ?, 1, 'x', '')",
        [text],
    )


@pytest.fixture
def opens(db_path, monkeypatch) -> list[bool]:
    monkeypatch.setenv("REVIEWDECK_DB", str(db_path))
    cache._cached.clear()
    seen: list[bool] = []
    real = ingest.db.open_connection

    def counting(path, *, read_only=False, timeout_s=None):
        seen.append(read_only)
        return real(path, read_only=read_only, timeout_s=timeout_s)

    monkeypatch.setattr(ingest.db, "open_connection", counting)
    return seen


def test_misses_in_a_block_share_one_connection(opens) -> None:
    with cache.shared_connection():
        assert cache.query(_count, "events") == 0
        assert cache.query(_count, "feedback") == 0
        assert cache.query(_count, "rejects") == 0
    assert opens == [True]
    # Outside a block every miss opens (and closes) its own connection.
    cache._cached.clear()
    cache.query(_count, "events")
    cache.query(_count, "feedback")
    assert opens == [True, True, True]


def test_a_write_in_a_block_releases_the_shared_connection(opens, db_path) -> None:
    with cache.shared_connection():
        assert cache.query(_count, "rejects") == 0
        cache.write(_note, "from the page")  # DuckDB would refuse it beside a read-only one
        cache._cached.clear()
        assert cache.query(_count, "rejects") == 1  # a new miss reopens, and sees the write
    assert opens == [True, False, True]
    # After the block nothing in this process holds the file: a writer opens it.
    with connect(db_path) as con:
        assert _count(con, "rejects") == 1


def test_the_block_closes_its_connection_when_the_page_stops(opens, db_path) -> None:
    class Stop(Exception):  # what st.stop() raises through a page run
        pass

    with pytest.raises(Stop), cache.shared_connection():
        cache.query(_count, "events")
        raise Stop
    with connect(db_path) as con:
        _note(con, "after the stop")
