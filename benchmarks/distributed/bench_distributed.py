"""Single process vs ``autorec_fast.distributed`` on a Dask ``LocalCluster`` (issue 16).

    python benchmarks/distributed/bench_distributed.py              # 200k users, 3 repeats
    python benchmarks/distributed/bench_distributed.py --n-users 20000 --repeats 1   # a quick look

Run it from outside the repository root (or by path, as above), so that the
installed ``autorec_fast`` is imported, not the uncompiled source tree.

Data: ``autorec_fast.datasets.synthetic("ml-20m", n_users=...)`` (ML-20M-shaped:
20,108 items, lognormal activity, implicit), as a pandas DataFrame (user, item)
built in this process and handed to Dask with ``dask.dataframe.from_pandas``, so the
distributed times include sending the rows into the cluster.

Measured, median of ``--repeats`` each (the cluster is started once per
configuration; its start-up is reported separately):

* EASE (float32, λ = 500). Single process: ``autorec_fast.train("ease", df)`` end to
  end, and the Gram alone (``CpuBackend.gram_into``); the factorisation is the fit's
  time minus the Gram's (derived; the distributed runs time ``EASE.fit_gram``, the
  same potrf + potri + B code, on its own). Distributed:
  ``distributed.fit_ease`` with the rows shuffled by user (``grouped=False``) and on
  partitions that already hold whole users (``grouped=True``, partitions cut at user
  boundaries here), with the stages of ``model.fit_info``. The distributed weights
  are compared with the single-process ones (max abs difference).
* Top-``k`` recommendation for every user (or the first ``--recommend-users``, when
  scoring them all takes too long) with the single-process EASE model:
  ``model.recommend(df, k)`` vs ``distributed.recommend(model, ddf, k).compute()``
  (and, with ``--parquet``, ``.to_parquet`` into a temporary folder). The two
  results are compared.

Peak resident memory of this process plus its children (the Dask scheduler's and
workers' processes) is sampled every 0.2 s per phase. Results go to stdout and to
``--out`` (default: results.json beside this script).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/: `common` (never the repository root)

from common import af  # noqa: E402  (imports autorec_fast before NumPy, see common.py)

import numpy as np  # noqa: E402


# ------------------------------------------------------------------------- helpers
class PeakMemory:
    """Peak RSS (bytes) of this process and all its descendants, sampled in a thread."""

    def __init__(self, interval=0.2):
        import psutil

        self._proc, self._interval = psutil.Process(), interval
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        import psutil

        total = 0
        for p in [self._proc, *self._proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self._interval)

    def __enter__(self):
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def median(values):
    return float(statistics.median(values)) if values else None


def summarise(runs):
    """{key: median over runs} for the numeric keys of a list of dicts, and the raw runs."""
    keys = [k for k in runs[0] if isinstance(runs[0][k], (int, float)) and not isinstance(runs[0][k], bool)]
    return {"median": {k: median([r[k] for r in runs]) for k in keys}, "runs": runs}


def say(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def gib(nbytes):
    return round(nbytes / 2**30, 2)


# ---------------------------------------------------------------------------- data
def build_frame(n_users, n_items, seed):
    """(DataFrame user/item int64 sorted by user, Σ_u nnz_u (nnz_u + 1) / 2 = the Gram's
    multiply-adds in the upper triangle)."""
    import pandas as pd

    inter = af.datasets.synthetic("ml-20m", n_users=n_users, n_items=n_items, seed=seed, timestamps=False)
    X = inter.matrix.tocsr()
    rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))
    df = pd.DataFrame({"user": inter.user_ids[rows].astype(np.int64),
                       "item": inter.item_ids[X.indices].astype(np.int64)})
    nnz = np.diff(X.indptr).astype(np.float64)
    return df, float((nnz * (nnz + 1) / 2).sum()), int(X.shape[1])


def user_range_partitions(df, n_parts):
    """A Dask DataFrame of ``n_parts`` partitions of about equal rows, each holding
    whole users (cut at user boundaries of the user-sorted ``df``)."""
    import dask
    import dask.dataframe as dd

    users = df["user"].to_numpy()
    cuts = [0]
    for p in range(1, n_parts):
        at = int(np.searchsorted(users, users[p * len(users) // n_parts], side="left"))
        if at > cuts[-1]:
            cuts.append(at)
    cuts.append(len(users))
    chunks = [dask.delayed(df.iloc[a:b].reset_index(drop=True), pure=True) for a, b in zip(cuts[:-1], cuts[1:])]
    return dd.from_delayed(chunks, meta=df.iloc[:0])


# --------------------------------------------------------------------- single process
def single_ease(df, X, repeats, l2):
    """(summary, the last fitted model). Per repeat: ``train("ease", df)`` end to end,
    then the Gram alone (``gram_into``); the factorisation is the fit's time minus
    the Gram's (derived; the distributed runs time ``ease_from_gram`` on its own)."""
    from autorec_fast.backends import get_backend

    backend = get_backend("cpu", "float32")
    n = X.shape[1]
    runs, model = [], None
    for r in range(repeats):
        gc.collect()
        with PeakMemory() as mem:
            model = None
            gc.collect()
            t = time.perf_counter()
            model = af.train("ease", df, l2=l2)
            total = time.perf_counter() - t
        G = np.zeros((n, n), dtype=np.float32)
        t = time.perf_counter()
        backend.gram_into(X, G)
        gram = time.perf_counter() - t
        del G
        gc.collect()
        fit = model.fit_info["seconds"]
        runs.append({"train_seconds": total, "fit_info_seconds": fit, "gram_seconds": gram,
                     "factorize_seconds_derived": fit - gram, "other_seconds": total - fit,
                     "peak_rss_gib": gib(mem.peak)})
        say(f"single EASE {r + 1}/{repeats}: train {total:.2f} s (fit {fit:.2f} s); Gram alone {gram:.2f} s, "
            f"so factorisation ~{fit - gram:.2f} s; peak {gib(mem.peak)} GiB")
    return summarise(runs), model


