"""New topics: the groups of current events the novelty test found in new territory, named.

Each topic is a group of flagged current events (`novelty.group_topics`). Its keywords are the
terms most specific to it against the reference sample (c-TF-IDF with the reference as one more
class, so words the reference uses as much score nothing), its label the first three, its
examples the distinct texts nearest the topic's centroid. Pure functions over arrays and texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.drift import cluster as clu


@dataclass(frozen=True)
class TopicSketch:
    topic_id: int  # 1.. in order of size (largest first) within one comparison
    rows: np.ndarray  # indices into the current sample
    label: str
    keywords: list[str]
    examples: list[str]
    centroid: np.ndarray


def sketch_topics(
    topics: Sequence[np.ndarray],
    x_current: np.ndarray,
    texts_current: Sequence[str],
    texts_reference: Sequence[str],
    *,
    n_examples: int = 3,
    max_reference: int = 2000,
    seed: int = 0,
) -> list[TopicSketch]:
    """Keywords, label, examples and centroid of each topic (rows index the current sample)."""
    if not topics:
        return []
    rng = np.random.default_rng(seed)
    ref = list(texts_reference)
    if len(ref) > max_reference:
        ref = [ref[i] for i in np.sort(rng.choice(len(ref), max_reference, replace=False))]
    docs: list[str] = []
    labels: list[int] = []
    for j, rows in enumerate(topics):
        docs.extend(texts_current[i] for i in rows)
        labels.extend([j] * len(rows))
    docs.extend(ref)
    labels.extend([-1] * len(ref))  # the reference: what is *not* new
    kw = clu.ctfidf_keywords(docs, np.asarray(labels))
    out: list[TopicSketch] = []
    for j, rows in enumerate(topics):
        centroid = clu.unit(x_current[rows].mean(axis=0, keepdims=True))[0]
        sims = x_current[rows] @ centroid
        words = kw.get(j, [])
        ex = clu.representative_examples(
            [texts_current[i] for i in rows], sims, np.zeros(len(rows), dtype=np.int64),
            n_examples=n_examples, keywords={0: words},
        ).get(0, [])
        out.append(TopicSketch(j + 1, np.asarray(rows), clu.label_from_keywords(
            words, f"new topic {j + 1}"), words, ex, centroid))
    return out
