"""Fixtures every test package shares: a fresh warehouse file per test, paths to shared data.

`DATA` is the project's own fixtures (tests/data, made by its scripts from the real libraries);
`FIXTURES` is ../shared/fixtures, files other projects wrote, read only as a cross-check where
that folder exists: tests on it carry `needs_shared`, so a bare clone skips them with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.db import connect

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "fixtures"
BANKING77 = SHARED / "data" / "banking77"
DATA = REPO / "tests" / "data"

# REVIEWDECK_TESTS_WITHOUT_SHARED=1 runs the suite as a bare clone would, with ../shared present.
HAS_SHARED_FIXTURES = FIXTURES.is_dir() and not os.environ.get("REVIEWDECK_TESTS_WITHOUT_SHARED")
needs_shared = pytest.mark.skipif(
    not HAS_SHARED_FIXTURES,
    reason="../shared/fixtures not found: cross-check against files written by other projects "
    "runs where it exists",
)


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
