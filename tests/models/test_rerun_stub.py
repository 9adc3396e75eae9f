"""The OpenAI stub speaks the API well enough for the real openai SDK: JSON, SSE, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import openai
import pytest

from tests.openai_fixtures import STUB_API_KEY, openai_server  # noqa: F401
from tests.openai_stub import MISSING_MODEL, embed_text


def client(stub, **kw) -> openai.OpenAI:
    return openai.OpenAI(base_url=stub.base_url, api_key=STUB_API_KEY, max_retries=0, **kw)


def test_chat_json_and_canned_reply(openai_server):  # noqa: F811
    openai_server.set_reply("gpt-4o", "Paris is the capital.")
    resp = client(openai_server).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Capital of France?"}])
    assert resp.choices[0].message.content == "Paris is the capital."
    assert resp.usage.completion_tokens == 5  # Paris / is / the / capital / .
    assert openai_server.count("chat", "gpt-4o") == 1


def test_chat_stream_with_usage_chunk(openai_server):  # noqa: F811
    stream = client(openai_server).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}],
        stream=True, stream_options={"include_usage": True})
    pieces, usage = [], None
    for chunk in stream:
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
        if chunk.usage:
            usage = chunk.usage
    assert "".join(pieces) == "[gpt-4o-mini] answer to: hello there"
    assert usage is not None and usage.completion_tokens > 0


def test_errors_map_to_sdk_exceptions(openai_server):  # noqa: F811
    c = client(openai_server)
    msgs = [{"role": "user", "content": "x"}]
    with pytest.raises(openai.NotFoundError) as nf:
        c.chat.completions.create(model=MISSING_MODEL, messages=msgs)
    assert nf.value.code == "model_not_found"
    openai_server.fail_next(429, retry_after=3)
    with pytest.raises(openai.RateLimitError) as rl:
        c.chat.completions.create(model="gpt-4o", messages=msgs)
    assert rl.value.response.headers["retry-after"] == "3"
    openai_server.fail_next(500)
    with pytest.raises(openai.InternalServerError):
        c.chat.completions.create(model="gpt-4o", messages=msgs)
    # the queue is spent: the next call succeeds
    assert c.chat.completions.create(model="gpt-4o", messages=msgs).choices
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=openai_server.base_url, api_key="wrong",
                      max_retries=0).models.list()


def test_embeddings_are_deterministic_in_both_encodings(openai_server):  # noqa: F811
    c = client(openai_server)
    a = c.embeddings.create(model="text-embedding-3-small", input=["abc", "def"])
    b = c.embeddings.create(model="text-embedding-3-small", input="abc", encoding_format="float")
    assert a.data[0].embedding == pytest.approx(b.data[0].embedding, abs=1e-6)
    assert a.data[0].embedding != pytest.approx(a.data[1].embedding, abs=1e-3)
    assert sum(v * v for v in embed_text("abc")) == pytest.approx(1.0)


def test_azure_deployment_path(openai_server):  # noqa: F811
    c = openai.AzureOpenAI(azure_endpoint=openai_server.azure_endpoint, api_key=STUB_API_KEY,
                           api_version="2024-10-21", max_retries=0)
    resp = c.chat.completions.create(model="my-deploy", messages=[{"role": "user", "content": "q"}])
    assert resp.choices[0].message.content.startswith("[my-deploy]")
    assert openai_server.requests[-1]["headers"].get("api-key") == STUB_API_KEY


def test_models_list(openai_server):  # noqa: F811
    ids = [m.id for m in client(openai_server).models.list()]
    assert "gpt-4o-mini" in ids


def test_subprocess_mode_and_http_script():
    proc = subprocess.Popen([sys.executable, "-m", "tests.openai_stub", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        base_url = line.split()[-1]
        urllib.request.urlopen(urllib.request.Request(
            base_url.replace("/v1", "/_stub/script"), method="POST",
            data=json.dumps({"replies": {"gpt-4o": "scripted"}}).encode(),
            headers={"Content-Type": "application/json"}))
        c = openai.OpenAI(base_url=base_url, api_key="any", max_retries=0)
        t0 = time.monotonic()
        resp = c.chat.completions.create(model="gpt-4o",
                                         messages=[{"role": "user", "content": "q"}])
        assert resp.choices[0].message.content == "scripted"
        assert time.monotonic() - t0 < 5
        stats = json.load(urllib.request.urlopen(base_url.replace("/v1", "/_stub/stats")))
        assert stats["requests"]["chat"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
