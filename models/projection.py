"""The 2-D map of the drift page: UMAP fitted on a stratified sample, stored, never fitted live.

The sample is stratified by week and cluster so a small new topic and a quiet week are on the map
as well as the bulk. Events that arrive later are placed by interpolation from their nearest
fitted neighbours in embedding space (a cheap stand-in for UMAP's own transform, which needs the
whole fitted model), until the next full run refits the map.
"""

from __future__ import annotations

import numpy as np

N_NEIGHBORS = 15
INTERPOLATE_K = 5


def stratified_sample(
    strata: np.ndarray, size: int, *, seed: int = 0, min_per_stratum: int = 20
) -> np.ndarray:
    """Indices of a seeded sample of at most `size` rows, proportional per stratum with a floor.

    Each stratum gets max(proportional share, min(min_per_stratum, its size)) rows, then the
    whole is trimmed back to `size` proportionally if the floors overshot.
    """
    n = len(strata)
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    values, inverse, counts = np.unique(strata, return_inverse=True, return_counts=True)
    want = np.maximum(np.floor(counts * size / n), np.minimum(counts, min_per_stratum))
    if want.sum() > size:
        want = np.maximum(1, np.floor(want * size / want.sum()))
    want = np.minimum(want, counts).astype(np.int64)
    order = np.argsort(inverse, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    chosen: list[np.ndarray] = []
    for s in range(len(values)):
        members = order[bounds[s] : bounds[s + 1]]
        chosen.append(rng.choice(members, int(want[s]), replace=False))
    return np.sort(np.concatenate(chosen))


def fit_umap(x: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """2-D UMAP coordinates of the rows of x (cosine metric, PCA start for speed)."""
    import warnings

    if len(x) < 4:
        return np.zeros((len(x), 2), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden by random_state" and friends
        import umap

        model = umap.UMAP(
            n_components=2,
            n_neighbors=min(N_NEIGHBORS, len(x) - 1),
            metric="cosine",
            init="pca" if len(x) > 10 else "random",
            random_state=seed,
            low_memory=True,
            n_epochs=200 if len(x) <= 10_000 else 120,
        )
        return model.fit_transform(x).astype(np.float32)


def interpolate(
    new_x: np.ndarray, fitted_x: np.ndarray, fitted_xy: np.ndarray, k: int = INTERPOLATE_K
) -> np.ndarray:
    """Place new rows at the similarity-weighted mean position of their k nearest fitted rows."""
    if len(new_x) == 0:
        return np.zeros((0, 2), dtype=np.float32)
    k = min(k, len(fitted_x))
    out = np.empty((len(new_x), 2), dtype=np.float32)
    for lo in range(0, len(new_x), 2000):
        sims = new_x[lo : lo + 2000] @ fitted_x.T
        idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        w = np.maximum(np.take_along_axis(sims, idx, axis=1), 1e-6)
        w = w / w.sum(axis=1, keepdims=True)
        out[lo : lo + 2000] = np.einsum("nk,nkd->nd", w, fitted_xy[idx])
    return out
