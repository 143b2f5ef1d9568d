"""DeepRec accuracy: autorec_fast against the pure-PyTorch baseline at equal settings.

For each seed s: a split of ML-100K (``--protocol random``: a random 90/10
split of the ratings with seed s, AutoRec's protocol; ``--protocol time``:
``af.time_split`` at the 80 % quantile of the timestamps, the test period
halved into validation and test with seed s, DeepRec's Netflix-style
protocol), then ours and the baseline (benchmarks/baselines/deeprec.py) trained
on the training part for the same epochs with the same hyper-parameters and
training seed s, no early stopping. Test RMSE over the test pairs (pairs of
users or items without training ratings get the training mean in both; both
clip to [1, 5]). Prints each seed's values, means with standard errors and
the paired differences.

    python benchmarks/accuracy/deeprec_accuracy.py                     # 20 epochs, seeds 0 1 2
    python benchmarks/accuracy/deeprec_accuracy.py --epochs 40 --layers 256 256 --lr 0.01
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ (see common.py)
# autorec_fast before NumPy and PyTorch: see OPENBLAS_THREAD_TIMEOUT in the README
from common import af, fmt, mean_se, ml100k_path, same_threads

import numpy as np
import torch
from baselines.deeprec import TorchDeepRec


def split_for(data, protocol, seed):
    if protocol == "random":
        return af.random_split(data, test_fraction=0.1, seed=seed)
    cut = int(np.quantile(data.timestamps, 0.8))
    s = af.time_split(data, cut, validation_fraction=0.5, seed=seed)
    return s.train, s.test


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=ml100k_path(), help="MovieLens u.data / ratings file")
    p.add_argument("--protocol", choices=["random", "time"], default="random")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--layers", type=int, nargs="+", default=[512, 512, 1024])
    p.add_argument("--dropout", type=float, default=0.8)
    p.add_argument("--lr", type=float, default=0.005)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--refeed-steps", type=int, default=1)
    p.add_argument("--untied", action="store_true", help="constrained=False")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = p.parse_args(argv)
    if not args.data.is_file():
        sys.exit(f"data not found: {args.data} (set AUTOREC_FAST_DATA or pass --data)")
    same_threads()
    data = af.load_movielens(str(args.data))
    hp = dict(layers=tuple(args.layers), dropout=args.dropout, constrained=not args.untied,
              refeed_steps=args.refeed_steps, lr=args.lr, batch_size=args.batch_size,
              epochs=args.epochs)
    print(f"data: {args.data} ({data.n_users} x {data.n_items}, {data.nnz} ratings), "
          f"protocol {args.protocol}, {hp}, threads {torch.get_num_threads()}\n")
    print(f"{'seed':>4} {'ours':>8} {'torch':>8} {'diff':>8} {'ours s/ep':>10} {'torch s/ep':>10}")
    res = {"ours": [], "torch": [], "diff": []}
    for seed in args.seeds:
        train, test = split_for(data, args.protocol, seed)
        t0 = time.perf_counter()
        ours = af.train("deeprec", train, momentum=0.9, lr_schedule="deeprec", seed=seed,
                        optimizer="momentum", center=None, last_layer_activation=True, init_scale=1.0,
                        **hp)  # the baseline's model: the reference's, not issue 13's defaults
        ep_o = (time.perf_counter() - t0) / args.epochs
        r_o = float(af.evaluate(ours, test, ["rmse"])["rmse"])
        t0 = time.perf_counter()
        base = TorchDeepRec.trained(train, momentum=0.9, seed=seed, **hp)
        ep_t = (time.perf_counter() - t0) / args.epochs
        r_t = base.rmse(test)
        for k, v in (("ours", r_o), ("torch", r_t), ("diff", r_o - r_t)):
            res[k].append(v)
        print(f"{seed:>4} {r_o:8.4f} {r_t:8.4f} {r_o - r_t:+8.4f} {ep_o:10.3f} {ep_t:10.3f}", flush=True)
    print(f"\ntest RMSE, mean ± standard error over {len(args.seeds)} seed(s): "
          f"ours {fmt(*mean_se(res['ours']))}  torch {fmt(*mean_se(res['torch']))}  "
          f"paired diff (ours - torch) {fmt(*mean_se(res['diff']))}")


if __name__ == "__main__":
    main()
