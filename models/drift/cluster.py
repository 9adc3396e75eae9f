"""Clusters in embedding space that keep their identity from one analysis run to the next.

A run warm-starts k-means from the previous run's centroids (plus a few new seeds where many
points sit far from every old centroid), then matches the new centroids to the old ones with the
Hungarian algorithm: a match within `MAX_MATCH_DISTANCE` keeps the old id and label, anything
else gets a new id. A first run is plain seeded k-means, so the same data and seed give the
same clusters. Labels are cheap and deterministic: class-based TF-IDF keywords (as in BERTopic's
c-TF-IDF) and the texts nearest the centroid.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Cosine distance between an old and a new centroid below which they are the same cluster.
MAX_MATCH_DISTANCE = 0.35
# A point is "far" from a cluster when its similarity to the nearest centroid falls below that
# cluster's radius (the 5th percentile of its members' similarities at the last run).
RADIUS_PERCENTILE = 5.0


@dataclass(frozen=True)
class Clustering:
    centroids: np.ndarray  # (k, d), unit length
    labels: np.ndarray  # (n,) index into centroids
    similarity: np.ndarray  # (n,) cosine similarity to the own centroid


def auto_k(n_points: int) -> int:
    """A default number of clusters that grows slowly with the data (8 to 60)."""
    return int(min(60, max(8, round(math.sqrt(max(n_points, 1)) / 5))))


def unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return (x / n).astype(np.float32)


def assign(x: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid (by cosine) of each row, and the similarity to it."""
    labels = np.empty(len(x), dtype=np.int64)
    sims = np.empty(len(x), dtype=np.float32)
    for lo in range(0, len(x), 50_000):
        s = x[lo : lo + 50_000] @ centroids.T
        labels[lo : lo + 50_000] = s.argmax(axis=1)
        sims[lo : lo + 50_000] = s[np.arange(len(s)), labels[lo : lo + 50_000]]
    return labels, sims


def fit_clusters(
    x: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    k: int | None = None,
    seed: int = 0,
    init: np.ndarray | None = None,
    max_fit_points: int = 15_000,
) -> Clustering:
    """Spherical-ish k-means on unit vectors (weighted by how many events share each vector).

    With `init`, k-means starts from those centroids (one pass of Lloyd from a warm start);
    without, it is seeded k-means++ with a few restarts. Fitting uses at most `max_fit_points`
    rows (a seeded sample), then every row is assigned to its nearest centroid.
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    n = len(x)
    w = np.ones(n, dtype=np.float64) if weights is None else np.asarray(weights, dtype=np.float64)
    rng = np.random.default_rng(seed)
    idx = np.arange(n)
    if n > max_fit_points:
        idx = np.sort(rng.choice(n, max_fit_points, replace=False))
    xs, ws = x[idx], w[idx]
    if init is not None:
        k_eff = min(len(init), len(xs))
        km = KMeans(n_clusters=k_eff, init=init[:k_eff], n_init=1, max_iter=100, random_state=seed)
    else:
        k_eff = min(k or auto_k(n), len(np.unique(xs, axis=0)))
        km = KMeans(n_clusters=max(k_eff, 1), n_init=2, max_iter=150, random_state=seed)
    # One OpenMP thread: on a 2-core machine shared with a dashboard or an ingest, sklearn's
    # spinning OpenMP threads made k-means 4x slower than one thread (71 s against 18 s).
    with threadpool_limits(limits=1, user_api="openmp"):
        km.fit(xs, sample_weight=ws)
    centroids = unit(km.cluster_centers_)
    labels, sims = assign(x, centroids)
    # Drop centroids no point chose (possible after warm starts) and renumber densely.
    used = np.unique(labels)
    if len(used) < len(centroids):
        centroids = centroids[used]
        labels, sims = assign(x, centroids)
    return Clustering(centroids, labels, sims)


def add_centroids(x: np.ndarray, clustering: Clustering, extra: np.ndarray) -> Clustering:
    """`clustering` with `extra` centroids added and every row reassigned, without refitting:
    a new topic's centroid takes the rows nearer to it than to any old centroid."""
    centroids = unit(np.vstack([clustering.centroids, extra]))
    labels, sims = assign(x, centroids)
    used = np.unique(labels)
    if len(used) < len(centroids):
        centroids = centroids[used]
        labels, sims = assign(x, centroids)
    return Clustering(centroids, labels, sims)


