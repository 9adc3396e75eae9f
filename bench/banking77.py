"""Measure embedders, clusters and drift detection on real customer text (banking77).

    python bench/banking77.py [DATA] [--trials 200] [--embedders wordllama,tfidf[,openai]]
                              [--reference-size 4000] [--current-size 2000]

DATA is the banking77 folder (default ../shared/data/banking77 beside the repository: 13,083
real bank-customer queries, 77 intents, CC BY 4.0; never copied into the repo). Without it, get
banking_data/ from github.com/PolyAI-LDN/task-specific-datasets (train.csv, test.csv with
columns text,category). Prints, per embedder:
- speed (texts/s) and the process's peak memory after embedding;
- agreement of clusters with intents: adjusted Rand index and NMI, for k = 77 and the default k;
- drift detection over random trials: a reference window against a current window drawn from the
  rest, either from the same pool (null: any flag is a false alarm) or with 3 random intents at
  triple their share (shifted: a flag is a detection). Reported for the novelty test (kNN
  neighbourhoods), the overall MMD test, the per-cluster share tests (BH) and the product's
  verdict (any of them, at 0.7, 0.1 and 0.2 of alpha: ALPHA_SHARES), with a Wilson interval;
  and the precision of the events named new (share of the events in new topics that belong to
  a boosted intent).
- the oracle bound: the same shifts tested with the true intent labels (Fisher per intent,
  one-sided, Benjamini-Hochberg at the full alpha): no embedding can do better than this.
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
from models.drift.embed import OpenAIEmbedder, TfidfEmbedder, WordLlamaEmbedder  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "banking77"
WHERE = ("get banking_data/train.csv and test.csv from "
         "https://github.com/PolyAI-LDN/task-specific-datasets (CC BY 4.0) and pass the folder")


def load(data: Path) -> tuple[list[str], np.ndarray, list[str]]:
    missing = [n for n in ("train.csv", "test.csv") if not (data / n).is_file()]
    if missing:
        raise SystemExit(f"banking77 not found at {data} (missing {', '.join(missing)}): {WHERE}")
    texts, labels = [], []
    for name in ("train.csv", "test.csv"):
        with open(data / name, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                texts.append(row["text"])
                labels.append(row["category"])
    names = sorted(set(labels))
    index = {n: i for i, n in enumerate(names)}
    return texts, np.asarray([index[n] for n in labels]), names


def embed(kind: str, texts: list[str]) -> np.ndarray:
    if kind == "tfidf":
        return TfidfEmbedder.fit(texts, dim=96, seed=0).embed(texts)
    if kind == "wordllama":
        return WordLlamaEmbedder().embed(texts)
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
    reference_size: int,
    current_size: int,
    alpha: float = 0.05,
) -> tuple[dict[str, int], list[float], int]:
    """Hits per test, the precision of each detecting trial's named events, oracle hits."""
    from scipy.stats import fisher_exact
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(seed)
    n_intents = int(y.max()) + 1
    ids = np.unique(clusters)
    hits = {"novelty": 0, "overall": 0, "clusters": 0, "verdict": 0}
    precision: list[float] = []
    oracle = 0
    for t in range(n_trials):
        order = rng.permutation(len(y))
        ref, rest = order[:reference_size], order[reference_size:]
        w = np.ones(len(rest))
        boosted = rng.choice(n_intents, 3, replace=False)
        if shifted:
            w[np.isin(y[rest], boosted)] = 3.0
        cur = rng.choice(rest, current_size, replace=False, p=w / w.sum())
        verdict = drf.drift_verdict(
            x[ref], x[cur], ids,
            [int((clusters[ref] == c).sum()) for c in ids],
            [int((clusters[cur] == c).sum()) for c in ids],
            alpha=alpha, max_per_side=1000, seed=t,
        )
        nov = verdict.novelty
        hits["novelty"] += nov.drifted
        hits["overall"] += verdict.overall.drifted
        hits["clusters"] += any(s.status != "stable" for s in verdict.clusters)
        hits["verdict"] += verdict.drifted
        if shifted and nov.topics:
            named = cur[nov.current_rows[np.concatenate(nov.topics)]]
            precision.append(float(np.isin(y[named], boosted).mean()))
        a = np.bincount(y[ref], minlength=n_intents)
        b = np.bincount(y[cur], minlength=n_intents)
        p = [fisher_exact([[a[i], len(ref) - a[i]], [b[i], len(cur) - b[i]]],
                          alternative="less").pvalue for i in range(n_intents)]
        oracle += bool(multipletests(p, alpha=alpha, method="fdr_bh")[0].any())
    return hits, precision, oracle


def main() -> None:
    import resource

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", nargs="?", type=Path, default=DATA,
                    help="The banking77 folder (train.csv, test.csv).")
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--embedders", default="wordllama,tfidf")
    ap.add_argument("--reference-size", type=int, default=4000)
    ap.add_argument("--current-size", type=int, default=2000)
    ap.add_argument("--k", type=int, default=0, help="Clusters for the share tests (0: auto).")
    args = ap.parse_args()
    texts, y, names = load(args.data)
    k_auto = clu.auto_k(len(texts))
    print(
        f"banking77: {len(texts):,} queries, {len(names)} intents; {args.trials} trials per "
        f"condition (reference {args.reference_size:,} vs current {args.current_size:,}; shift = "
        f"3 intents at 3x share; share tests on k={args.k or k_auto} clusters)", flush=True,
    )
    for kind in args.embedders.split(","):
        if kind == "openai" and not os.environ.get("REVIEWDECK_EMBED_MODEL"):
            print("openai: skipped (set REVIEWDECK_EMBED_MODEL to measure it)")
            continue
        t = time.perf_counter()
        x = embed(kind, texts)
        took = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{kind}: embedded {len(texts):,} texts in {took:.1f} s "
              f"({len(texts) / took:,.0f}/s, fit included), dim {x.shape[1]}, "
              f"peak RSS so far {peak:.0f} MB", flush=True)
        for k in sorted({77, k_auto}):
            ari, nmi = agreement(x, y, k)
            print(f"  clusters k={k}: ARI {ari:.3f}  NMI {nmi:.3f}", flush=True)
        clusters = clu.fit_clusters(x, k=args.k or k_auto, seed=0).labels
        for shifted in (False, True):
            t = time.perf_counter()
            hits, precision, oracle = trials(
                x, y, clusters, args.trials, shifted, seed=1 + shifted,
                reference_size=args.reference_size, current_size=args.current_size,
            )
            what = "detection rate (shifted)" if shifted else "false-alarm rate (null)"
            for test, n in hits.items():
                est = stats.wilson(n, args.trials)
                print(f"  {what:<26} {test:<9} {n:4d}/{args.trials} = {est.value:.3f} "
                      f"[{est.lo:.3f}, {est.hi:.3f}]")
            if shifted:
                print(f"  precision of events named new: mean {np.mean(precision):.3f} over "
                      f"{len(precision)} trials with new topics (median "
                      f"{np.median(precision):.3f})" if precision else
                      "  precision of events named new: no trial named any")
            est = stats.wilson(oracle, args.trials)
            print(f"  oracle (true intents, one-sided Fisher + BH at 0.05) {oracle}/{args.trials}"
                  f" = {est.value:.3f}")
            print(f"  ({time.perf_counter() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
