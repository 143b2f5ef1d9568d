"""EASE: autorec_fast against a pure-PyTorch EASE and against the LAPACK floor.

Run (see BENCHMARKS.md):
    pytest benchmarks/speed/test_ease_bench.py --benchmark-enable --benchmark-json=ease.json
    python benchmarks/speed/report.py ease.json

Data: synthetic ML-20M-shaped implicit feedback with N_USERS users and n items.
The PyTorch baseline is EASE as a PyTorch user writes it (float32): dense X,
G = XᵀX, G += λI, P = torch.linalg.inv(G), B = P / -diag(P), B.fill_diagonal_(0).
The floor is LAPACK potrf + potri alone on the same G (n³ flops), the core of
our fit; the Gram and the post-processing are what we add on top.
"""

import functools
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import autorec_fast as af
from autorec_fast import backends as _backend  # private: the LAPACK floor calls the compiled kernels directly
from common import DEVICE, on_device

N_USERS = int(os.environ.get("AUTOREC_BENCH_USERS", 20_000))
SIZES = [int(s) for s in os.environ.get("AUTOREC_BENCH_ITEMS", "2000,4000,8000,10000").split(",")]
L2 = 500.0


@functools.lru_cache(maxsize=1)  # one size at a time: the largest is big
def data_for(n_items):
    return af.synthetic("ml-20m", n_users=N_USERS, n_items=n_items, seed=0).binarize()


def torch_ease(X_dense, l2):
    G = X_dense.T @ X_dense
    G += l2 * torch.eye(G.shape[0], device=X_dense.device)
    P = torch.linalg.inv(G)
    B = P / (-torch.diag(P))
    B.fill_diagonal_(0.0)
    if B.is_cuda:
        torch.cuda.synchronize()
    return B


def cpu_only():
    if DEVICE != "cpu":
        pytest.skip("measures the CPU (LAPACK floor, host memory)")


def rounds_for(n):
    return 5 if n <= 4000 else 3


@pytest.mark.parametrize("n", SIZES)
def test_ease_autorec_fast(benchmark, n):
    data = data_for(n)
    benchmark.group = on_device(f"ease n={n}")
    benchmark.extra_info.update(n_items=n, n_users=N_USERS, nnz=data.nnz, flops_floor=float(n) ** 3)
    model = benchmark.pedantic(lambda: af.train("ease", data, l2=L2, dtype="float32", device=DEVICE),
                               rounds=rounds_for(n), iterations=1, warmup_rounds=0)
    assert model.weights.shape == (n, n)


@pytest.mark.parametrize("n", SIZES)
def test_ease_pytorch(benchmark, n):
    data = data_for(n)
    benchmark.group = on_device(f"ease n={n}")
    X = torch.from_numpy(data.matrix.toarray().astype(np.float32)).to(DEVICE)
    B = benchmark.pedantic(lambda: torch_ease(X, L2), rounds=rounds_for(n), iterations=1,
                           warmup_rounds=0)
    # same model: compare with ours once, outside the timing
    ours = af.train("ease", data, l2=L2).weights
    np.testing.assert_allclose(B.cpu().numpy(), ours, atol=5e-4)


@pytest.mark.parametrize("n", SIZES)
def test_ease_lapack_floor(benchmark, n):
    """potrf + potri alone on G = XᵀX + λI (float32): the floor of a Cholesky-inverse EASE."""
    cpu_only()
    data = data_for(n)
    benchmark.group = f"ease n={n}"
    X = data.matrix
    G0 = np.zeros((n, n), np.float32)
    _backend._cpu.gram_upper(X.indptr.astype(np.int64), X.indices.astype(np.int32),
                             X.data.astype(np.float32), G0)
    G0[np.diag_indices(n)] += L2
    G = np.empty_like(G0)

    def setup():
        np.copyto(G, G0)
        return (G,), {}

    info = benchmark.pedantic(_backend._cpu.cholesky_inverse_upper, setup=setup, rounds=rounds_for(n),
                              iterations=1, warmup_rounds=0)
    assert info == 0


