"""Embedders: turn texts into unit vectors, offline by default or through an OpenAI-compatible API.

The default embedder needs no download and no key: WordLlama (a static, semantic embedder whose
256-dimensional token table ships inside its PyPI wheel; loaded from the installed package with
downloads disabled, ~0.1 s). Its id names the weights file by hash. The alternative offline
embedder is TF-IDF over word and character n-grams reduced with truncated SVD, fitted once,
pickled into the warehouse and reused; its id names that fitted model, and a refit gets a new id
(the vectors of different ids are never compared). The OpenAI-compatible embedder works with OpenAI,
Azure OpenAI or any local server through `base_url`, in batches, with retries and rate-limit
backoff, and says what it will spend before it starts and what it spent after.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import os
import pickle
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ingest.errors import ConfigError, ReviewdeckError

TFIDF_KIND = "tfidf-svd"
TFIDF_VERSION = 1
OPENAI_KIND = "openai"
WORDLLAMA_KIND = "wordllama"
WORDLLAMA_CONFIG = "l2_supercat"  # the one model whose weights are in the wheel
WORDLLAMA_DIM = 256
# The embedder choices of `reviewdeck analyze --embedder`, default first.
EMBEDDERS = ("wordllama", "tfidf", "openai")
# USD per million input tokens; a model not listed costs what --embed-price says (default 0).
EMBED_PRICES = {
    "text-embedding-3-small": 0.02,
    "text-embedding-3-large": 0.13,
    "text-embedding-ada-002": 0.10,
}
# The OpenAI API rejects inputs longer than 8,192 tokens; ~4 characters a token.
MAX_INPUT_CHARS = 30_000


class EmbedError(ReviewdeckError):
    """The embedding backend failed in a way retrying did not fix."""


class Embedder(Protocol):
    embedder_id: str
    kind: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


@dataclass
class TfidfEmbedder:
    """Word (1-2) and character (3-5, within words) TF-IDF, stacked, reduced with truncated SVD."""

    pipeline: Any
    dim: int
    params: dict[str, Any]
    embedder_id: str = ""
    kind: str = TFIDF_KIND

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        *,
        dim: int = 96,
        seed: int = 0,
        max_fit_texts: int = 12_000,
    ) -> TfidfEmbedder:
        """Fit on (a seeded sample of) the texts; the SVD sees at most `max_fit_texts` of them."""
        from scipy import sparse
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = list(texts)
        if not texts:
            raise EmbedError("no texts to fit the embedder on: ingest some events first")
        rng = np.random.default_rng(seed)
        if len(texts) > max_fit_texts:
            texts = [texts[i] for i in sorted(rng.choice(len(texts), max_fit_texts, replace=False))]
        min_df = 2 if len(texts) >= 50 else 1
        word = TfidfVectorizer(
            ngram_range=(1, 2), min_df=min_df, max_features=20_000, sublinear_tf=True,
            lowercase=True, dtype=np.float32,
        )
        char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), min_df=min_df, max_features=30_000,
            sublinear_tf=True, lowercase=True, dtype=np.float32,
        )
        stacked = sparse.hstack([word.fit_transform(texts), char.fit_transform(texts)]).tocsr()
        n_comp = max(2, min(dim, stacked.shape[1] - 1, len(texts) - 1))
        svd = TruncatedSVD(n_components=n_comp, algorithm="randomized", n_iter=4, random_state=seed)
        svd.fit(stacked)
        params = {"dim": n_comp, "seed": seed, "fit_texts": len(texts), "version": TFIDF_VERSION}
        emb = cls(pipeline=(word, char, svd), dim=n_comp, params=params)
        digest = hashlib.sha256(emb.to_bytes()).hexdigest()[:12]
        emb.embedder_id = f"{TFIDF_KIND}-v{TFIDF_VERSION}-{n_comp}d-{digest}"
        return emb

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        from scipy import sparse

        word, char, svd = self.pipeline
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        step = 20_000  # bounded memory for the sparse matrices on large batches
        for lo in range(0, len(texts), step):
            chunk = texts[lo : lo + step]
            stacked = sparse.hstack([word.transform(chunk), char.transform(chunk)]).tocsr()
            out[lo : lo + step] = svd.transform(stacked)
        return _normalise(out)

    def unseen_share(self, texts: Sequence[str], min_unseen: float = 0.34) -> float:
        """Share of texts whose words are mostly (>= min_unseen) outside the fitted vocabulary.

        A frozen TF-IDF cannot see words it was not fitted on, so a topic with new vocabulary
        would look like its neighbours; the analysis refits the embedder when this is high.
        """
        word = self.pipeline[0]
        analyze = word.build_analyzer()
        vocab = word.vocabulary_
        if not texts:
            return 0.0
        hits = 0
        for t in texts:
            toks = [tok for tok in analyze(t) if " " not in tok]
            if toks and sum(tok not in vocab for tok in toks) / len(toks) >= min_unseen:
                hits += 1
        return hits / len(texts)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        pickle.dump(self.pipeline, buf, protocol=5)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, embedder_id: str, data: bytes, dim: int, params: dict) -> TfidfEmbedder:
        # The blob was written by this code into the user's own warehouse; it is trusted like
        # the rest of the file.
        return cls(pipeline=pickle.loads(data), dim=dim, params=params, embedder_id=embedder_id)


@functools.cache
def _wordllama_weights() -> tuple[str, str]:
    """(package folder, short hash of the shipped weights file); fails with what to install."""
    try:
        import wordllama
    except ImportError as exc:
        raise ConfigError(
            "the wordllama embedder needs the wordllama package: pip install 'wordllama>=0.4'"
            " (or choose --embedder tfidf)"
        ) from exc
    folder = os.path.dirname(wordllama.__file__)
    weights = os.path.join(folder, "weights", f"{WORDLLAMA_CONFIG}_{WORDLLAMA_DIM}.safetensors")
    if not os.path.exists(weights):
        raise ConfigError(
            f"the wordllama package at {folder} has no {os.path.basename(weights)}: reinstall "
            "it (pip install --force-reinstall 'wordllama>=0.4') or choose --embedder tfidf"
        )
    digest = hashlib.sha256()
    with open(weights, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return folder, digest.hexdigest()[:12]


def wordllama_id() -> str:
    """The WordLlama embedder's id, without loading it (the 'nothing new' path stays instant)."""
    return f"{WORDLLAMA_KIND}-{WORDLLAMA_CONFIG}-{WORDLLAMA_DIM}d-{_wordllama_weights()[1]}"


