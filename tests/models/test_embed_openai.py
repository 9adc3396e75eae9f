"""The OpenAI-compatible embedder over real HTTP (the SDK against tests/openai_stub.py on
127.0.0.1): batching, retries on 429 with retry-after, refusal errors, spend, and the analysis
job using it end to end."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.db import connect
from models.drift.analyze import AnalyzeOptions, run_analysis
from models.drift.embed import EmbedError, OpenAIEmbedder, estimate_tokens
from tests.models.analyze_data import insert_events, make_events
from tests.openai_stub import OpenAIStub, embed_text

MODEL = "text-embedding-3-small"


@pytest.fixture
def stub():
    with OpenAIStub() as server:
        yield server


def _embedder(stub: OpenAIStub, **kw) -> OpenAIEmbedder:
    return OpenAIEmbedder(
        model=MODEL, base_url=stub.base_url, api_key="test-key", sleep=lambda _s: None, **kw
    )


def test_vectors_come_back_in_order_in_batches(stub) -> None:
    texts = [f"question number {i}" for i in range(25)]
    emb = _embedder(stub, batch_size=10)
    x = emb.embed(texts)
    assert stub.count("embeddings") == 3  # 10 + 10 + 5
    expected = np.asarray([embed_text(t) for t in texts], dtype=np.float32)
    np.testing.assert_allclose(x, expected, rtol=1e-5, atol=1e-6)
    assert emb.embedder_id == f"openai:{MODEL}@{stub.base_url}"


def test_rate_limits_are_retried_honouring_retry_after(stub) -> None:
    """The server's Retry-After (7 s here) is what the embedder waits, with its +-25% jitter,
    not its own 1 s / 2 s backoff; the waits are recorded instead of slept."""
    stub.fail_next(429, times=2, retry_after=7)
    slept: list[float] = []
    emb = OpenAIEmbedder(model=MODEL, base_url=stub.base_url, api_key="test-key",
                         sleep=slept.append, batch_size=50)
    x = emb.embed(["a", "b", "c"])
    assert x.shape[0] == 3
    assert emb.retries_done == 2
    assert stub.count("embeddings") == 3
    assert len(slept) == 2 and all(7 * 0.75 <= s <= 7 * 1.25 for s in slept), slept


def test_without_retry_after_the_backoff_doubles(stub) -> None:
    stub.fail_next(500, times=3)
    slept: list[float] = []
    emb = OpenAIEmbedder(model=MODEL, base_url=stub.base_url, api_key="test-key",
                         sleep=slept.append)
    emb.embed(["a"])
    assert [round(s / d, 2) <= 1.25 and s / d >= 0.75 for s, d in zip(slept, (1, 2, 4),
                                                                         strict=True)] == [True] * 3


def test_a_refusal_is_an_actionable_error_not_a_retry_loop(stub) -> None:
    stub.fail_next(400, times=1)
    emb = _embedder(stub)
    with pytest.raises(EmbedError, match="HTTP 400"):
        emb.embed(["a"])
    assert stub.count("embeddings") == 1


def test_persistent_server_errors_give_up_after_max_retries(stub) -> None:
    stub.fail_next(500, times=10)
    emb = _embedder(stub, max_retries=2)
    with pytest.raises(EmbedError, match="failed 3 times"):
        emb.embed(["a"])
    assert stub.count("embeddings") == 3


def test_spend_is_estimated_before_and_totalled_after(stub) -> None:
    texts = ["hello there, how do I reset my password?"] * 4
    emb = _embedder(stub)
    est = emb.estimate(texts)
    assert est.tokens == 4 * estimate_tokens(texts[0])
    assert est.usd == pytest.approx(est.tokens * 0.02 / 1e6)
    emb.embed(texts)
    assert emb.tokens_used > 0
    assert emb.spent_usd == pytest.approx(emb.tokens_used * 0.02 / 1e6)


def test_analysis_with_the_openai_embedder_caches_vectors(stub, db_path) -> None:
    with connect(db_path) as con:
        insert_events(con, make_events(300, seed=1))
    opts = AnalyzeOptions(
        embedder="openai", embed_model=MODEL, embed_base_url=stub.base_url, k=4, make_map=False
    )
    first = run_analysis(db_path, opts)
    n_requests = stub.count("embeddings")
    assert first.n_embedded > 0 and n_requests >= 1
    assert first.spent_usd is not None and first.spend_estimate_usd is not None
    with connect(db_path) as con:
        insert_events(con, make_events(20, seed=2, id_prefix="late"))
    second = run_analysis(db_path, opts)
    # Only texts never seen before went to the server (templated texts mostly repeat).
    assert second.mode == "incremental"
    assert second.n_embedded < 20
    with connect(db_path, read_only=True) as con:
        ids = con.execute("SELECT DISTINCT embedder_id FROM embeddings").fetchall()
    assert ids == [(f"openai:{MODEL}@{stub.base_url}",)]