def single_recommend(model, df, k, repeats):
    runs, out = [], None
    for r in range(repeats):
        out = None
        gc.collect()
        with PeakMemory() as mem:
            t = time.perf_counter()
            out = model.recommend(df, k=k)
            secs = time.perf_counter() - t
        runs.append({"seconds": secs, "rows": len(out), "peak_rss_gib": gib(mem.peak)})
        say(f"single recommend {r + 1}/{repeats}: {secs:.2f} s, {len(out):,} rows; peak {gib(mem.peak)} GiB")
    return summarise(runs), out


# ------------------------------------------------------------------------ distributed
def compare_weights(ref, model):
    if not np.array_equal(np.asarray(ref.item_ids), np.asarray(model.item_ids)):
        return float("inf")
    diff = 0.0
    for a in range(0, ref.weights.shape[0], 2048):  # by row blocks: no second n x n temporary
        diff = max(diff, float(np.abs(ref.weights[a:a + 2048] - model.weights[a:a + 2048]).max()))
    return diff


def compare_recommendations(ref, got):
    """Share of (user, rank) rows naming the same item, max abs score difference."""
    a = ref.sort_values(["user", "rank"], ignore_index=True)
    b = got.sort_values(["user", "rank"], ignore_index=True)
    if len(a) != len(b) or not np.array_equal(a["user"].to_numpy(), b["user"].to_numpy()):
        return {"same_rows": False}
    same = float((a["item"].to_numpy() == b["item"].to_numpy()).mean())
    score = float(np.abs(a["score"].to_numpy(np.float64) - b["score"].to_numpy(np.float64)).max())
    return {"same_rows": True, "same_item_share": same, "max_abs_score_diff": score}


def dist_ease(client, ddf, grouped, repeats, l2, ref):
    from autorec_fast import distributed

    runs = []
    for r in range(repeats):
        gc.collect()
        with PeakMemory() as mem:
            t = time.perf_counter()
            model = distributed.fit_ease(ddf, l2=l2, grouped=grouped, client=client)
            total = time.perf_counter() - t
        info = model.fit_info
        diff = compare_weights(ref, model)
        runs.append({"seconds": total, "gram_and_transfer_seconds": info["gram_and_transfer_seconds"],
                     "factorize_seconds": info["factorize_seconds"],
                     "other_seconds": total - info["gram_and_transfer_seconds"] - info["factorize_seconds"],
                     "gram_bytes_moved": info["gram_bytes_moved"], "partitions": info["partitions"],
                     "max_abs_weight_diff": diff, "peak_rss_gib": gib(mem.peak)})
        say(f"  fit_ease grouped={grouped} {r + 1}/{repeats}: {total:.2f} s (Gram+transfer "
            f"{info['gram_and_transfer_seconds']:.2f} s, factorisation {info['factorize_seconds']:.2f} s); "
            f"max |B_dist - B_single| = {diff:.3g}; peak {gib(mem.peak)} GiB")
        del model
        gc.collect()
    return summarise(runs)


