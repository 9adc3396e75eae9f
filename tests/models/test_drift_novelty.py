"""The kNN neighbourhood novelty test and the new topics it names: tiny inputs with known answers,
and its false-alarm rate by simulation (sized so a test at twice its nominal rate fails)."""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from models.drift.novelty import group_topics, neighbourhood_test, threshold_count
from models.drift.topics import sketch_topics
from tests.models.test_drift_stats import MAX_ALARMS, NOMINAL, NULL_TRIALS


def _blob(rng, centre: np.ndarray, n: int, spread: float = 0.05) -> np.ndarray:
    x = centre + spread * rng.normal(size=(n, len(centre)))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_threshold_is_the_smallest_count_chance_rarely_reaches() -> None:
    t = threshold_count(20, 0.3, 0.01)
    assert sps.binom.sf(t - 1, 20, 0.3) <= 0.01 < sps.binom.sf(t - 2, 20, 0.3)


def test_a_new_blob_is_found_and_is_exactly_the_new_topic() -> None:
    rng = np.random.default_rng(0)
    a, b, c = np.eye(8)[0], np.eye(8)[1], np.eye(8)[2]
    ref = np.vstack([_blob(rng, a, 150), _blob(rng, b, 150)])
    cur = np.vstack([_blob(rng, a, 60), _blob(rng, b, 60), _blob(rng, c, 30)])  # c is new
    res = neighbourhood_test(ref, cur, k=10, alpha=0.05, seed=1)
    assert res.drifted and res.p_value <= 1 / 201 + 1e-12
    assert len(res.topics) == 1
    topic = res.current_rows[res.topics[0]]
    assert set(topic.tolist()) == set(range(120, 150))  # every new event, and only them
    texts = ["hello old"] * 120 + ["pay with crypto bitcoin"] * 15 + ["crypto wallet pay"] * 15
    (sk,) = sketch_topics(res.topics, cur[res.current_rows], [texts[i] for i in res.current_rows],
                          ["hello old", "old question here"])
    assert sk.keywords[0] in ("crypto", "pay") and "old" not in sk.keywords
    assert sk.examples and all("crypto" in e for e in sk.examples)


def test_topics_are_connected_flagged_neighbours_and_tiny_groups_are_dropped() -> None:
    # current rows 0-3 are mutual neighbours, 4-5 are a pair, 6 is alone; -1 = a reference row
    knn = np.array([[1, 2], [0, 3], [3, 1], [2, 0], [5, -1], [4, -1], [-1, -2]])
    topics = group_topics(knn, np.array([0, 1, 2, 3, 4, 5, 6]), min_size=3)
    assert [t.tolist() for t in topics] == [[0, 1, 2, 3]]
    assert [t.tolist() for t in group_topics(knn, np.array([0, 1, 4, 5]), min_size=2)] == [
        [0, 1], [4, 5]]


def test_novelty_false_alarms_stay_at_the_nominal_rate() -> None:
    """NULL_TRIALS trials on one distribution (sizes: see test_drift_stats): at most 33 alarms,
    which a 5% test passes with probability 0.991 and a 10% test with 0.043. Clustered data
    (a few tight blobs) is the hard case for a neighbour test; labels are exchangeable anyway."""
    rng = np.random.default_rng(3)
    centres = np.eye(6)[:3]
    alarms = 0
    for t in range(NULL_TRIALS):
        pool = np.vstack([_blob(rng, c, 40, 0.3) for c in centres])[rng.permutation(120)]
        res = neighbourhood_test(pool[:80], pool[80:], k=10, n_permutations=39, alpha=NOMINAL,
                                 seed=t)
        alarms += res.drifted
    assert alarms <= MAX_ALARMS, alarms