def test_gemm_peak(benchmark):
    """The machine's measured float32 peak through the same OpenBLAS (for the flops floor)."""
    if DEVICE == "cuda":  # float32 (no TF32) through cuBLAS, as both sides' products run
        m = 8192
        a = torch.randn(m, m, device="cuda")
        benchmark.group = on_device("machine peak")
        benchmark.extra_info["flops"] = 2.0 * m**3

        def product():
            a @ a
            torch.cuda.synchronize()

        benchmark.pedantic(product, rounds=10, iterations=1, warmup_rounds=2)
        return
    from scipy.linalg import blas

    m = 3000
    a = np.asfortranarray(np.random.default_rng(0).standard_normal((m, m), dtype=np.float32))
    benchmark.group = "machine peak"
    benchmark.extra_info["flops"] = 2.0 * m**3
    benchmark.pedantic(lambda: blas.sgemm(1.0, a, a), rounds=5, iterations=1, warmup_rounds=1)


PEAK_SCRIPT = textwrap.dedent("""
    import sys, numpy as np, resource
    impl, n, users = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    import autorec_fast as af
    data = af.synthetic("ml-20m", n_users=users, n_items=n, seed=0).binarize()
    def rss():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) * 1024
    if impl == "torch":
        import torch
        X = torch.from_numpy(data.matrix.toarray().astype(np.float32))
    base = rss()
    if impl == "autorec_fast":
        B = af.train("ease", data, l2=500.0).weights
    else:
        G = X.T @ X
        G += 500.0 * torch.eye(n)
        P = torch.linalg.inv(G)
        B = P / (-torch.diag(P))
        B.fill_diagonal_(0.0)
    with open("/proc/self/status") as f:
        peak = next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) * 1024
    print(peak - base)
""")


@pytest.mark.parametrize("impl", ["autorec_fast", "torch"])
@pytest.mark.parametrize("n", [max(SIZES)])
def test_ease_peak_memory(benchmark, impl, n, tmp_path):
    """Peak resident memory of the fit above what the input took, in a fresh process,
    reported in units of n² × 4 bytes (one float32 n x n matrix)."""
    cpu_only()
    benchmark.group = "ease peak memory"
    # cwd=tmp_path: `python -c` puts the cwd first on sys.path, and the source
    # tree (no compiled extension) must not shadow the installed package.
    out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, impl, str(n), str(N_USERS)],
                         capture_output=True, text=True, check=True, cwd=tmp_path)
    extra = int(out.stdout.strip().splitlines()[-1])
    benchmark.extra_info.update(n_items=n, peak_extra_bytes=extra, in_matrices=extra / (4.0 * n * n))
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)


@pytest.mark.parametrize("impl", ["autorec_fast", "torch"])
@pytest.mark.parametrize("n", [max(SIZES)])
def test_ease_gpu_peak_memory(benchmark, impl, n):
    """Peak GPU memory of the fit above what the input took, in units of n² × 4 bytes:
    for us the CuPy pool's size after a fit from an empty pool (it only grows when no
    cached block fits, so it bounds the peak), for PyTorch max_memory_allocated."""
    if DEVICE != "cuda":
        pytest.skip("GPU memory: run with AUTOREC_BENCH_DEVICE=cuda")
    import cupy as cp

    data = data_for(n)
    benchmark.group = on_device("ease peak memory")
    pool = cp.get_default_memory_pool()
    if impl == "autorec_fast":
        pool.free_all_blocks()
        model = af.train("ease", data, l2=L2, dtype="float32", device="cuda")
        extra = pool.total_bytes()
        del model
        pool.free_all_blocks()
    else:
        X = torch.from_numpy(data.matrix.toarray().astype(np.float32)).cuda()
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        B = torch_ease(X, L2)
        extra = torch.cuda.max_memory_allocated() - base
        del B, X
        torch.cuda.empty_cache()
    benchmark.extra_info.update(n_items=n, peak_extra_bytes=int(extra),
                                in_matrices=extra / (4.0 * n * n))
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
