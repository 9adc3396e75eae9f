"""Clustering pieces on tiny inputs with known answers: matching ids, c-TF-IDF keywords,
representative examples, novelty seeds, and determinism for the same data and seed."""

from __future__ import annotations

import numpy as np

from models.drift.cluster import (
    assign,
    auto_k,
    ctfidf_keywords,
    fit_clusters,
    match_by_overlap,
    match_ids,
    novel_seeds,
    radii,
    representative_examples,
    unit,
)


def _blobs(n_per: int, centers: np.ndarray, seed: int = 0, noise: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.vstack([c + rng.normal(scale=noise, size=(n_per, centers.shape[1])) for c in centers])
    return unit(x)


CENTERS = unit(np.eye(6)[:4] + 0.1)


def test_match_ids_keeps_old_ids_for_moved_centroids_and_numbers_new_ones() -> None:
    old = CENTERS[:3]
    new = unit(np.vstack([CENTERS[2] + 0.02, CENTERS[0], CENTERS[3]]))  # 2, 0, and a new one
    ids = match_ids(new, old, [7, 8, 9], next_id=10)
    assert ids == [9, 7, 10]


def test_match_by_overlap_uses_shared_events() -> None:
    new_labels = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    old_ids = np.array([5, 5, 5, 6, 6, 5, 9, 9])
    assert match_by_overlap(new_labels, old_ids, [0, 1, 2], next_id=20) == [5, 6, 9]
    # A new cluster sharing little with any old one gets a fresh id.
    assert match_by_overlap(np.array([0, 0, 1, 1]), np.array([3, 3, 3, 3]), [0, 1], next_id=20) in (
        [3, 20],
        [20, 3],
    )


def test_same_data_and_seed_give_the_same_clusters() -> None:
    x = _blobs(50, CENTERS)
    a = fit_clusters(x, k=4, seed=1)
    b = fit_clusters(x, k=4, seed=1)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.centroids, b.centroids)
    # and the blobs are recovered: each blob is one cluster
    for blob in range(4):
        assert len(set(a.labels[blob * 50 : (blob + 1) * 50])) == 1


def test_warm_start_keeps_the_clusters_in_place() -> None:
    x = _blobs(50, CENTERS)
    first = fit_clusters(x, k=4, seed=1)
    again = fit_clusters(_blobs(50, CENTERS, seed=5), init=first.centroids, seed=1)
    ids = match_ids(again.centroids, first.centroids, [1, 2, 3, 4], next_id=5)
    assert sorted(ids) == [1, 2, 3, 4]


def test_novel_seeds_only_for_a_concentrated_new_topic() -> None:
    x = _blobs(100, CENTERS[:3])
    fit = fit_clusters(x, k=3, seed=0)
    r = radii(fit.similarity, fit.labels, 3)
    same = _blobs(40, CENTERS[:3], seed=9)
    assert (
        len(
            novel_seeds(
                same, fit.centroids, r, min_points=20, min_far_share=0.125, typical_size=100
            )
        )
        == 0
    )
    new_topic = np.vstack([same, _blobs(60, CENTERS[3:4], seed=3)])
    seeds = novel_seeds(
        new_topic, fit.centroids, r, min_points=20, min_far_share=0.125, typical_size=100
    )
    assert len(seeds) == 1
    assert float(seeds[0] @ CENTERS[3]) > 0.95


def test_ctfidf_keywords_are_specific_to_each_cluster() -> None:
    texts = [
        "refund my order",
        "refund request please",
        "i want a refund",
        "reset my password",
        "forgot password again",
        "password reset link",
    ]
    labels = np.array([0, 0, 0, 1, 1, 1])
    kw = ctfidf_keywords(texts, labels, n_keywords=3)
    assert kw[0][0] == "refund"
    assert kw[1][0] == "password"
    assert "password" not in kw[0] and "refund" not in kw[1]


def test_representative_examples_are_the_texts_nearest_the_centroid() -> None:
    texts = ["a", "b", "c", "d"]
    sims = np.array([0.2, 0.9, 0.5, 0.7])
    labels = np.array([0, 0, 1, 1])
    assert representative_examples(texts, sims, labels, n_examples=1) == {0: ["b"], 1: ["d"]}


def test_assign_and_auto_k() -> None:
    labels, sims = assign(CENTERS, CENTERS)
    assert labels.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(sims, 1.0, rtol=1e-5)
    assert auto_k(10) == 8 and auto_k(10_000_000) == 60 and 8 <= auto_k(20_000) <= 60


def test_exact_knn_for_the_map_matches_sklearn() -> None:
    from sklearn.neighbors import NearestNeighbors

    from models.drift.projection import exact_knn, stratified_sample

    x = unit(np.random.default_rng(0).normal(size=(300, 8)))
    idx, dist = exact_knn(x, 6)
    ref_dist, ref_idx = NearestNeighbors(n_neighbors=6, metric="cosine").fit(x).kneighbors(x)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, atol=1e-5)
    # the map's sample keeps every stratum, even a small one
    strata = np.array([0] * 900 + [1] * 90 + [2] * 10)
    pick = stratified_sample(strata, 200, seed=1, min_per_stratum=20)
    counts = np.bincount(strata[pick])
    assert len(pick) <= 200 and counts[2] == 10 and counts[1] >= 18 and counts[0] > 100
