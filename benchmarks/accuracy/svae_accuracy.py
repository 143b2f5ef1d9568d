"""SVAE accuracy: autorec_fast's SVAE against the pure-PyTorch baseline, same protocol and metrics.

For each seed s: the sequential protocol split
``af.splits.sequential_split_from_ratings(data, n_heldout_users=N, min_rating=4,
min_user_count=5, max_user_count=1000)`` (with ``seed=98765 + s`` when the
function takes a ``seed``; otherwise the one split for every seed), then ours
and the baseline are trained on ``split.train`` for the same epochs with the
same hyper-parameters and training seed s (no early stopping). Each scores the
test users from their fold-in histories ordered by (timestamp, entry order)
(ours: ``model.score(split.test.fold_in)``; torch: ``TorchSVAETrainer.score``),
and ONE metric function (:func:`ranking_metrics`, below) computes for both:

* NDCG@K = Σ_{i<K} rel_i / log2(i+2) / Σ_{i<min(K, n_out)} 1/log2(i+2);
* Recall@K = hits in the top K / n_out (SVAE's definition, "divided by n_out");

at K = 100 and K = 10, fold-in items excluded from the ranking, users without
fold-out items left out. The script prints each seed's values, the means with
standard errors and the paired differences (ours - torch) with standard errors.

Cross-checks of the shared function against the library's own evaluation:
ours through ``af.evaluate(model, split.test, ["ndcg@100", "recall_nout@100"])``
(the model rescoring the fold-in itself), the baseline through ``af.evaluate``
on an adapter returning the very scores the shared function ranked; the
largest absolute difference is printed (expect ~1e-7; it is not 0 only if
tied scores are ordered differently).

    python benchmarks/accuracy/svae_accuracy.py                        # ML-100K, 25 epochs, seeds 0 1 2
    python benchmarks/accuracy/svae_accuracy.py --epochs 5 --seeds 0
    python benchmarks/accuracy/svae_accuracy.py --synthetic-users 2000 --heldout-users 200

Data: ``--data`` (MovieLens ``u.data`` / ``ratings.dat`` / ``ratings.csv`` with
timestamps; default the shared ML-100K, 943 users, so 100 validation and 100
test users), or ``--synthetic-users N``: ``af.synthetic("ml-1m", n_users=N,
seed=0)`` (ratings 1..5 with timestamps).

Hyper-parameters (the library defaults; see benchmarks/baselines/svae.py):
embedding 256, GRU 200, hidden 150, latent 64, next_k 4, beta_cap 0.2,
anneal_steps 200000, Adam lr 1e-3 with weight_decay 5e-3, ``--batch-size``
(32) users, ``--epochs`` (25). Ours gets ``epochs``, ``batch_size``, ``seed``
and ``device="cpu"`` and relies on its defaults for the rest.

Run it from anywhere: only the installed ``autorec_fast`` is imported (the
``benchmarks`` folder, not the repository root, goes first on ``sys.path``).
"""

from __future__ import annotations

import argparse
import inspect
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ (see common.py)
from common import add_data_options, add_run_options, af, fmt, load_data, mean_se, same_threads
from baselines.base import TorchRecommender
from baselines.svae import TorchSVAETrainer

KS = (100, 10)
METRICS = [f"{m}@{k}" for k in KS for m in ("ndcg", "recall_nout")]
CHECK_METRICS = ["ndcg@100", "recall_nout@100"]
SPLIT_SEED = 98765
SPLIT_ARGS = dict(min_rating=4, min_user_count=5, max_user_count=1000)


# ------------------------------------------------------------------ shared metric

