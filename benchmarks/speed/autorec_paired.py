"""AutoRec epoch time, ours and PyTorch measured in alternation (paired rounds).

This machine's load drifts: in one session the PyTorch epoch below took 1.2 s,
in another 1.8 s. The pytest-benchmark suite runs all of ours first and all of
PyTorch after, so its ratio can mix two machine states. Here each round runs
one steady epoch of ours (the second epoch of a 2-epoch ``af.train`` call, from
``model.history``) and one PyTorch epoch back to back, so both see the same
state; the per-round ratios and their median are printed.

    python benchmarks/speed/autorec_paired.py                  # I-AutoRec, ML-1M shape, 7 rounds
    python benchmarks/speed/autorec_paired.py --variant user --rounds 5
    python benchmarks/speed/autorec_paired.py --data ml-100k

Same data, model and settings as benchmarks/speed/test_autorec_bench.py (synthetic
ML-1M shape or ML-100K, train part of a 90/10 random split, hidden 500,
sigmoid / identity, batch 256, Adam lr 1e-3, l2 1, float32, both on 2 threads
by default).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ (see common.py)
from common import af, ml100k_path, same_threads  # autorec_fast before torch

import torch
from baselines.autorec import TorchAutoRec


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", choices=["item", "user"], default="item")
    ap.add_argument("--data", choices=["ml-1m-shape", "ml-100k"], default="ml-1m-shape")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--hidden", type=int, default=500)
    args = ap.parse_args(argv)

    if args.data == "ml-1m-shape":
        data = af.synthetic("ml-1m", seed=0)
    else:
        path = ml100k_path()
        if not path.is_file():
            sys.exit(f"ML-100K not found at {path} (set AUTOREC_FAST_DATA)")
        data = af.load_movielens(str(path))
    train = af.random_split(data, test_fraction=0.1, seed=0)[0]
    kw = dict(variant=args.variant, hidden=args.hidden, hidden_activation="sigmoid",
              output_activation="identity", l2=1.0, batch_size=256, lr=1e-3, optimizer="adam", seed=0)
    torch_model = TorchAutoRec(train, variant=args.variant, hidden=args.hidden, l2=1.0, batch_size=256,
                               lr=1e-3, seed=0)
    same_threads()  # the same threads both sides
    af.train("autorec", train, epochs=1, **kw)  # warm-up, both sides
    torch_model.run_epoch()
    print(f"{args.variant}-AutoRec, {args.data}, hidden {args.hidden}; torch threads {torch.get_num_threads()}")
    print("round   ours steady (s)   torch epoch (s)   ratio")
    ratios, ours_t, torch_t = [], [], []
    for r in range(args.rounds):
        model = af.train("autorec", train, epochs=2, **kw)
        o = model.history[1]["seconds"]
        t0 = time.perf_counter()
        torch_model.run_epoch()
        t = time.perf_counter() - t0
        ours_t.append(o)
        torch_t.append(t)
        ratios.append(t / o)
        print(f"{r:5d}   {o:15.4f}   {t:15.4f}   {t / o:5.1f}x")
    print(f"median  {np.median(ours_t):15.4f}   {np.median(torch_t):15.4f}   {np.median(ratios):5.1f}x "
          f"(per-round ratios {min(ratios):.1f}-{max(ratios):.1f}x)")


if __name__ == "__main__":
    main()
