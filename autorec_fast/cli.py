"""``autorec-fast`` / ``python -m autorec_fast``: train one model, evaluate it with its own protocol, report.

Each model kind has the protocol of its papers (the same calls as
``benchmarks/leaderboard.py``):

* **ratings** (autorec, deeprec, bias): a random 90/10 split of the ratings
  (``af.random_split``, seed ``--seed``); the gradient-trained models stop early
  on a validation part of 10 % of the training ratings (another
  ``af.random_split``), the bias baseline fits all of them. Metrics: RMSE, MAE.
* **top-N, strong generalization** (ease, multvae, multdae, cdae, popularity,
  itemknn; Liang et al. 2018): validation and test users held out, each with
  80 % of their items folded in and 20 % to predict
  (``af.strong_generalization_from_ratings`` on rated data, ratings >
  ``--threshold``; ``af.strong_generalization_split`` on implicit data). The
  gradient-trained models are validated on the validation users every epoch
  (best epoch kept, early stopping with the model's patience).
* **top-N, temporal** (svae; Sachdeva et al. 2019): held-out users whose latest
  20 % of interactions are the targets (``af.splits.sequential_split_from_ratings``
  on rated data: ratings >= 4, users with 5..1000 of them;
  ``af.temporal_heldout_split`` on implicit data).

Every argument, metric and model option is checked before any data is loaded:
a user error is one line on stderr (``autorec-fast: error: ...``) and exit
code 2, never a traceback. With no ``--data`` it runs on the built-in synthetic
data set (ML-1M-shaped by default), so it works on a fresh clone with nothing
downloaded.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import inspect
import json
import math
import os
import sys
import time

PROG = "autorec-fast"
RATING_DEFAULT_METRICS = ["rmse", "mae"]
TOPN_DEFAULT_METRICS = ["recall@20", "recall@50", "ndcg@100"]
SEQUENTIAL_DEFAULT_METRICS = ["ndcg@100", "recall_nout@100", "recall_nout@10"]
PROTOCOLS = {
    "rating": "random 90/10 split of the ratings (early stopping on 10 % of the training ratings)",
    "topn": "strong generalization (held-out users, 80 % of their items folded in)",
    "sequential": "temporal held-out users (SVAE's protocol: the latest 20 % are the targets)",
}
SHORT_PROTOCOLS = {"rating": "ratings, random 90/10", "topn": "top-N, strong generalization",
                   "sequential": "top-N, temporal (SVAE)"}
# fit() arguments the CLI supplies itself; everything else in __init__ / fit is a --param
_CLI_OWNED = {"validation": "the protocol's validation part", "callback": "a Python function",
              "user_features": "side features (Python API only)", "item_features": "side features (Python API only)",
              "dtype": "--dtype", "device": "--device", "verbose": "--quiet", "seed": "--seed"}


class UsageError(Exception):
    """A mistake in the command line or the data it names: one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: one line, no usage block
        raise UsageError(f"{message} (see {PROG} --help)")


def _kind(cls) -> str:
    from .models import SVAE

    if getattr(cls, "predicts_ratings", False):
        return "rating"
    return "sequential" if issubclass(cls, SVAE) else "topn"


def _gradient_trained(cls) -> bool:
    from .models._training import GradientTrained

    return issubclass(cls, GradientTrained)


