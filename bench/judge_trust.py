"""Coverage and width of the judge-corrected rate (models/judge_trust/ppi.py), by simulation.

    python bench/judge_trust.py [--reps 4000] [--seed 0] [--method profile|ppi++] [--recheck R]

Bar (issue 14): coverage of the 95% interval within 93.5–96.5% over judge accuracies 0.6–0.95,
judge bias up to ±20 points, human samples of 50–1,000 and judged samples of 1k–100k; and the
interval narrower than humans-only (Wilson) whenever judge accuracy is at least 0.8.

Each cell fixes the true fail rate p, the judge's accuracy a (share of events where judge and
truth agree) and its bias b (judge fail rate − p). These fix the joint law of (truth, judge):
P(fail, judge pass) = (1 − a − b)/2 and P(pass, judge fail) = (1 − a + b)/2, so a bias larger
than 1 − a is impossible and such cells are skipped (at a = 0.95 the bias is at most ±5 points).
The estimator depends on the samples only through counts, so each replicate draws a multinomial
for the n labelled pairs and a binomial for the N − n unlabelled verdicts: the whole grid runs in
seconds. Human labels are the truth here (the estimand is the rate humans would give).

--recheck R reruns the cells outside the bar with R replicates (another seed), since a cell's
coverage has Monte Carlo error (±0.43 points, 95%, at 10,000 replicates).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

import numpy as np  # noqa: E402

from models.judge_trust.ppi import ppi_counts  # noqa: E402
from models.stats import wilson_bounds  # noqa: E402

RATES = (0.1, 0.3, 0.5)
ACCURACIES = (0.6, 0.7, 0.8, 0.9, 0.95)
BIASES = (-0.2, -0.1, 0.0, 0.1, 0.2)
HUMANS = (50, 100, 300, 1000)
JUDGED = (1_000, 10_000, 100_000)
BAR = (0.935, 0.965)


def cells():
    for p, a, b, n, big_n in itertools.product(RATES, ACCURACIES, BIASES, HUMANS, JUDGED):
        p10 = (1 - a - b) / 2
        p01 = (1 - a + b) / 2
        p11 = p - p10
        p00 = 1 - p - p01
        if min(p10, p01, p11, p00) < -1e-12 or n >= big_n:  # n = N: nothing to correct
            continue
        probs = np.clip(np.array([p11, p10, p01, p00]), 0, 1)
        yield p, a, b, n, big_n, probs / probs.sum()


def run(reps: int, seed: int, only=None, **kw) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for p, a, b, n, big_n, probs in cells():
        if only is not None and (p, a, b, n, big_n) not in only:
            continue
        c = rng.multinomial(n, probs, size=reps)
        fu = rng.binomial(big_n - n, p + b, size=reps)
        est, lo, hi, _ = ppi_counts(c[:, 0], c[:, 1], c[:, 2], c[:, 3], fu, big_n - n, **kw)
        hlo, hhi = wilson_bounds(c[:, 0] + c[:, 1], np.full(reps, n))
        p11, p10, p01, p00 = probs
        out.append(
            dict(
                p=p, a=a, b=b, n=n, N=big_n,
                # a judge whose fails are never true failures (p11 = 0): at best it
                # says which events pass; with p01 = 0 too it never fails at all
                informative=bool(p11 > 1e-12),
                cover=float(np.mean((lo <= p) & (p <= hi))),
                human_cover=float(np.mean((hlo <= p) & (p <= hhi))),
                width=float(np.mean(hi - lo)),
                human_width=float(np.mean(hhi - hlo)),
            )
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--method", default="profile", choices=("profile", "ppi++"))
    ap.add_argument("--recheck", type=int, default=0, metavar="R",
                    help="rerun the cells outside the bar with R replicates")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = run(args.reps, args.seed, method=args.method)
    elapsed = time.perf_counter() - t0
    cover = np.array([r["cover"] for r in rows])
    se = np.sqrt(0.95 * 0.05 / args.reps)
    print(f"{len(rows)} cells x {args.reps} replicates in {elapsed:.1f} s "
          f"(Monte Carlo s.e. of one cell's coverage: {100 * se:.2f} points)")
    print(f"coverage: min {100 * cover.min():.2f}%  mean {100 * cover.mean():.2f}%  "
          f"max {100 * cover.max():.2f}%   bar {100 * BAR[0]:.1f}–{100 * BAR[1]:.1f}%")
    outside = [r for r in rows if not BAR[0] <= r["cover"] <= BAR[1]]
    print(f"cells outside the bar: {len(outside)} of {len(rows)}")
    for r in sorted(outside, key=lambda r: r["cover"]):
        miss = (BAR[0] - r["cover"]) if r["cover"] < BAR[0] else (r["cover"] - BAR[1])
        print(f"  p={r['p']} a={r['a']} b={r['b']:+} n={r['n']} N={r['N']}: "
              f"{100 * r['cover']:.2f}% (outside by {miss / se:.1f} MC s.e.)")
    if args.recheck and outside:
        key = {(r["p"], r["a"], r["b"], r["n"], r["N"]) for r in outside}
        again = run(args.recheck, args.seed + 1, only=key, method=args.method)
        se2 = np.sqrt(0.95 * 0.05 / args.recheck)
        print(f"recheck of those cells with {args.recheck} replicates (seed {args.seed + 1}, "
              f"MC s.e. {100 * se2:.2f} points):")
        for r in sorted(again, key=lambda r: r["cover"]):
            inside = BAR[0] <= r["cover"] <= BAR[1]
            print(f"  p={r['p']} a={r['a']} b={r['b']:+} n={r['n']} N={r['N']}: "
                  f"{100 * r['cover']:.2f}% ({'inside' if inside else 'outside'})")
        outside = [r for r in again if not BAR[0] <= r["cover"] <= BAR[1]]
        print(f"cells outside the bar after the recheck: {len(outside)} of {len(rows)}")
    print("coverage by human sample n (min / mean):")
    for n in HUMANS:
        c = np.array([r["cover"] for r in rows if r["n"] == n])
        print(f"  n={n:>5}: {100 * c.min():.2f}% / {100 * c.mean():.2f}%")
    hc = np.array([r["human_cover"] for r in rows])
    h_out = int(np.sum((hc < BAR[0]) | (hc > BAR[1])))
    print(f"humans-only Wilson coverage, for reference: min {100 * hc.min():.2f}%  "
          f"max {100 * hc.max():.2f}%  cells outside the bar: {h_out}")
    good = [r for r in rows if r["a"] >= 0.8]
    ratio = np.array([r["width"] / r["human_width"] for r in good])
    wider = [r for r in good if r["width"] >= r["human_width"]]
    print(f"accuracy >= 0.8: corrected / humans-only mean width: max {ratio.max():.3f}, "
          f"median {np.median(ratio):.3f}, min {ratio.min():.3f}; "
          f"cells not narrower: {len(wider)} of {len(good)}")
    blind = [r for r in wider if not r["informative"]]
    print(f"  of which {len(blind)} have a judge whose fail verdicts are never right (it never "
          "flags a true failure)")
    for r in [r for r in wider if r["informative"]][:10]:
        print(f"  informative judge, not narrower: p={r['p']} a={r['a']} b={r['b']:+} "
              f"n={r['n']} N={r['N']}: "
              f"{r['width']:.4f} vs {r['human_width']:.4f}")
    for a in ACCURACIES:
        sel = [r["width"] / r["human_width"] for r in rows if r["a"] == a]
        print(f"  accuracy {a}: width ratio median {np.median(sel):.3f} (max {max(sel):.3f})")
    ok = not outside and not wider
    print("BAR MET" if ok else "BAR NOT MET")


if __name__ == "__main__":
    main()
