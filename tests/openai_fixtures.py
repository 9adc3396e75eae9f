"""Pytest fixtures around tests/openai_stub.py, for any test package that needs an OpenAI API.

Import the fixture into a test module (or a conftest) with
``from tests.openai_fixtures import openai_server`` and use it as an argument; it yields a
running ``OpenAIStub`` (``.base_url``, ``.api_key``, ``.set_reply``, ``.fail_next``,
``.count``...). ``openai_env`` additionally points ``OPENAI_BASE_URL``/``OPENAI_API_KEY`` and
the reviewdeck endpoint variables at it, for code (and Streamlit AppTest pages) that read the
environment.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.openai_stub import OpenAIStub

STUB_API_KEY = "sk-stub-test-key-0123456789"


@pytest.fixture
def openai_server() -> Iterator[OpenAIStub]:
    """A fresh stub per test on 127.0.0.1:<ephemeral>, requiring STUB_API_KEY."""
    with OpenAIStub(api_key=STUB_API_KEY) as stub:
        yield stub


@pytest.fixture
def openai_env(openai_server: OpenAIStub, monkeypatch: pytest.MonkeyPatch) -> OpenAIStub:
    """The stub plus environment variables naming it as the default endpoint."""
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", STUB_API_KEY)
    monkeypatch.setenv("REVIEWDECK_ENDPOINT_STUB_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("REVIEWDECK_ENDPOINT_STUB_API_KEY", STUB_API_KEY)
    return openai_server