def novel_seeds(
    x_new: np.ndarray,
    centroids: np.ndarray,
    radii: np.ndarray,
    *,
    min_points: int,
    min_far_share: float,
    typical_size: int,
    max_new: int = 5,
    seed: int = 0,
) -> np.ndarray:
    """Starting centroids for topics among the new points that the old clusters do not cover.

    A new point is "far" when its similarity to its nearest old centroid is below that
    centroid's radius. By construction about RADIUS_PERCENTILE % of ordinary points are far, so
    new seeds are only made when at least `min_points` new points and at least `min_far_share`
    of them are far; the far points are then split into about one seed per `typical_size`
    points (at most `max_new`). Returns an empty (0, d) array otherwise.
    """
    from sklearn.cluster import KMeans

    if len(x_new) == 0 or len(centroids) == 0:
        return np.zeros((0, x_new.shape[1] if x_new.ndim == 2 else 0), dtype=np.float32)
    labels, sims = assign(x_new, centroids)
    far = sims < radii[labels]
    n_far = int(far.sum())
    if n_far < min_points or n_far < min_far_share * len(x_new):
        return np.zeros((0, x_new.shape[1]), dtype=np.float32)
    m = int(min(max_new, max(1, round(n_far / max(typical_size, 1)))))
    km = KMeans(n_clusters=m, n_init=3, random_state=seed).fit(x_new[far])
    return unit(km.cluster_centers_)