def _model_list() -> str:
    import autorec_fast as af

    lines = ["models (--model NAME; its options as --param KEY=VALUE, see help(autorec_fast.<Class>)):"]
    for name, cls in af.MODELS.items():
        doc = (cls.__doc__ or "").strip().splitlines()
        lines.append(f"  {name:<11} {SHORT_PROTOCOLS[_kind(cls)]:<29} {doc[0] if doc else cls.__name__}")
    lines += ["", "protocols:"] + [f"  {SHORT_PROTOCOLS[k]}: {v}" for k, v in PROTOCOLS.items()]
    lines += ["", "examples:",
              f"  {PROG}                                         # EASE on synthetic ML-1M-shaped data",
              f"  {PROG} --model autorec --data ml-1m/ratings.dat  # test RMSE, MAE",
              f"  {PROG} --model multvae --param epochs=50 --param layers=[600,200] --json",
              f"  {PROG} --data ml-20m/ratings.csv --l2 500 --heldout-users 10000"]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    from .datasets import SYNTHETIC_PRESETS

    p = _Parser(
        prog=PROG,
        description="Train a recommender, evaluate it with its model's own protocol (see below) "
        "and print the metrics.",
        epilog=_model_list(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", default="ease", help="model name (default ease; listed below)")
    p.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE",
                   help="a model option (repeatable), e.g. --param hidden=200 --param layers=[600,200] "
                   "--param variant=user; values are read as JSON or Python literals, else as text")
    p.add_argument("--l2", type=float, default=None, help="shortcut for --param l2=L2 (EASE's lambda, default 500)")
    p.add_argument("--epochs", type=int, default=None,
                   help="shortcut for --param epochs=N (gradient-trained models; default: the model's)")
    p.add_argument("--data", help="MovieLens ratings file (u.data, ratings.dat or ratings.csv); "
                   "default: synthetic data")
    p.add_argument("--synthetic", default="ml-1m", choices=sorted(SYNTHETIC_PRESETS),
                   help="shape of the synthetic data when --data is not given (default ml-1m; "
                   "ml-100k and ml-1m have ratings 1..5, the others are implicit)")
    p.add_argument("--synthetic-users", type=int, default=None,
                   help="number of synthetic users (default: the shape's)")
    p.add_argument("--metrics", nargs="+", default=None,
                   help="default: rmse mae (rating models); recall@20 recall@50 ndcg@100 (top-N); "
                   "ndcg@100 recall_nout@100 recall_nout@10 (svae)")
    p.add_argument("--seed", type=int, default=0,
                   help="seeds the synthetic data, the split (strong generalization and temporal: "
                   "98765 + SEED) and the model (default 0)")
    p.add_argument("--heldout-users", type=int, default=None,
                   help="top-N protocols: validation users = test users = N (default: 10%% of the "
                   "users, at most 10,000)")
    p.add_argument("--threshold", type=float, default=None,
                   help="strong generalization on rated data: keep ratings > threshold, then "
                   "binarise (default 3.5)")
    p.add_argument("--min-user-count", type=int, default=None,
                   help="top-N protocols: drop users with fewer interactions (default 5)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--save", metavar="PATH", help="save the fitted model to this .npz path")
    p.add_argument("--json", action="store_true",
                   help="print the results as one JSON object on stdout (progress goes to stderr)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    return p


def _parse_value(text: str):
    if text.strip().lower() in ("none", "null"):
        return None
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            pass
    return text


def _model_options(args, cls, name):
    """The model's options from --param/--l2/--epochs, checked against its signature."""
    init_args = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    fit_args = [p for p in inspect.signature(cls.fit).parameters if p not in ("self", "data")]
    takes = [p for p in init_args + fit_args if p not in _CLI_OWNED]
    options = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise UsageError(f"--param: expected KEY=VALUE, got {item!r}")
        if key in _CLI_OWNED:
            raise UsageError(f"--param {key}: set by the command line ({_CLI_OWNED[key]}), not a --param")
        if key not in takes:
            raise UsageError(f"--param {key}: {name} has no option {key!r}; it takes "
                             f"{', '.join(takes) or 'none'}")
        options[key] = _parse_value(value)
    for key in ("l2", "epochs"):
        value = getattr(args, key)
        if value is not None:
            if key not in takes:
                raise UsageError(f"--{key}: {name} has no {key} option")
            options[key] = value
    init = {k: v for k, v in options.items() if k in init_args}
    init.update(dtype=args.dtype, device=args.device, verbose=0 if args.quiet else 2)  # lines per epoch
    if "seed" in init_args:
        init["seed"] = args.seed
    fit = {k: v for k, v in options.items() if k in fit_args and k not in init_args}
    try:
        cls(**init)  # the constructor checks every hyper-parameter, without data
    except (ValueError, TypeError, RuntimeError) as exc:
        raise UsageError(f"{name}: {exc}") from None
    return options, init, fit


def _check_metrics(metrics, kind, name):
    from .evaluation import RATING_METRICS, parse_metric

    for metric in metrics:
        try:
            base, _ = parse_metric(metric)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"--{exc}") from None
        if kind == "rating" and base not in RATING_METRICS:
            raise UsageError(f"--metrics: {name} predicts ratings: use rmse or mae, not {metric!r}")
        if kind != "rating" and base in RATING_METRICS:
            raise UsageError(f"--metrics: {name} ranks items: {metric!r} needs a rating model "
                             "(autorec, deeprec, bias); use e.g. recall@20, ndcg@100")


def _check_args(args):
    """Everything that can be checked without data. Returns (model name, class, kind, options)."""
    import autorec_fast as af
    from .datasets import SYNTHETIC_PRESETS

    name = args.model.lower().replace("-", "").replace("_", "")
    if name not in af.MODELS:
        raise UsageError(f"--model: unknown model {args.model!r}; choose one of {', '.join(af.MODELS)}")
    cls = af.MODELS[name]
    kind = _kind(cls)
    for opt, value, low in (("--heldout-users", args.heldout_users, 1), ("--synthetic-users", args.synthetic_users, 1),
                            ("--min-user-count", args.min_user_count, 0)):
        if value is not None and value < low:
            raise UsageError(f"{opt} must be >= {low}, got {value}")
    if kind == "rating":
        for opt in ("heldout_users", "threshold", "min_user_count"):
            if getattr(args, opt) is not None:
                raise UsageError(f"--{opt.replace('_', '-')}: {name} is evaluated on a random 90/10 "
                                 "split of the ratings, which takes no such option")
        if args.data is None and SYNTHETIC_PRESETS[args.synthetic][3]:
            raise UsageError(f"--synthetic {args.synthetic}: these data are implicit feedback, but {name} "
                             "predicts ratings; use --synthetic ml-100k or ml-1m")
    elif kind == "sequential" and args.threshold is not None:
        raise UsageError("--threshold: svae's protocol keeps ratings >= 4 (no threshold option)")
    if args.metrics is None:
        args.metrics = {"rating": RATING_DEFAULT_METRICS, "topn": TOPN_DEFAULT_METRICS,
                        "sequential": SEQUENTIAL_DEFAULT_METRICS}[kind]
    _check_metrics(args.metrics, kind, name)
    if args.data is not None:
        if not os.path.exists(args.data):
            raise UsageError(f"--data: {args.data} does not exist")
        if not os.path.isfile(args.data):
            raise UsageError(f"--data: {args.data} is not a regular file")
    if args.save:
        folder = os.path.dirname(os.path.abspath(args.save))
        if not os.path.isdir(folder):
            raise UsageError(f"--save: folder {folder} does not exist")
    options, init, fit = _model_options(args, cls, name)
    return name, cls, kind, options, init, fit


def main(argv=None) -> int:
    """Run the command line; returns the exit code (0, 2 for a user error, 130 when interrupted)."""
    try:
        parser = _parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help (0); argparse's own errors come through UsageError
            return exc.code if isinstance(exc.code, int) else 0
        checked = _check_args(args)
        out = sys.stderr if args.json else sys.stdout  # with --json, stdout holds only the JSON
        with contextlib.redirect_stdout(out):
            result = _run(args, *checked)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr, flush=True)
        return 130
    if args.json:
        print(json.dumps(json_safe(result), default=str, allow_nan=False), flush=True)
    return 0


