"""Named OpenAI-compatible endpoints (OpenAI, Azure OpenAI, a local vLLM or Ollama server).

A rerun names an endpoint rather than carrying a URL and a key around, so keys stay in the
environment or in `.streamlit/secrets.toml` and never travel through the warehouse, the page or
a log line. Where an endpoint comes from, first match wins per name:

1. environment: ``REVIEWDECK_ENDPOINT_<NAME>_BASE_URL`` (required to declare it), ``_API_KEY``,
   ``_API_VERSION`` (Azure), ``_KIND`` (``openai`` | ``azure`` | ``compatible``), ``_MODELS``
   (comma-separated names offered in the model picker);
2. the secrets file (``$REVIEWDECK_SECRETS``, else ``./.streamlit/secrets.toml``, else
   ``~/.streamlit/secrets.toml``), tables
   ``[reviewdeck.endpoints.<name>]`` with keys ``base_url``, ``api_key``, ``api_version``,
   ``kind``, ``models``;
3. the SDK's own variables: ``OPENAI_API_KEY`` (+ ``OPENAI_BASE_URL``) declare ``openai``;
   ``AZURE_OPENAI_ENDPOINT`` + ``AZURE_OPENAI_API_KEY`` (+ ``OPENAI_API_VERSION``) declare
   ``azure``.

`Endpoint` hides its key from repr/str and `describe()`; the key is read only by the client
factory in models/rerun/llm_client.py.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.errors import ConfigError

ENV_PREFIX = "REVIEWDECK_ENDPOINT_"
SECRETS_ENV = "REVIEWDECK_SECRETS"
DEFAULT_SECRETS = Path(".streamlit") / "secrets.toml"
KINDS = ("openai", "azure", "compatible")
DEFAULT_AZURE_API_VERSION = "2024-10-21"

HOW_TO_CONFIGURE = """\
No model endpoint is configured. Configure one, then reload:

  # OpenAI
  export OPENAI_API_KEY=sk-...
  # any OpenAI-compatible server (vLLM, Ollama, LM Studio...), named "local"
  export REVIEWDECK_ENDPOINT_LOCAL_BASE_URL=http://localhost:11434/v1
  export REVIEWDECK_ENDPOINT_LOCAL_MODELS=llama3.1,qwen2.5
  # Azure OpenAI, named "azure"
  export REVIEWDECK_ENDPOINT_AZURE_BASE_URL=https://RESOURCE.openai.azure.com
  export REVIEWDECK_ENDPOINT_AZURE_API_KEY=...
  export REVIEWDECK_ENDPOINT_AZURE_API_VERSION=2024-10-21

or in .streamlit/secrets.toml (git-ignored):

  [reviewdeck.endpoints.local]
  base_url = "http://localhost:8000/v1"
  api_key = "token-if-any"
  models = ["meta-llama/Llama-3.1-8B-Instruct"]