def test_a_small_new_topic_is_detected_most_of_the_time() -> None:
    rng = np.random.default_rng(5)
    centres = np.eye(6)[:3]
    hits = 0
    for t in range(20):
        ref = np.vstack([_blob(rng, c, 100, 0.3) for c in centres])
        cur = np.vstack([_blob(rng, c, 30, 0.3) for c in centres]
                        + [_blob(rng, np.eye(6)[4], 10, 0.3)])  # 10% of the window is new
        hits += neighbourhood_test(ref, cur, k=10, n_permutations=99, seed=t).drifted
    assert hits >= 18, hits


def test_one_sessions_repeats_are_not_a_new_topic() -> None:
    """Twenty near-identical messages of one session in the current week make a tight group a
    plain kNN count flags; leaving an event's own session out of its neighbours does not."""
    import numpy as np

    from models.drift.cluster import unit
    from models.drift.novelty import neighbourhood_test

    rng = np.random.default_rng(3)
    centres = unit(rng.standard_normal((10, 24)))
    ref = unit(centres[rng.integers(0, 10, 800)] + 0.3 * rng.standard_normal((800, 24)))
    cur = unit(centres[rng.integers(0, 10, 400)] + 0.3 * rng.standard_normal((400, 24)))
    burst = unit(unit(rng.standard_normal((1, 24))) + 0.02 * rng.standard_normal((20, 24)))
    cur = np.vstack([cur, burst])
    g_ref = np.array([f"r{i}" for i in range(len(ref))], dtype=object)
    g_cur = np.array([f"c{i}" for i in range(400)] + ["one-session"] * 20, dtype=object)
    plain = neighbourhood_test(ref, cur, seed=0)
    grouped = neighbourhood_test(ref, cur, seed=0, groups_reference=g_ref, groups_current=g_cur)
    assert plain.drifted and plain.topics  # the burst reads as a new topic
    assert not grouped.drifted and grouped.topics == []


def _pool_with_copies(rng, copies: list[int], singles: int, dim: int = 12
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Unit rows (shuffled): len(copies) distinct vectors repeated copies[i] times, then
    `singles` others; and each row's vector id (the repeated ones are 0..len(copies)-1)."""
    base = rng.normal(size=(len(copies) + singles, dim))
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    ids = rng.permutation(np.repeat(np.arange(len(copies) + singles), copies + [1] * singles))
    return base[ids], ids


def test_identical_rows_count_at_their_expected_share() -> None:
    """The tie-aware count equals the plain count averaged over random orders of the copies."""
    from models.drift.novelty import _tie_aware_counts
    from models.drift.projection import exact_knn

    rng = np.random.default_rng(4)
    z, _ = _pool_with_copies(rng, [14, 9, 6], 40)
    labels = rng.random(len(z)) < 0.4
    k = 8

    def knn_of(order: np.ndarray) -> np.ndarray:
        idx, _ = exact_knn(np.ascontiguousarray(z[order]), k + 1)
        inv = np.empty(len(z), dtype=np.int64)
        inv[order] = np.arange(len(z))
        return order[idx[:, 1:]][inv]

    draws = [labels[knn_of(rng.permutation(len(z)))].sum(axis=1) for _ in range(3000)]
    expected = np.mean(draws, axis=0)
    got = _tie_aware_counts(z, knn_of(rng.permutation(len(z))))(labels[None, :])[0]
    assert np.std(draws, axis=0).max() > 0.5  # the plain count does depend on the order
    np.testing.assert_allclose(got, expected, atol=0.12)


def test_a_repeated_question_is_judged_the_same_whatever_the_tie_break() -> None:
    """A question asked 90 times, a little more often now, gives one statistic at every seed:
    the seed only reorders the pool (nothing is subsampled), so only the tie-break moves."""
    rng = np.random.default_rng(6)
    pool, ids = _pool_with_copies(rng, [90], 600, dim=16)
    block = ids == 0
    cur_mask = np.where(block, rng.random(len(pool)) < 0.45, rng.random(len(pool)) < 0.33)
    ref, cur = pool[~cur_mask], pool[cur_mask]
    stats = {neighbourhood_test(ref, cur, k=50, n_permutations=19, seed=s).statistic
             for s in range(6)}
    assert len(stats) == 1, stats