@dataclass
class WordLlamaEmbedder:
    """WordLlama's static token embeddings, mean-pooled and L2-normalised; no fitting, no network.

    The weights come from the installed wheel (`disable_download=True`), so the same package
    version always gives the same vectors; nothing is stored in the warehouse but the vectors.
    """

    batch_size: int = 512
    kind: str = WORDLLAMA_KIND
    dim: int = WORDLLAMA_DIM
    _model: Any = field(default=None, repr=False)

    @property
    def embedder_id(self) -> str:
        return wordllama_id()

    @property
    def params(self) -> dict[str, Any]:
        return {"config": WORDLLAMA_CONFIG, "dim": WORDLLAMA_DIM}

    def _load(self) -> Any:
        if self._model is None:
            from wordllama import WordLlama

            folder, _ = _wordllama_weights()
            self._model = WordLlama.load(
                config=WORDLLAMA_CONFIG, cache_dir=folder, dim=WORDLLAMA_DIM,
                disable_download=True,
            )
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = [(t or " ")[:MAX_INPUT_CHARS] for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.asarray(self._load().embed(texts, norm=False, batch_size=self.batch_size),
                         dtype=np.float32)
        return _normalise(out)


@dataclass(frozen=True)
class SpendEstimate:
    texts: int
    tokens: int
    usd: float


def estimate_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


@dataclass
class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible `/v1/embeddings` endpoint via the openai SDK."""

    model: str
    base_url: str | None = None
    api_key: str | None = None
    batch_size: int = 256
    max_retries: int = 6
    price_per_mtok: float | None = None
    timeout_s: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    kind: str = OPENAI_KIND
    dim: int = 0
    tokens_used: int = 0
    retries_done: int = 0
    _client: Any = field(default=None, repr=False)

    @property
    def embedder_id(self) -> str:
        where = (self.base_url or "https://api.openai.com/v1").rstrip("/")
        return f"{OPENAI_KIND}:{self.model}@{where}"

    @property
    def price(self) -> float:
        if self.price_per_mtok is not None:
            return self.price_per_mtok
        return EMBED_PRICES.get(self.model, 0.0)

    def estimate(self, texts: Sequence[str]) -> SpendEstimate:
        tokens = sum(estimate_tokens(t[:MAX_INPUT_CHARS]) for t in texts)
        return SpendEstimate(len(texts), tokens, tokens * self.price / 1e6)

    @property
    def spent_usd(self) -> float:
        return self.tokens_used * self.price / 1e6

    def _get_client(self) -> Any:
        if self._client is None:
            import openai

            key = self.api_key or os.environ.get("REVIEWDECK_EMBED_API_KEY") or os.environ.get(
                "OPENAI_API_KEY"
            )
            if not key:
                if self.base_url is None:
                    raise ConfigError(
                        "the OpenAI embedder needs an API key: set OPENAI_API_KEY (or "
                        "REVIEWDECK_EMBED_API_KEY), or point --embed-base-url at a local server"
                    )
                key = "not-needed"  # local OpenAI-compatible servers accept any key
            # Retries are ours (below) so rate limits honour Retry-After and are counted.
            self._client = openai.OpenAI(
                api_key=key, base_url=self.base_url, max_retries=0, timeout=self.timeout_s
            )
        return self._client

    def _call(self, batch: list[str]) -> list[list[float]]:
        import openai

        client = self._get_client()
        delay = 1.0
        for attempt in range(self.max_retries + 1):
            try:
                resp = client.embeddings.create(model=self.model, input=batch)
            except openai.RateLimitError as exc:
                wait = _retry_after(exc) or delay
            except (openai.APIConnectionError, openai.APITimeoutError,
                    openai.InternalServerError) as exc:
                wait = delay
                if attempt == self.max_retries:
                    raise EmbedError(
                        f"embedding server at {self.embedder_id} failed {attempt + 1} times: {exc}"
                    ) from exc
            except openai.APIStatusError as exc:
                raise EmbedError(
                    f"embedding request to {self.embedder_id} was refused "
                    f"(HTTP {exc.status_code}): {exc.message}; check the model name and key"
                ) from exc
            else:
                if resp.usage is not None:
                    self.tokens_used += int(resp.usage.total_tokens or 0)
                else:
                    self.tokens_used += sum(estimate_tokens(t) for t in batch)
                data = sorted(resp.data, key=lambda d: d.index)
                if len(data) != len(batch):
                    raise EmbedError(
                        f"embedding server returned {len(data)} vectors for {len(batch)} texts"
                    )
                return [d.embedding for d in data]
            if attempt == self.max_retries:
                raise EmbedError(
                    f"embedding server at {self.embedder_id} kept rate-limiting after "
                    f"{attempt + 1} tries; lower --embed-batch or try again later"
                )
            self.retries_done += 1
            self.sleep(min(wait, 60.0) * (0.75 + 0.5 * random.random()))
            delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        rows: list[list[float]] = []
        clean = [(t or " ")[:MAX_INPUT_CHARS] for t in texts]
        for lo in range(0, len(clean), self.batch_size):
            rows.extend(self._call(clean[lo : lo + self.batch_size]))
            if progress is not None:
                progress(min(lo + self.batch_size, len(clean)))
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = _normalise(np.asarray(rows, dtype=np.float32))
        self.dim = out.shape[1]
        return out


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    raw = response.headers.get("retry-after")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None
