"""The GPU issue's target numbers, measured directly (the PyTorch comparisons are in the
pytest-benchmark suites, not here).

    python3 -P benchmarks/speed/gpu_targets.py --json "$OUT/gpu_targets.json"    # on the GPU (~1 min)
    python3 -P benchmarks/speed/gpu_targets.py --device cpu --small               # a quick run on the CPU

1. Mult-VAE (float32, the default [600, 200] architecture) on synthetic ML-20M-shaped
   data (136,677 users x 20,108 items, 10M interactions): users per second of a whole
   ``train(..., epochs=1)`` call (wall clock, device synchronised, set-up included;
   median of 3 after a warm-up call) and steady (users / epoch seconds of the model's
   history in a 3-epoch call, median of epochs 2 and 3). Target: >= 500k users/s.
   Against the floor of its dense matrix products: every dense layer costs three
   GEMMs per batch (forward a·W, weight gradient aᵀ·d, input gradient d·Wᵀ), 6·users·in·out
   flops per epoch, timed at the rate of one large float32 GEMM measured here
   (8192³, median of 5). CuPy runs float32 matmul without TF32 unless CUPY_TF32=1 is
   set (the script records the variable); the models' products go through the same
   cupy.matmul, so the rate is the one they can reach.
2. EASE at 20,000 items (136,677 users, ML-20M density, l2 = 500): the whole
   ``train("ease", ...)`` (Gram, Cholesky inverse, weights), median of 3 after a warm-up.
   Target: < 1 s and <= 1.5x cuSOLVER potrf + potri alone on the same matrix
   G = XᵀX + λI (built on the device once, copied fresh before each timed run, the two
   calls timed between device synchronisations, median of 3 after a warm-up). CuPy's
   cuSOLVER wrapper does not wrap potri (CuPy 14.2): it is reached as the library
   reaches it (``autorec_fast.backends.cuda.cusolver_potri``, ctypes into the
   libcusolver CuPy loaded), and when that fails the floor is potrf + potrs with an
   identity right-hand side, the library's own fallback; the output says which. potrf +
   potrs is always timed as well.

``--small`` (and always on the CPU): 1,000 Mult-VAE users, EASE at 2,000 items and
20,000 users, a 2048³ GEMM; the cuSOLVER floor is skipped on the CPU. Prints a table;
``--json PATH`` writes every number, the GPU's name and the versions.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

import autorec_fast as af  # before NumPy: it sets OPENBLAS_THREAD_TIMEOUT (see benchmarks/common.py)
import numpy as np

SIZES = {  # ML-20M: the preset's 136,677 users x 20,108 items, 10M interactions
    "full": dict(multvae_users=136_677, ease_items=20_000, ease_users=136_677, gemm=8192,
                 accuracy_users=6_040, accuracy_epochs=30),  # accuracy: the ML-1M shape
    "small": dict(multvae_users=1_000, ease_items=2_000, ease_users=20_000, gemm=2048,
                  accuracy_users=600, accuracy_epochs=3),
}
EASE_L2 = 500.0
REPEATS = 3  # timed runs after one warm-up (medians)
GEMM_REPEATS = 5
MULTVAE_TARGET = 500_000  # users per second
EASE_TARGET_S, EASE_TARGET_RATIO = 1.0, 1.5


class Device:
    def __init__(self, name):
        self.name = name
        self.xp = np
        if name == "cuda":
            import cupy

            self.xp = cupy

    def sync(self):
        if self.name == "cuda":
            self.xp.cuda.runtime.deviceSynchronize()

    def timed(self, fn):
        """(seconds, result) of ``fn()``, the device synchronised before and after."""
        self.sync()
        t0 = time.perf_counter()
        out = fn()
        self.sync()
        return time.perf_counter() - t0, out


# --------------------------------------------------------------------------- GEMM
def gemm_rate(dev, n):
    """flop/s of one n x n x n float32 product (median of GEMM_REPEATS after a warm-up):
    cupy.matmul on the GPU; on the CPU the models' own product (SciPy's OpenBLAS)."""
    rng = np.random.default_rng(0)
    a, b = (dev.xp.asarray(rng.random((n, n), dtype=np.float32)) for _ in range(2))
    c = dev.xp.empty((n, n), np.float32)
    if dev.name == "cuda":
        product = lambda: dev.xp.matmul(a, b, out=c)
    else:
        backend = af.backends.get_backend("cpu", np.float32)
        product = lambda: backend.mm(a, b, out=c)
    product()
    seconds = statistics.median(dev.timed(product)[0] for _ in range(GEMM_REPEATS))
    # TF32 rounds the inputs to 10 mantissa bits: relative errors ~1e-3 instead of ~1e-6
    a64, b64 = (dev.xp.asarray(rng.random((1024, 1024))) for _ in range(2))
    exact = a64 @ b64
    f32 = dev.xp.matmul(a64.astype(np.float32), b64.astype(np.float32))
    error = float(abs(f32 - exact).max() / abs(exact).max())
    return {"n": n, "seconds": seconds, "flops_per_s": 2.0 * n**3 / seconds, "float32_relative_error": error,
            "tf32_suspected": error > 1e-4}


# --------------------------------------------------------------------------- Mult-VAE
def multvae(dev, n_users, gemm):
    X = af.synthetic("ml-20m", n_users=n_users, seed=0)
    kw = dict(device=dev.name, dtype="float32", seed=0)
    dev.timed(lambda: af.train("multvae", X, epochs=1, **kw))  # warm-up: CuPy compiles its kernels
    calls = [dev.timed(lambda: af.train("multvae", X, epochs=1, **kw))[0] for _ in range(REPEATS)]
    _, model = dev.timed(lambda: af.train("multvae", X, epochs=3, **kw))
    epochs = [h["seconds"] for h in model.history]
    steady = statistics.median(epochs[1:3])
    # the layer sizes as the model builds them: encoder [items, 600, 2 x 200], decoder [200, 600, items]
    enc, dec = model._dims(model.n_items)
    dense = list(zip(enc[1:-1], enc[2:])) + list(zip(dec[:-1], dec[1:]))  # all but the sparse input layer
    dense_flops = 6.0 * n_users * sum(a * b for a, b in dense)
    decoder_flops = 6.0 * n_users * dec[-2] * dec[-1]
    floor = dense_flops / gemm["flops_per_s"]
    return {
        "n_users": X.n_users, "n_items": X.n_items, "nnz": X.nnz, "layers": list(model.layers),
        "dense_layers": [list(s) for s in dense], "call_seconds": calls, "epoch_seconds": epochs,
        "users_per_s_call": X.n_users / statistics.median(calls), "users_per_s_steady": X.n_users / steady,
        "steady_epoch_seconds": steady, "dense_gemm_flops_per_epoch": dense_flops,
        "decoder_gemm_flops_per_epoch": decoder_flops,
        # sparse input layer, forward X·W0 and backward Xᵀ·d (not GEMMs: not in the floor)
        "sparse_flops_per_epoch": 4.0 * X.nnz * enc[1],
        "gemm_floor_seconds": floor, "fraction_of_gemm_floor": floor / steady,
        "users_per_s_at_gemm_floor": X.n_users / floor,
    }


# --------------------------------------------------------------------------- accuracy
def accuracy(dev, n_users, epochs, seeds=(0, 1)):
    """Mult-VAE's test NDCG@100 / Recall@20 on held-out users (the strong-generalization
    split) after ``epochs`` epochs, float32, one run per training seed: run_gpu.sh runs
    this script with and without CUPY_TF32=1, and the difference between the two runs
    against the spread between seeds sizes reduced precision's cost."""
    X = af.synthetic("ml-1m", n_users=n_users, seed=0)
    split = af.strong_generalization_split(X, n_heldout_users=n_users // 10, seed=0)
    runs = []
    for seed in seeds:
        seconds, model = dev.timed(lambda: af.train("multvae", split.train, epochs=epochs, device=dev.name,
                                                    dtype="float32", seed=seed))  # noqa: B023 (called at once)
        runs.append({"seed": seed, "train_seconds": seconds, "final_loss": model.history[-1]["loss"],
                     "test": af.evaluate(model, split.test, ["ndcg@100", "recall@20"])})
    return {"n_users": n_users, "epochs": epochs, "runs": runs}


# --------------------------------------------------------------------------- EASE
def ease(dev, n_items, n_users):
    X = af.synthetic("ml-20m", n_users=n_users, n_items=n_items, seed=0)
    fit = lambda: af.train("ease", X, l2=EASE_L2, dtype="float32", device=dev.name)
    dev.timed(fit)  # warm-up
    times, method = [], None
    for _ in range(REPEATS):
        seconds, model = dev.timed(fit)
        times.append(seconds)
        method = model.fit_info["inverse"]
        del model  # its n x n weights
    result = {"n_items": X.n_items, "n_users": X.n_users, "nnz": X.nnz, "l2": EASE_L2, "fit_seconds": times,
              "fit_median_seconds": statistics.median(times), "fit_inverse": method}
    if dev.name == "cuda":
        result["cusolver"] = cusolver_floor(dev, X, EASE_L2)
    return result


def cusolver_floor(dev, X, l2):
    """cuSOLVER's Cholesky inverse alone on G = XᵀX + λI: potrf + potri, and potrf + potrs
    with an identity right-hand side (the library's fallback without potri)."""
    import cupy as cp
    import cupyx.scipy.sparse as csp
    from cupy.cuda import device as cp_device
    from cupy_backends.cuda.libs import cublas, cusolver

    n = X.n_items
    Xd = csp.csr_matrix(X.matrix.astype(np.float32))
    G = cp.zeros((n, n), np.float32)
    for s in range(0, Xd.shape[0], 8192):  # XᵀX from dense blocks of rows, through cuBLAS
        block = Xd[s : s + 8192].toarray()
        G += block.T @ block
        del block
    del Xd
    G.ravel()[:: n + 1] += np.float32(l2)
    handle = cp_device.get_cusolver_handle()
    lower = cublas.CUBLAS_FILL_MODE_LOWER  # G is symmetric: either triangle
    A, B, info = cp.empty_like(G), cp.empty_like(G), cp.zeros(1, np.int32)
    lwork = cusolver.spotrf_bufferSize(handle, lower, n, A.data.ptr, n)
    work = cp.empty(max(lwork, 1), np.float32)

    def potrf():
        cusolver.spotrf(handle, lower, n, A.data.ptr, n, work.data.ptr, lwork, info.data.ptr)

    def identity():  # potrs's right-hand side, overwritten by the solution
        B.fill(0)
        B.ravel()[:: n + 1] = 1

    def time_inverse(name, second, prepare=None):
        """potrf then ``second`` on a fresh copy of G, each timed alone; medians."""
        runs = []
        for _ in range(1 + REPEATS):  # the first is a warm-up
            cp.copyto(A, G)  # both calls work in place
            if prepare is not None:
                prepare()
            for call, what in ((potrf, "potrf"), (second, name)):
                seconds, _ = dev.timed(call)
                if int(info.get()[0]) != 0:
                    raise RuntimeError(f"cuSOLVER {what}: info {int(info.get()[0])}")
                runs.append(seconds)
        potrf_s, second_s = runs[2::2], runs[3::2]
        return {"potrf_seconds": statistics.median(potrf_s), f"{name}_seconds": statistics.median(second_s),
                "seconds": statistics.median(a + b for a, b in zip(potrf_s, second_s)),
                "runs": [list(r) for r in zip(potrf_s, second_s)]}

    from autorec_fast.backends.cuda import cusolver_potri  # the library's own potri binding

    size_fn = potri_fn = None
    try:
        found = cusolver_potri("s")
        source = "none (no loaded libcusolver exports cusolverDnSpotri)" if found is None else found[2]
        if found is not None:
            size_fn, potri_fn = found[0], found[1]
    except Exception as exc:  # the floor falls back to potrs, saying why
        source = f"none ({type(exc).__name__}: {exc})"
    out = {"matrix": "X^T X + l2 I, float32, built on the device", "potri_source": source}
    if potri_fn is not None:
        lwork_i = size_fn(handle, lower, n, A.data.ptr, n)
        work_i = cp.empty(max(lwork_i, 1), np.float32)
        out["potrf_potri"] = time_inverse(
            "potri", lambda: potri_fn(handle, lower, n, A.data.ptr, n, work_i.data.ptr, lwork_i, info.data.ptr))
    out["potrf_potrs"] = time_inverse(
        "potrs", lambda: cusolver.spotrs(handle, lower, n, n, A.data.ptr, n, B.data.ptr, n, info.data.ptr),
        prepare=identity)
    out["floor"] = "potrf_potri" if potri_fn is not None else "potrf_potrs"
    return out


# --------------------------------------------------------------------------- report
def environment(dev):
    env = {"device": dev.name, "python": platform.python_version(), "numpy": np.__version__,
           "autorec_fast": af.__version__, "CUPY_TF32": os.environ.get("CUPY_TF32")}
    if dev.name == "cuda":
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"]
        env.update(gpu=name.decode() if isinstance(name, bytes) else str(name), cupy=cupy.__version__,
                   cuda_runtime=cupy.cuda.runtime.runtimeGetVersion(),
                   cuda_driver=cupy.cuda.runtime.driverGetVersion())
    else:
        env.update(gpu=None, cpu=platform.processor() or platform.machine(), threads=af.get_num_threads())
    return env


def yes(ok):
    return "yes" if ok else "NO"


def report(res):
    env, g, mv, ea = res["environment"], res["gemm"], res["multvae"], res["ease"]
    where = env["gpu"] or f"CPU, {env['threads']} threads"
    tf32 = "TF32 on (CUPY_TF32=1)" if env["CUPY_TF32"] == "1" else "no TF32 (CUPY_TF32 unset or not 1)"
    print(f"{where}: autorec_fast {env['autorec_fast']}, numpy {env['numpy']}"
          + (f", cupy {env['cupy']}" if env.get("cupy") else "") + f"; float32, {tf32}")
    print(f"dense GEMM {g['n']}^3 float32: {g['flops_per_s'] / 1e12:.2f} TFLOP/s (median of {GEMM_REPEATS}); "
          f"float32 product's relative error {g['float32_relative_error']:.1e}"
          + (" (TF32-sized!)" if g["tf32_suspected"] else " (full float32)"))
    print(f"\nMult-VAE {mv['layers']}, {mv['n_users']:,} users x {mv['n_items']:,} items ({mv['nnz']:,} interactions)")
    print(f"  train(epochs=1) call  {statistics.median(mv['call_seconds']):8.3f} s  "
          f"{mv['users_per_s_call']:>12,.0f} users/s  (median of {REPEATS})   "
          f">= {MULTVAE_TARGET:,}: {yes(mv['users_per_s_call'] >= MULTVAE_TARGET)}")
    print(f"  steady epoch          {mv['steady_epoch_seconds']:8.3f} s  {mv['users_per_s_steady']:>12,.0f} users/s  "
          f"(median of epochs 2-3)   >= {MULTVAE_TARGET:,}: {yes(mv['users_per_s_steady'] >= MULTVAE_TARGET)}")
    print(f"  dense GEMMs {mv['dense_gemm_flops_per_epoch'] / 1e12:.3f} TFLOP/epoch (output layer "
          f"{mv['decoder_gemm_flops_per_epoch'] / 1e12:.3f}): {mv['gemm_floor_seconds']:.3f} s at the GEMM rate "
          f"= {mv['fraction_of_gemm_floor']:.0%} of the steady epoch "
          f"(the floor allows {mv['users_per_s_at_gemm_floor']:,.0f} users/s)")
    acc = res.get("accuracy")
    if acc is not None:
        print(f"  accuracy (ML-1M shape, {acc['n_users']:,} users, {acc['epochs']} epochs, held-out users; "
              f"compare the CUPY_TF32=1 run):")
        for run in acc["runs"]:
            test = ", ".join(f"{k} {v:.4f}" for k, v in run["test"].items())
            print(f"    seed {run['seed']}: {test}; final loss {run['final_loss']:.4f}")
    fit = ea["fit_median_seconds"]
    print(f"\nEASE {ea['n_items']:,} items ({ea['n_users']:,} users, {ea['nnz']:,} interactions), l2={ea['l2']:g}")
    print(f"  fit                   {fit:8.3f} s  (median of {REPEATS}; {ea['fit_inverse']})   "
          f"< {EASE_TARGET_S:g} s: {yes(fit < EASE_TARGET_S)}")
    cs = ea.get("cusolver")
    if cs is None:
        print("  cuSOLVER floor: skipped (no GPU)")
        return
    for key in ("potrf_potri", "potrf_potrs"):
        if key not in cs:
            continue
        f, second = cs[key], key.split("_")[1]
        target = f"   fit <= {EASE_TARGET_RATIO}x: {yes(fit <= EASE_TARGET_RATIO * f['seconds'])}" \
            if key == cs["floor"] else ""
        print(f"  cuSOLVER {key.replace('_', ' + '):14s} {f['seconds']:8.3f} s  (potrf {f['potrf_seconds']:.3f}, "
              f"{second} {f[second + '_seconds']:.3f})   fit / this: {fit / f['seconds']:.2f}x{target}")
    print(f"  potri: {cs['potri_source']}")
    if cs["floor"] != "potrf_potri":
        print("  (no potri reachable: the target is checked against potrf + potrs, not potrf + potri)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--small", action="store_true", help="small sizes (always on the CPU)")
    parser.add_argument("--json", metavar="PATH", help="write every number here")
    args = parser.parse_args()
    if args.device == "cuda" and not af.cuda_available():
        from autorec_fast.backends import cuda_unavailable_reason

        sys.exit(f"device cuda: {cuda_unavailable_reason()}")
    dev = Device(args.device)
    size = "small" if args.small or args.device == "cpu" else "full"
    sizes = SIZES[size]
    t0 = time.perf_counter()
    res = {"environment": environment(dev), "size": size, "sizes": sizes}

    def done(key, value):  # progress on stderr, and the numbers so far into --json (a timeout keeps them)
        res[key] = value
        print(f"[{time.perf_counter() - t0:5.1f} s] {key} done", file=sys.stderr, flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(res, f, indent=2)

    done("gemm", gemm_rate(dev, sizes["gemm"]))
    done("multvae", multvae(dev, sizes["multvae_users"], res["gemm"]))
    done("ease", ease(dev, sizes["ease_items"], sizes["ease_users"]))
    done("accuracy", accuracy(dev, sizes["accuracy_users"], sizes["accuracy_epochs"]))
    res["seconds"] = time.perf_counter() - t0
    mv, ea = res["multvae"], res["ease"]
    floor = ea.get("cusolver", {}).get(ea.get("cusolver", {}).get("floor"), {}).get("seconds")
    res["targets"] = {
        "multvae_users_per_s_call": mv["users_per_s_call"] >= MULTVAE_TARGET,
        "multvae_users_per_s_steady": mv["users_per_s_steady"] >= MULTVAE_TARGET,
        "ease_fit_under_1s": ea["fit_median_seconds"] < EASE_TARGET_S,
        "ease_fit_vs_floor": None if floor is None else ea["fit_median_seconds"] <= EASE_TARGET_RATIO * floor,
    }
    report(res)
    print(f"\n{res['seconds']:.0f} s in all ({size} sizes)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
