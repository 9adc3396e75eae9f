"""The per-connect schema check is one query and leaves an up-to-date warehouse untouched."""

from __future__ import annotations

import duckdb
import pytest

from ingest.db import connect, open_connection, warehouse_stamp
from ingest.errors import WarehouseError
from ingest.migrations import applied_versions, latest_version, migrate


def test_a_file_without_the_migrations_table_has_nothing_applied(tmp_path):
    path = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE something (a INTEGER)")
    assert applied_versions(con) == set()
    con.close()
    with pytest.raises(WarehouseError, match="older than this reviewdeck"):
        with connect(path, read_only=True):
            pass
    with connect(path) as c:  # a writer creates the table and applies everything
        assert applied_versions(c) == set(range(1, latest_version() + 1))


def test_writer_on_an_up_to_date_warehouse_writes_nothing(db_path):
    before = warehouse_stamp(db_path)
    for _ in range(3):
        with connect(db_path) as c:
            assert migrate(c) == []
    assert warehouse_stamp(db_path) == before


def test_a_newer_schema_is_refused_by_writers_and_readers(db_path):
    con = open_connection(db_path)
    con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, 'future')",
                [latest_version() + 1])
    con.close()
    for read_only in (False, True):
        with pytest.raises(WarehouseError, match="newer than this reviewdeck"):
            with connect(db_path, read_only=read_only):
                pass
