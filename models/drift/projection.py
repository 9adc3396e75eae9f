"""The 2-D map of the drift page: UMAP fitted on a stratified sample, stored, never fitted live.

The sample is stratified by week and cluster so a small new topic and a quiet week are on the map
as well as the bulk. Events that arrive later are sampled at the same rate (`sample_at_rate`) and
only those are placed, by interpolation from their nearest fitted neighbours in embedding space
(a cheap stand-in for UMAP's own transform, which needs the whole fitted model), until the next
full run refits the map: the map is a picture, so it grows with the data at the sampling rate,
not by one point per event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

N_NEIGHBORS = 15
INTERPOLATE_K = 5


def stratified_sample(
    strata: np.ndarray, size: int, *, seed: int = 0, min_per_stratum: int = 20
) -> np.ndarray:
    """Indices of a seeded sample of at most `size` rows, proportional per stratum with a floor.

    Each stratum gets max(proportional share, min(min_per_stratum, its size)) rows; if that
    overshoots `size`, the part above the floors is trimmed proportionally.
    """
    n = len(strata)
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    values, inverse, counts = np.unique(strata, return_inverse=True, return_counts=True)
    floors = np.minimum(counts, min_per_stratum)
    want = np.maximum(np.floor(counts * size / n), floors)
    if want.sum() > size:
        if floors.sum() <= size:  # trim the proportional part above the floors, keep floors
            extra = want - floors
            want = floors + np.floor(extra * (size - floors.sum()) / max(extra.sum(), 1))
        else:
            want = np.maximum(1, np.floor(floors * size / floors.sum()))
    want = np.minimum(want, counts).astype(np.int64)
    order = np.argsort(inverse, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    chosen: list[np.ndarray] = []
    for s in range(len(values)):
        members = order[bounds[s] : bounds[s + 1]]
        chosen.append(rng.choice(members, int(want[s]), replace=False))
    return np.sort(np.concatenate(chosen))


def stable_uniform(keys: Sequence[str], seed: int = 0) -> np.ndarray:
    """A number in [0, 1) per key, from blake2b of the seed and the key.

    The same on every run, process and machine (Python's own `hash` of a str is salted per
    process), so an event is in or out of a sample for good, whichever run first sees it.
    """
    salt = f"{seed}:".encode()
    out = np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(salt + k.encode(), digest_size=8).digest(), "big")
            for k in keys
        ),
        dtype=np.uint64,
        count=len(keys),
    )
    return (out >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def sample_at_rate(
    strata: np.ndarray,
    u: np.ndarray,
    rate: float,
    *,
    existing: np.ndarray | None = None,
    min_per_stratum: int = 20,
) -> np.ndarray:
    """Indices of the rows to add to a map sampled at `rate`, stratified as `stratified_sample`.

    A row is taken when its `u` (`stable_uniform` of its key) is below `rate`, so how rows are
    split into runs does not change the proportional part. Each stratum is then topped up with
    its lowest-`u` rows to the same floor as a full run's, min(min_per_stratum, its rows), where
    the points it already has on the map (`existing`: their strata, one per point) count
    towards the floor: a small new topic gets points, and a stratum spread over many small runs
    does not get a fresh floor in each.
    """
    n = len(strata)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    values, inverse, counts = np.unique(strata, return_inverse=True, return_counts=True)
    have = np.zeros(len(values), dtype=np.int64)
    if existing is not None and len(existing):
        pos = np.searchsorted(values, existing)
        hit = pos < len(values)
        hit[hit] = values[pos[hit]] == existing[hit]
        have = np.bincount(pos[hit], minlength=len(values))
    taken = np.bincount(inverse, weights=(u < rate), minlength=len(values)).astype(np.int64)
    keep = np.maximum(taken, np.clip(min_per_stratum - have, 0, counts))
    # Rows in stratum order, lowest u first: those with u < rate lead each stratum, so the
    # first keep[s] rows of stratum s are its rate sample plus its top-up.
    order = np.lexsort((u, inverse))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[inverse[order]]
    return np.flatnonzero(rank < keep[inverse])


def exact_knn(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest rows of each row by cosine (rows are unit vectors), itself included first.

    Exact search by chunked matrix products: for the map's <= ~25k points this is a few seconds
    of BLAS, and handing it to UMAP spares compiling pynndescent with numba in every process
    (that compile alone took over a minute on a busy 2-core machine).
    """
    n = len(x)
    idx = np.empty((n, k), dtype=np.int64)
    dist = np.empty((n, k), dtype=np.float32)
    for lo in range(0, n, 2000):
        sim = x[lo : lo + 2000] @ x.T
        rows = np.arange(sim.shape[0])
        sim[rows, lo + rows] = 2.0  # a row is its own nearest neighbour, even with duplicates
        part = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        part_sim = np.take_along_axis(sim, part, axis=1)
        order = np.argsort(-part_sim, axis=1, kind="stable")
        idx[lo : lo + 2000] = np.take_along_axis(part, order, axis=1)
        best = np.take_along_axis(part_sim, order, axis=1)
        best[:, 0] = 1.0
        dist[lo : lo + 2000] = np.clip(1.0 - best, 0.0, 2.0)
    return idx, dist


def fit_umap(x: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """2-D UMAP coordinates of the rows of x (cosine, exact neighbours, PCA start)."""
    import warnings

    if len(x) < 4:
        return np.zeros((len(x), 2), dtype=np.float32)
    k = min(N_NEIGHBORS, len(x) - 1)
    knn = exact_knn(np.ascontiguousarray(x, dtype=np.float32), k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden by random_state" and friends
        import umap

        model = umap.UMAP(
            n_components=2,
            n_neighbors=k,
            metric="cosine",
            init="pca" if len(x) > 10 else "random",
            random_state=seed,
            n_epochs=200 if len(x) <= 10_000 else 120,
            precomputed_knn=(knn[0], knn[1], None),
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
