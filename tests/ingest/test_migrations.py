import pytest

from ingest.db import connect
from ingest.migrations import applied_versions, latest_version


def test_fresh_warehouse_has_every_migration(db_path):
    with connect(db_path, read_only=True) as con:
        assert applied_versions(con) == set(range(1, latest_version() + 1))
        columns = {r[0] for r in con.execute("DESCRIBE events").fetchall()}
    assert {"event_id", "ts", "input_messages", "rerun_of", "raw", "tags"} <= columns


def test_warehouse_of_an_older_schema_is_upgraded_in_place_and_keeps_its_data(tmp_path):
    """Build a version-1 warehouse by hand (only m001), as an old reviewdeck left it."""
    from datetime import UTC, datetime

    from ingest.db import open_connection
    from ingest.errors import WarehouseError
    from ingest.load.loader import load_source
    from ingest.load.read import Source
    from ingest.migrations import m001_core, migrate

    path = tmp_path / "old.duckdb"
    con = open_connection(path)
    con.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    m001_core.up(con)
    con.execute("INSERT INTO schema_migrations (version, name) VALUES (1, 'core')")
    con.execute(
        "INSERT INTO events (event_id, ts, source_format, input_text) "
        "VALUES ('old1', TIMESTAMPTZ '2026-01-05 10:00:00+00', 'native', 'from before')"
    )
    con.execute(
        "INSERT INTO feedback (feedback_id, event_id, name, kind, value, source) "
        "VALUES ('f1', 'old1', 'thumbs', 'vote', 1, 'user')"
    )
    con.close()

    with pytest.raises(WarehouseError, match="older than this reviewdeck"):
        with connect(path, read_only=True):
            pass
    with connect(path) as con:  # a writer upgrades it
        assert applied_versions(con) == set(range(1, latest_version() + 1))
        assert migrate(con) == []  # and a second run has nothing left to do
    log = tmp_path / "new.jsonl"
    log.write_text('{"event_id": "new1", "ts": "2026-11-02T09:00:00Z"}\n')
    assert load_source(path, Source(str(log), log)).events_inserted == 1
    with connect(path, read_only=True) as con:
        rows = con.execute("SELECT event_id, ts, input_text FROM events ORDER BY ts").fetchall()
        fb = con.execute("SELECT feedback_id, event_id FROM feedback").fetchall()
    assert rows[0] == ("old1", datetime(2026, 1, 5, 10, tzinfo=UTC), "from before")
    assert rows[1][0] == "new1" and fb == [("f1", "old1")]
