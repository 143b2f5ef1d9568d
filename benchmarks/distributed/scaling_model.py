"""The time and network model of ``autorec_fast.distributed.fit_ease`` and ``recommend``
for N workers, with rates measured by bench_distributed.py (derived numbers, not
measurements):

    python benchmarks/distributed/scaling_model.py [benchmarks/distributed/results.json]

EASE fit on N workers (one node each, with the measured node's cores):

* Gram: W = Σ_u nnz_u (nnz_u + 1) / 2 multiply-adds, split over N workers at the
  single-process Gram rate (madds/s of one node);
* partial Grams: one packed upper triangle of P = n (n + 1) / 2 × 4 bytes per worker;
  a tree of fan-in 2 has ceil(log2 N) levels, each a transfer of P and a sum, then
  one more transfer of P to the client; N × P bytes cross the network in all;
* factorisation: n³ flops (potrf n³/3 + potri 2n³/3) on one node at the measured
  rate; it does not shrink with N.

Scoring: nnz × n multiply-adds (sparse X times dense B) plus top-k, split over N
at the single-process rate.

The per-user activity of the synthetic presets (lognormal, σ = 1) gives W; the
real data sets' activity differs (heavier tails raise W).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

#: name -> (users, items n, interactions, W = Σ nnz (nnz + 1) / 2), from the synthetic
#: presets' activity draw (``_user_activity``, seed 0), or scaled from it at 1B interactions
SHAPES = {
    "ML-20M (136,677 x 20,108, 10M)": (136_677, 20_108, 10_000_000, 1.013e9),
    "Netflix (463,435 x 17,769, 56.9M)": (463_435, 17_769, 56_880_037, 9.519e9),
    "1B, ML-20M activity, 20,108 items": (13_668_000, 20_108, 1_000_000_000, 1.013e9 * 100),
    "1B, Netflix activity, 17,769 items": (8_148_000, 17_769, 1_000_000_000, 9.519e9 * 1e9 / 56_880_037),
}
BANDWIDTHS = {"10 GbE": 1.25e9, "100 Gb/s": 12.5e9}  # assumed: 1.25 and 12.5 GB/s per link
SUM_BYTES_PER_S = 10e9  # assumed: adding two packed triangles streams 3 P bytes at ~10 GB/s on one node


def activity_w(name):
    """W of a preset from its activity draw (to check SHAPES)."""
    from autorec_fast._data.synthetic import SYNTHETIC_PRESETS, _user_activity

    users, n, total, _ = SYNTHETIC_PRESETS[name]
    k = _user_activity(np.random.default_rng(0), users, n, total).astype(np.float64)
    return float((k * (k + 1) / 2).sum())


def rates(res):
    se = res["single_ease"]["median"]
    gram_rate = res["data"]["gram_multiply_adds"] / se["gram_seconds"]
    n = res["data"]["items"]
    # the factorisation alone: fit_gram's time in the distributed runs (median over all),
    # else the single-process fit minus its Gram
    fact = [r["factorize_seconds"] for cfg in res.get("distributed", [])
            for key in ("fit_ease_shuffle", "fit_ease_grouped") if key in cfg for r in cfg[key]["runs"]]
    fact_s = float(np.median(fact)) if fact else se["factorize_seconds_derived"]
    flops = n ** 3 / fact_s
    score = None
    if "single_recommend" in res:
        score = res["data"]["recommend_interactions"] * n / res["single_recommend"]["median"]["seconds"]
    return gram_rate, flops, score


def model(res, workers=(1, 2, 4, 8, 16, 32, 64)):
    gram_rate, flops, score = rates(res)
    lines = [f"measured (one node, {res['machine']['cpus']} cores): Gram {gram_rate / 1e6:.1f} M madds/s, "
             f"factorisation {flops / 1e9:.1f} GFLOP/s (n^3 convention)"
             + (f", scoring {score / 1e9:.2f} G madds/s (X·B + top-k)" if score else "")]
    for name, (_users, n, nnz, W) in SHAPES.items():
        P = n * (n + 1) // 2 * 4
        t_fact = n ** 3 / flops
        lines.append(f"\n{name}: W = {W:.3g} madds, packed partial P = {P / 1e6:.0f} MB, "
                     f"factorisation {t_fact:.0f} s on one node (every N)"
                     + (f", scoring {nnz * n / score:.0f} s on one node" if score else ""))
        header = "| N | Gram (s) | " + " | ".join(f"tree + client, {b} (s)" for b in BANDWIDTHS) + \
                 " | network bytes (GB) | fit total, 10 GbE (s) |" + (" scoring (s) |" if score else "")
        lines += [header, "|" + " ---: |" * (header.count("|") - 1)]
        for N in workers:
            t_gram = W / (N * gram_rate)
            levels = math.ceil(math.log2(N)) if N > 1 else 0
            trees = [(levels + 1) * P / bw + levels * 3 * P / SUM_BYTES_PER_S for bw in BANDWIDTHS.values()]
            total = t_gram + trees[0] + t_fact
            row = f"| {N} | {t_gram:.1f} | " + " | ".join(f"{t:.1f}" for t in trees) + \
                  f" | {N * P / 1e9:.1f} | {total:.0f} |"
            if score:
                row += f" {nnz * n / (N * score):.1f} |"
            lines.append(row)
    return lines


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "results.json"
    res = json.loads(path.read_text())
    print("\n".join(model(res)))


if __name__ == "__main__":
    main()
