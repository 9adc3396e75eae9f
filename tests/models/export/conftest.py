"""The session's small demo warehouse (read it through copies: tests may write)."""

from __future__ import annotations

import pytest

from tests.models.export.export_data import build_demo


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory.mktemp("export_demo"))
