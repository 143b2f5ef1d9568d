"""Every model and baseline at its defaults, on the papers' protocols, several seeds.

    python benchmarks/leaderboard.py                       # ML-100K, seeds 0 1 2, prints the tables
    python benchmarks/leaderboard.py --write               # ... and writes them into BENCHMARKS.md and README.md
    python benchmarks/leaderboard.py --models ease bias --seeds 0

Three tables, each model trained with nothing but its defaults (plus ``seed``):

* **Top-N, strong generalization** (Liang et al. 2018, ``af.strong_generalization_from_ratings``:
  ratings > 3.5 as positives, users with >= 5 of them, 100 validation and 100 test users, each
  held-out user's items split 80/20 into fold-in / fold-out, split seed 98765 + s). Gradient-trained
  models get ``validation=split.validation`` (NDCG@100; the best epoch kept, patience as the
  model's default); every model is scored by ``af.evaluate(model, split.test, ...)``.
* **Top-N, temporal** (SVAE's protocol, ``af.splits.sequential_split_from_ratings``: ratings >= 4,
  users with 5..1000 of them, 100 + 100 held-out users whose latest 20 % are the targets).
* **Ratings** (random 90/10 split, seed s; the gradient-trained models stop early on 10 % of the
  training ratings (``af.random_split(train, 0.1, seed=s)``), the bias baseline fits all of train).

Cells are means ± standard errors over the seeds; ``s/fit`` is the median wall time of one fit on
this machine (noisy; see the speed suites for timing). ``--write`` replaces the text between
``<!-- leaderboard:begin -->`` and ``<!-- leaderboard:end -->`` in BENCHMARKS.md and README.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ (see common.py)
from common import af, fmt, mean_se, ml100k_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOPN = ["popularity", "itemknn", "ease", "multdae", "multvae", "cdae", "svae"]
TEMPORAL = ["popularity", "itemknn", "ease", "multvae", "svae"]
RATING = ["bias", "autorec", "autorec-user", "deeprec"]
RANK_METRICS = ["ndcg@100", "recall@20", "recall@50"]
RATING_METRICS = ["rmse", "mae"]
BEGIN, END = "<!-- leaderboard:begin -->", "<!-- leaderboard:end -->"


def fit(name, train, validation, seed):
    model, options = (("autorec", {"variant": "user"}) if name == "autorec-user" else (name, {}))
    cls = af.MODELS[model]
    if validation is not None and hasattr(cls, "_train_loop"):  # gradient-trained: early stopping
        options["validation"] = validation
    if "seed" in cls.__init__.__code__.co_varnames:
        options["seed"] = seed
    t0 = time.perf_counter()
    m = af.train(model, train, **options)
    return m, time.perf_counter() - t0


def run_topn(data, names, seeds, temporal):
    rows = {n: ([], []) for n in names}
    for s in seeds:
        if temporal:
            split = af.splits.sequential_split_from_ratings(data, n_heldout_users=100, min_rating=4,
                                                            min_user_count=5, max_user_count=1000,
                                                            seed=98765 + s)
        else:
            split = af.strong_generalization_from_ratings(data, n_heldout_users=100, seed=98765 + s)
        for n in names:
            m, secs = fit(n, split.train, split.validation, s)
            res = af.evaluate(m, split.test, RANK_METRICS)
            rows[n][0].append(res)
            rows[n][1].append(secs)
            print(f"{'temporal' if temporal else 'strong'} seed {s} {n:12} "
                  + " ".join(f"{k} {res[k]:.4f}" for k in RANK_METRICS) + f" ({secs:.1f} s)", flush=True)
    return rows


def run_rating(data, names, seeds):
    rows = {n: ([], []) for n in names}
    for s in seeds:
        train, test = af.random_split(data, test_fraction=0.1, seed=s)
        fit_part, val = af.random_split(train, test_fraction=0.1, seed=s)
        for n in names:
            m, secs = fit(n, train, None, s) if n == "bias" else fit(n, fit_part, val, s)
            res = af.evaluate(m, test, RATING_METRICS)
            rows[n][0].append(res)
            rows[n][1].append(secs)
            print(f"rating seed {s} {n:12} " + " ".join(f"{k} {res[k]:.4f}" for k in RATING_METRICS)
                  + f" ({secs:.1f} s)", flush=True)
    return rows


def table(title, rows, metrics):
    lines = [f"**{title}**", "", "| model | " + " | ".join(metrics) + " | s/fit |",
             "| --- | " + " | ".join("---:" for _ in metrics) + " | ---: |"]
    for n, (results, secs) in rows.items():
        cells = [fmt(*mean_se([r[k] for r in results])) for k in metrics]
        lines.append(f"| {n} | " + " | ".join(cells) + f" | {statistics.median(secs):.1f} |")
    return "\n".join(lines)


def write_between_markers(path: Path, text: str):
    old = path.read_text()
    if BEGIN not in old or END not in old:
        raise SystemExit(f"{path}: no {BEGIN} ... {END} markers to write between")
    head, rest = old.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ml100k_path(), help="MovieLens ratings with timestamps")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--models", nargs="+", default=None, help="a subset of the models (default: all)")
    ap.add_argument("--write", action="store_true", help="write the tables into BENCHMARKS.md and README.md")
    args = ap.parse_args(argv)
    if not args.data.is_file():
        raise SystemExit(f"data not found: {args.data} (pass --data or set AUTOREC_FAST_DATA)")
    pick = (lambda names: [n for n in names if n in args.models]) if args.models else (lambda names: names)
    data = af.load_movielens(str(args.data))
    t0 = time.perf_counter()
    parts = []
    header = (f"{args.data.parent.name}, seeds {' '.join(map(str, args.seeds))}, every model at its "
              f"defaults (`python benchmarks/leaderboard.py`, {af.__version__})")
    if pick(TOPN):
        parts.append(table("Top-N, strong generalization (100 + 100 held-out users)",
                           run_topn(data, pick(TOPN), args.seeds, temporal=False), RANK_METRICS))
    if pick(TEMPORAL):
        parts.append(table("Top-N, temporal (SVAE's protocol: each held-out user's latest 20 %)",
                           run_topn(data, pick(TEMPORAL), args.seeds, temporal=True), RANK_METRICS))
    if pick(RATING):
        parts.append(table("Ratings, random 90/10 (early stopping on 10 % of the training ratings)",
                           run_rating(data, pick(RATING), args.seeds), RATING_METRICS))
    text = header + "\n\n" + "\n\n".join(parts)
    print("\n" + text + f"\n\n({time.perf_counter() - t0:.0f} s in all)")
    if args.write:
        for name in ("BENCHMARKS.md", "README.md"):
            write_between_markers(ROOT / name, text)


if __name__ == "__main__":
    main()
