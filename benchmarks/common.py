"""What the benchmarks share: the device, the data, the timing records, the summaries.

Layout of ``benchmarks/``::

    common.py        this module
    baselines/       the pure-PyTorch models (baselines/base.py: their trainer)
    speed/           the pytest-benchmark suites, autorec_paired.py, report.py, gpu_profile.py,
                     gpu_check.py (compute-sanitizer runs), gpu_targets.py (the GPU targets)
    accuracy/        the accuracy scripts
    run_gpu.sh       CUDA tests + GPU benchmarks in one call

Imports: the ``benchmarks`` folder goes first on ``sys.path`` (``speed/conftest.py`` does it
for pytest, each script does it with one line), so that this module is ``common`` and the
baselines are ``baselines.<model>``. Never the repository root: its ``autorec_fast`` is the
uncompiled source tree and would shadow the installed package.

Import this module before ``torch`` (speed/conftest.py imports it first of all): it imports
autorec_fast, before NumPy (autorec_fast sets ``OPENBLAS_THREAD_TIMEOUT`` for the OpenBLAS
libraries loaded after it, see the README) and sets ``OMP_WAIT_POLICY=PASSIVE`` for its own
libgomp unless the user set it; the variable is restored afterwards, so that PyTorch's bundled
libgomp keeps its own default.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from pathlib import Path


def _import_autorec_fast():
    user_policy = os.environ.get("OMP_WAIT_POLICY")
    import autorec_fast

    if user_policy is None:
        os.environ.pop("OMP_WAIT_POLICY", None)
    return autorec_fast


af = _import_autorec_fast()

import numpy as np  # noqa: E402  (after autorec_fast, see the module docstring)

# Every speed suite runs on this device, ours and the PyTorch baseline alike:
# ``AUTOREC_BENCH_DEVICE=cuda pytest benchmarks/speed ...`` gives the GPU rows.
DEVICE = os.environ.get("AUTOREC_BENCH_DEVICE", "cpu")
if DEVICE not in ("cpu", "cuda"):
    raise ValueError(f"AUTOREC_BENCH_DEVICE must be 'cpu' or 'cuda', got {DEVICE!r}")

ROUNDS = 3  # timed rounds of a training epoch
WARMUP = 1  # one untimed round each: steady-state epochs, for ours and torch alike


# ------------------------------------------------------------------------------ data

def ml100k_path() -> Path:
    """``$AUTOREC_FAST_DATA/ml-100k/u.data``, else ``../shared/data/ml-100k/u.data`` beside the
    checkout (the convention of tests/conftest.py)."""
    env = os.environ.get("AUTOREC_FAST_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return root / "ml-100k" / "u.data"


def load_ml100k_or_skip():
    """MovieLens 100K ratings; the calling benchmark is skipped when ``u.data`` is absent."""
    path = ml100k_path()
    if not path.is_file():
        import pytest

        pytest.skip(f"ML-100K not found at {path} (set AUTOREC_FAST_DATA)")
    return af.load_movielens(str(path))


# -------------------------------------------------------------------- speed suites

def on_device(group: str) -> str:
    """A benchmark group name with the device appended on a GPU (CPU names unchanged)."""
    return group if DEVICE == "cpu" else f"{group} [{DEVICE}]"


def need_ours(model: str) -> None:
    """Skip with a clear reason when this build of autorec_fast lacks the model."""
    if model not in af.MODELS:
        import pytest

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


def record_throughput(benchmark, seconds, rates):
    """The median of the timed rounds of ``seconds`` (the warm-up dropped when it ran) as
    ``epoch_s``, then for each ``name: key`` of ``rates`` (in order) the rate
    ``extra_info[key] / epoch_s`` as ``extra_info[name]``."""
    timed = seconds[WARMUP:] if len(seconds) > WARMUP else seconds
    epoch_s = statistics.median(timed)
    info = benchmark.extra_info
    info["epoch_s"] = epoch_s
    info.update({name: info[key] / epoch_s for name, key in rates.items()})


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


def time_ours_epoch(benchmark, run, *, rates=None, count_key="n_users", check=None):
    """Times ``run(1)`` (one ``af.train(..., epochs=1)`` call, set-up included): ``ROUNDS``
    rounds after ``WARMUP``. Then ``check(fitted)`` when given, the throughput (``rates``, see
    :func:`record_throughput`) when given, the history's epoch seconds, and one untimed
    ``run(2)`` (:func:`record_two_epoch_run`). Returns the last fitted model."""
    clock = Clock(lambda: run(1))
    fitted = benchmark.pedantic(clock, rounds=ROUNDS, iterations=1, warmup_rounds=WARMUP)
    assert len(fitted.history) == 1 and np.isfinite(fitted.history[0]["loss"])
    if check is not None:
        check(fitted)
    if rates is not None:
        record_throughput(benchmark, clock.seconds, rates)
    benchmark.extra_info["history_epoch_s"] = float(fitted.history[0]["seconds"])
    record_two_epoch_run(benchmark, run, count_key=count_key)
    return fitted


def time_torch_epoch(benchmark, make, *, rounds=ROUNDS, rates=None, steps_key="steps_per_epoch"):
    """Builds a baseline with ``make()`` outside the timing (``torch_setup_s``) and times its
    ``run_epoch`` (one epoch of its training loop): ``rounds`` rounds after ``WARMUP``, on the
    same model. Checks its batches per epoch against ``extra_info[steps_key]``, records the
    throughput (``rates``) when given. Returns the model."""
    t0 = time.perf_counter()
    model = make()
    benchmark.extra_info["torch_setup_s"] = time.perf_counter() - t0
    loss = benchmark.pedantic(model.run_epoch, rounds=rounds, iterations=1, warmup_rounds=WARMUP)
    assert np.isfinite(loss)
    assert model.steps_per_epoch == benchmark.extra_info[steps_key]
    if rates is not None:
        record_throughput(benchmark, model.epoch_seconds, rates)
    return model


# ------------------------------------------------------------------ accuracy scripts

def add_run_options(parser, what="baselines"):
    """The options every accuracy script takes: ``--threads``, ``--no-ours``, ``--no-torch``."""
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both (default: autorec_fast's OpenMP count)")
    parser.add_argument("--no-ours", action="store_true", help=f"{what} only")
    parser.add_argument("--no-torch", action="store_true", help="ours only")


def same_threads(threads=None):
    """``threads`` (when given) for our OpenMP kernels, and as many for PyTorch."""
    import torch

    if threads:
        af.set_num_threads(threads)
    torch.set_num_threads(af.get_num_threads())


def add_data_options(parser, shape, contents="explicit ratings"):
    """``--data`` (a MovieLens ratings file of ``contents``, default ML-100K) and
    ``--synthetic-users N`` (``af.synthetic(shape, n_users=N)`` instead): see :func:`load_data`."""
    parser.add_argument("--data", type=Path, default=ml100k_path(),
                        help=f"MovieLens u.data / ratings file ({contents})")
    parser.add_argument("--synthetic-users", type=int, default=None,
                        help=f"use af.synthetic('{shape}', n_users=N) instead of --data")


def load_data(args, shape, unit="ratings"):
    """``--synthetic-users N``: ``af.synthetic(shape, n_users=N, seed=0)`` (its entries counted
    as ``unit`` in the message); else the ratings file ``--data``, or None (with a message)
    when it is missing."""
    if args.synthetic_users:
        data = af.synthetic(shape, n_users=args.synthetic_users, seed=0)
        print(f"data: synthetic {shape} shape ({data.n_users} users x {data.n_items} items, "
              f"{data.nnz} {unit})")
        return data
    if not args.data.is_file():
        print(f"data not found: {args.data} (pass --data or set AUTOREC_FAST_DATA)")
        return None
    data = af.load_movielens(str(args.data))
    print(f"data: {args.data} ({data.n_users} users x {data.n_items} items, {data.nnz} ratings)")
    return data


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