def json_safe(value):
    """``value`` with every NaN or infinite float made None: JSON has no NaN, and
    ``json.dumps`` would write the bare ``NaN`` that strict parsers reject."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):  # NumPy's float64 included
        return None
    return value


def _user_errors(stage):
    """Errors of the data or the options, found while working: one line, not a traceback.
    (TypeError, RuntimeError and the rest are bugs and raise.)"""
    @contextlib.contextmanager
    def guard():
        try:
            yield
        except (ValueError, OSError, MemoryError, FloatingPointError) as exc:
            msg = str(exc).strip().splitlines()
            raise UsageError(f"{stage}: {msg[0] if msg else type(exc).__name__}") from None
    return guard()


def _split(args, af, data, kind, name):
    """The model kind's protocol (the calls of benchmarks/leaderboard.py)."""
    if kind == "rating":
        if not data.has_ratings:
            raise UsageError(f"--data: {name} predicts ratings, but {args.data} holds implicit feedback")
        train, test = af.random_split(data, test_fraction=0.1, seed=args.seed)
        fit_part, val = af.random_split(train, test_fraction=0.1, seed=args.seed)
        return {"train": train, "fit": fit_part, "validation": val, "test": test}
    n_users = data.n_users
    n_heldout = args.heldout_users if args.heldout_users is not None else max(1, min(10_000, n_users // 10))
    min_count = 5 if args.min_user_count is None else args.min_user_count
    seed = 98765 + args.seed
    if kind == "sequential" and data.has_ratings:
        split = af.splits.sequential_split_from_ratings(data, n_heldout_users=n_heldout, min_rating=4,
                                                        min_user_count=min_count, max_user_count=1000,
                                                        seed=seed)
    elif kind == "sequential":
        split = af.temporal_heldout_split(af.filter_min_counts(data, min_user_count=min_count), n_heldout,
                                          seed=seed)
    elif data.has_ratings:
        threshold = 3.5 if args.threshold is None else args.threshold
        split = af.strong_generalization_from_ratings(data, n_heldout, threshold=threshold,
                                                      min_user_count=min_count, seed=seed)
    else:  # implicit data: nothing to threshold
        split = af.strong_generalization_split(af.filter_min_counts(data, min_user_count=min_count),
                                               n_heldout, seed=seed)
    return {"train": split.train, "fit": split.train, "validation": split.validation, "test": split.test,
            "heldout_users": n_heldout}


def _run(args, name, cls, kind, options, init, fit_options) -> dict:
    import autorec_fast as af
    from .evaluation import parse_metric

    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    seconds = {}
    t0 = time.perf_counter()
    with _user_errors("--data"):
        if args.data:
            data = af.load_movielens(args.data)
            source = args.data
        else:
            data = af.synthetic(args.synthetic, n_users=args.synthetic_users, seed=args.seed)
            source = f"synthetic {args.synthetic}-shaped data (seed {args.seed})"
    seconds["data"] = time.perf_counter() - t0
    say(f"data: {source}: {data.n_users:,} users x {data.n_items:,} items, {data.nnz:,} "
        f"{'ratings' if data.has_ratings else 'interactions'} ({seconds['data']:.1f} s)")

    t0 = time.perf_counter()
    with _user_errors("split"):
        parts = _split(args, af, data, kind, name)
    seconds["split"] = time.perf_counter() - t0
    train = parts["fit"]
    kmax = max((k for k in (parse_metric(m)[1] for m in args.metrics) if k is not None), default=0)
    if kmax > train.n_items:
        raise UsageError(f"--metrics: cut-off {kmax} exceeds the {train.n_items:,} items of the training data")
    use_validation = _gradient_trained(cls)  # early stopping / best epoch; the baselines fit all of train
    if kind == "rating":
        if not use_validation:
            train = parts["train"]
        say(f"protocol: random 90/10 split of the ratings: {train.nnz:,} training ratings"
            + (f", {parts['validation'].nnz:,} validation" if use_validation else "")
            + f", {parts['test'].nnz:,} test")
    else:
        say(f"protocol: {PROTOCOLS[kind]}: {train.n_users:,} training users, {parts['heldout_users']:,} "
            f"validation and {parts['heldout_users']:,} test users, {train.n_items:,} items")

    t0 = time.perf_counter()
    with _user_errors(f"training {name}"):
        model = cls(**init)
        if use_validation:
            fit_options = {**fit_options, "validation": parts["validation"]}
        model.fit(train, **fit_options)
    seconds["train"] = time.perf_counter() - t0
    history = getattr(model, "history", None)
    epochs = len(history) if isinstance(history, list) and _gradient_trained(cls) else None
    say(f"trained {name} in {seconds['train']:.2f} s" + (f" ({epochs} epochs)" if epochs is not None else ""))

    t0 = time.perf_counter()
    results = {}
    evaluated = (("validation", parts["validation"]), ("test", parts["test"]))
    if kind == "rating" and not use_validation:
        evaluated = evaluated[1:]  # the baseline was fitted on the validation ratings too
    with _user_errors("evaluation"):
        for part_name, part in evaluated:
            results[part_name] = res = af.evaluate(model, part, args.metrics, verbose=not args.quiet)
            if not args.json:
                print(f"{part_name:>10}: " + "  ".join(f"{k} {v:.4f}" for k, v in res.items()), flush=True)
    seconds["evaluate"] = time.perf_counter() - t0
    if args.save:
        with _user_errors("--save"):
            model.save(args.save)
        say(f"saved to {args.save}")
    protocol = PROTOCOLS[kind] if use_validation or kind != "rating" else \
        "random 90/10 split of the ratings (fitted on all training ratings)"
    return {"model": name, "kind": kind, "protocol": protocol, "seed": args.seed,
            "data": args.data or f"synthetic:{args.synthetic}", "n_users": data.n_users,
            "n_items": data.n_items, "options": options,
            "metrics": results, "epochs": epochs, "seconds": {k: round(v, 4) for k, v in seconds.items()},
            "saved": args.save}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
