"""``autorec-fast`` / ``python -m autorec_fast``: train, evaluate under strong generalization, report.

``--model svae`` is evaluated with its own protocol instead: held-out users
whose last 20 % of interactions by time are the targets (ratings >= 4 for
rated data, users with 5..1000 interactions), with Recall divided by n_out.

With no ``--data`` it runs on the built-in synthetic data set (ML-1M-shaped by
default), so it works on a fresh clone with nothing downloaded.
"""

from __future__ import annotations

import argparse
import sys
import time

DEFAULT_METRICS = ["recall@20", "recall@50", "ndcg@100"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="autorec-fast",
        description="Train an autoencoder recommender, evaluate it with the strong-generalization "
        "protocol (Liang et al. 2018) and print the metrics.",
    )
    p.add_argument("--data", help="MovieLens ratings file (u.data, ratings.dat or ratings.csv); "
                   "default: synthetic data")
    p.add_argument("--synthetic", default="ml-1m",
                   help="shape of the synthetic data when --data is not given (ml-100k, ml-1m, "
                   "ml-20m, netflix, msd; default ml-1m)")
    p.add_argument("--synthetic-users", type=int, default=None,
                   help="number of synthetic users (default: the shape's)")
    p.add_argument("--model", default="ease", help="model name (default ease)")
    p.add_argument("--l2", type=float, default=None, help="L2 penalty (EASE's lambda; default 500)")
    p.add_argument("--epochs", type=int, default=None,
                   help="training epochs of the neural models (default: the model's)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--threshold", type=float, default=3.5,
                   help="keep ratings > threshold, then binarise (default 3.5)")
    p.add_argument("--min-user-count", type=int, default=5)
    p.add_argument("--heldout-users", type=int, default=None,
                   help="validation users = test users = N (default: 10%% of users, at most 10,000)")
    p.add_argument("--metrics", nargs="+", default=DEFAULT_METRICS,
                   help="default recall@20 recall@50 ndcg@100 (svae: ndcg@100 recall_nout@100 "
                   "recall_nout@10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic generator")
    p.add_argument("--save", help="save the fitted model to this .npz path")
    p.add_argument("--quiet", action="store_true", help="print only the metrics")
    return p


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    import autorec_fast as af
    from autorec_fast.evaluation import parse_metric

    # user errors are found before any work and reported in one line, not a traceback
    if args.model.lower().replace("-", "").replace("_", "") not in af.MODELS:
        parser.error(f"--model: unknown model {args.model!r}; choose one of {sorted(af.MODELS)}")
    if args.heldout_users is not None and args.heldout_users <= 0:
        parser.error(f"--heldout-users must be >= 1, got {args.heldout_users}")
    for metric in args.metrics:
        try:
            parse_metric(metric)
        except (ValueError, TypeError) as exc:
            parser.error(f"--{exc}")
    try:
        return _run(args, af)
    except (ValueError, TypeError, FileNotFoundError, MemoryError, FloatingPointError) as exc:
        print(f"autorec-fast: error: {exc}", file=sys.stderr, flush=True)
        return 2


def _run(args, af) -> int:

    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    t0 = time.perf_counter()
    if args.data:
        data = af.load_movielens(args.data)
        source = args.data
    else:
        data = af.synthetic(args.synthetic, n_users=args.synthetic_users, seed=args.seed)
        source = f"synthetic {args.synthetic}-shaped data (seed {args.seed})"
    say(f"data: {source}: {data.n_users:,} users x {data.n_items:,} items, {data.nnz:,} interactions "
        f"({time.perf_counter() - t0:.1f} s)")
    n_users_kept = data.n_users
    n_heldout = args.heldout_users if args.heldout_users is not None else max(1, min(10_000, n_users_kept // 10))
    sequential = args.model.lower() == "svae"
    if sequential and data.has_ratings:
        split = af.sequential_split_from_ratings(data, n_heldout, min_user_count=args.min_user_count)
    elif sequential:
        split = af.temporal_heldout_split(
            af.filter_min_counts(data, min_user_count=args.min_user_count), n_heldout)
    elif data.has_ratings:
        split = af.strong_generalization_from_ratings(
            data, n_heldout, threshold=args.threshold, min_user_count=args.min_user_count)
    else:  # implicit data: nothing to threshold
        split = af.strong_generalization_split(
            af.filter_min_counts(data, min_user_count=args.min_user_count), n_heldout)
    protocol = "SVAE's temporal held-out protocol" if sequential else "strong generalization"
    say(f"{protocol}: {split.train.n_users:,} training users, {n_heldout:,} validation "
        f"and {n_heldout:,} test users, {split.train.n_items:,} items")
    if sequential and args.metrics == DEFAULT_METRICS:
        args.metrics = ["ndcg@100", "recall_nout@100", "recall_nout@10"]
    params = {"dtype": args.dtype, "device": args.device, "verbose": not args.quiet}
    if args.l2 is not None:
        params["l2"] = args.l2
    if args.epochs is not None:
        params["epochs"] = args.epochs
    t1 = time.perf_counter()
    model = af.train(args.model, split.train, **params)
    say(f"trained {args.model} in {time.perf_counter() - t1:.2f} s")
    for name, part in (("validation", split.validation), ("test", split.test)):
        res = af.evaluate(model, part, args.metrics, verbose=not args.quiet)
        print(f"{name:>10}: " + "  ".join(f"{k} {v:.4f}" for k, v in res.items()), flush=True)
    if args.save:
        model.save(args.save)
        say(f"saved to {args.save}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
