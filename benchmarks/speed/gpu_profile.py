"""Where a model's GPU epoch goes: kernel times (torch.profiler, whose CUPTI tracing
sees every kernel in the process, ours and CuPy's too) and host time (cProfile).

    python benchmarks/speed/gpu_profile.py autorec            # I-AutoRec, synthetic ML-1M shape
    python benchmarks/speed/gpu_profile.py multvae|multdae|cdae|deeprec|svae

Run on a GPU machine after ``pip install --no-build-isolation .``; PyTorch is used
for its profiler only. Prints two tables: kernels by total GPU time, Python
functions by own time. The first of the two runs is a warm-up (CuPy compiles
its element-wise kernels on first use).
"""

import cProfile
import pstats
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

import autorec_fast as af

SETTINGS = {
    "autorec": (lambda: af.random_split(af.synthetic("ml-1m", seed=0), test_fraction=0.1, seed=0)[0],
                dict(variant="item", hidden=500, batch_size=256, lr=1e-3, l2=1.0)),
    "multvae": (lambda: af.synthetic("ml-20m", n_users=20000, seed=0), {}),
    "multdae": (lambda: af.synthetic("ml-20m", n_users=20000, seed=0), {}),
    "cdae": (lambda: af.synthetic("ml-20m", n_users=20000, seed=0), {}),
    "deeprec": (lambda: af.random_split(af.synthetic("ml-1m", seed=0), test_fraction=0.1, seed=0)[0],
                {k: v for k, v in af.DeepRec.REFERENCE.items() if k != "epochs"}),
    "svae": (lambda: af.synthetic("ml-1m", n_users=800, seed=0), {}),
}


def main(name):
    if name not in SETTINGS:
        raise SystemExit(f"model must be one of {sorted(SETTINGS)}, got {name!r}")
    if not af.cuda_available():
        raise SystemExit("no CUDA device: this script profiles device='cuda'")
    make, kw = SETTINGS[name]
    data = make()
    af.train(name, data, device="cuda", epochs=1, seed=0, **kw)  # warm-up
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        t0 = time.perf_counter()
        model = af.train(name, data, device="cuda", epochs=2, seed=0, **kw)
        torch.cuda.synchronize()
        wall = time.perf_counter() - t0
    print(f"{name}: 2 epochs in {wall:.3f} s, epochs {[round(h['seconds'], 4) for h in model.history]}")
    print(prof.key_averages().table(sort_by="self_cuda_time_total", row_limit=15, max_name_column_width=70))
    host = cProfile.Profile()
    host.enable()
    af.train(name, data, device="cuda", epochs=2, seed=0, **kw)
    host.disable()
    pstats.Stats(host).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "autorec")
