"""Named endpoints from the environment and secrets.toml; keys hidden; clients really connect."""

from __future__ import annotations

import pytest

from ingest.errors import ConfigError
from models.rerun.endpoints import HOW_TO_CONFIGURE, get_endpoint, list_endpoints, redact
from models.rerun.llm_client import chat, make_client
from tests.openai_fixtures import STUB_API_KEY, openai_server  # noqa: F401


def test_env_secrets_and_sdk_variables(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[reviewdeck.endpoints.local]\nbase_url = "http://localhost:11434/v1"\n'
        'models = ["llama3.1"]\n'
        '[reviewdeck.endpoints.az]\nbase_url = "https://x.openai.azure.com"\napi_key = "k2"\n'
    )
    env = {
        "REVIEWDECK_ENDPOINT_VLLM_BASE_URL": "http://gpu:8000/v1",
        "REVIEWDECK_ENDPOINT_VLLM_API_KEY": "k1",
        "REVIEWDECK_ENDPOINT_VLLM_MODELS": "a, b",
        "OPENAI_API_KEY": "k3",
    }
    eps = list_endpoints(env, secrets)
    assert set(eps) == {"vllm", "local", "az", "openai"}
    assert eps["vllm"].kind == "compatible" and eps["vllm"].models == ("a", "b")
    assert eps["az"].kind == "azure" and eps["az"].api_version
    assert eps["openai"].kind == "openai" and eps["openai"].base_url is None
    assert eps["local"].api_key is None and eps["local"].models == ("llama3.1",)
    for ep in eps.values():
        assert ep.api_key is None or ep.api_key not in repr(ep) + str(ep) + str(ep.describe())
    assert get_endpoint(None, env, secrets).name == "openai"


def test_no_endpoint_explains_how_to_configure(tmp_path):
    with pytest.raises(ConfigError) as exc:
        get_endpoint(None, {}, tmp_path / "none.toml")
    assert str(exc.value) == HOW_TO_CONFIGURE
    assert "REVIEWDECK_ENDPOINT_" in HOW_TO_CONFIGURE and "secrets.toml" in HOW_TO_CONFIGURE
    with pytest.raises(ConfigError, match="no endpoint named 'x'"):
        get_endpoint("x", {"OPENAI_API_KEY": "k"}, tmp_path / "none.toml")


def test_bad_kind_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match="kind"):
        list_endpoints(
            {"REVIEWDECK_ENDPOINT_A_BASE_URL": "http://x", "REVIEWDECK_ENDPOINT_A_KIND": "bedrock"},
            tmp_path / "none.toml",
        )


def test_openai_and_azure_clients_reach_the_server(openai_server, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setenv("REVIEWDECK_SECRETS", str(tmp_path / "none.toml"))
    monkeypatch.setenv("REVIEWDECK_ENDPOINT_STUB_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("REVIEWDECK_ENDPOINT_STUB_API_KEY", STUB_API_KEY)
    monkeypatch.setenv("REVIEWDECK_ENDPOINT_AZ_BASE_URL", openai_server.azure_endpoint)
    monkeypatch.setenv("REVIEWDECK_ENDPOINT_AZ_API_KEY", STUB_API_KEY)
    monkeypatch.setenv("REVIEWDECK_ENDPOINT_AZ_KIND", "azure")
    for name in ("stub", "az"):
        res = chat(
            make_client(get_endpoint(name)),
            "gpt-4o",
            [{"role": "user", "content": "hi"}],
            {},
            stream=True,
        )
        assert res.status == "ok" and res.text == "[gpt-4o] answer to: hi"
        assert res.tokens_out > 0
    assert openai_server.requests[-1]["headers"]["api-key"] == STUB_API_KEY
    assert redact(f"bad key {STUB_API_KEY}") == "bad key ***"
