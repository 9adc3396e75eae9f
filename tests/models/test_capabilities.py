"""The capability table: each documented adaptation, and user overrides."""

from __future__ import annotations

import json

import pytest

from ingest.errors import ConfigError
from models.rerun.capabilities import adapt_request, rules

MSGS = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}]


def test_reasoning_model_gets_developer_role_and_completion_limit():
    a = adapt_request("o3-mini", MSGS, {"temperature": 0.3, "max_tokens": 100, "top_p": 1})
    assert a.messages[0]["role"] == "developer"
    assert a.params == {"max_completion_tokens": 100}
    assert len(a.changes) == 4  # role, temperature, top_p, max_tokens
    assert MSGS[0]["role"] == "system"  # the caller's messages are untouched


def test_model_without_system_role_gets_it_in_the_first_user_turn():
    a = adapt_request("o1-mini", MSGS, {})
    assert [m["role"] for m in a.messages] == ["user"]
    assert a.messages[0]["content"] == "Be kind.\n\nHi"
    assert a.changes and "system" in a.changes[0]


def test_ordinary_model_keeps_the_request_as_logged():
    a = adapt_request("llama3.1:8b", MSGS, {"temperature": 0.3, "max_tokens": 100})
    assert a.messages == MSGS and a.params == {"temperature": 0.3, "max_tokens": 100}
    assert a.changes == ()


def test_gpt_4o_moves_max_tokens_but_keeps_temperature():
    a = adapt_request("gpt-4o-2024-08-06", MSGS, {"temperature": 0.3, "max_tokens": 10})
    assert a.params == {"temperature": 0.3, "max_completion_tokens": 10}


def test_user_table_overrides(tmp_path, monkeypatch):
    path = tmp_path / "caps.json"
    path.write_text(
        json.dumps({"rules": [{"pattern": "^my-model", "system": "user", "temperature": "drop"}]})
    )
    monkeypatch.setenv("REVIEWDECK_CAPABILITIES", str(path))
    a = adapt_request("my-model-7b", MSGS, {"temperature": 1.0})
    assert a.params == {} and a.messages[0]["role"] == "user"
    path.write_text(json.dumps({"rules": [{"pattern": "x", "system": "assistant"}]}))
    monkeypatch.setenv("REVIEWDECK_CAPABILITIES", str(path) + "x")
    with pytest.raises(ConfigError):
        rules()


def test_shipped_table_ends_with_a_catch_all():
    assert rules()[-1].pattern == ".*"