Keys are read from there at call time and never stored in the warehouse or shown."""

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Endpoint:
    name: str
    base_url: str | None
    kind: str = "compatible"
    api_version: str | None = None
    models: tuple[str, ...] = ()
    source: str = "env"  # where it was declared: env | secrets | openai-env | azure-env
    api_key: str | None = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}, {self.base_url or 'api.openai.com'})"

    @property
    def has_key(self) -> bool:
        return bool(self.api_key)

    def describe(self) -> dict[str, Any]:
        """Everything safe to show or store: never the key, only whether one is set."""
        return {"name": self.name, "kind": self.kind, "base_url": self.base_url,
                "api_version": self.api_version, "models": list(self.models),
                "source": self.source, "has_key": self.has_key}


def _infer_kind(name: str, base_url: str | None, api_version: str | None, kind: str | None) -> str:
    if kind:
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise ConfigError(f"endpoint {name!r}: kind={kind!r}; use one of {', '.join(KINDS)}")
        return kind
    if (base_url and ".openai.azure.com" in base_url) or api_version:
        return "azure"
    if not base_url or "api.openai.com" in base_url:
        return "openai"
    return "compatible"


def _models(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return tuple(s for s in (str(i).strip() for i in items) if s)


def _make(name: str, values: dict[str, Any], source: str) -> Endpoint:
    name = name.strip().lower()
    if not _NAME.match(name):
        raise ConfigError(f"endpoint name {name!r}: use letters, digits, '-' or '_'")
    base_url = (values.get("base_url") or "").strip() or None
    api_version = (values.get("api_version") or "").strip() or None
    kind = _infer_kind(name, base_url, api_version, values.get("kind"))
    if kind == "azure":
        if not base_url:
            raise ConfigError(f"endpoint {name!r} is Azure but has no base_url "
                              "(https://RESOURCE.openai.azure.com)")
        api_version = api_version or DEFAULT_AZURE_API_VERSION
    return Endpoint(name=name, base_url=base_url, kind=kind, api_version=api_version,
                    models=_models(values.get("models")), source=source,
                    api_key=(values.get("api_key") or None))


def _from_env(env: dict[str, str]) -> dict[str, Endpoint]:
    found: dict[str, Endpoint] = {}
    for var, value in env.items():
        if var.startswith(ENV_PREFIX) and var.endswith("_BASE_URL") and value:
            upper = var[len(ENV_PREFIX):-len("_BASE_URL")]
            prefix = f"{ENV_PREFIX}{upper}_"
            values = {
                "base_url": value,
                "api_key": env.get(prefix + "API_KEY"),
                "api_version": env.get(prefix + "API_VERSION"),
                "kind": env.get(prefix + "KIND") or None,
                "models": env.get(prefix + "MODELS"),
            }
            found[upper.lower()] = _make(upper, values, "env")
    return found


def secrets_path() -> Path:
    """$REVIEWDECK_SECRETS, else the project's .streamlit/secrets.toml, else the user's
    ~/.streamlit/secrets.toml (Streamlit's own two places)."""
    if os.environ.get(SECRETS_ENV):
        return Path(os.environ[SECRETS_ENV])
    if DEFAULT_SECRETS.is_file():
        return DEFAULT_SECRETS
    return Path.home() / DEFAULT_SECRETS


def _from_secrets(path: Path) -> dict[str, Endpoint]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        # The message names the file, never its content (it holds keys).
        raise ConfigError(f"cannot read endpoints from {path}: {type(exc).__name__}") from exc
    section = (data.get("reviewdeck") or {}).get("endpoints") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [reviewdeck.endpoints] must be a table of tables")
    return {name.lower(): _make(name, dict(values), "secrets")
            for name, values in section.items() if isinstance(values, dict)}


def _from_sdk_env(env: dict[str, str]) -> dict[str, Endpoint]:
    found: dict[str, Endpoint] = {}
    if env.get("OPENAI_API_KEY"):
        found["openai"] = _make("openai", {
            "base_url": env.get("OPENAI_BASE_URL"), "api_key": env["OPENAI_API_KEY"],
            "kind": "openai" if not env.get("OPENAI_BASE_URL") else None}, "openai-env")
    if env.get("AZURE_OPENAI_ENDPOINT") and env.get("AZURE_OPENAI_API_KEY"):
        found["azure"] = _make("azure", {
            "base_url": env["AZURE_OPENAI_ENDPOINT"], "api_key": env["AZURE_OPENAI_API_KEY"],
            "api_version": env.get("OPENAI_API_VERSION"), "kind": "azure"}, "azure-env")
    return found


def list_endpoints(env: dict[str, str] | None = None,
                   secrets: Path | None = None) -> dict[str, Endpoint]:
    """Every configured endpoint by name (environment first, then secrets, then SDK vars)."""
    env = dict(os.environ) if env is None else env
    merged: dict[str, Endpoint] = {}
    for source in (_from_sdk_env(env), _from_secrets(secrets or secrets_path()), _from_env(env)):
        merged.update(source)  # later sources win: explicit REVIEWDECK_ENDPOINT_* beats all
    return dict(sorted(merged.items()))


def get_endpoint(name: str | None = None, env: dict[str, str] | None = None,
                 secrets: Path | None = None) -> Endpoint:
    """The endpoint called `name`, or the only/first configured one when name is None."""
    found = list_endpoints(env, secrets)
    if not found:
        raise ConfigError(HOW_TO_CONFIGURE)
    if name is None:
        return found.get("openai") or next(iter(found.values()))
    hit = found.get(name.strip().lower())
    if hit is None:
        raise ConfigError(f"no endpoint named {name!r}; configured: {', '.join(found)}. "
                          f"Declare it with {ENV_PREFIX}{name.upper()}_BASE_URL=...")
    return hit


def redact(text: str, extra_keys: tuple[str | None, ...] = ()) -> str:
    """Remove configured keys (and `extra_keys`) from a text, e.g. an error a server echoed."""
    try:
        keys = [ep.api_key for ep in list_endpoints().values()]
    except ConfigError:
        keys = []
    for key in {*keys, *extra_keys}:
        if key and len(key) >= 4:
            text = text.replace(key, "***")
    return text
