"""The offline default embedder: deterministic, persisted byte-for-byte, topic-aware."""

from __future__ import annotations

import numpy as np

from models.drift.embed import TfidfEmbedder
from tests.models.analyze_data import make_events


def _texts(n: int = 400, seed: int = 0) -> tuple[list[str], list[str]]:
    ev = make_events(n, seed=seed)
    return ev["input_text"].to_list(), ev["topic"].to_list()


def test_same_texts_and_seed_give_the_same_embedder() -> None:
    texts, _ = _texts()
    a = TfidfEmbedder.fit(texts, dim=16, seed=3)
    b = TfidfEmbedder.fit(texts, dim=16, seed=3)
    assert a.embedder_id == b.embedder_id
    np.testing.assert_array_equal(a.embed(texts[:50]), b.embed(texts[:50]))
    c = TfidfEmbedder.fit(texts[:300], dim=16, seed=3)
    assert c.embedder_id != a.embedder_id  # a different fit is a different space


def test_vectors_are_unit_length_and_survive_a_round_trip() -> None:
    texts, _ = _texts()
    emb = TfidfEmbedder.fit(texts, dim=16)
    x = emb.embed(texts)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-5)
    back = TfidfEmbedder.from_bytes(emb.embedder_id, emb.to_bytes(), emb.dim, emb.params)
    np.testing.assert_allclose(back.embed(texts), x, rtol=1e-6, atol=1e-6)


def test_texts_of_one_topic_are_closer_than_texts_of_different_topics() -> None:
    texts, topics = _texts(600)
    emb = TfidfEmbedder.fit(texts, dim=24)
    x = emb.embed(texts)
    t = np.asarray(topics)
    sims = x @ x.T
    same = sims[t[:, None] == t[None, :]].mean()
    other = sims[t[:, None] != t[None, :]].mean()
    assert same > other + 0.3


def test_unseen_share_notices_new_vocabulary() -> None:
    texts, _ = _texts()
    emb = TfidfEmbedder.fit(texts, dim=16)
    assert emb.unseen_share(texts[:100]) == 0.0
    crypto = make_events(100, topics={"crypto": 1})["input_text"].to_list()
    assert emb.unseen_share(crypto) > 0.5