def dist_recommend(client, model, ddf, k, grouped, repeats, ref_out, parquet):
    from autorec_fast import distributed

    runs, check = [], None
    for r in range(repeats):
        gc.collect()
        with PeakMemory() as mem:
            t = time.perf_counter()
            lazy = distributed.recommend(model, ddf, k=k, grouped=grouped, client=client)
            out = lazy.compute()
            secs = time.perf_counter() - t
        row = {"seconds": secs, "rows": len(out), "peak_rss_gib": gib(mem.peak)}
        if check is None:
            check = compare_recommendations(ref_out, out)
        del out, lazy
        gc.collect()
        if parquet:
            with tempfile.TemporaryDirectory(prefix="dbench-") as tmp:
                t = time.perf_counter()
                distributed.recommend(model, ddf, k=k, grouped=grouped, client=client).to_parquet(tmp)
                row["parquet_seconds"] = time.perf_counter() - t
        runs.append(row)
        say(f"  recommend grouped={grouped} {r + 1}/{repeats}: compute {secs:.2f} s"
            + (f", to_parquet {row['parquet_seconds']:.2f} s" if parquet else "")
            + f"; peak {gib(mem.peak)} GiB")
    out = summarise(runs)
    out["check_vs_single"] = check
    return out


def run_config(n_workers, threads, memory_limit, frames, ref, ref_out, args):
    import dask
    from dask.distributed import Client, LocalCluster

    say(f"cluster {n_workers} worker(s) x {threads} thread(s)")
    t = time.perf_counter()
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads, processes=True,
                           memory_limit=memory_limit, dashboard_address=":0")
    client = Client(cluster)
    client.wait_for_workers(n_workers)
    startup = time.perf_counter() - t
    say(f"  started in {startup:.2f} s")
    res = {"workers": n_workers, "threads_per_worker": threads, "memory_limit": memory_limit,
           "startup_seconds": startup,
           "shuffle_method": dask.config.get("dataframe.shuffle.method", None) or "default (p2p)"}
    try:
        if not args.skip_ease:
            res["fit_ease_shuffle"] = dist_ease(client, frames["fit"][0], False, args.repeats, args.l2, ref)
            res["fit_ease_grouped"] = dist_ease(client, frames["fit"][1], True, args.repeats, args.l2, ref)
        if not args.skip_recommend:
            res["recommend_shuffle"] = dist_recommend(client, ref, frames["recommend"][0], args.k, False,
                                                      args.repeats, ref_out, args.parquet)
            res["recommend_grouped"] = dist_recommend(client, ref, frames["recommend"][1], args.k, True,
                                                      args.repeats, ref_out, False)
    finally:
        t = time.perf_counter()
        client.close()
        cluster.close()
        res["shutdown_seconds"] = time.perf_counter() - t
    return res


