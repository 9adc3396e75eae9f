"""Measure embeddings, clusters and drift detection on real customer text (banking77).

    python bench/banking77.py [--trials 200] [--embedders tfidf[,openai]]

Uses ../shared/data/banking77 (13,083 real bank-customer queries, 77 intents; never copied into
the repo). Prints, per embedder:
- agreement of clusters with intents: adjusted Rand index and NMI, for k = 77 and the default k;
- drift detection over random trials: a reference window of 1,000 queries against a current window
  of 400, where the current window either comes from the same pool (null: any flag is a false
  alarm) or has 3 random intents at triple their share (shifted: a flag is a detection). Reported
  for the overall MMD test, the per-cluster share tests (BH) and either — the product's
  "drift found" verdict, which gives each test alpha/2 — with a Wilson interval.
The openai embedder runs only with REVIEWDECK_EMBED_MODEL (and a key or
REVIEWDECK_EMBED_BASE_URL) set; it is skipped otherwise.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

# Run as a script, bench/ is first on sys.path, where bench/ingest.py would shadow the package.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import numpy as np  # noqa: E402

from models import stats  # noqa: E402
from models.drift import cluster as clu  # noqa: E402
from models.drift import statistics as drf  # noqa: E402
from models.drift.embed import OpenAIEmbedder, TfidfEmbedder  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "banking77"


def load() -> tuple[list[str], np.ndarray, list[str]]:
    texts, labels = [], []
    for name in ("train.csv", "test.csv"):
        with open(DATA / name, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                texts.append(row["text"])
                labels.append(row["category"])
    names = sorted(set(labels))
    index = {n: i for i, n in enumerate(names)}
    return texts, np.asarray([index[n] for n in labels]), names


def embed(kind: str, texts: list[str]) -> np.ndarray:
    if kind == "tfidf":
        return TfidfEmbedder.fit(texts, dim=96, seed=0).embed(texts)
    emb = OpenAIEmbedder(
        model=os.environ["REVIEWDECK_EMBED_MODEL"],
        base_url=os.environ.get("REVIEWDECK_EMBED_BASE_URL"),
    )
    est = emb.estimate(texts)
    print(f"  openai: about {est.tokens:,} tokens, ~${est.usd:.4f}")
    x = emb.embed(texts)
    print(f"  openai: spent {emb.tokens_used:,} tokens, ${emb.spent_usd:.4f}")
    return x


def agreement(x: np.ndarray, y: np.ndarray, k: int, seed: int = 0) -> tuple[float, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    labels = clu.fit_clusters(x, k=k, seed=seed).labels
    return adjusted_rand_score(y, labels), normalized_mutual_info_score(y, labels)


def trials(
    x: np.ndarray,
    y: np.ndarray,
    clusters: np.ndarray,
    n_trials: int,
    shifted: bool,
    seed: int,
    current_size: int = 400,
) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    n_intents = int(y.max()) + 1
    ids = np.unique(clusters)
    hits = {"overall": 0, "clusters": 0, "either": 0}
    for t in range(n_trials):
        order = rng.permutation(len(y))
        ref, rest = order[:1000], order[1000:]
        w = np.ones(len(rest))
        if shifted:
            boosted = rng.choice(n_intents, 3, replace=False)
            w[np.isin(y[rest], boosted)] = 3.0
        cur = rng.choice(rest, current_size, replace=False, p=w / w.sum())
        verdict = drf.drift_verdict(
            x[ref],
            x[cur],
            ids,
            [int((clusters[ref] == c).sum()) for c in ids],
            [int((clusters[cur] == c).sum()) for c in ids],
            n_permutations=100,
            max_per_side=500,
            seed=t,
        )
        overall = verdict.overall.drifted
        by_cluster = any(s.status != "stable" for s in verdict.clusters)
        hits["overall"] += overall
        hits["clusters"] += by_cluster
        hits["either"] += overall or by_cluster
    return hits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--embedders", default="tfidf")
    ap.add_argument("--current-size", type=int, default=400)
    ap.add_argument("--k", type=int, default=0, help="Clusters for the share tests (0: auto).")
    args = ap.parse_args()
    texts, y, names = load()
    print(
        f"banking77: {len(texts):,} queries, {len(names)} intents; {args.trials} trials per "
        f"condition (reference 1,000 vs current {args.current_size}; shift = 3 intents at 3x "
        f"share; share tests on k={args.k or clu.auto_k(len(texts))} clusters)"
    )
    for kind in args.embedders.split(","):
        if kind == "openai" and not os.environ.get("REVIEWDECK_EMBED_MODEL"):
            print("openai: skipped (set REVIEWDECK_EMBED_MODEL to measure it)")
            continue
        t = time.perf_counter()
        x = embed(kind, texts)
        print(f"{kind}: embedded in {time.perf_counter() - t:.1f} s, dim {x.shape[1]}")
        for k in (77, clu.auto_k(len(texts))):
            ari, nmi = agreement(x, y, k)
            print(f"  clusters k={k}: ARI {ari:.3f}  NMI {nmi:.3f}")
        clusters = clu.fit_clusters(x, k=args.k or clu.auto_k(len(texts)), seed=0).labels
        for shifted in (False, True):
            t = time.perf_counter()
            hits = trials(
                x,
                y,
                clusters,
                args.trials,
                shifted,
                seed=1 + shifted,
                current_size=args.current_size,
            )
            what = "detection rate (shifted)" if shifted else "false-alarm rate (null)"
            for test, n in hits.items():
                est = stats.wilson(n, args.trials)
                print(
                    f"  {what:<26} {test:<8} {n:4d}/{args.trials} = {est.value:.3f} "
                    f"[{est.lo:.3f}, {est.hi:.3f}]"
                )
            print(f"  ({time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
