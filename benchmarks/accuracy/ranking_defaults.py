"""The search behind the top-N models' defaults (issue 13): strong generalization, several seeds.

Protocol (for each seed s): ``af.strong_generalization_from_ratings(data,
n_heldout_users=H, seed=98765 + s)`` (Liang et al. 2018: ratings > 3.5 as positives,
users with >= 5 of them, H validation and H test users, each held-out user's items
split 80/20 into fold-in and fold-out); every config is trained on ``split.train``
with ``validation=split.validation`` (``metric="ndcg@100"``, the best epoch kept) and
scored with ``af.evaluate(model, split.test, ...)``. The popularity baseline (item
counts of ``split.train``) is scored by the same code.

    python benchmarks/accuracy/ranking_defaults.py --model cdae \\
        --configs '{"defaults": {}, "full_output": {"negative_ratio": 0}}' --seeds 0 1 2

``--configs``: a JSON object {name: options}, each added to the model's defaults.
``--data synthetic:<shape>`` with ``--users N`` uses the generator's implicit data
(``af.strong_generalization_split`` with 10 % of the users each for validation and
test). Prints one JSON line per run and a table of means ± standard errors with the
paired difference to popularity.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ (see common.py)
from common import af, fmt, mean_se, ml100k_path  # noqa: E402

METRICS = ["ndcg@100", "recall@20", "recall@50"]


def popularity(split):
    return af.evaluate(af.train("popularity", split.train), split.test, METRICS)


def make_split(spec, users, heldout, seed):
    if spec == "ml-100k":
        data = af.load_movielens(ml100k_path())
        return af.strong_generalization_from_ratings(data, n_heldout_users=heldout, seed=98765 + seed)
    kind, _, shape = spec.partition(":")
    if kind != "synthetic" or not shape:
        raise SystemExit(f"--data must be ml-100k or synthetic:<shape>, got {spec!r}")
    data = af.filter_min_counts(af.synthetic(shape, n_users=users, seed=0, implicit=True), min_user_count=5)
    n = heldout or data.n_users // 10
    return af.strong_generalization_split(data, n_heldout_users=n, seed=98765 + seed)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="cdae")
    ap.add_argument("--configs", default='{"defaults": {}}')
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--data", default="ml-100k")
    ap.add_argument("--users", type=int, default=None)
    ap.add_argument("--heldout-users", type=int, default=None,
                    help="validation and test users each (ML-100K: 100; synthetic: 10 %%)")
    ap.add_argument("--json", help="append one JSON line per run to this file")
    args = ap.parse_args(argv)
    configs = json.loads(args.configs)
    results: dict = {}
    for seed in args.seeds:
        heldout = args.heldout_users or (100 if args.data == "ml-100k" else None)
        split = make_split(args.data, args.users, heldout, seed)
        pop = popularity(split)
        results.setdefault("popularity", []).append((pop, {k: 0.0 for k in METRICS}))
        for name, options in configs.items():
            options = {"metric": "ndcg@100", **options}
            t0 = time.perf_counter()
            model = af.train(args.model, split.train, validation=split.validation, seed=seed, **options)
            secs = time.perf_counter() - t0
            res = af.evaluate(model, split.test, METRICS)
            results.setdefault(name, []).append((res, {k: res[k] - pop[k] for k in METRICS}))
            line = dict(model=args.model, config=name, options=options, seed=seed, data=args.data,
                        **res, popularity=pop["ndcg@100"], best_epoch=getattr(model, "best_epoch", None),
                        epochs=len(getattr(model, "history", [])), seconds=round(secs, 2))
            print(json.dumps(line), flush=True)
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps(line) + "\n")
    print(f"\n{'config':24} " + " ".join(f"{m:>16}" for m in METRICS) + f" {'NDCG@100 - pop.':>18}")
    for name, rows in results.items():
        cells = [fmt(*mean_se([r[m] for r, _ in rows])) for m in METRICS]
        diff = fmt(*mean_se([d["ndcg@100"] for _, d in rows]))
        print(f"{name:24} " + " ".join(f"{c:>16}" for c in cells) + f" {diff:>18}")


if __name__ == "__main__":
    main()