# ----------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-users", type=int, default=200_000, help="users of the synthetic ML-20M-shaped data")
    ap.add_argument("--n-items", type=int, default=None, help="items (default: the preset's 20,108; for quick trials)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (the median is reported)")
    ap.add_argument("--partitions", type=int, default=8, help="Dask partitions of the data")
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--recommend-users", type=int, default=0,
                    help="recommend for the first N users only (0: all); the EASE fit always uses all")
    ap.add_argument("--l2", type=float, default=500.0)
    ap.add_argument("--configs", default="2x1,1x2", help="WORKERSxTHREADS,... LocalCluster configurations")
    ap.add_argument("--memory-limit", default="9GB", help="Dask memory_limit per worker")
    ap.add_argument("--parquet", action="store_true", help="also time distributed recommend(...).to_parquet")
    ap.add_argument("--skip-ease", action="store_true")
    ap.add_argument("--skip-recommend", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    args = ap.parse_args(argv)
    if args.skip_ease and args.skip_recommend:
        ap.error("nothing to measure")

    import logging

    import dask
    import dask.dataframe as dd
    import distributed as dist_pkg

    # P2P shuffles log a WARNING each when they start and end (on the scheduler, here)
    logging.getLogger("distributed.shuffle._scheduler_plugin").setLevel(logging.ERROR)

    results = {"command": "python benchmarks/distributed/bench_distributed.py " + " ".join(argv or sys.argv[1:]),
               "args": vars(args),
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                           "python": platform.python_version(), "numpy": np.__version__,
                           "dask": dask.__version__, "distributed": dist_pkg.__version__,
                           "autorec_fast": getattr(af, "__version__", "?")},
               "started": time.strftime("%Y-%m-%d %H:%M:%S")}

    say(f"synthetic ml-20m, {args.n_users:,} users")
    t = time.perf_counter()
    df, gram_madds, n_items_preset = build_frame(args.n_users, args.n_items, args.seed)
    results["data"] = {"users": int(df["user"].nunique()), "items": int(df["item"].nunique()),
                       "items_preset": n_items_preset, "interactions": len(df),
                       "gram_multiply_adds": gram_madds, "partitions": args.partitions,
                       "build_seconds": time.perf_counter() - t}
    say(f"  {results['data']}")
    inter = af.as_interactions(df)
    from autorec_fast._validation import canonical_csr

    X = canonical_csr(inter.matrix, np.float32, "data")
    del inter

    # single process first, with the machine to itself
    ref, ref_out = None, None
    if not args.skip_ease or not args.skip_recommend:
        reps = args.repeats if not args.skip_ease else 1
        results["single_ease"], ref = single_ease(df, X, reps, args.l2)
        m = results["single_ease"]["median"]
        n = ref.n_items
        results["single_ease"]["rates"] = {
            "gram_multiply_adds_per_second": gram_madds / m["gram_seconds"],
            "factorize_gflops_n3_derived": n ** 3 / m["factorize_seconds_derived"] / 1e9,
            "note": "factorisation counted as n^3 flops (potrf n^3/3 + potri 2n^3/3); Gram as "
                    "sum_u nnz_u (nnz_u + 1) / 2 multiply-adds (upper triangle)"}
        say(f"  rates {results['single_ease']['rates']}")
    del X
    gc.collect()
    df_rec = df[df["user"] < args.recommend_users].reset_index(drop=True) if args.recommend_users else df
    results["data"]["recommend_users"] = int(df_rec["user"].nunique())
    results["data"]["recommend_interactions"] = len(df_rec)
    if not args.skip_recommend:
        results["single_recommend"], ref_out = single_recommend(ref, df_rec, args.k, args.repeats)

    frames = {"fit": (dd.from_pandas(df, npartitions=args.partitions, sort=False),
                      user_range_partitions(df, args.partitions)),
              "recommend": (dd.from_pandas(df_rec, npartitions=args.partitions, sort=False),
                            user_range_partitions(df_rec, args.partitions))}
    results["data"]["grouped_partitions"] = frames["fit"][1].npartitions
    results["distributed"] = []
    for spec in args.configs.split(","):
        w, th = (int(v) for v in spec.lower().split("x"))
        results["distributed"].append(run_config(w, th, args.memory_limit, frames, ref, ref_out, args))
        Path(args.out).write_text(json.dumps(results, indent=1))  # partial results survive a crash

    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    results["table"] = table(results)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print("\n" + "\n".join(results["table"]))
    say(f"wrote {args.out}")


def table(res):
    """Markdown rows: medians and the ratio to the single-process time."""
    lines = ["| job | configuration | median (s) | / single process | stages (medians, s) |",
             "| --- | --- | ---: | ---: | --- |"]
    se = res.get("single_ease", {}).get("median")
    if se:
        lines.append(f"| EASE fit | single process, `train` | {se['train_seconds']:.2f} | 1.00 | "
                     f"Gram alone {se['gram_seconds']:.2f}, factorisation (fit - Gram) "
                     f"{se['factorize_seconds_derived']:.2f} |")
    sr = res.get("single_recommend", {}).get("median")
    for cfg in res.get("distributed", []):
        name = f"{cfg['workers']} worker(s) x {cfg['threads_per_worker']} thread(s)"
        for key, label in (("fit_ease_shuffle", "shuffle"), ("fit_ease_grouped", "grouped")):
            if key in cfg and se:
                m = cfg[key]["median"]
                lines.append(f"| EASE fit | {name}, {label} | {m['seconds']:.2f} | "
                             f"{m['seconds'] / se['train_seconds']:.2f} | Gram+transfer "
                             f"{m['gram_and_transfer_seconds']:.2f}, factorisation {m['factorize_seconds']:.2f}, "
                             f"other {m['other_seconds']:.2f} |")
    if sr:
        lines.append(f"| recommend top-{res['args']['k']} | single process | {sr['seconds']:.2f} | 1.00 | |")
    for cfg in res.get("distributed", []):
        name = f"{cfg['workers']} worker(s) x {cfg['threads_per_worker']} thread(s)"
        for key, label in (("recommend_shuffle", "shuffle"), ("recommend_grouped", "grouped")):
            if key in cfg and sr:
                m = cfg[key]["median"]
                extra = f"to_parquet {m['parquet_seconds']:.2f}" if "parquet_seconds" in m else ""
                lines.append(f"| recommend top-{res['args']['k']} | {name}, {label} | {m['seconds']:.2f} | "
                             f"{m['seconds'] / sr['seconds']:.2f} | {extra} |")
    for cfg in res.get("distributed", []):
        lines.append(f"| cluster start-up | {cfg['workers']} x {cfg['threads_per_worker']} | "
                     f"{cfg['startup_seconds']:.2f} | | |")
    return lines


if __name__ == "__main__":
    main()