def radii(sims: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    out = np.full(k, -1.0, dtype=np.float32)
    for c in range(k):
        s = sims[labels == c]
        if len(s):
            out[c] = np.percentile(s, RADIUS_PERCENTILE)
    return out


def match_ids(
    new_centroids: np.ndarray,
    old_centroids: np.ndarray,
    old_ids: Sequence[int],
    next_id: int,
    max_distance: float = MAX_MATCH_DISTANCE,
) -> list[int]:
    """An id for each new centroid: the matched old id (Hungarian on cosine distance), else new.

    New ids are handed out in the order of the new centroids, starting at `next_id`, so the
    result is deterministic.
    """
    from scipy.optimize import linear_sum_assignment

    ids: list[int | None] = [None] * len(new_centroids)
    if len(old_centroids) and len(new_centroids):
        dist = 1.0 - new_centroids @ old_centroids.T
        rows, cols = linear_sum_assignment(dist)
        for r, c in zip(rows, cols, strict=True):
            if dist[r, c] <= max_distance:
                ids[r] = int(old_ids[c])
    return _fill_new_ids(ids, next_id)


def _fill_new_ids(ids: list[int | None], next_id: int) -> list[int]:
    """Unmatched clusters (None) get fresh ids from `next_id` on, in index order."""
    out: list[int] = []
    for i in ids:
        if i is None:
            i = next_id
            next_id += 1
        out.append(i)
    return out


def match_by_overlap(
    new_labels: np.ndarray,
    old_ids: np.ndarray,
    new_index_ids: Sequence[int] | None = None,
    *,
    next_id: int,
    min_jaccard: float = 0.3,
) -> list[int]:
    """Ids for new clusters 0..k-1 from the events they share with old clusters.

    Used when centroids cannot be compared (the embedder changed, or a full recluster):
    `new_labels[i]` and `old_ids[i]` are the new cluster index and old cluster id of the same
    event. Pairs are matched with the Hungarian algorithm on Jaccard overlap; a pair at or above
    `min_jaccard` keeps the old id, the rest get new ids from `next_id` in index order.
    """
    from scipy.optimize import linear_sum_assignment

    k = int(new_labels.max()) + 1 if new_index_ids is None else len(new_index_ids)
    ids: list[int | None] = [None] * k
    if len(old_ids):
        olds, old_inv = np.unique(old_ids, return_inverse=True)
        inter = np.zeros((k, len(olds)))
        np.add.at(inter, (new_labels, old_inv), 1)
        size_new = np.bincount(new_labels, minlength=k)[:, None]
        size_old = np.bincount(old_inv, minlength=len(olds))[None, :]
        jac = inter / np.maximum(size_new + size_old - inter, 1)
        rows, cols = linear_sum_assignment(-jac)
        for r, c in zip(rows, cols, strict=True):
            if jac[r, c] >= min_jaccard:
                ids[r] = int(olds[c])
    return _fill_new_ids(ids, next_id)


# Words that say nothing about a topic, beyond sklearn's English stop list: conversational
# filler and generic verbs of support requests ("need / account / flight", "tried / worked /
# great" were labels before this list).
FILLER_WORDS = frozenset("""
    able actually already also anyone anything appreciate ask asked asking assist awesome bad
    better bit come coming could did does doing don done dont else ever exactly feel fine going
    good got great guess guys happen happened have having hello help helped hey hi hmm how i'd
    i'll i'm i've im isn it's just keep kind know let like likely lot make maybe mean might mine
    much need needed needs new nice oh ok okay one please possible pretty probably question quick
    quickly really right said say see seems seem set should someone something soon sorry still
    sure tell thank thanks thing things think tried try trying use used using ve very wait want
    wanted wants way week well went why will wondering work worked working works would yeah yes
    yet you're you've
""".split())


# scikit-learn's English list (the Glasgow one) also holds words that name what users write
# about: a "bill", a "call", the "system", the "amount", a "fire" alarm. They are kept.
TOPIC_WORDS = frozenset("""
    amount bill bottom call computer detail empty fire front interest name part side system top
""".split())


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return (frozenset(ENGLISH_STOP_WORDS) - TOPIC_WORDS) | FILLER_WORDS


_TOKEN = r"(?u)\b[^\W\d_][\w'-]+\b"


@functools.lru_cache(maxsize=1)
def _stop_typos() -> frozenset[str]:
    """Common misspellings of stop words: two adjacent letters swapped ("adn", "teh") or one
    doubled ("thhe", "itt"). Real logs are full of them, and a typo of "and" is rarer than any
    topic word, so c-TF-IDF would otherwise pick it as a keyword. (Dropped or substituted
    letters are left alone: "bill" is one letter from "will".)"""
    stop = _stop_words()
    out = set()
    for w in stop:
        for i in range(len(w) - 1):
            out.add(w[:i] + w[i + 1] + w[i] + w[i + 2:])
        for i in range(len(w)):
            out.add(w[:i + 1] + w[i] + w[i + 1:])
    return frozenset(out - stop - _REAL_WORDS)


# Words a swapped or doubled letter makes of a stop word that are words in their own right
# ("from" → "form", "one" → "won"); found by checking the variants against an English vocabulary.
_REAL_WORDS = frozenset("""
    abel amy ann ass aws butt egg est form iff inn moore peer pre sin sue teen tired tow won
""".split())


def _one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or adjacent swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k, (x, y) in enumerate(zip(short, long_, strict=False)) if x != y),
             len(short))
    return short[i:] == long_[i + 1:]


def _misspellings(candidates: Sequence[str], terms: np.ndarray, counts: np.ndarray,
                  ratio: float = 5.0, n_common: int = 300) -> set[str]:
    """The candidate unigrams one edit away from one of the cluster's `n_common` commonest
    unigrams used `ratio` times as often: "epolice" beside "police" is a misspelling, not a
    second keyword."""
    tf = dict(zip(map(str, terms), counts.tolist(), strict=True))
    common = [(str(terms[j]), float(counts[j])) for j in np.argsort(-counts, kind="stable")
              if counts[j] > 0 and " " not in str(terms[j])][:n_common]
    out = set()
    for t in candidates:
        if " " in t or len(t) < 4:
            continue
        c = tf.get(t, 0.0)
        if any(c2 >= ratio * c and _one_edit(t, t2) for t2, c2 in common):
            out.add(t)
    return out


def keyword_terms(text: str, stop: frozenset[str]) -> list[str]:
    """Unigrams and *adjacent* bigrams of a text, none starting or ending with a stop word.

    Removing stop words before forming bigrams (CountVectorizer's way) joins words that were
    never next to each other ("work wifi" out of "work with wifi"); here a bigram is two words
    that stand side by side in the text, neither of them filler.
    """
    import re

    toks = [t.strip("'-") for t in re.findall(_TOKEN, text.lower())]
    out = [t for t in toks if len(t) > 1 and t not in stop]
    for a, b in zip(toks, toks[1:], strict=False):
        if a not in stop and b not in stop and len(a) > 1 and len(b) > 1:
            out.append(f"{a} {b}")
    return out


