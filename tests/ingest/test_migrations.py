from ingest.db import connect
from ingest.migrations import applied_versions, latest_version


def test_fresh_warehouse_has_every_migration(db_path):
    with connect(db_path, read_only=True) as con:
        assert applied_versions(con) == set(range(1, latest_version() + 1))
        columns = {r[0] for r in con.execute("DESCRIBE events").fetchall()}
    assert {"event_id", "ts", "input_messages", "rerun_of", "raw", "tags"} <= columns
