"""Helpers shared by the benchmark files (imported through the benchmarks folder on sys.path)."""

import math
import os
import time
from pathlib import Path

import numpy as np
import pytest

import autorec_fast as af


# Every benchmark file runs on this device, ours and the PyTorch baseline alike:
# ``AUTOREC_BENCH_DEVICE=cuda pytest benchmarks ...`` gives the GPU rows.
DEVICE = os.environ.get("AUTOREC_BENCH_DEVICE", "cpu")
if DEVICE not in ("cpu", "cuda"):
    raise ValueError(f"AUTOREC_BENCH_DEVICE must be 'cpu' or 'cuda', got {DEVICE!r}")


def on_device(group: str) -> str:
    """A benchmark group name with the device appended on a GPU (CPU names unchanged)."""
    return group if DEVICE == "cpu" else f"{group} [{DEVICE}]"


def csr_to_device_dense(X, device):
    """Rows of a SciPy CSR matrix as a dense float32 PyTorch tensor on a GPU ``device``: only
    the nonzeros cross to the device and are scattered into zeros there (how a PyTorch user
    feeds sparse batches to a dense model on a GPU)."""
    import torch

    coo = X.tocoo()
    out = torch.zeros(coo.shape, dtype=torch.float32, device=device)
    rows = torch.from_numpy(coo.row.astype(np.int64)).to(device)
    cols = torch.from_numpy(coo.col.astype(np.int64)).to(device)
    out[rows, cols] = torch.from_numpy(np.asarray(coo.data, dtype=np.float32)).to(device)
    return out


def ml100k_path() -> Path:
    """``$AUTOREC_FAST_DATA/ml-100k/u.data``, else ``../shared/data/ml-100k/u.data`` beside the
    checkout (the convention of tests/conftest.py)."""
    env = os.environ.get("AUTOREC_FAST_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return root / "ml-100k" / "u.data"


def need_ours(model: str) -> None:
    """Skip with a clear reason when this build of autorec_fast lacks the model."""
    if model not in af.MODELS:
        pytest.skip(f"autorec_fast has no {model!r} model yet (af.MODELS lacks it); "
                    "rebuild with `pip install --no-build-isolation .`")


class Clock:
    """Wraps the timed callable and keeps each call's wall time (warm-up included)."""

    def __init__(self, fn):
        self.fn = fn
        self.seconds = []

    def __call__(self):
        t0 = time.perf_counter()
        out = self.fn()
        self.seconds.append(time.perf_counter() - t0)
        return out


def record_two_epoch_run(benchmark, run, count_key="n_users"):
    """One ``run(2)`` (an ``epochs=2`` training) outside the timing: the per-epoch wall time
    with set-up amortised, the history's epoch seconds, and the steady throughput
    (``extra_info[count_key]`` examples over the last epoch's seconds; none when
    ``count_key`` is None)."""
    t0 = time.perf_counter()
    model2 = run(2)
    benchmark.extra_info["per_epoch_of_2_epoch_run_s"] = (time.perf_counter() - t0) / 2
    secs = [float(h["seconds"]) for h in model2.history]
    benchmark.extra_info["history_epoch_s_of_2"] = secs
    if secs and count_key in benchmark.extra_info:
        benchmark.extra_info["steady_users_per_s"] = benchmark.extra_info[count_key] / secs[-1]


def mean_se(xs):
    """Mean and standard error of the mean (nan when undefined)."""
    xs = np.asarray(xs, dtype=np.float64)
    if xs.size == 0:
        return math.nan, math.nan
    se = xs.std(ddof=1) / math.sqrt(xs.size) if xs.size > 1 else math.nan
    return float(xs.mean()), float(se)


def fmt(m, se, signed=False):
    """'m ± se' with 4 decimals (the sign always shown when ``signed``)."""
    s = f"{m:+.4f}" if signed else f"{m:.4f}"
    return f"{s} ± {se:.4f}" if np.isfinite(se) else s