def ranking_metrics(scores, fold_in, fold_out, ks=KS):
    """{"ndcg@K", "recall_nout@K"} for each K in ``ks``: {name: per-user array}, over the
    users (rows) with at least one fold-out item; fold-in items never ranked.

    ``scores``: users x items (dense, any float dtype); ``fold_in`` / ``fold_out``:
    ``Interactions`` (or CSR matrices) with the same rows and columns as ``scores``.
    """
    X_in = getattr(fold_in, "matrix", fold_in).tocsr()
    X_out = getattr(fold_out, "matrix", fold_out).tocsr()
    S = np.array(scores, dtype=np.float64, copy=True)
    if S.shape != X_in.shape or S.shape != X_out.shape:
        raise ValueError(f"scores {S.shape}, fold_in {X_in.shape}, fold_out {X_out.shape} differ")
    r, c = X_in.nonzero()
    S[r, c] = -np.inf
    n_out_all = np.diff(X_out.indptr)
    keep = np.flatnonzero(n_out_all > 0)
    S, n_out = S[keep], n_out_all[keep].astype(np.float64)
    rel = X_out[keep].toarray() != 0
    kmax = max(ks)
    if kmax > S.shape[1]:
        raise ValueError(f"cut-off {kmax} exceeds the number of items ({S.shape[1]})")
    part = np.argpartition(-S, kmax - 1, axis=1)[:, :kmax]
    vals = np.take_along_axis(S, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    top = np.take_along_axis(part, order, axis=1)
    hits = np.take_along_axis(rel, top, axis=1) & np.isfinite(np.take_along_axis(vals, order, 1))
    hits = hits.astype(np.float64)
    discount = 1.0 / np.log2(np.arange(2, kmax + 2))
    idcg = np.cumsum(discount)
    out = {}
    for k in ks:
        h = hits[:, :k]
        out[f"ndcg@{k}"] = (h * discount[:k]).sum(1) / idcg[np.minimum(k, n_out).astype(np.int64) - 1]
        out[f"recall_nout@{k}"] = h.sum(1) / n_out
    return out


class _FixedScores(TorchRecommender):
    """Hands ``af.evaluate`` precomputed scores of the rows it ranks (users with fold-out items,
    in order), so the library's evaluation can be checked on exactly the scores we ranked."""

    def __init__(self, n_items, item_ids, scores_of_kept_rows):
        super().__init__("fixed-scores", n_items, item_ids, self._next)
        self._scores = np.asarray(scores_of_kept_rows, dtype=np.float32)
        self._pos = 0

    def _next(self, X):
        rows = self._scores[self._pos:self._pos + X.shape[0]]
        if rows.shape[0] != X.shape[0]:
            raise RuntimeError("af.evaluate asked for more rows than were precomputed")
        self._pos += X.shape[0]
        return rows


def evaluate_fixed_scores(scores, test, item_ids):
    keep = np.diff(test.fold_out.matrix.indptr) > 0
    rec = _FixedScores(scores.shape[1], item_ids, scores[keep])
    return af.evaluate(rec, test, CHECK_METRICS, batch_size=max(1, int(keep.sum())))


# ------------------------------------------------------------------------- runs

def make_split(data, n_heldout, s):
    fn = getattr(getattr(af, "splits", None), "sequential_split_from_ratings", None)
    if fn is None:
        return None, None
    kwargs = dict(SPLIT_ARGS, n_heldout_users=n_heldout)
    split_seed = None
    if "seed" in inspect.signature(fn).parameters:
        split_seed = SPLIT_SEED + s
        kwargs["seed"] = split_seed
    return fn(data, **kwargs), split_seed


def train_score(impl, split, epochs, seed, batch_size):
    """Returns (scores of the test fold-in users, model, seconds per epoch, last epoch's loss)."""
    t0 = time.perf_counter()
    if impl == "ours":
        model = af.train("svae", split.train, epochs=epochs, batch_size=batch_size, seed=seed,
                         device="cpu")
        secs = (time.perf_counter() - t0) / max(epochs, 1)
        scores = model.score(split.test.fold_in)
        if not isinstance(scores, np.ndarray):  # e.g. a CuPy array
            scores = scores.get()
    else:
        model = TorchSVAETrainer.trained(split.train, epochs, batch_size=batch_size, seed=seed)
        secs = (time.perf_counter() - t0) / max(epochs, 1)
        scores = model.score(split.test.fold_in)
    hist = getattr(model, "history", None) or [{}]
    loss = hist[-1].get("loss", math.nan)
    return np.asarray(scores), model, secs, float(loss)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_options(p, "ml-1m", "explicit ratings with timestamps")
    p.add_argument("--heldout-users", type=int, default=100,
                   help="validation and test users each (default 100)")
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    add_run_options(p, "baseline")
    args = p.parse_args(argv)

    same_threads(args.threads)
    data = load_data(args, "ml-1m")
    if data is None:
        return 0
    if getattr(getattr(af, "splits", None), "sequential_split_from_ratings", None) is None:
        print("autorec_fast has no splits.sequential_split_from_ratings yet; nothing to run")
        return 0

    impls = []
    if not args.no_ours:
        if "svae" in af.MODELS:
            impls.append("ours")
        else:
            print("note: autorec_fast has no 'svae' model yet (af.MODELS); skipping ours")
    if not args.no_torch:
        impls.append("torch")
    if not impls:
        print("nothing to run")
        return 0
    print(f"epochs={args.epochs} batch_size={args.batch_size} seeds={args.seeds} "
          f"threads={torch.get_num_threads()}\n")

    results = {impl: {m: [] for m in METRICS} for impl in impls}
    header = (f"{'run':6} {'seed':>4} " + " ".join(f"{m:>15}" for m in METRICS) +
              f" {'s/epoch':>8} {'last loss':>10}  af.evaluate check")
    print(header)
    for s in args.seeds:
        split, split_seed = make_split(data, args.heldout_users, s)
        test = split.test
        n_eval = int((np.diff(test.fold_out.matrix.indptr) > 0).sum())
        print(f"(split{'' if split_seed is None else f' seed {split_seed}'}: train "
              f"{split.train.n_users} users x {split.train.n_items} items, test "
              f"{test.fold_in.n_users} users ({n_eval} with fold-out items))")
        for impl in impls:
            scores, model, secs, loss = train_score(impl, split, args.epochs, s, args.batch_size)
            res = {m: float(v.mean()) for m, v in
                   ranking_metrics(scores, test.fold_in, test.fold_out).items()}
            for m in METRICS:
                results[impl][m].append(res[m])
            if impl == "ours":
                check = af.evaluate(model, test, CHECK_METRICS)
                how = "af.evaluate(model)"
            else:
                check = evaluate_fixed_scores(scores, test, split.train.item_ids)
                how = "af.evaluate(same scores)"
            diff = max(abs(float(check[m]) - res[m]) for m in CHECK_METRICS)
            print(f"{impl:6} {s:>4} " + " ".join(f"{res[m]:15.4f}" for m in METRICS) +
                  f" {secs:8.3f} {loss:10.4f}  {how}: " +
                  " ".join(f"{m} {float(check[m]):.4f}" for m in CHECK_METRICS) +
                  f" (max |diff| {diff:.1e})", flush=True)

    print(f"\ntest metrics, mean ± standard error over {len(args.seeds)} seed(s)")
    for impl, res in results.items():
        print(f"  {impl:6} " + "  ".join(f"{m} {fmt(*mean_se(res[m]))}" for m in METRICS))
    if "ours" in results and "torch" in results:
        print("\npaired differences (ours - torch), mean ± standard error")
        print("  " + "  ".join(
            f"{m} {fmt(*mean_se(np.subtract(results['ours'][m], results['torch'][m])), signed=True)}"
            for m in METRICS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
