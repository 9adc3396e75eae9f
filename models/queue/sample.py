"""The queue's sample: which candidate events a queue holds, and in which order reviewers see them.

Pure functions over (event_id, stratum) pairs, so they are tested on small known inputs. The
draw is deterministic: every event gets a rank from a hash of the seed and its id (not Python's
`random`, whose sequence depends on the order candidates arrive in), so the same candidates and
seed always give the same sample, whatever order SQL returned them in.

Stratified draws give every stratum an equal share of N (for `verdict:<evaluator>`: half of the
judge's fails and half of its passes), and a stratum with too few events gives its unused share
to the others. Equal shares are what a comparison needs (the judge's fail rate among few fails is
otherwise measured on a handful); the stratum is kept on each item so an estimate over the whole
traffic can weight it back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Drawn:
    event_id: str
    stratum: str | None


def _rank(seed: int, salt: str, event_id: str) -> str:
    return hashlib.sha256(f"{seed}\x1f{salt}\x1f{event_id}".encode()).hexdigest()


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Equal shares of `n` over the strata, capped by each stratum's size; the rest of a short
    stratum's share goes to the others (in stratum order, so the split is deterministic)."""
    alloc = dict.fromkeys(sizes, 0)
    left = min(n, sum(sizes.values()))
    open_ = sorted(k for k, size in sizes.items() if size > 0)
    while left > 0 and open_:
        share, extra = divmod(left, len(open_))
        for i, key in enumerate(open_):
            take = min(share + (1 if i < extra else 0), sizes[key] - alloc[key])
            alloc[key] += take
            left -= take
        open_ = [k for k in open_ if alloc[k] < sizes[k]]
    return alloc


def draw(
    candidates: Iterable[tuple[str, str | None]], n: int, seed: int, *, stratified: bool = False
) -> list[Drawn]:
    """A sample of `n` candidates (all of them when there are fewer), in review order.

    Review order is a second hash, so a stratified queue does not show all of one stratum first
    (a reviewer who sees ten fails in a row starts expecting the eleventh).
    """
    unique = dict(candidates)  # one row per event, whatever the source repeated
    if n <= 0 or not unique:
        return []
    if stratified:
        by: dict[str, list[str]] = {}
        for event_id, stratum in unique.items():
            by.setdefault(stratum if stratum is not None else "(none)", []).append(event_id)
        alloc = allocate({k: len(v) for k, v in by.items()}, n)
        chosen: list[str] = []
        for key, ids in by.items():
            chosen += sorted(ids, key=lambda e: _rank(seed, "draw", e))[: alloc[key]]
    else:
        chosen = sorted(unique, key=lambda e: _rank(seed, "draw", e))[:n]
    chosen.sort(key=lambda e: _rank(seed, "order", e))
    return [Drawn(e, unique[e]) for e in chosen]


def strata_counts(items: Sequence[Drawn]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        key = item.stratum if item.stratum is not None else "(none)"
        out[key] = out.get(key, 0) + 1
    return out
