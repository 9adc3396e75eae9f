"""Fixtures every test package shares: a fresh warehouse file per test, paths to shared data."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.db import connect

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "fixtures"
BANKING77 = SHARED / "data" / "banking77"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A migrated, empty warehouse file in the test's own temporary folder."""
    path = tmp_path / "warehouse.duckdb"
    with connect(path):
        pass
    return path


@pytest.fixture
def con(db_path: Path):
    """A writable connection to a fresh warehouse, closed after the test."""
    with connect(db_path) as connection:
        yield connection
