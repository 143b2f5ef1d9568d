"""The search behind the rating models' defaults (issue 13): test RMSE at data fractions.

Protocol (for each seed s): ``af.random_split(data, 0.1, seed=s)`` gives train / test;
a fraction f of the train ratings is kept (``random_split(train, 1 - f, seed=s)``, same
test set for every f); that part is split 90/10 again (seed s) into fit / validation; a
model is trained on fit with ``validation=`` (early stopping: the best validation
epoch's parameters are kept) and scored on test. The bias baseline (global mean +
regularised user and item biases) is fitted on the whole kept part (the comparison's
reference) and, for information, on the fit part alone, and scored on the same test set.

    python benchmarks/accuracy/rating_defaults.py --model autorec \\
        --configs '{"glorot": {"init": "glorot"}, "fan_in": {"init": "fan_in"}}' \\
        --fractions 1 0.5 0.3 --seeds 0 1 2

``--configs`` is a JSON object {name: options}; each options dict goes to
``af.train(model, ...)`` on top of the model's defaults. ``--data synthetic:<shape>``
(e.g. ``synthetic:ml-1m``, with ``--users``) uses the generator's ratings instead of
ML-100K. Prints one line per (config, fraction, seed) and a summary table: mean test RMSE
± standard error and the mean paired difference to the bias baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ (see common.py)
from common import af, fmt, mean_se, ml100k_path  # noqa: E402


def bias_rmse(train, test) -> float:
    return float(af.evaluate(af.train("bias", train), test, ["rmse"])["rmse"])


def load(spec: str, users: int | None, seed: int):
    if spec == "ml-100k":
        return af.load_movielens(ml100k_path())
    kind, _, shape = spec.partition(":")
    if kind != "synthetic" or not shape:
        raise SystemExit(f"--data must be ml-100k or synthetic:<shape>, got {spec!r}")
    return af.synthetic(shape, n_users=users, seed=seed, implicit=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="autorec")
    ap.add_argument("--configs", default='{"defaults": {}}')
    ap.add_argument("--fractions", type=float, nargs="+", default=[1.0, 0.5, 0.3])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--data", default="ml-100k")
    ap.add_argument("--users", type=int, default=None)
    ap.add_argument("--json", help="append one JSON line per run to this file")
    args = ap.parse_args(argv)
    configs = json.loads(args.configs)
    data = load(args.data, args.users, 0)
    results: dict = {}
    bias: dict = {}
    for seed in args.seeds:
        train, test = af.random_split(data, test_fraction=0.1, seed=seed)
        for frac in args.fractions:
            part = train if frac >= 1 else af.random_split(train, test_fraction=1 - frac, seed=seed)[0]
            fit, val = af.random_split(part, test_fraction=0.1, seed=seed)
            b = bias_rmse(part, test)
            bias.setdefault(frac, []).append(b)
            bias.setdefault(("fit", frac), []).append(bias_rmse(fit, test))
            for name, options in configs.items():
                t0 = time.perf_counter()
                model = af.train(args.model, fit, validation=val, seed=seed, **options)
                secs = time.perf_counter() - t0
                r = float(af.evaluate(model, test, ["rmse"])["rmse"])
                results.setdefault((name, frac), []).append((r, r - b))
                line = dict(model=args.model, config=name, options=options, fraction=frac, seed=seed,
                            rmse=r, bias=b, best_epoch=model.best_epoch, epochs=len(model.history),
                            seconds=round(secs, 2), data=args.data)
                print(json.dumps(line), flush=True)
                if args.json:
                    with open(args.json, "a") as f:
                        f.write(json.dumps(line) + "\n")
    print(f"\n{'config':24} {'fraction':>8} {'test RMSE':>18} {'minus bias':>18}")
    for frac in args.fractions:
        print(f"{'bias baseline':24} {frac:8g} {fmt(*mean_se(bias[frac])):>18}")
        print(f"{'bias on the fit part':24} {frac:8g} {fmt(*mean_se(bias[('fit', frac)])):>18}")
        for name in configs:
            rs = results[(name, frac)]
            print(f"{name:24} {frac:8g} {fmt(*mean_se([r for r, _ in rs])):>18} "
                  f"{fmt(*mean_se([d for _, d in rs])):>18}")


if __name__ == "__main__":
    main()
