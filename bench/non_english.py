"""How each embedder places non-English questions: next to their English intent, or elsewhere?

    python bench/non_english.py [--fills 10] [--embedders wordllama,tfidf[,openai]]

No labelled non-English log is available offline, so this uses the demo's own phrasings
(ingest/demo/text.py): each of its 46 intents has English question templates and one phrasing in
another language (de 16, fr 9, es 9, nl 5, pt 4, it 3), filled with `--fills` random slot values
each (plan names, amounts, devices: the English words a real non-English question also carries).
Per embedder it prints:
- **English, held-out template**: each English template is assigned to the nearest intent
  centroid built from the intent's *other* templates — the ceiling on this data;
- **non-English**: each non-English question is assigned to the nearest centroid of the English
  questions — the share that lands on its own intent, per language and overall (filled texts,
  and intents whose fills land right by majority), with 95% Wilson intervals; chance is 1/46;
- **nearest-English similarity**: the mean cosine of a non-English question to its nearest English
  one, against the same for held-out English templates. Far below means non-English traffic sits
  in territory of its own, where the Drift page would read a rise in it as a new topic.
The figures measure the embedders on 46 hand-written sentences, not on real traffic.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path

# Run as a script, bench/ is first on sys.path, where bench/ingest.py would shadow the package.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import numpy as np  # noqa: E402

from ingest.demo.lines import _slots  # noqa: E402
from ingest.demo.text import ALL_GROUPS  # noqa: E402
from models import stats  # noqa: E402
from models.drift.cluster import unit  # noqa: E402


def phrasings(fills: int, seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray, list[str],
                                                   np.ndarray, list[str]]:
    """English texts with their intent and template ids; non-English texts, intent, language."""
    rng = np.random.default_rng(seed)
    intents = [it for g in ALL_GROUPS for it in g.intents]
    en, en_intent, en_template, fo, fo_intent, fo_lang = [], [], [], [], [], []
    template = 0
    for i, it in enumerate(intents):
        for q in it.questions:
            for bits in rng.integers(0, 2**63, fills).tolist():
                en.append(q.format_map(_slots(bits)))
                en_intent.append(i)
                en_template.append(template)
            template += 1
        lang, q = it.foreign
        for bits in rng.integers(0, 2**63, fills).tolist():
            fo.append(q.format_map(_slots(bits)))
            fo_intent.append(i)
            fo_lang.append(lang)
    return (en, np.asarray(en_intent), np.asarray(en_template), fo, np.asarray(fo_intent),
            fo_lang)


def embed(kind: str, texts: list[str]) -> np.ndarray:
    from models.drift.embed import OpenAIEmbedder, TfidfEmbedder, WordLlamaEmbedder

    if kind == "tfidf":
        return TfidfEmbedder.fit(texts, dim=96, seed=0).embed(texts)
    if kind == "wordllama":
        return WordLlamaEmbedder().embed(texts)
    return OpenAIEmbedder(model=os.environ["REVIEWDECK_EMBED_MODEL"],
                          base_url=os.environ.get("REVIEWDECK_EMBED_BASE_URL")).embed(texts)


def centroids(x: np.ndarray, label: np.ndarray, n: int) -> np.ndarray:
    c = np.zeros((n, x.shape[1]))
    np.add.at(c, label, x)
    return unit(c)


def report(kind: str, fills: int) -> None:
    en, en_i, en_t, fo, fo_i, fo_lang = phrasings(fills)
    n = int(en_i.max()) + 1
    x = unit(embed(kind, en + fo).astype(np.float64))
    x_en, x_fo = x[: len(en)], x[len(en):]

    # English ceiling: each template against centroids without it.
    right_en = []
    near_en = []
    for t in np.unique(en_t):
        held = en_t == t
        c = centroids(x_en[~held], en_i[~held], n)
        right_en.extend((np.argmax(x_en[held] @ c.T, axis=1) == en_i[held]).tolist())
        near_en.extend((x_en[held] @ x_en[~held].T).max(axis=1).tolist())
    est = stats.wilson(int(np.sum(right_en)), len(right_en))
    print(f"{kind}: English, held-out template -> own intent: {est.value:.3f} "
          f"[{est.lo:.3f}, {est.hi:.3f}] of {len(right_en):,} texts")

    c = centroids(x_en, en_i, n)
    right = np.argmax(x_fo @ c.T, axis=1) == fo_i
    est = stats.wilson(int(right.sum()), len(right))
    by_intent = [right[fo_i == i].mean() > 0.5 for i in range(n)]
    est_i = stats.wilson(int(np.sum(by_intent)), n)
    print(f"  non-English -> own intent: {est.value:.3f} [{est.lo:.3f}, {est.hi:.3f}] of "
          f"{len(right):,} texts; {int(np.sum(by_intent))}/{n} intents by majority "
          f"[{est_i.lo:.3f}, {est_i.hi:.3f}] (chance {1 / n:.3f})")
    per_lang: dict[str, list[bool]] = defaultdict(list)
    for lang, ok in zip(fo_lang, right.tolist(), strict=True):
        per_lang[lang].append(ok)
    print("  by language: " + ", ".join(
        f"{lang} {np.mean(v):.2f} (n {len(v) // fills} intents)"
        for lang, v in sorted(per_lang.items(), key=lambda kv: -len(kv[1]))))
    near_fo = (x_fo @ x_en.T).max(axis=1)
    print(f"  nearest English text, mean cosine: non-English {near_fo.mean():.3f}, "
          f"held-out English {np.mean(near_en):.3f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fills", type=int, default=10, help="Slot fillings per template.")
    ap.add_argument("--embedders", default="wordllama,tfidf")
    args = ap.parse_args()
    for kind in args.embedders.split(","):
        if kind == "openai" and not os.environ.get("REVIEWDECK_EMBED_MODEL"):
            print("openai: skipped (set REVIEWDECK_EMBED_MODEL to measure it)")
            continue
        report(kind, args.fills)


if __name__ == "__main__":
    main()
