"""Optional short cluster names written by an LLM, cached, never required.

When a chat model is configured (`--name-model`, any OpenAI-compatible server via
`--name-base-url`), each new cluster gets a 2-5 word name from its keywords and representative
inputs. Names are cached in `cluster_names` by a hash of (model, keywords, examples), so a rerun
never pays twice; any failure leaves the keyword label in place and the analysis goes on.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

PROMPT = (
    "You name clusters of user requests to a support assistant for a dashboard. Reply with a "
    "short name of 2 to 5 words, no quotes, no punctuation at the end.\n\n"
    "Keywords: {keywords}\nRepresentative requests:\n{examples}"
)
MAX_NAME_CHARS = 60


@dataclass(frozen=True)
class NameRequest:
    cluster_id: int
    keywords: list[str]
    examples: list[str]


def name_key(model: str, keywords: list[str], examples: list[str]) -> str:
    raw = json.dumps([model, keywords, examples], ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def _clean(text: str) -> str | None:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    line = line.strip().strip("\"'`*").rstrip(".").strip()
    return line[:MAX_NAME_CHARS] or None


def write_names(
    requests: list[NameRequest],
    cached: dict[str, str],
    *,
    model: str,
    base_url: str | None = None,
    api_key: str | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> tuple[dict[int, str], dict[str, str]]:
    """Names for the clusters: ({cluster_id: name}, {cache key: name} newly written)."""
    import openai

    names: dict[int, str] = {}
    fresh: dict[str, str] = {}
    client = None
    for req in requests:
        key = name_key(model, req.keywords, req.examples)
        if key in cached:
            names[req.cluster_id] = cached[key]
            continue
        if client is None:
            key_env = api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"
            client = openai.OpenAI(api_key=key_env, base_url=base_url, max_retries=2,
                                   timeout=30.0)
        prompt = PROMPT.format(keywords=", ".join(req.keywords),
                               examples="\n".join(f"- {e}" for e in req.examples))
        try:
            resp = client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": prompt}], max_tokens=20,
                temperature=0,
            )
            name = _clean(resp.choices[0].message.content or "")
        except openai.OpenAIError as exc:
            log(f"cluster names: {model} failed ({exc.__class__.__name__}); keeping keyword "
                "labels")
            break
        if name:
            names[req.cluster_id] = name
            fresh[key] = name
    return names, fresh
