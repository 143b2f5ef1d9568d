"""Implicit-feedback accuracy: Mult-VAE, Mult-DAE and CDAE of autorec_fast against pure PyTorch.

For each seed s: a strong-generalization split (Liang et al. 2018) with split
seed ``98765 + s`` (s = 0 is the reference notebook's split), then ours and
the baseline are trained at equal hyper-parameters and epochs, both with
validation on ``split.validation`` (metric ndcg@100) keeping the best epoch's
parameters; both are scored by the same code, ``af.evaluate(model,
split.test, ["ndcg@100", "recall@20", "recall@50"])`` (the baselines through
an adapter returning the torch logits, baselines/base.py's ``TorchRecommender``). The script prints
each seed's test metrics, then the means over seeds with standard errors and
the paired differences (ours - torch).

    python benchmarks/accuracy/implicit_accuracy.py                          # ML-100K, 3 seeds
    python benchmarks/accuracy/implicit_accuracy.py --models multvae --epochs 100 --seeds 0 1 2 3 4
    python benchmarks/accuracy/implicit_accuracy.py --synthetic-users 20000 --epochs 20 --seeds 0

Data: ``--data`` (MovieLens ``u.data`` / ``ratings.csv``; default the shared
ML-100K) through ``af.strong_generalization_from_ratings`` (ratings > 3.5 as
1, users with >= 5 of them; ``--heldout-users`` validation and test users
each, default 100); or ``--synthetic-users N``: ``af.synthetic("ml-20m",
n_users=N, seed=0)`` (20,108 items, implicit), users with >= 5 items,
``af.strong_generalization_split`` with 10% of the users each for validation
and test (unless ``--heldout-users``).

Hyper-parameters (the reference ones, see benchmarks/baselines/multvae.py and
benchmarks/baselines/cdae.py): Mult-VAE I-600-200-600-I, dropout 0.5, beta_cap
0.2, anneal_steps 200000, l2 0; Mult-DAE I-200-I, dropout 0.5, l2 0.01/500;
both batch 500, Adam lr 1e-3. CDAE: hidden 50, corruption 0.5, sigmoid
output, logistic loss, Adam, ``--cdae-lr`` (1e-2), ``--cdae-batch-size`` (64),
``--cdae-l2`` (1e-3). With lr 1e-3 and batch 500 the full-output CDAE sat at
the popularity ranking for 50+ epochs on ML-100K (2 Adam steps per epoch), so
the CDAE defaults take more and larger steps. Ours is run once per
``--cdae-negative-ratios`` value (default 5 = the library's sampled negatives,
and 0 = the full output, the baseline's objective). Held-out users have no
CDAE user vector: both score them with a zero user vector (ours: whatever the
library does; check that it is the same).

Run it from anywhere: only the installed ``autorec_fast`` is imported (the
``benchmarks`` folder, not the repository root, goes first on ``sys.path``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ (see common.py)
from common import add_data_options, add_run_options, af, fmt, load_data, mean_se, same_threads
from baselines.cdae import TorchCDAE
from baselines.multvae import TorchMultVAE

METRICS = ["ndcg@100", "recall@20", "recall@50"]
VAL_METRIC = "ndcg@100"
SPLIT_SEED = 98765


def mult_params(model):
    if model == "multvae":
        return dict(layers=[600, 200], dropout=0.5, beta_cap=0.2, anneal_steps=200000,
                    batch_size=500, lr=1e-3, l2=0.0)
    return dict(layers=[200], dropout=0.5, batch_size=500, lr=1e-3, l2=0.01 / 500)


def cdae_params(args):
    return dict(hidden=50, corruption=0.5, output_activation="sigmoid", loss="logistic",
                batch_size=args.cdae_batch_size, lr=args.cdae_lr, l2=args.cdae_l2)


def runs(args):
    """(label, model name, impl, extra kwargs for ours) in the order they are reported."""
    out = []
    for m in args.models:
        if m == "cdae":
            for r in args.cdae_negative_ratios:
                out.append((f"cdae neg={r}", "cdae", "ours", {"negative_ratio": r}))
            out.append(("cdae torch", "cdae", "torch", {}))
        else:
            out.append((f"{m} ours", m, "ours", {}))
            out.append((f"{m} torch", m, "torch", {}))
    return out


def train_one(model, impl, extra, split, epochs, seed, args):
    """Returns (fitted recommender for af.evaluate, best epoch, seconds per epoch)."""
    t0 = time.perf_counter()
    if model in ("multvae", "multdae"):
        hp = mult_params(model)
        if impl == "ours":
            m = af.train(model, split.train, **hp, epochs=epochs, seed=seed, device="cpu",
                         validation=split.validation, metric=VAL_METRIC)
            rec = m
        else:
            m = TorchMultVAE.trained(split.train, epochs, validation=split.validation, metric=VAL_METRIC,
                                     kind=model[len("mult"):], seed=seed, **hp)
            rec = m.as_recommender()
    else:
        hp = cdae_params(args)
        if impl == "ours":
            m = af.train("cdae", split.train, **hp, **extra, optimizer="adam", epochs=epochs,
                         seed=seed, device="cpu", validation=split.validation, metric=VAL_METRIC)
            rec = m
        else:
            m = TorchCDAE.trained(split.train, epochs, validation=split.validation, metric=VAL_METRIC,
                                  seed=seed, **hp)
            rec = m.as_recommender()
    secs = (time.perf_counter() - t0) / max(epochs, 1)
    best = getattr(m, "best_epoch", None)
    return rec, best, secs


def make_split(args, data, s):
    seed = SPLIT_SEED + s
    if args.synthetic_users:
        n_held = args.heldout_users or max(1, data.n_users // 10)
        return af.strong_generalization_split(af.filter_min_counts(data, min_user_count=5),
                                              n_heldout_users=n_held, seed=seed)
    return af.strong_generalization_from_ratings(data, n_heldout_users=args.heldout_users or 100,
                                                 seed=seed)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_options(p, "ml-20m")
    p.add_argument("--models", nargs="+", choices=["multvae", "multdae", "cdae"],
                   default=["multvae", "multdae", "cdae"])
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--heldout-users", type=int, default=None,
                   help="validation and test users each (default: 100 for --data, 10%% synthetic)")
    p.add_argument("--cdae-lr", type=float, default=1e-2)
    p.add_argument("--cdae-batch-size", type=int, default=64)
    p.add_argument("--cdae-l2", type=float, default=1e-3)
    p.add_argument("--cdae-negative-ratios", type=int, nargs="+", default=[5, 0])
    add_run_options(p, "baselines")
    args = p.parse_args(argv)

    same_threads(args.threads)
    data = load_data(args, "ml-20m", unit="interactions")
    if data is None:
        return 0

    plan = []
    for label, model, impl, extra in runs(args):
        if impl == "ours" and args.no_ours or impl == "torch" and args.no_torch:
            continue
        if impl == "ours" and model not in af.MODELS:
            print(f"note: autorec_fast has no {model!r} model yet (af.MODELS); skipping {label}")
            continue
        plan.append((label, model, impl, extra))
    if not plan:
        print("nothing to run")
        return 0
    print(f"epochs={args.epochs} seeds={args.seeds} threads={torch.get_num_threads()} "
          f"cdae: lr={args.cdae_lr} batch={args.cdae_batch_size} l2={args.cdae_l2}\n")

    results = {label: {m: [] for m in METRICS} for label, *_ in plan}
    header = f"{'run':14} {'seed':>4} " + " ".join(f"{m:>9}" for m in METRICS) + \
        f" {'best ep':>7} {'s/epoch':>8}"
    print(header)
    for s in args.seeds:
        split = make_split(args, data, s)
        if s == args.seeds[0]:
            print(f"(split: train {split.train.n_users} users x {split.train.n_items} items, "
                  f"validation {split.validation.fold_in.n_users}, "
                  f"test {split.test.fold_in.n_users} users)")
        for label, model, impl, extra in plan:
            rec, best, secs = train_one(model, impl, extra, split, args.epochs, s, args)
            res = af.evaluate(rec, split.test, METRICS)
            for m in METRICS:
                results[label][m].append(float(res[m]))
            print(f"{label:14} {s:>4} " + " ".join(f"{res[m]:9.4f}" for m in METRICS) +
                  f" {best if best is not None else '-':>7} {secs:8.3f}", flush=True)

    print(f"\ntest metrics, mean ± standard error over {len(args.seeds)} seed(s)")
    for label, res in results.items():
        print(f"  {label:14} " + "  ".join(f"{m} {fmt(*mean_se(res[m]))}" for m in METRICS))
    pairs = []
    for label, model, impl, _ in plan:
        if impl != "ours":
            continue
        torch_label = f"{model} torch" if model != "cdae" else "cdae torch"
        if torch_label in results:
            pairs.append((label, torch_label))
    if pairs:
        print("\npaired differences (ours - torch), mean ± standard error")
        for ours_label, torch_label in pairs:
            diffs = {m: np.subtract(results[ours_label][m], results[torch_label][m])
                     for m in METRICS}
            print(f"  {ours_label:14} " + "  ".join(
                f"{m} {fmt(*mean_se(diffs[m]), signed=True)}" for m in METRICS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