def ctfidf_keywords(
    texts: Sequence[str], labels: np.ndarray, n_keywords: int = 8
) -> dict[int, list[str]]:
    """Class-based TF-IDF: the terms most specific to each cluster's texts (BERTopic's c-TF-IDF).

    Each cluster is one document; weight(t, c) = tf(t, c) / |c| * log(1 + A / f(t)), where A is
    the mean number of words per cluster and f(t) the term's frequency over all clusters. Terms
    are unigrams and adjacent bigrams without stop words or filler (`keyword_terms`).
    """
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    classes = np.unique(labels)
    if len(texts) == 0:
        return {}
    stop = _stop_words() | _stop_typos()
    try:
        vec = CountVectorizer(
            analyzer=lambda t: keyword_terms(t, stop), min_df=1, max_features=50_000,
        )
        counts = vec.fit_transform(list(texts))
    except ValueError:  # only stop words / empty texts
        return {int(c): [] for c in classes}
    onehot = sparse.csr_matrix(
        (np.ones(len(labels)), (np.searchsorted(classes, labels), np.arange(len(labels)))),
        shape=(len(classes), len(labels)),
    )
    tf = np.asarray((onehot @ counts).todense(), dtype=np.float64)
    sizes = tf.sum(axis=1, keepdims=True)
    sizes[sizes == 0] = 1
    freq = tf.sum(axis=0)
    avg = tf.sum() / len(classes)
    idf = np.log1p(avg / np.maximum(freq, 1))
    weight = tf / sizes * idf
    # A term used by a single text of the cluster says nothing about the cluster.
    docfreq = np.asarray((onehot @ (counts > 0).astype(np.float64)).todense())
    weight[docfreq < 2] *= 0.01
    terms = vec.get_feature_names_out()
    out: dict[int, list[str]] = {}
    for row, c in enumerate(classes):
        order = np.lexsort((terms, -weight[row]))  # ties broken alphabetically
        candidates = {w for j in order[: 30 * n_keywords] for w in str(terms[j]).split()}
        typos = _misspellings(sorted(candidates), terms, tf[row])
        chosen: list[str] = []
        for j in order:
            if weight[row, j] <= 0 or len(chosen) >= n_keywords:
                break
            term = str(terms[j])
            if any(w in typos for w in term.split()):
                continue
            # Skip a unigram already inside a chosen bigram and vice versa, to say more.
            if any(term in c2.split() or c2 in term.split() for c2 in chosen):
                continue
            chosen.append(term)
        out[int(c)] = chosen
    return out


def representative_examples(
    texts: Sequence[str],
    sims: np.ndarray,
    labels: np.ndarray,
    n_examples: int = 3,
    max_chars: int = 300,
    keywords: dict[int, list[str]] | None = None,
) -> dict[int, list[str]]:
    """The distinct texts nearest each centroid (highest similarity first).

    With `keywords`, texts that contain one of the cluster's top three keywords come first: a
    text near the centroid that shares none of the cluster's words (a catch-all's odd member)
    would not show a reviewer what the cluster is about.
    """
    order = np.lexsort((np.arange(len(sims)), -sims))
    out: dict[int, list[str]] = {}
    seen: dict[int, set[str]] = {}
    passes = (True, False) if keywords else (False,)
    for need_kw in passes:
        for i in order:
            c = int(labels[i])
            got = out.setdefault(c, [])
            if len(got) >= n_examples:
                continue
            t = (texts[i] or "").strip()[:max_chars]
            if not t or t in seen.setdefault(c, set()):
                continue
            if need_kw:
                low = t.lower()
                if not any(k in low for k in (keywords or {}).get(c, [])[:3]):
                    continue
            seen[c].add(t)
            got.append(t)
    return out


def label_from_keywords(keywords: Sequence[str], fallback: str) -> str:
    return " / ".join(keywords[:3]) if keywords else fallback
