"""AutoRec accuracy: test RMSE of autorec_fast against the pure-PyTorch AutoRec.

Both are trained at equal hyper-parameters and epochs on the 90/10
``af.random_split`` (seed s) of MovieLens ratings, for I- and U-AutoRec; the
script prints each seed's test RMSE of ours and of the baseline, their
difference (ours - torch), and the means over seeds with standard errors (the
difference's from the paired per-seed differences).

    python benchmarks/accuracy/autorec_accuracy.py                      # ML-100K, 3 seeds
    python benchmarks/accuracy/autorec_accuracy.py --epochs 100 --l2 10 --seeds 0 1 2 3 4
    python benchmarks/accuracy/autorec_accuracy.py --tune                # grid + early stopping, ours
    python benchmarks/accuracy/autorec_accuracy.py --tune --tune-torch   # ... and the baseline too

``--tune``: for each seed the train part is split again 90/10 (seed s) into
fit / validation; every (l2, lr) of the grid (l2 in {1, 10, 100}, lr in
{1e-3, 3e-3}) is trained up to ``--max-epochs`` epochs with
``af.train(..., validation=val)``; the epoch with the lowest validation RMSE is
that setting's best. The setting with the lowest validation RMSE is then
retrained on the whole train part for its best number of epochs and scored on
the test part (the honest number); the best test RMSE over the grid (chosen
by looking at the test set, so optimistic) is printed beside it for reference.

Run it from anywhere: only the installed ``autorec_fast`` is imported (the
``benchmarks`` folder, not the repository root, goes first on ``sys.path``).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ (see common.py)
from common import add_run_options, af, fmt, mean_se, ml100k_path, same_threads
from baselines.autorec import TorchAutoRec


def have_ours():
    return "autorec" in af.MODELS


#: the same initialisation on both sides: ours' name -> the baseline's
INITS = {"fan_in": "torch", "glorot": "glorot"}


def train_ours(train, variant, hidden, l2, lr, epochs, batch_size, seed, validation=None, init="fan_in"):
    return af.train("autorec", train, variant=variant, hidden=hidden,
                    hidden_activation="sigmoid", output_activation="identity", l2=l2,
                    epochs=epochs, batch_size=batch_size, lr=lr, optimizer="adam", seed=seed,
                    device="cpu", validation=validation, init=init, patience=None)


def train_torch(train, variant, hidden, l2, lr, epochs, batch_size, seed, validation=None, init="fan_in"):
    return TorchAutoRec.trained(train, epochs, validation=validation, variant=variant, hidden=hidden,
                                l2=l2, batch_size=batch_size, lr=lr, seed=seed, init=INITS[init])


def rmse_ours(model, test):
    return float(af.evaluate(model, test, ["rmse"])["rmse"])


def compare(args, data):
    """Equal hyper-parameters and epochs, ours vs torch, over seeds."""
    ours_ok = have_ours() and not args.no_ours
    if not ours_ok and not args.no_ours:
        print("note: autorec_fast has no 'autorec' model yet (af.MODELS); baseline only\n")
    print(f"hidden={args.hidden} l2={args.l2} lr={args.lr} epochs={args.epochs} "
          f"batch={args.batch_size} threads={torch.get_num_threads()}\n")
    print(f"{'variant':8} {'seed':>4} {'ours':>8} {'torch':>8} {'diff':>8} "
          f"{'ours s/ep':>10} {'torch s/ep':>10}")
    summary = {}
    for variant in args.variants:
        res = {"ours": [], "torch": [], "diff": []}
        for seed in args.seeds:
            train, test = af.random_split(data, test_fraction=0.1, seed=seed)
            hp = dict(hidden=args.hidden, l2=args.l2, lr=args.lr, epochs=args.epochs,
                      batch_size=args.batch_size, seed=seed, init=args.init)
            r_o = ep_o = math.nan
            if ours_ok:
                t0 = time.perf_counter()
                m = train_ours(train, variant, **hp)
                ep_o = (time.perf_counter() - t0) / args.epochs
                r_o = rmse_ours(m, test)
                res["ours"].append(r_o)
            r_t = ep_t = math.nan
            if not args.no_torch:
                t0 = time.perf_counter()
                m = train_torch(train, variant, **hp)
                ep_t = (time.perf_counter() - t0) / args.epochs
                r_t = m.rmse(test)
                res["torch"].append(r_t)
            if ours_ok and not args.no_torch:
                res["diff"].append(r_o - r_t)
            print(f"{variant:8} {seed:>4} {r_o:8.4f} {r_t:8.4f} {r_o - r_t:+8.4f} "
                  f"{ep_o:10.3f} {ep_t:10.3f}", flush=True)
        summary[variant] = res
    print(f"\nmean ± standard error over {len(args.seeds)} seed(s)")
    for variant, res in summary.items():
        line = [f"{variant}-AutoRec:"]
        for k in ("ours", "torch"):
            if res[k]:
                line.append(f"{k} {fmt(*mean_se(res[k]))}")
        if res["diff"]:
            line.append(f"diff (ours - torch) {fmt(*mean_se(res['diff']))}")
        print("  ".join(line))


def best_epoch(history):
    vals = [h.get("val_rmse") for h in history]
    if not vals or any(v is None for v in vals):
        raise RuntimeError("the model's history has no 'val_rmse' per epoch; "
                           "did training receive validation=?")
    i = int(np.nanargmin(vals))
    return int(history[i]["epoch"]), float(vals[i])


def tune(args, data):
    impls = []
    if have_ours() and not args.no_ours:
        impls.append("ours")
    elif not args.no_ours:
        print("note: autorec_fast has no 'autorec' model yet (af.MODELS); cannot tune ours\n")
    if args.tune_torch:
        impls.append("torch")
    if not impls:
        sys.exit("nothing to tune")
    trainers = {"ours": train_ours, "torch": train_torch}
    grid = [(l2, lr) for l2 in args.grid_l2 for lr in args.grid_lr]
    print(f"hidden={args.hidden} batch={args.batch_size} max_epochs={args.max_epochs} "
          f"grid l2={args.grid_l2} lr={args.grid_lr} threads={torch.get_num_threads()}\n")
    final = {}
    for impl in impls:
        for variant in args.variants:
            for seed in args.seeds:
                train, test = af.random_split(data, test_fraction=0.1, seed=seed)
                fit, val = af.random_split(train, test_fraction=0.1, seed=seed)
                rows = []
                for l2, lr in grid:
                    hp = dict(hidden=args.hidden, l2=l2, lr=lr, batch_size=args.batch_size,
                              seed=seed, init=args.init)
                    t0 = time.perf_counter()
                    m = trainers[impl](fit, variant, epochs=args.max_epochs, validation=val, **hp)
                    secs = time.perf_counter() - t0
                    ep, v = best_epoch(m.history)
                    # test RMSE of the same setting retrained on all of train for `ep` epochs
                    m_full = trainers[impl](train, variant, epochs=ep, **hp)
                    t = rmse_ours(m_full, test) if impl == "ours" else m_full.rmse(test)
                    rows.append((v, l2, lr, ep, t))
                    print(f"{impl:5} {variant:4} seed={seed} l2={l2:<6g} lr={lr:<7g} "
                          f"best epoch {ep:3d}/{len(m.history):3d}  val {v:.4f}  test {t:.4f}  "
                          f"({secs:.1f}s)", flush=True)
                chosen = min(rows)
                oracle = min(rows, key=lambda r: r[4])
                print(f"  -> chosen by validation: l2={chosen[1]:g} lr={chosen[2]:g} "
                      f"epochs={chosen[3]}  test RMSE {chosen[4]:.4f}   "
                      f"(best test over grid: {oracle[4]:.4f}, optimistic)\n", flush=True)
                final.setdefault((impl, variant), []).append(chosen[4])
    print(f"tuned test RMSE, mean ± standard error over {len(args.seeds)} seed(s)")
    for (impl, variant), xs in final.items():
        print(f"  {impl:5} {variant}-AutoRec: {fmt(*mean_se(xs))}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=ml100k_path(), help="MovieLens u.data / ratings file")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--hidden", type=int, default=500)
    p.add_argument("--l2", type=float, default=100.0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--init", choices=sorted(INITS), default="fan_in",
                   help="both sides: fan_in (PyTorch's nn.Linear default) or glorot")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--variants", nargs="+", choices=["item", "user"], default=["item", "user"])
    add_run_options(p, "baseline")
    p.add_argument("--tune", action="store_true", help="grid search with validation early stopping")
    p.add_argument("--tune-torch", action="store_true", help="with --tune: tune the baseline too")
    p.add_argument("--max-epochs", type=int, default=100)
    p.add_argument("--grid-l2", type=float, nargs="+", default=[1.0, 10.0, 100.0])
    p.add_argument("--grid-lr", type=float, nargs="+", default=[1e-3, 3e-3])
    args = p.parse_args(argv)

    if not args.data.is_file():
        print(f"data not found: {args.data} (pass --data or set AUTOREC_FAST_DATA)")
        return 0
    same_threads(args.threads)
    data = af.load_movielens(str(args.data))
    print(f"data: {args.data} ({data.n_users} users x {data.n_items} items, {data.nnz} ratings)")
    if args.tune:
        tune(args, data)
    else:
        compare(args, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
